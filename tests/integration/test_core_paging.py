"""`core.paging.find_page` on the real database, through a core list that uses it (a patient's
access log): pages in the declared order, never overlapping, each with the list's total."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from functions.core import audit


def test_pages_follow_each_other_and_each_carries_the_total(db: Any) -> None:
    # Given 45 access-log entries about one patient and 3 about another
    patient, other = ObjectId(), ObjectId()
    start = datetime(2026, 3, 2, tzinfo=UTC)
    db[audit.COLLECTION].insert_many(
        [{"subjectId": patient, "action": "read", "at": start + timedelta(minutes=i)} for i in range(45)]
        + [{"subjectId": other, "action": "read", "at": start} for _ in range(3)])
    # When the patient's log is read 20 at a time
    pages = [audit.entries_for_subject(patient, skip=skip, limit=20) for skip in (0, 20, 40, 60)]
    # Then the pages hold 20, 20, 5 and none, each knows the total 45, and together they hold
    # every entry once, newest first, without the projected-out subject
    assert [(len(items), total) for items, total in pages] == [(20, 45), (20, 45), (5, 45), (0, 45)]
    seen = [entry for items, _ in pages for entry in items]
    assert [e["at"] for e in seen] == [start + timedelta(minutes=i) for i in reversed(range(45))]
    assert all("subjectId" not in e for e in seen)
