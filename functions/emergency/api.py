"""The public seam of emergency (the emergency phone line, hospitals, doctors on call).

The only module other domains may import from emergency: what one needs goes here, as a function
that imports the domain's internals when it is called (as in `functions/appointments/api.py`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["erase_user"]


def erase_user(user_id: Any, contact: str | None) -> dict[str, int]:
    """The erase of an account: a doctor's on-call document (their switch and the phone the line
    rings) deleted, and the emergency line's call-back requests from the account's phone number
    (the line keys them by the calling number, never by an account). Idempotent."""
    from functions.emergency.stores import callbacks, on_call

    return {"onCall": on_call.delete_of_doctor(user_id),
            "callbacks": callbacks.delete_of_caller(contact) if contact and contact.startswith("+") else 0}
