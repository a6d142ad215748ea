"""A user's card (`GET /user/:id`): name, role and avatar, shown only to the people who share an
appointment or an emergency with them (and to admins)."""

from __future__ import annotations

from typing import Any

from functions.appointments import api as appointments
from functions.core import users
from functions.core.db import object_id
from functions.core.errors import NotFound
from functions.core.security import ADMIN, DOCTOR, PATIENT, Principal
from functions.signaling.stores import emergencies


def user_card(caller: Principal, target_id: str) -> dict[str, Any]:
    """Name, role and avatar of a user who shares an appointment or emergency with the caller
    (or anyone, for admins); everyone else is 404."""
    target_oid = object_id(target_id, "User")
    target = users.find_account(target_oid)
    if target is None:
        raise NotFound.of("User")
    me, role = caller.id, caller.role
    pair = {role: me, target.get("role"): target_oid}
    related = (role == ADMIN or target_oid == me or
               (DOCTOR in pair and PATIENT in pair and len(pair) == 2 and
                (appointments.doctor_treats_patient(pair[DOCTOR], pair[PATIENT]) or
                 emergencies.shares_emergency(pair[PATIENT], pair[DOCTOR]))))
    if not related:
        raise NotFound.of("User")
    return {"_id": target_oid, "name": target.get("name"), "role": target.get("role"),
            "avatar": target.get("avatar")}
