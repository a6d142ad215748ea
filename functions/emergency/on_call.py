"""Doctors' on-call switch: who the emergency line rings, in the order they went on call."""

from __future__ import annotations

from typing import Any

from functions.core import clock, notify, users
from functions.core.errors import Code, Unprocessable
from functions.core.security import Principal
from functions.emergency.schemas import OnCallIn
from functions.emergency.stores import on_call as store

DIAL_AT_MOST = 10


def _e164(raw: str) -> str:
    try:
        return notify.to_e164(raw)
    except notify.NotDelivered:
        raise Unprocessable("Not a phone number", code=Code.INVALID_PHONE,
                            errors=[{"field": "phone", "message": "Not a phone number"}]) from None


def set_on_call(doctor: Principal, body: OnCallIn) -> dict[str, Any]:
    """PUT /doctor/on-call: a phone is needed to be on call (the body's, else the account's)."""
    phone = body.phone
    if phone is None and doctor.user.get("contactType") == "phone":
        phone = str(doctor.user.get("contact"))
    if body.onCall and not phone:
        current = store.get_on_call(doctor.id)
        if not (current and current.get("phone")):
            raise Unprocessable("A phone number is needed to be on call", code=Code.PHONE_REQUIRED,
                                errors=[{"field": "phone", "message": "Required"}])
    doc = store.set_on_call(doctor.id, body.onCall, _e164(phone) if phone else None, clock.now())
    return view(doc)


def get_on_call(doctor: Principal) -> dict[str, Any]:
    return view(store.get_on_call(doctor.id) or {"onCall": False})


def view(doc: dict[str, Any]) -> dict[str, Any]:
    return {"onCall": bool(doc.get("onCall")), "phone": doc.get("phone"), "since": doc.get("since")}


def numbers() -> list[str]:
    """Phones of doctors on call who are still listed (`core.directory`: the doctors a patient
    could find and book), longest on call first."""
    docs = [d for d in store.on_call(DIAL_AT_MOST) if d.get("phone")]
    if not docs:
        return []
    listed = users.listed_doctor_ids([d["_id"] for d in docs])
    return [str(d["phone"]) for d in docs if d["_id"] in listed]
