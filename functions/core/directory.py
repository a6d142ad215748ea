"""The one definition of a listed doctor, shared by the directory (auth) and booking
(appointments): role doctor, approved by an admin, and not deactivated. A missing `active`
means active everywhere, as the guard reads it (the first version's directory hid such
doctors while booking accepted them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LISTED_DOCTOR: dict[str, Any] = {"role": "doctor", "approvalStatus": "approved", "active": {"$ne": False}}
# What `is_available` reads from a doctor document.
AVAILABILITY_FIELDS = {"role": 1, "approvalStatus": 1, "active": 1, "availability": 1, "availablity": 1}


def is_listed(doctor: Mapping[str, Any] | None) -> bool:
    if not doctor:
        return False
    return doctor.get("role") == "doctor" and doctor.get("approvalStatus") == "approved" \
        and doctor.get("active", True) is not False


def is_available(doctor: Mapping[str, Any] | None) -> bool:
    """The frontend's `availability` boolean: listed, taking bookings, and with weekly hours (the
    default schedule when the doctor never set any). The reference's `availablity` string flag
    (D-46: misspelt, a "true"/"false" string) is honoured when it says false."""
    if doctor is None or not is_listed(doctor):
        return False
    if doctor.get("availablity", True) in (False, "false"):
        return False
    setting = doctor.get("availability")
    if not isinstance(setting, Mapping):
        return True
    weekly = setting.get("weeklyHours")
    has_hours = weekly is None or (isinstance(weekly, Mapping) and any(weekly.get(d) for d in weekly))
    return bool(setting.get("acceptingBookings", True)) and has_hours
