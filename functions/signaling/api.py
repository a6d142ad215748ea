"""The signaling domain's public seam: the only module other domains import from it.

Pushing a frame to a user's live WebSocket connections, the doctors online now, starting an
emergency (which alerts them), and closing the sockets of ended sessions. Each function imports
the module it delegates to when it is called: a cheap import for callers, and per-route IAM
(infra/iam.py) follows only the functions a route calls.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId

__all__ = ["end_sessions", "erase_user", "messages_for_export", "online_doctor_ids", "push_to_user", "start_emergency"]


def push_to_user(user_id: ObjectId, message: dict[str, Any]) -> int:
    """Send a frame to each live connection of the user; how many got it."""
    from functions.signaling import delivery

    return delivery.push_to_user(user_id, message)


def online_doctor_ids() -> list[ObjectId]:
    """Doctors online now."""
    from functions.signaling import presence

    return presence.online_doctor_ids()


def start_emergency(patient_id: ObjectId, note: str | None, source: str, source_ip: str | None = None
                    ) -> dict[str, Any]:
    """An emergency session for the patient, every online doctor alerted: Forbidden unless the
    patient verified their contact; RateLimited over a budget (one a minute and one open per
    patient, per `source_ip` when given, globally)."""
    from functions.signaling import emergencies

    return emergencies.start_emergency(patient_id, note, source, source_ip=source_ip)


def end_sessions(user_id: ObjectId, jti: str | None = None, opened_before: datetime | None = None) -> int:
    """Close the sockets opened with the token `jti` (or with any token of the user), only those
    opened at or before `opened_before` when given; how many were closed."""
    from functions.signaling import connections

    return connections.end_sessions(user_id, jti, opened_before)


def messages_for_export(sender_id: ObjectId, cap: int) -> list[dict[str, Any]]:
    """Up to `cap` chat messages the user sent, oldest first (one read): their data export."""
    from functions.signaling.stores import messages

    return messages.of_sender(sender_id, cap)


def erase_user(user_id: ObjectId) -> dict[str, int]:
    """The erase of an account: the chat messages the user sent, their connection records and the
    emergencies they raised are deleted (idempotent)."""
    from functions.signaling.stores import connections, emergencies, messages

    return {"messages": messages.delete_sent_by(user_id), "connections": connections.delete_of_user(user_id),
            "emergencies": emergencies.delete_of_patient(user_id)}
