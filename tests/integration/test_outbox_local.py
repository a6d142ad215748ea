"""Under `make run` (OUTBOX_DELIVERY=poll) a request only records its messages; the supervised
loop `local/outbox_worker.py` delivers them well under a second later, and the local inbox's
journal (what the inbox page and the e2e tests read) shows what it sent and what it dropped."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from tests.factories import make_user


@pytest.fixture
def local_run(client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """make run's notifier: poll delivery, the local Twilio account journaling into an inbox file
    (local/inbox.py's hooks, restored after the test); an event set at each journal line."""
    from functions.core import config, notify
    from local import inbox

    for key, value in {"OUTBOX_DELIVERY": "poll", "TWILIO_ACCOUNT_SID": inbox.LOCAL_TWILIO_SID,
                       "TWILIO_AUTH_TOKEN": "local", "TWILIO_FROM_NUMBER": inbox.LOCAL_FROM_NUMBER}.items():
        monkeypatch.setenv(key, value)
    config.reset_settings()
    journal = inbox.Journal(tmp_path / "inbox.jsonl")
    written = threading.Event()
    append = journal.append

    def noticed(entry: dict[str, Any]) -> None:
        append(entry)
        written.set()

    monkeypatch.setattr(journal, "append", noticed)
    for name in ("dropped", "deliver", "twilio_http_client"):
        monkeypatch.setattr(notify, name, getattr(notify, name))  # restored after the test
    inbox._record_drops(notify, journal)
    notify.twilio_http_client = lambda: inbox.LocalTwilio(journal)
    return journal, written


@pytest.fixture
def loop() -> Any:
    """local/outbox_worker.py's loop, polling every 0.2 s in a thread, stopped after the test."""
    from local import outbox_worker

    outbox_worker._stop.clear()
    worker = threading.Thread(target=outbox_worker.run, args=(0.2,), daemon=True)
    worker.start()

    def stop() -> None:  # the loop finishes what it is delivering, then ends
        outbox_worker._stop.set()
        worker.join(timeout=10)
        assert not worker.is_alive()

    yield stop
    stop()


def test_a_message_recorded_under_make_run_is_delivered_by_the_local_loop(client, db, local_run, loop):
    from functions.core import notify

    journal, written = local_run
    verified = make_user("patient", contact="+919876543210", contactType="phone", contactVerified=True)
    # When a request records an SMS (poll: nothing is sent on the request path)
    notify.send("phone", verified["contact"], "s", "CureConnect: your appointment is booked.", kind="booked")
    # Then the loop sends it within a few of its polls, and the inbox's journal shows it
    assert written.wait(timeout=5)
    loop()
    sent = [e for e in journal.entries() if e["status"] == "sent"]
    assert [(e["to"], e["body"], e["kind"]) for e in sent] == [
        ("+919876543210", "CureConnect: your appointment is booked.", "booked")]
    assert db.notifications.find_one({})["status"] == "sent"


def test_a_message_the_rules_drop_shows_as_dropped_in_the_local_inbox(client, db, local_run, loop):
    from functions.core import notify

    journal, written = local_run
    make_user("patient", contact="+919876543211", contactType="phone", contactVerified=False)
    # When a notice to an unverified number is recorded
    notify.send("phone", "+919876543211", "s", "CureConnect: notice", kind="booked")
    # Then the loop drops it (the rule is evaluated where it is delivered) and the journal says why
    assert written.wait(timeout=5)
    loop()
    assert [(e["status"], e["reason"]) for e in journal.entries()] == [("dropped", "unverified number")]
    assert db.notifications.find_one({})["status"] == "dropped"
