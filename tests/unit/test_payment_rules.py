"""Pure rules of payments: the refund policy and the one-way status table."""

from datetime import UTC, datetime, timedelta

import pytest

from functions.payments import status, targets

START = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def cancelled_by(role, minutes_before):
    return {"status": "cancelled", "start": START,
            "cancellation": {"role": role, "at": START - timedelta(minutes=minutes_before)}}


@pytest.mark.parametrize(("appt", "due"), [
    (cancelled_by("doctor", 5), True),
    (cancelled_by("admin", 5), True),
    (cancelled_by("patient", 121), True),
    (cancelled_by("patient", 120), True),
    (cancelled_by("patient", 119), False),
    ({"status": "no_show", "start": START}, False),
    ({"status": "completed", "start": START}, False),
    ({"status": "confirmed", "start": START}, False),
])
def test_refund_policy(appt, due):
    # Given an appointment in some end state / When the policy is asked / Then full refund or none
    assert targets.appointment_refund_due(appt, 120) is due


def test_statuses_only_move_forward():
    # Given the status table / Then nothing leads back to an open status once paid or refunded
    for target, sources in status.SOURCES.items():
        if target in status.OPEN:
            assert status.SUCCEEDED not in sources and status.REFUNDED not in sources
    assert status.REFUNDED not in {s for sources in status.SOURCES.values() for s in sources}
