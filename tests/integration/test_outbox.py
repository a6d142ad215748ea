"""The outbox (issue 20 §1, `core.outbox`): effects recorded on the request path, delivered by the
worker — a handler's messages stored as children and sent once, failures retried with backoff and
given up after their attempts — and the worker killed at every database command of a delivery:
each message is sent exactly once, except a kill between the provider's acceptance and the mark."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

import pytest

from tests.appointments_support import api, patient, sent_emails  # noqa: F401 - fixture
from tests.faults import Fault, FaultPlan, count_steps, inject

KIND = "test.two_notices"


@pytest.fixture
def handlers(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A domain's handler plugged as the composition root would: two notices about a thing."""
    from functions.core import outbox

    calls: list[Any] = []

    def two_notices(payload: Any) -> list[Any]:
        calls.append(payload["thing"])
        return [outbox.message("email", to, "Thing changed", f"Thing {payload['thing']} changed.", kind="thing",
                               ref=payload["thing"]) for to in payload["to"]]

    plugged = {KIND: two_notices}
    monkeypatch.setattr(outbox, "_handlers", dict(plugged))
    return {"calls": calls, **plugged}


def _to(contact: str) -> list[Any]:
    return [m for m in sent_emails() if m.destinations["ToAddresses"] == [contact]]


