"""Issue 21, item 1: nobody can mute a doctor. The daily message cap is spent by the party that
causes the messages: a notice caused by another user counts per (sender, recipient) per day; the
recipient's own one-time codes and reminders never count against a cap others can fill; above the
caps, notices are held for one PHI-free digest an hour per recipient."""

from datetime import timedelta

from tests.appointments_support import body, book, doctor, patient, put, sent_emails
from tests.http import call
from tests.lambda_race import race_calls

CONTAINERS = 20


def _to(contact, words):
    return [m for m in sent_emails() if m.destinations["ToAddresses"] == [contact] and words in m.subject + m.body]


def test_one_patients_book_and_cancel_cycles_mute_neither_other_patients_nor_the_doctors_reset_code(api):
    # Given a doctor, and a patient who books and cancels ten times (20 notices to the doctor: the whole cap)
    doc, attacker, honest = doctor(), patient(), patient()
    for _ in range(10):
        booked = book(api, attacker, doc)
        assert booked.status_code == 201, booked.body
        appt_id = body(booked)["appointment"]["_id"]
        assert put(api, attacker, f"/appointment/{appt_id}/cancel", {"reason": "Change of plans"}).status_code == 200
    assert len(_to(doc["contact"], "cancelled")) == 10
    # ... whose eleventh cycle is no longer delivered to the doctor
    before = len(sent_emails())
    booked = book(api, attacker, doc)
    assert booked.status_code == 201
    assert [m for m in sent_emails()[before:] if m.destinations["ToAddresses"] == [doc["contact"]]] == []
    # When an honest patient books, and the doctor asks for a password-reset code
    before = len(sent_emails())
    assert book(api, honest, doc, time="10:00").status_code == 201
    assert call(api, "POST", "/password/forgot", json={"contact": doc["contact"]}).status_code == 200
    # Then the doctor gets both the booking notice and the code
    to_doctor = [m.subject for m in sent_emails()[before:] if m.destinations["ToAddresses"] == [doc["contact"]]]
    assert len(to_doctor) == 2
    assert any("password reset code" in subject for subject in to_doctor)


def test_the_cap_per_sender_and_recipient_holds_exactly_under_concurrent_sends(api, db, monkeypatch):
    from functions.core import config, notify

    # Given a cap of 5 messages a day per sender and recipient
    monkeypatch.setenv("MAX_MESSAGES_PER_RECIPIENT_PER_DAY", "5")
    config.reset_settings()
    pharmacist, customer, other = doctor(), patient(), patient()

    def order_notice(sender):
        return lambda i: notify.send("email", pharmacist["contact"], "New order", f"Order {i} is waiting.",
                                     kind="order_placed", ref=i, sender=sender)

    # When one customer's 20 notices are recorded at the same moment from 20 containers (each delivering inline)
    recorded = race_calls(order_notice(customer["_id"]), CONTAINERS)
    # Then all are recorded, exactly 5 go out, and the other 15 wait for the hourly digest
    # (each container's SES is its own moto: the outbox's marks say what went out)
    assert recorded.count(True) == CONTAINERS
    assert db.notifications.count_documents({"status": "sent"}) == 5
    assert db.notifications.count_documents({"status": "held"}) == CONTAINERS - 5
    # And another customer's notice to the same recipient still goes out at once
    order_notice(other["_id"])(0)
    assert len(_to(pharmacist["contact"], "waiting")) == 1


DIGEST_SUBJECT = "CureConnect: your notices of the last hour"


def test_attackers_filling_a_doctors_notices_hold_the_honest_notice_for_the_digest_and_codes_still_arrive(
        api, db, clock, monkeypatch):
    from functions.core import config, outbox

    # Given a doctor who may get 4 notices a day from everyone together, and three fresh attacker accounts
    monkeypatch.setenv("MAX_NOTICES_PER_RECIPIENT_PER_DAY", "4")
    config.reset_settings()
    doc, honest = doctor(), patient(name="Honest Patient")
    # When the attackers book and cancel (6 notices to the doctor; only 4 fit)
    for attacker in (patient(), patient(), patient()):
        booked = book(api, attacker, doc)
        assert booked.status_code == 201, booked.body
        appt_id = body(booked)["appointment"]["_id"]
        assert put(api, attacker, f"/appointment/{appt_id}/cancel", {"reason": "Change of plans"}).status_code == 200
    assert len(_to(doc["contact"], "")) == 4
    # And an honest patient books, and the doctor asks for a password-reset code
    assert book(api, honest, doc, time="10:00").status_code == 201
    assert call(api, "POST", "/password/forgot", json={"contact": doc["contact"]}).status_code == 200
    # Then the code arrives at once; the honest booking notice is held, not dropped
    after = [m.subject for m in sent_emails() if m.destinations["ToAddresses"] == [doc["contact"]]][4:]
    assert len(after) == 1 and "password reset code" in after[0]
    assert db.notifications.count_documents({"status": "held"}) == 3
    assert db.notifications.count_documents({"status": "dropped"}) == 0
    # When the hour is over (and a minute for late holds) and the worker runs
    clock.set(clock().replace(minute=0) + timedelta(hours=1, minutes=1))
    outbox.deliver_due()
    # Then the doctor gets one digest counting what was held, naming no one and no time
    digests = [m for m in sent_emails() if m.destinations["ToAddresses"] == [doc["contact"]]
               and m.subject == DIGEST_SUBJECT]
    assert len(digests) == 1
    text = digests[0].body
    assert text.startswith("CureConnect: 2 new bookings and 1 cancellation — open your appointments: ")
    assert "Honest" not in text and "Patient" not in text and "10:00" not in text and "SECRET" not in text
    assert db.notifications.count_documents({"status": "held"}) == 0
    assert db.notifications.count_documents({"status": "digested"}) == 3
    # And it is sent once: the worker running again sends nothing more
    clock.advance(hours=2)
    outbox.deliver_due()
    assert len([m for m in sent_emails() if m.subject == DIGEST_SUBJECT]) == 1


def test_a_digest_counts_once_against_the_recipients_budget(api, db, clock, monkeypatch):
    from functions.core import config, notify, outbox, throttle

    # Given one sender who has used up its 2 notices a day to a pharmacist, then 5 more held
    monkeypatch.setenv("MAX_MESSAGES_PER_RECIPIENT_PER_DAY", "2")
    config.reset_settings()
    pharmacist, customer = doctor(), patient()
    for i in range(7):
        notify.send("email", pharmacist["contact"], "New order", f"Order {i} is waiting.", kind="order_placed",
                    ref=i, sender=customer["_id"])
    assert len(_to(pharmacist["contact"], "waiting")) == 2
    assert db.notifications.count_documents({"status": "held"}) == 5
    # When the digest goes out
    clock.advance(hours=1, minutes=1)
    outbox.deliver_due()
    # Then it is one message about 5 orders, pointing to the orders page, and it took one of the recipient's budget
    digest = [m for m in sent_emails() if m.subject == DIGEST_SUBJECT]
    assert [m.body.split(" — ")[0] for m in digest] == ["CureConnect: 5 new orders"]
    assert "open your orders: https://app.cureconnect.test/orders" in digest[0].body
    recipients_own = throttle.Limit("messages", 2, timedelta(days=1)).window_id(pharmacist["contact"])
    assert db[throttle.COLLECTION].find_one({"_id": recipients_own})["count"] == 1
