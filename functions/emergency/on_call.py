"""Doctors' on-call switch: who the emergency line rings, in the order they went on call.

Issue 21 (toll fraud: any approved doctor could make the line dial a premium or satellite
number): the line dials only a number the doctor proved they hold, by a 6-digit code texted to
it, and only while it is a number `core.notify.sms_refusal` accepts (SMS_ALLOWED_REGIONS, mobile).
The account's own phone contact counts as proven when the account verified it. A new number
waits (`pending`) until its code is confirmed at `POST /doctor/on-call/confirm`; meanwhile the
switch stays as it was (going off call is immediate). Each code SMS spends the doctor's budget
(ON_CALL_CODES_PER_HOUR) and the code SMS budgets of `auth` (per number, address, platform).
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from functions.auth import api as auth
from functions.core import clock, notify, throttle, users
from functions.core.config import get_settings
from functions.core.errors import Code, RateLimited, Unprocessable
from functions.core.security import Principal
from functions.core.throttle import Limit
from functions.emergency.schemas import OnCallConfirmIn, OnCallIn
from functions.emergency.stores import on_call as store

DIAL_AT_MOST = 10
CODE_TTL = timedelta(minutes=10)
CODE_ATTEMPTS = 5
ON_CALL_CODES_PER_HOUR = 3  # per doctor
CODES = Limit("on-call-code", ON_CALL_CODES_PER_HOUR, timedelta(hours=1), Code.TOO_MANY_CODES,
              "Too many codes asked for; try again later")
_BAD_CODE = "The code is wrong, expired or used up; ask for a new one"


def _phone_error(message: str) -> Unprocessable:
    return Unprocessable(message, code=Code.INVALID_PHONE, errors=[{"field": "phone", "message": message}])


def _e164(raw: str) -> str:
    try:
        return notify.to_e164(raw)
    except notify.NotDelivered:
        raise _phone_error("Not a phone number") from None


def dialable(phone: str) -> bool:
    """The one rule for a number the line may ring or text (`core.notify.sms_refusal`)."""
    return notify.sms_refusal(phone) is None


def _purpose(phone: str) -> str:
    return f"on-call|{phone}"  # a code proves this number, for this doctor


def _verified_phone(doctor: Principal, current: dict[str, Any]) -> str | None:
    if current.get("phone") and current.get("phoneVerifiedAt"):
        return str(current["phone"])
    return None


def _own_phone(doctor: Principal) -> str | None:
    if doctor.user.get("contactType") != "phone" or not doctor.user.get("contact"):
        return None
    try:
        return notify.to_e164(str(doctor.user["contact"]))
    except notify.NotDelivered:
        return None


def set_on_call(doctor: Principal, body: OnCallIn, source_ip: str) -> dict[str, Any]:
    """PUT /doctor/on-call: a verified phone is needed to be on call (the body's, else the one
    verified before, else the account's). A number not proven yet gets a code (the answer says
    `codeSent` and the number waiting) and the switch waits for it."""
    now = clock.now()
    current = store.get_on_call(doctor.id) or {}
    verified, own = _verified_phone(doctor, current), _own_phone(doctor)
    wanted = _e164(body.phone) if body.phone else (verified or own)
    if wanted is None:
        if body.onCall:
            raise Unprocessable("A phone number is needed to be on call", code=Code.PHONE_REQUIRED,
                                errors=[{"field": "phone", "message": "Required"}])
        return view(store.update_on_call(doctor.id, {"onCall": False, "since": now}))
    if not dialable(wanted):
        regions = ", ".join(get_settings().sms_allowed_regions) or "none"
        raise _phone_error(f"The emergency line can only ring mobile numbers of these regions: {regions}")
    if wanted == verified or (wanted == own and doctor.user.get("contactVerified")):
        proven = current.get("phoneVerifiedAt") if wanted == verified else now
        return view(store.update_on_call(doctor.id, {"onCall": body.onCall, "since": now, "phone": wanted,
                                                     "phoneVerifiedAt": proven}))
    _send_code(doctor, wanted, body.onCall, source_ip, now)
    changes: dict[str, Any] = {} if body.onCall else {"onCall": False, "since": now}
    doc = store.get_on_call(doctor.id) if not changes else store.update_on_call(doctor.id, changes)
    return view(doc or {"onCall": False})


def _send_code(doctor: Principal, phone: str, on_call: bool, source_ip: str, now: datetime) -> None:
    """One code SMS to the number (the doctor's budget, then `auth`'s code SMS budgets, all or none)."""
    throttle.take(CODES, str(doctor.id), now)
    try:
        auth.take_code_sms(phone, source_ip, now)
    except RateLimited:
        throttle.give_back(CODES, str(doctor.id))
        raise
    code = f"{secrets.randbelow(10**6):06d}"
    store.update_on_call(doctor.id, {"pending": {
        "phone": phone, "codeHash": auth.code_hash(_purpose(phone), doctor.id, code), "expiresAt": now + CODE_TTL,
        "attempts": 0, "onCall": on_call}})
    notify.send("phone", phone, "CureConnect on-call code",
                f"CureConnect: your on-call code is {code}. It expires in {int(CODE_TTL.total_seconds() // 60)} "
                "minutes.", kind="verification", ref=doctor.id)


def confirm(doctor: Principal, body: OnCallConfirmIn) -> dict[str, Any]:
    """POST /doctor/on-call/confirm: the code proves the waiting number; it becomes the one the
    line rings (and the switch is set as asked with it). 422 INVALID_CODE otherwise, at most
    CODE_ATTEMPTS guesses per code."""
    now = clock.now()
    found = store.claim_code_guess(doctor.id, now, CODE_ATTEMPTS)
    pending = (found or {}).get("pending") or {}
    phone = str(pending.get("phone") or "")
    digest = auth.code_hash(_purpose(phone), doctor.id, body.code)
    if not (found and phone and hmac.compare_digest(str(pending.get("codeHash", "")), digest)):
        raise Unprocessable(_BAD_CODE, code=Code.INVALID_CODE, errors=[{"field": "code", "message": "is not valid"}])
    if not store.confirm_phone(doctor.id, digest, {"phone": phone, "phoneVerifiedAt": now,
                                                   "onCall": bool(pending.get("onCall")), "since": now}):
        raise Unprocessable(_BAD_CODE, code=Code.INVALID_CODE, errors=[{"field": "code", "message": "is not valid"}])
    return view(store.get_on_call(doctor.id) or {"onCall": False})


def get_on_call(doctor: Principal) -> dict[str, Any]:
    return view(store.get_on_call(doctor.id) or {"onCall": False})


def view(doc: dict[str, Any]) -> dict[str, Any]:
    pending = doc.get("pending") or {}
    live = pending.get("phone") if pending.get("expiresAt") and pending["expiresAt"] > clock.now() else None
    return {"onCall": bool(doc.get("onCall")), "phone": doc.get("phone") if doc.get("phoneVerifiedAt") else None,
            "since": doc.get("since"), "pendingPhone": live, "codeSent": bool(live)}


def numbers() -> list[str]:
    """Verified phones of doctors on call who are still listed (`core.directory`: the doctors a
    patient could find and book) and still dialable, longest on call first."""
    docs = [d for d in store.on_call(DIAL_AT_MOST)
            if d.get("phone") and d.get("phoneVerifiedAt") and dialable(str(d["phone"]))]
    if not docs:
        return []
    listed = users.listed_doctor_ids([d["_id"] for d in docs])
    return [str(d["phone"]) for d in docs if d["_id"] in listed]
