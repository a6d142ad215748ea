"""How appointments look in the API (pure shaping; the frontend reads these keys).

The one place that decides what a participant sees: an appointment never carries claim keys or
the parties' contact snapshots, except the patient's contact for the doctor in their list
(the doctor's "My appointments" cards show it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def appointment_to_api(appt: Mapping[str, Any], *, full: bool = True,
                       patient_contact: str | None = None) -> dict[str, Any]:
    """One appointment. `full` (one appointment read by a participant or an admin) adds its
    history and the AI suggestions; list items carry symptoms and the video room id too, which
    the frontend's cards and its Join Call button need."""
    parties = appt.get("parties") or {}
    patient, doctor = parties.get("patient") or {}, parties.get("doctor") or {}
    out: dict[str, Any] = {
        "_id": appt["_id"],
        "patient": {"_id": appt["patient"], "name": patient.get("name")},
        "doctor": {"_id": appt["doctor"], "name": doctor.get("name"), "speciality": doctor.get("speciality")},
        "description": appt.get("description"),
        "symptoms": appt.get("symptoms"),
        "roomId": appt.get("roomId"),  # read by the signaling domain to admit the two participants
        "day": appt.get("day"),
        "time": appt.get("time"),
        "timezone": appt.get("timezone"),
        "start": appt.get("start"),
        "end": appt.get("end"),
        "durationMinutes": appt.get("durationMinutes"),
        "status": appt.get("status"),
        "createdAt": appt.get("createdAt"),
        "updatedAt": appt.get("updatedAt"),
    }
    if patient_contact is not None:
        out["patient"]["contact"] = patient_contact
    if appt.get("cancellation"):
        out["cancellation"] = appt["cancellation"]
    if full:
        out["statusHistory"] = appt.get("statusHistory", [])
        if appt.get("aiSuggestions"):
            out["aiSuggestions"] = appt["aiSuggestions"]
    return out


def party_snapshot(user: Mapping[str, Any], *, doctor: bool) -> dict[str, Any]:
    """What the appointment keeps of a participant: names for lists, the contact for notices."""
    snapshot = {"name": user.get("name"), "contact": user.get("contact"), "contactType": user.get("contactType"),
                "timezone": user.get("timezone")}
    if doctor:
        snapshot["speciality"] = user.get("speciality")
    return snapshot
