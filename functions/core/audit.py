"""Append-only audit trail of who read or changed patient data.

`record(...)` is the only writer; nothing in the code base updates or deletes `audit_log`
(in production the database user for the API should have insert/find only on it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel

from functions.core import clock
from functions.core.db import get_db
from functions.core.paging import find_page

COLLECTION = "audit_log"

INDEXES = {
    COLLECTION: [
        IndexModel([("resourceType", ASCENDING), ("resourceId", ASCENDING), ("at", DESCENDING)], name="by_resource"),
        IndexModel([("actorId", ASCENDING), ("at", DESCENDING)], name="by_actor"),
        IndexModel([("subjectId", ASCENDING), ("at", DESCENDING)], name="by_subject"),
    ]
}


def _who(actor: Mapping[str, Any] | str) -> dict[str, Any]:
    if isinstance(actor, str):
        return {"actorId": None, "actorRole": "system", "actorName": actor}
    return {"actorId": actor.get("_id"), "actorRole": actor.get("role"), "actorName": actor.get("name")}


def record(
    actor: Mapping[str, Any] | str,
    action: str,
    resource_type: str,
    resource_id: Any,
    reason: str | None = None,
    *,
    subject_id: Any = None,
) -> dict[str, Any]:
    """Write one audit entry. `actor` is a user document (id, role and name are kept as they
    were at the time) or a system name such as "scheduler". `subject_id` is the patient whose
    data it is, so patients can see who touched their record."""
    entry = {
        **_who(actor),
        "action": action,
        "resourceType": resource_type,
        "resourceId": resource_id,
        "subjectId": subject_id,
        "reason": reason,
        "at": clock.now(),
    }
    get_db()[COLLECTION].insert_one(entry)
    return entry


def record_per_subject(actor: Mapping[str, Any] | str, action: str, resource_type: str,
                       counts: Mapping[Any, int], reason: Callable[[int], str]) -> int:
    """One entry per patient whose data one read showed (a list of many patients' records), so
    each patient's access log shows it: `counts` maps each subject to how many of their records
    were shown, `reason(n)` says what. One insert for all of them; returns the entries written."""
    if not counts:
        return 0
    now, who = clock.now(), _who(actor)
    entries = [{**who, "action": action, "resourceType": resource_type, "resourceId": None, "subjectId": subject,
                "reason": reason(n), "at": now} for subject, n in counts.items()]
    get_db()[COLLECTION].insert_many(entries, ordered=False)
    return len(entries)


def entries_for_subject(subject_id: Any, *, skip: int = 0, limit: int = 50) -> tuple[list[dict[str, Any]], int]:
    return find_page(get_db()[COLLECTION], {"subjectId": subject_id}, sort=[("at", DESCENDING)], skip=skip,
                     limit=limit, projection={"subjectId": 0})


def erase_actor(user_id: Any) -> int:
    """The erase of an account: its entries keep the id only (the name it acted under removed)."""
    result = get_db()[COLLECTION].update_many({"actorId": user_id}, {"$set": {"actorName": None}})
    return int(result.modified_count)


def end_retention(subject_id: Any) -> int:
    """An erased user's trail after RECORD_RETENTION_YEARS: the entries about them deleted."""
    return int(get_db()[COLLECTION].delete_many({"subjectId": subject_id}).deleted_count)