@pytest.fixture
def poll(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local poller's setting: `kick` does nothing, the test runs the worker itself."""
    from functions.core import config

    monkeypatch.setenv("OUTBOX_DELIVERY", "poll")
    config.reset_settings()


def _record_two(who: list[dict[str, Any]]) -> None:
    from functions.core import outbox

    outbox.record(outbox.Effect(KIND, {"thing": 7, "to": [p["contact"] for p in who]}, ref=7))


def test_a_recorded_effect_is_delivered_inline_and_its_messages_go_once(api, handlers, db, clock):  # noqa: F811
    from functions.core import outbox

    # Given two recipients
    a, b = patient(), patient()
    # When a use case records the effect (the test suite delivers inline)
    outbox.record(outbox.Effect(KIND, {"thing": 7, "to": [a["contact"], b["contact"]]}, ref=7))
    # Then the handler ran once and each recipient got its notice
    assert handlers["calls"] == [7]
    assert [len(_to(a["contact"])), len(_to(b["contact"]))] == [1, 1]
    parent = db.notifications.find_one({"type": "effect"})
    assert parent["status"] == "done"
    children = sorted(db.notifications.find({"type": "message"}), key=lambda d: d["_id"])
    assert [(c["_id"], c["status"]) for c in children] == [(f"{parent['_id']}:0", "sent"),
                                                           (f"{parent['_id']}:1", "sent")]
    # And the worker running again (a late kick, the sweeper) sends nothing more
    clock.advance(hours=1)
    assert outbox.deliver_due()["delivered"] == 0
    assert [len(_to(a["contact"])), len(_to(b["contact"]))] == [1, 1]


def test_recording_costs_one_round_trip_under_poll(api, handlers, db, poll):  # noqa: F811
    # When an effect is recorded with the local poller's setting (kick does nothing)
    a, b = patient(), patient()
    steps = count_steps(lambda: _record_two([a, b]))
    # Then the request path paid one insert and nothing was sent yet
    assert steps == ["notifications.insert_one"]
    assert _to(a["contact"]) == [] and db.notifications.find_one({})["status"] == "pending"


def test_a_failing_handler_is_retried_with_backoff_then_given_up(api, db, clock, monkeypatch):  # noqa: F811
    from functions.core import notify, outbox

    def broken(payload: Any) -> list[Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(outbox, "_handlers", {KIND: broken})
    outbox.record(outbox.Effect(KIND, {"thing": 1}))
    entry = db.notifications.find_one({})
    assert (entry["status"], entry["attempts"], entry["lastError"]) == ("pending", 1, "RuntimeError")
    assert entry["nextAttemptAt"] == clock() + notify.backoff(1)
    # Not retried before its time; then each retry waits longer, and after MAX_ATTEMPTS it is failed
    assert outbox.deliver_due()["retried"] == 0
    for _ in range(notify.MAX_ATTEMPTS + 2):
        clock.advance(hours=3)
        outbox.deliver_due()
    entry = db.notifications.find_one({})
    assert (entry["status"], entry["attempts"]) == ("failed", notify.MAX_ATTEMPTS)


# ---------------------------------------------------------------- the worker killed at every command


class Killed(BaseException):
    """The worker's process died (nothing in it runs on: not an Exception the code could catch)."""


class KillPlan(FaultPlan):
    """The `fail_at`-th command is refused or applied-with-its-reply-lost, and the process dies there."""

    def step(self, name: str, run: Any) -> Any:
        try:
            return super().step(name, run)
        except Exception as exc:
            if self.fired:
                raise Killed(name) from exc
            raise


def test_a_worker_killed_at_any_command_sends_each_message_once_but_for_a_kill_before_the_mark(
        api, handlers, db, clock, poll):  # noqa: F811
    from functions.core import outbox

    a, b = patient(), patient()
    # Given the commands of one clean delivery of a parent effect with two messages
    _record_two([a, b])
    steps = count_steps(outbox.deliver_due)
    assert len(_to(a["contact"])) == 1 and len(_to(b["contact"])) == 1
    # (lease the parent, store its children, mark it; lease, caps and mark each message; no more due)
    message = ["notifications.find_one_and_update", "users.find_one", "rate_limits.find_one_and_update",
               "notifications.update_one"]
    assert steps == ["notifications.find_one_and_update", "notifications.insert_many", "notifications.update_one",
                     *message, *message, "notifications.find_one_and_update", "notifications.find_one_and_update"]
    marks = [7, 11]  # each message's "sent", right after its provider accepted it
    for k in range(1, len(steps) + 1):
        for fault in Fault:
            a, b = patient(), patient()
            _record_two([a, b])
            # When the worker dies at command k, and a worker runs again once the lease has run out
            with inject(KillPlan(fail_at=k, fault=fault)) as plan, pytest.raises(Killed):
                outbox.deliver_due()
            assert plan.fired
            clock.advance(minutes=11)
            outbox.deliver_due()
            clock.advance(minutes=11)
            outbox.deliver_due()
            # Then each message went out exactly once — but a kill between the provider's acceptance
            # and the mark (the mark refused), which sends that one message twice
            sent = [len(_to(a["contact"])), len(_to(b["contact"]))]
            duplicated = fault is Fault.REFUSED and k in marks
            expected = [2 if duplicated and k == marks[0] else 1, 2 if duplicated and k == marks[1] else 1]
            assert sent == expected, (k, steps[k - 1], fault)
            assert db.notifications.count_documents({"status": {"$in": ["pending", "sending"]}}) == 0, (k, fault)


# ---------------------------------------------------------------- the kick on AWS: SQS


def test_on_aws_a_recorded_message_kicks_the_queue_and_the_worker_lambda_delivers_it(
        api, db, monkeypatch):  # noqa: F811
    import boto3

    from functions.core import config, notify

    # Given the deployed configuration: kicks go to the stack's SQS queue
    queue_url = boto3.client("sqs").create_queue(QueueName="cureconnect-test-outbox")["QueueUrl"]
    monkeypatch.setenv("OUTBOX_DELIVERY", "sqs")
    monkeypatch.setenv("OUTBOX_QUEUE_URL", queue_url)
    config.reset_settings()
    someone = patient()
    # When a request records a message
    assert notify.send("email", someone["contact"], "Hello", "CureConnect: hello.", kind="notice") is True
    # Then nothing is sent on the request path, and one kick waits in the queue
    assert _to(someone["contact"]) == []
    kicks = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert len(kicks) == 1
    # When SQS hands the kick to the worker Lambda
    event = api.events.generate_sqs_event(message_bodies=[k["Body"] for k in kicks],
                                          queue_name="cureconnect-test-outbox")
    result = api.lambda_.invoke("outbox_worker", event).payload
    # Then the message is delivered and marked sent
    assert result["delivered"] == 1
    assert [m.subject for m in _to(someone["contact"])] == ["Hello"]
    assert db.notifications.find_one({})["status"] == "sent"


def test_on_aws_a_deferred_effect_rides_in_its_queue_message_and_the_worker_runs_it_once(
        api, db, clock, monkeypatch):  # noqa: F811
    """The login's settlement (`outbox.defer`): no database write on the request path; the SQS
    message carries it; the worker Lambda settles; a redelivered message changes nothing more."""
    import boto3

    from functions.core import config, outbox, throttle
    from functions.core.throttle import Limit

    # Given the deployed configuration, and a login attempt's takes under an address and a contact
    queue_url = boto3.client("sqs").create_queue(QueueName="cureconnect-test-outbox")["QueueUrl"]
    monkeypatch.setenv("OUTBOX_DELIVERY", "sqs")
    monkeypatch.setenv("OUTBOX_QUEUE_URL", queue_url)
    config.reset_settings()
    here, anywhere = Limit("login-ip", 5, timedelta(minutes=15)), Limit("login", 20, timedelta(minutes=15))
    throttle.take_all([(here, "ip|a@x"), (anywhere, "a@x")], clock())  # an earlier failure from here
    token = throttle.take_all([(here, "ip|a@x"), (anywhere, "a@x")], clock())
    # When the request defers the success's settlement
    steps = count_steps(lambda: outbox.defer(outbox.Effect(throttle.SETTLE, throttle.settlement(
        reset=[(here, "ip|a@x")], give_back=[(anywhere, "a@x")], token=token))))
    # Then it cost the request no database command, and one message carrying it waits in the queue
    assert steps == [] and db.notifications.count_documents({}) == 0
    messages = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1

    def hand_over() -> Any:
        event = api.events.generate_sqs_event(message_bodies=[m["Body"] for m in messages],
                                              queue_name="cureconnect-test-outbox")
        for record, m in zip(event["Records"], messages, strict=True):
            record["messageId"] = m["MessageId"]
        return api.lambda_.invoke("outbox_worker", event).payload

    # When SQS hands it to the worker Lambda
    hand_over()
    # Then the address's failures are forgotten and the attempt no longer counts for the contact
    counts = {w["_id"]: w["count"] for w in db.rate_limits.find({})}
    assert counts == {"login-ip|ip|a@x": 0, "login|a@x": 1}
    # When a new failure is counted, and SQS delivers the same message again (at least once)
    throttle.take_all([(here, "ip|a@x"), (anywhere, "a@x")], clock())
    hand_over()
    # Then the second run changed nothing: the new failure still counts at both
    counts = {w["_id"]: w["count"] for w in db.rate_limits.find({})}
    assert counts == {"login-ip|ip|a@x": 1, "login|a@x": 2}


def test_a_deferred_effect_the_queue_cannot_take_is_recorded_in_the_outbox_instead(
        api, db, clock, monkeypatch):  # noqa: F811
    from functions.core import config, outbox, throttle
    from functions.core.throttle import Limit

    # Given the deployed mode without a queue (chalice deploy --stage dev) and a take
    monkeypatch.setenv("OUTBOX_DELIVERY", "sqs")
    monkeypatch.setenv("OUTBOX_QUEUE_URL", "")
    config.reset_settings()
    here = Limit("login-ip", 5, timedelta(minutes=15))
    token = throttle.take_all([(here, "ip|b@x")], clock())
    # When its settlement is deferred
    outbox.defer(outbox.Effect(throttle.SETTLE, throttle.settlement(reset=[(here, "ip|b@x")], token=token)))
    # Then it waits in the outbox for the worker (the sweeper), which settles it
    assert db.notifications.find_one({})["kind"] == throttle.SETTLE
    assert outbox.deliver_due()["handled"] == 1
    assert db.rate_limits.find_one({})["count"] == 0


def test_under_make_run_a_deferred_effect_runs_on_the_process_own_thread_not_the_requests(
        api, db, poll, monkeypatch):  # noqa: F811
    import threading

    from functions.core import outbox

    # Given a handler that notes the thread it runs on
    ran = threading.Event()
    threads: list[str] = []

    def note(payload: Any) -> list[Any]:
        threads.append(threading.current_thread().name)
        ran.set()
        return []

    monkeypatch.setattr(outbox, "_handlers", {"test.note": note})
    # When a request defers an effect under make run's setting (poll)
    steps = count_steps(lambda: outbox.defer(outbox.Effect("test.note", {"n": 1})))
    # Then the request sent no database command, and the process's own thread ran it soon after
    assert steps == []
    assert ran.wait(timeout=5)
    assert threads == ["off-path-outbox-deferred"]
    assert db.notifications.count_documents({}) == 0


def test_the_dev_stage_names_its_queue_and_kicks_and_deferred_effects_find_it_by_name(api, db, monkeypatch):  # noqa: F811
    import boto3

    from functions.core import config, notify, outbox

    # Given `chalice deploy --stage dev`: no queue URL, the queue named (OUTBOX_QUEUE_NAME)
    queue_url = boto3.client("sqs").create_queue(QueueName="cureconnect-dev-outbox")["QueueUrl"]
    monkeypatch.setenv("OUTBOX_DELIVERY", "sqs")
    monkeypatch.setenv("OUTBOX_QUEUE_URL", "")
    monkeypatch.setenv("OUTBOX_QUEUE_NAME", "cureconnect-dev-outbox")
    config.reset_settings()
    outbox._url_of.cache_clear()
    # When a request records a message and another defers an effect
    assert notify.send("email", patient()["contact"], "Hello", "CureConnect: hello.", kind="notice") is True
    outbox.defer(outbox.Effect("test.nothing", {"n": 1}))
    # Then both reached the named queue: a kick, and the effect itself (not written to the outbox)
    bodies = sorted(m["Body"] for m in boto3.client("sqs").receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"])
    assert len(bodies) == 2 and '{"kick":1}' in bodies and '"test.nothing"' in bodies[0] + bodies[1]
    assert db.notifications.count_documents({"kind": "test.nothing"}) == 0


def test_a_worker_that_survives_a_failed_command_sends_each_message_once_but_when_a_mark_fails(
        api, handlers, db, clock, poll):  # noqa: F811
    from functions.core import outbox

    a, b = patient(), patient()
    _record_two([a, b])
    steps = count_steps(outbox.deliver_due)
    marks = [7, 11]
    for k in range(1, len(steps) + 1):
        for fault in Fault:
            a, b = patient(), patient()
            _record_two([a, b])
            # When command k fails (refused, or applied with its reply lost) and the worker carries on,
            # then runs again after the lease and the first backoff
            # (a lease whose answer was lost escapes: that entry waits for its lease to end)
            with inject(FaultPlan(fail_at=k, fault=fault)) as plan, contextlib.suppress(Exception):
                outbox.deliver_due()
            assert plan.fired
            for _ in range(2):
                clock.advance(minutes=11)
                outbox.deliver_due()
            # Then each message went out once; a failed "sent" mark may send that one message again
            sent = [len(_to(a["contact"])), len(_to(b["contact"]))]
            expected = [2 if k == marks[0] else 1, 2 if k == marks[1] else 1]
            assert sent == expected, (k, steps[k - 1], fault)
            assert db.notifications.count_documents({"status": {"$in": ["pending", "sending"]}}) == 0, (k, fault)


# ---------------------------------------------------------------- the digest path killed at every command


def test_a_worker_killed_at_any_command_of_holding_a_notice_and_sending_its_digest_puts_it_in_one_digest(
        api, db, clock, poll, monkeypatch):  # noqa: F811
    """A notice over its daily budget is held for the recipient's digest (issue 21 item 1): the
    digest is made, the notice marked held, and an hour later the digest sent and its notices
    marked digested. Killed at any of those commands, the notice still goes out in exactly one
    digest and never on its own (the cap holds) — but for a kill between the provider's
    acceptance of the digest and its mark, which sends the digest twice."""
    from functions.core import config, notify, outbox

    monkeypatch.setenv("MAX_MESSAGES_PER_RECIPIENT_PER_DAY", "1")
    config.reset_settings()

    def over_budget() -> tuple[str, Any]:
        """A recipient whose one notice a day from this sender went out; a second one recorded."""
        recipient, sender = patient(), patient()
        for n in (1, 2):
            notify.send("email", recipient["contact"], "New order", f"Order {n} is waiting.", kind="order_placed",
                        ref=n, sender=sender["_id"])
            if n == 1:
                outbox.deliver_due()
        return recipient["contact"], sender

    def hold_then_digest() -> None:
        outbox.deliver_due()  # the second notice is held
        clock.advance(hours=1, minutes=1)
        outbox.deliver_due()  # its digest is due

    def outcome(contact: str) -> tuple[int, int]:
        mails = _to(contact)
        return (sum("Order 2" in m.body for m in mails),
                sum(m.subject != "New order" for m in mails))  # (sent on its own, digests)

    # Given the commands of one clean run
    contact, _ = over_budget()
    steps = count_steps(hold_then_digest)
    assert outcome(contact) == (0, 1)
    # (hold: lease, caps, make the digest, mark held; digest: lease, read its notices, count, mark sent,
    # mark them digested)
    assert "notifications.insert_one" in steps and steps.count("notifications.update_many") == 1
    digest_sent_mark = len(steps) - steps[::-1].index("notifications.update_one")  # 1-based
    for k in range(1, len(steps) + 1):
        for fault in Fault:
            clock.advance(days=1)  # a fresh day: the budgets start again
            contact, _ = over_budget()
            # When the worker dies at command k, and workers run again after the lease and the hour
            with inject(KillPlan(fail_at=k, fault=fault)) as plan, pytest.raises(Killed):
                hold_then_digest()
            assert plan.fired
            for advance in ({"minutes": 11}, {"hours": 1, "minutes": 2}, {"minutes": 11}):
                clock.advance(**advance)
                outbox.deliver_due()
            # Then the held notice was in exactly one digest and never sent on its own
            duplicated = fault is Fault.REFUSED and k == digest_sent_mark
            assert outcome(contact) == (0, 2 if duplicated else 1), (k, steps[k - 1], fault)
            assert db.notifications.count_documents({"status": {"$in": ["pending", "sending"]}}) == 0, (k, fault)
