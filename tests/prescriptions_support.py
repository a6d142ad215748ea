"""Helpers for the prescriptions tests: appointments written straight to the database, the
create payload, and calls through the test client."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bson import ObjectId

from functions.core import clock
from functions.core.db import get_db
from tests.factories import make_user
from tests.http import body as body  # re-exported
from tests.http import call

API = "/api/v1"

FIVE_MEDICINES = [
    {"name": "Amoxicillin", "genericName": "amoxicillin", "strength": "500 mg", "dosage": "1 capsule",
     "frequency": "three times a day", "route": "oral", "duration": "7 days", "quantity": 21, "refills": 0,
     "instructions": "Finish the course"},
    {"name": "Paracetamol", "strength": "650 mg", "dosage": "1 tablet", "frequency": "every 6 hours if fever",
     "quantity": 10},
    {"name": "Cetirizine", "strength": "10 mg", "dosage": "1 tablet", "frequency": "at night", "duration": "5 days"},
    {"name": "Omeprazole", "genericName": "omeprazole", "strength": "20 mg", "dosage": "1 capsule",
     "frequency": "before breakfast", "quantity": 14, "refills": 1},
    {"name": "Salbutamol Inhaler", "strength": "100 mcg", "dosage": "2 puffs", "frequency": "when breathless",
     "route": "inhaled", "quantity": 1, "refills": 2},
]




def doctor(**fields: Any) -> dict[str, Any]:
    return make_user("doctor", **fields)


def patient(**fields: Any) -> dict[str, Any]:
    return make_user("patient", **fields)


def appointment(the_doctor: dict[str, Any], the_patient: dict[str, Any], status: str = "confirmed",
                **fields: Any) -> dict[str, Any]:
    """An appointment document as the appointments domain writes it (the fields prescriptions read)."""
    start = clock.now() - timedelta(hours=1)
    _id = ObjectId()
    doc = {"_id": _id, "doctor": the_doctor["_id"], "patient": the_patient["_id"], "status": status,
           "start": start, "end": start + timedelta(minutes=30), "day": start.strftime("%Y-%m-%d"),
           "time": start.strftime("%H:%M"), "description": "Cough", "slotKey": f"released|{_id}",
           "patientSlotKey": f"released|{_id}", "roomId": f"room-{_id}", "createdAt": clock.now(), **fields}
    get_db()["appointments"].insert_one(doc)
    return doc


def payload(appt: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {"patientId": str(appt["patient"]), "appointmentId": str(appt["_id"]),
            "diagnosis": "Acute bronchitis", "symptoms": "Cough for a week, mild fever",
            "notes": "Drink plenty of fluids", "followUpInstructions": "Come back in 7 days if not better",
            "medications": FIVE_MEDICINES, **overrides}


def post(client: Any, who: dict[str, Any] | None, path: str, data: Any) -> Any:
    return call(client, "POST", path, as_=who, json=data)


def put(client: Any, who: dict[str, Any] | None, path: str, data: Any) -> Any:
    return call(client, "PUT", path, as_=who, json=data)


def get(client: Any, who: dict[str, Any] | None, path: str, **headers: str) -> Any:
    return call(client, "GET", path, as_=who, headers=headers)


def issue(client: Any, the_doctor: dict[str, Any], the_patient: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A prescription written through the API; its JSON."""
    response = post(client, the_doctor, "/prescription/new", payload(appointment(the_doctor, the_patient),
                                                                     **overrides))
    assert response.status_code == 201, response.body
    return dict(body(response)["prescription"])
