"""Care relationship: may this doctor see this patient's record?

A doctor is in a patient's care circle while they share an appointment that is not cancelled.
Reads the `appointments` collection (fields `doctor`, `patient`, `status`).
"""

from __future__ import annotations

from typing import Any

from functions.core.db import get_db

ACTIVE_CARE_STATUSES = ("pending", "confirmed", "completed", "no_show")


def doctor_treats_patient(doctor_id: Any, patient_id: Any) -> bool:
    found = get_db()["appointments"].find_one(
        {"doctor": doctor_id, "patient": patient_id, "status": {"$in": list(ACTIVE_CARE_STATUSES)}},
        {"_id": 1},
    )
    return found is not None
