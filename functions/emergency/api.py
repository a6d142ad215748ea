"""The public seam of emergency (the emergency phone line, hospitals, doctors on call).

The only module other domains may import from emergency: what one needs goes here, as a function
that imports the domain's internals when it is called (as in `functions/appointments/api.py`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["erase_doctor"]


def erase_doctor(doctor_id: Any) -> int:
    """The erase of an account: a doctor's on-call document (their switch and the phone the line
    rings) deleted. Idempotent."""
    from functions.emergency.stores import on_call

    return on_call.delete_of_doctor(doctor_id)
