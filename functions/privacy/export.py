"""A user's own data export (`GET /me/export`, issue 24 §3): everything the platform holds about
the caller as one document, gathered through each domain's seam with one read per collection
(no read per record), and rate-limited (`DATA_EXPORTS_PER_HOUR`, `core.throttle`).

Each kind is capped at `EXPORT_CAP` records (a patient of many years stays under Lambda's 6 MB
answer); the chat messages are those the caller sent (the other party's are theirs); the access
log is the audit trail of the caller's record (`core.audit`).

`?format=zip` (`export_zip`) answers the same document as `export.json` in a zip, with each of the
caller's prescriptions as its PDF (`archive`): one take of the same hourly budget, spent even when
the archive turns out too large (413: the reads and the rendering were done)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from functions.appointments import api as appointments
from functions.auth import api as auth
from functions.core import audit, clock, throttle, users
from functions.core.config import get_settings
from functions.core.envelope import respond
from functions.core.errors import Code, InvalidToken
from functions.core.security import Principal
from functions.payments import api as payments
from functions.pharmacy import api as pharmacy
from functions.prescriptions import api as prescriptions
from functions.privacy import archive
from functions.signaling import api as signaling

EXPORT_CAP = 1000  # records of one kind in one export


def _limit() -> throttle.Limit:
    return throttle.Limit("data-export", get_settings().data_exports_per_hour, timedelta(hours=1), Code.RATE_LIMITED,
                          "Too many exports of your data: try again later")


def export(principal: Principal) -> dict[str, Any]:
    """The caller's data (see the module's docstring); 429 over the hourly budget."""
    now = clock.now()
    throttle.take(_limit(), str(principal.id), now)
    history = users.find_history(principal.id)
    if history is None:
        raise InvalidToken()
    own_appointments = appointments.for_export(principal.id, EXPORT_CAP)
    log, _ = audit.entries_for_subject(principal.id, limit=EXPORT_CAP)
    return {
        "exportedAt": now.isoformat(),
        "profile": auth.self_view(principal.user),
        "medicalHistory": history,
        "appointments": own_appointments,
        "prescriptions": prescriptions.for_export(principal.id, EXPORT_CAP),
        "orders": pharmacy.orders_for_export(principal.id, EXPORT_CAP),
        "payments": payments.for_export(principal.id, EXPORT_CAP),
        "messages": signaling.messages_for_export(principal.id, EXPORT_CAP),
        "accessLog": [_access(e) for e in log],
    }


def export_zip(principal: Principal) -> tuple[str, bytes]:
    """(file name, zip bytes): `export.json`, the very body `export` answers as JSON, and the PDF of
    each of the caller's prescriptions; 413 `EXPORT_TOO_LARGE` over Lambda's answer, 429 over the
    hourly budget (the same one as JSON's)."""
    document = export(principal)
    body = str(respond(**document).body).encode("utf-8")  # the JSON answer's own bytes
    now = clock.now()
    data = archive.build(body, prescriptions.pdfs_for_export(principal.id, EXPORT_CAP), now)
    return f"cureconnect-export-{now:%Y-%m-%d}.zip", data


def _access(entry: dict[str, Any]) -> dict[str, Any]:
    """An audit entry as `GET /me/access-log` shows it."""
    return {"actor": {"id": entry.get("actorId"), "name": entry.get("actorName"), "role": entry.get("actorRole")},
            "action": entry.get("action"),
            "resource": {"type": entry.get("resourceType"), "id": entry.get("resourceId")},
            "reason": entry.get("reason"), "at": entry.get("at")}
