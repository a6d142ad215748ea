"""The shapes of a prescription sent to clients (the frontend's cards, one prescription, the
public verification) and how names and dates print on them. Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from functions.prescriptions.lines import med_key
from functions.prescriptions.numbers import format_code
from functions.prescriptions.status import ACTIVE, REVOKED, as_utc, effective_status

_SPACES = re.compile(r"\s+")
_TITLED = re.compile(r"\s*dr\b", re.IGNORECASE)
_MED_FIELDS = ("name", "genericName", "strength", "dosage", "frequency", "route", "duration", "quantity",
               "refills", "instructions")
_VERIFY_MED_FIELDS = ("name", "genericName", "strength", "dosage", "frequency", "route", "duration", "quantity",
                      "refills")


# ---------------------------------------------------------------- names and dates as printed


def doctor_title(name: str | None) -> str:
    """A doctor's name as printed: `Ananya Iyer` → `Dr. Ananya Iyer`; a name that already
    carries the title (`Dr. Ananya Iyer`, `Dr Ananya`, `dr. x`) prints as written, once."""
    text = " ".join((name or "").split())
    if not text or _TITLED.match(text):
        return text
    return f"Dr. {text}"


def local_date(value: Any, timezone: str) -> str:
    """`2 Mar 2026`: an instant's calendar day where the clinic is ("" for no instant)."""
    if not isinstance(value, datetime):
        return ""
    local = as_utc(value).astimezone(ZoneInfo(timezone))
    return f"{local.day} {local:%b %Y}"


def patient_initials(name: str | None) -> str:
    """`Zofia Łukasiewicz` → `Z. Ł.`; enough to match a person, not to identify one."""
    parts = [p for p in _SPACES.split((name or "").strip()) if p]
    return " ".join(f"{p[0].upper()}." for p in parts[:3])


# ---------------------------------------------------------------- answers


def person(user: Mapping[str, Any] | None, user_id: Any, *, doctor: bool, contact: bool = False) -> dict[str, Any]:
    user = user or {}
    out: dict[str, Any] = {"_id": user_id, "name": user.get("name")}
    if doctor:
        out["speciality"] = user.get("speciality")
    if contact:
        out["contact"] = user.get("contact")
    return out


def to_api(rx: Mapping[str, Any], people: Mapping[Any, Mapping[str, Any]], now: datetime, *,
           full: bool = False, patient_contact: bool = False) -> dict[str, Any]:
    """What the frontend's cards read (`prescriptionNumber, createdAt, diagnosis, symptoms,
    medications, notes, followUpInstructions, doctor{_id, name, speciality}, patient{_id, name,
    contact}`), plus the status and validity. `full` (one prescription, read by someone allowed)
    adds the verification code and what is left to dispense; `patient_contact` the patient's
    contact (for the patient themself and the prescribing doctor)."""
    meds = list(rx.get("medications") or [])
    out: dict[str, Any] = {
        "_id": rx["_id"],
        "prescriptionNumber": rx["prescriptionNumber"],
        "appointment": rx.get("appointment"),
        "doctor": person(people.get(rx["doctor"]), rx["doctor"], doctor=True),
        "patient": person(people.get(rx["patient"]), rx["patient"], doctor=False, contact=patient_contact),
        "diagnosis": rx.get("diagnosis"),
        "symptoms": rx.get("symptoms"),
        "notes": rx.get("notes"),
        "followUpInstructions": rx.get("followUpInstructions"),
        "medications": [{k: med.get(k) for k in _MED_FIELDS} for med in meds],
        "status": effective_status(rx, now),
        "issuedAt": rx.get("issuedAt"),
        "validUntil": rx.get("validUntil"),
        "createdAt": rx.get("createdAt"),
    }
    if rx.get("status") == REVOKED:
        out.update({"revokedAt": rx.get("revokedAt"), "revokeReason": rx.get("revokeReason")})
    if full:
        remaining = rx.get("remaining") or {}
        out["verificationCode"] = format_code(rx["verificationCode"])
        for i, med in enumerate(out["medications"]):
            med["remaining"] = int(remaining.get(med_key(i), 0))
    return out


def verify_view(rx: Mapping[str, Any], doctor: Mapping[str, Any] | None, patient: Mapping[str, Any] | None,
                now: datetime) -> dict[str, Any]:
    """What a pharmacist needs to trust a printed prescription, nothing more: no diagnosis,
    notes or full names."""
    status = effective_status(rx, now)
    doctor = doctor or {}
    return {
        "valid": status == ACTIVE,
        "status": status,
        "number": rx["prescriptionNumber"],
        "issuedAt": rx.get("issuedAt"),
        "validUntil": rx.get("validUntil"),
        "doctor": {"name": doctor.get("name"), "speciality": doctor.get("speciality")},
        "medications": [{k: med.get(k) for k in _VERIFY_MED_FIELDS} for med in rx.get("medications") or []],
        "patientInitials": patient_initials((patient or {}).get("name")),
    }


def related_user_ids(prescriptions: Iterable[Mapping[str, Any]]) -> list[Any]:
    ids: dict[Any, None] = {}
    for rx in prescriptions:
        ids.setdefault(rx["doctor"], None)
        ids.setdefault(rx["patient"], None)
    return list(ids)
