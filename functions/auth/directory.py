"""The public doctor directory: listed doctors (`core.directory`), never their contact."""

from __future__ import annotations

from typing import Any

from functions.auth.fees import with_api_fee
from functions.auth.schemas import (
    DoctorsQuery,
)
from functions.core import users
from functions.core.db import object_id
from functions.core.directory import is_available
from functions.core.errors import NotFound


def public_doctor(doctor: dict[str, Any]) -> dict[str, Any]:
    """A doctor as anyone sees it: never contact details (D-31: the reference listed doctors'
    phone numbers) nor scheduling internals; `availability` is bookable or not (approved,
    active, taking bookings, with weekly hours)."""
    view = {**{k: doctor.get(k) for k in users.DOCTOR_PUBLIC}, "availability": is_available(doctor)}
    return with_api_fee(view, doctor)




UNPAGED_LIMIT = 100


def list_doctors(query: DoctorsQuery) -> tuple[list[dict[str, Any]], int, int, int]:
    """Listed doctors: (items, total, page, limit). `q` is matched as literal text within the
    name, never as a regex. Without `page`/`limit` (the existing frontend never pages): up to
    100, those available for booking first, each group by name."""
    name_part = query.q.casefold() if query.q else None
    where = users.doctor_filter(query.speciality, name_part)
    if query.paged:
        items, total = users.list_doctors(where, query.skip, query.limit)
        return [public_doctor(d) for d in items], total, query.page, query.limit
    items, total = users.list_doctors(where, 0, UNPAGED_LIMIT)
    shaped = sorted((public_doctor(d) for d in items), key=lambda d: not d["availability"])
    return shaped, total, 1, UNPAGED_LIMIT


def get_doctor(doctor_id: str) -> dict[str, Any]:
    doctor = users.find_listed_doctor(object_id(doctor_id, "Doctor"))
    if doctor is None:
        raise NotFound.of("Doctor")
    return public_doctor(doctor)
