"""Pure rules of prescriptions: numbers and codes, who may read, which appointments qualify,
how pharmacy order lines match prescribed medicines, and the shapes sent to clients.
No I/O here: `service.py` reads and writes through `store.py`."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from functions.core.errors import Code, NotFound, Unprocessable
from functions.core.security import ADMIN, DOCTOR, PATIENT, PHARMACIST

ACTIVE, REVOKED, EXPIRED = "active", "revoked", "expired"
# Appointments a prescription may be written against (D-14: the reference accepted any id).
PRESCRIBABLE_APPOINTMENTS = ("confirmed", "completed")

# Verification codes: no look-alikes (0/O, 1/I/L) so a code read off paper is typed right.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12  # 31^12 ≈ 2^59 codes: not guessable at any rate the verify route allows
_CODE_RE = re.compile(f"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
_SPACES = re.compile(r"\s+")


# ---------------------------------------------------------------- numbers and codes


def day_key(now: datetime, timezone: str) -> str:
    """yymmdd of the clinic's calendar day (numbers restart each local day)."""
    return now.astimezone(ZoneInfo(timezone)).strftime("%y%m%d")


def prescription_number(day: str, sequence: int) -> str:
    """`RX` + yymmdd + the day's sequence, at least 4 digits (never overflows, D-23's flaw)."""
    return f"RX{day}{sequence:04d}"


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """Groups of four for print: `ABCD-EFGH-JKMN`."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def normalize_code(text: str) -> str | None:
    """What a person typed (any case, spaces or dashes) → the stored code, or None."""
    candidate = re.sub(r"[\s-]", "", text or "").upper()
    return candidate if _CODE_RE.match(candidate) else None


_TITLED = re.compile(r"\s*dr\b", re.IGNORECASE)


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


# ---------------------------------------------------------------- status and access


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def effective_status(rx: Mapping[str, Any], now: datetime) -> str:
    if rx.get("status") == REVOKED:
        return REVOKED
    if as_utc(rx["validUntil"]) <= now:
        return EXPIRED
    return ACTIVE


def can_read(role: str, user_id: Any, rx: Mapping[str, Any]) -> bool:
    """The patient, the author, admins, and pharmacists who dispensed it (D-11: the reference
    let any doctor read any prescription)."""
    if role == PATIENT:
        return bool(rx["patient"] == user_id)
    if role == DOCTOR:
        return bool(rx["doctor"] == user_id)
    if role == PHARMACIST:
        return user_id in (rx.get("pharmacistIds") or [])
    return role == ADMIN


def check_appointment(appt: Mapping[str, Any] | None, doctor_id: Any, patient_id: Any) -> None:
    """The appointment must be this doctor's (else 404, as if it did not exist), with this
    patient, and confirmed or completed (D-14)."""
    if appt is None or appt.get("doctor") != doctor_id:
        raise NotFound("Appointment not found")
    if appt.get("patient") != patient_id:
        raise Unprocessable("patientId is not the patient of this appointment", code=Code.APPOINTMENT_MISMATCH,
                            errors=[{"field": "patientId", "message": "Not the appointment's patient"}])
    if appt.get("status") not in PRESCRIBABLE_APPOINTMENTS:
        raise Unprocessable("Prescriptions can only be written for confirmed or completed appointments",
                            code=Code.APPOINTMENT_NOT_ELIGIBLE)


# ---------------------------------------------------------------- dispensing (pharmacy orders)


@dataclass(frozen=True)
class RxLine:
    """One order line a pharmacy wants to fill against a prescription."""

    name: str
    generic_name: str | None
    strength: str | None
    quantity: int


def med_key(index: int) -> str:
    return f"m{index}"


def allowance(med: Mapping[str, Any]) -> int:
    """Units a pharmacy may dispense in total: the quantity (1 when the doctor gave none) for
    the first fill and for each refill."""
    return int(med.get("quantity") or 1) * (1 + int(med.get("refills") or 0))


def _norm(text: str | None) -> str:
    return _SPACES.sub(" ", (text or "").strip()).casefold()


def _norm_strength(text: str | None) -> str:
    return _SPACES.sub("", (text or "")).casefold()


def line_matches(med: Mapping[str, Any], line: RxLine) -> bool:
    """Same medicine (name or generic name, ignoring case and spacing) and, when both state a
    strength, the same strength."""
    prescribed = {n for n in (_norm(med.get("name")), _norm(med.get("genericName"))) if n}
    ordered = {n for n in (_norm(line.name), _norm(line.generic_name)) if n}
    if not prescribed & ordered:
        return False
    a, b = _norm_strength(med.get("strength")), _norm_strength(line.strength)
    return not (a and b) or a == b


def _invalid(message: str) -> Unprocessable:
    return Unprocessable(message, code=Code.PRESCRIPTION_INVALID)


def check_dispensable(rx: Mapping[str, Any] | None, patient_id: Any, now: datetime) -> Mapping[str, Any]:
    if rx is None or rx.get("patient") != patient_id:
        raise _invalid("The prescription was not found for this patient")
    status = effective_status(rx, now)
    if status != ACTIVE:
        raise _invalid(f"The prescription is {status}")
    return rx


def plan_takes(rx: Mapping[str, Any], lines: Sequence[RxLine]) -> dict[str, int]:
    """Units to take per medication key for these lines, or PRESCRIPTION_INVALID naming the
    first line that is not prescribed or exceeds what is left. The write re-checks the amounts
    atomically; this only explains."""
    meds: list[Mapping[str, Any]] = list(rx.get("medications") or [])
    remaining: Mapping[str, int] = rx.get("remaining") or {}
    takes: dict[str, int] = {}
    for line in lines:
        if line.quantity < 1:
            raise _invalid(f"{line.name}: the quantity must be at least 1")
        index = next((i for i, med in enumerate(meds) if line_matches(med, line)), None)
        if index is None:
            raise _invalid(f"{line.name} is not on this prescription")
        key = med_key(index)
        takes[key] = takes.get(key, 0) + line.quantity
        if takes[key] > int(remaining.get(key, 0)):
            raise _invalid(f"{line.name}: only {int(remaining.get(key, 0))} left on this prescription")
    if not takes:
        raise _invalid("No medicines to dispense")
    return takes


def plan_gives(rx: Mapping[str, Any], lines: Sequence[RxLine]) -> dict[str, tuple[int, int]]:
    """Units to give back per medication key, with each medication's allowance as the cap."""
    meds: list[Mapping[str, Any]] = list(rx.get("medications") or [])
    gives: dict[str, tuple[int, int]] = {}
    for line in lines:
        index = next((i for i, med in enumerate(meds) if line_matches(med, line)), None)
        if index is None or line.quantity < 1:
            continue
        key = med_key(index)
        given = gives.get(key, (0, 0))[0] + line.quantity
        gives[key] = (given, allowance(meds[index]))
    return gives


# ---------------------------------------------------------------- shapes for clients

_MED_FIELDS = ("name", "genericName", "strength", "dosage", "frequency", "route", "duration", "quantity",
               "refills", "instructions")
_VERIFY_MED_FIELDS = ("name", "genericName", "strength", "dosage", "frequency", "route", "duration", "quantity",
                      "refills")


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
