"""Care relationship: may this doctor see this patient's record?

A doctor is in a patient's care circle while they share an appointment that is not cancelled.
Reads the `appointments` collection (fields `doctor`, `patient`, `status`).
"""

from __future__ import annotations

from typing import Any

from functions.appointments.status import COMPLETED, CONFIRMED, NO_SHOW, PENDING
from functions.core.db import get_db

# The appointment statuses are defined once, in the appointments domain (a booking still
# waiting for its payment, or cancelled, makes no care relationship).
ACTIVE_CARE_STATUSES = (PENDING, CONFIRMED, COMPLETED, NO_SHOW)


def doctor_treats_patient(doctor_id: Any, patient_id: Any) -> bool:
    found = get_db()["appointments"].find_one(
        {"doctor": doctor_id, "patient": patient_id, "status": {"$in": list(ACTIVE_CARE_STATUSES)}},
        {"_id": 1},
    )
    return found is not None
