"""EventBridge Scheduler reminders (moto), the send_reminder Lambda, the sweeper, and the
notifier (Twilio SDK over a stubbed transport, SES recorded by moto)."""

import json

import boto3
import pytest
from bson import ObjectId

from tests.appointments_support import (
    FUNCTION_ARN,
    ROLE_ARN,
    SENDER,
    TWILIO_FROM,
    body,
    book,
    doctor,
    patient,
    put,
    schedules,
    sent_emails,
    utc,
)

PHONE = "+919876543210"


def booked(client, pat, doc, **kw):
    response = book(client, pat, doc, **kw)
    assert response.status_code == 201, response.body
    return body(response)["appointment"]


def invoke(client, name, payload):
    return client.lambda_.invoke(name, payload).payload


def sweep(client):
    event = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={},
        resources=["arn:aws:events:us-east-1:123456789012:rule/cureconnect-test-reminder_sweep"])
    return invoke(client, "reminder_sweep", event)


def test_booking_creates_one_schedule_per_offset_at_the_right_time(api):
    # Given a booking for Wed 09:00 IST = 03:30 UTC, two days ahead
    appt = booked(api, patient(), doctor(), day="2026-03-04", time="09:00")
    found = schedules()
    # Then there is a 24 h and a 15 min schedule, in UTC, deleted after they run
    day_before, quarter = found[f"appt-{appt['_id']}-1440m"], found[f"appt-{appt['_id']}-15m"]
    assert day_before["ScheduleExpression"] == "at(2026-03-03T03:30:00)"
    assert quarter["ScheduleExpression"] == "at(2026-03-04T03:15:00)"
    for schedule, offset in ((day_before, 1440), (quarter, 15)):
        assert schedule["ScheduleExpressionTimezone"] == "UTC"
        assert schedule["ActionAfterCompletion"] == "DELETE"
        assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
        assert schedule["Target"]["Arn"] == FUNCTION_ARN and schedule["Target"]["RoleArn"] == ROLE_ARN
        assert json.loads(schedule["Target"]["Input"]) == {"appointmentId": appt["_id"], "offset": offset}
    assert len(found) == 2


def test_offsets_already_past_at_booking_are_skipped(api, db):
    # Tomorrow 09:00 IST is 17.5 h away: no 24 h reminder
    appt = booked(api, patient(), doctor(), day="2026-03-03", time="09:00")
    assert list(schedules()) == [f"appt-{appt['_id']}-15m"]
    assert db.appointments.find_one()["reminderOffsets"] == [15]


def test_reschedule_replaces_the_schedules_and_cancel_deletes_them(api):
    doc, pat = doctor(), patient()
    appt = booked(api, pat, doc, day="2026-03-03", time="09:00")
    # When it moves three days later, both offsets apply again
    put(api, pat, f"/appointment/{appt['_id']}/reschedule", {"day": "2026-03-06", "time": "10:00"})
    found = schedules()
    assert found[f"appt-{appt['_id']}-1440m"]["ScheduleExpression"] == "at(2026-03-05T04:30:00)"
    assert found[f"appt-{appt['_id']}-15m"]["ScheduleExpression"] == "at(2026-03-06T04:15:00)"
    # When it moves back inside 24 h, the 24 h schedule goes away
    put(api, pat, f"/appointment/{appt['_id']}/reschedule", {"day": "2026-03-03", "time": "11:00"})
    found = schedules()
    assert list(found) == [f"appt-{appt['_id']}-15m"]
    assert found[f"appt-{appt['_id']}-15m"]["ScheduleExpression"] == "at(2026-03-03T05:15:00)"
    # When it is cancelled, nothing is left; cancelling with schedules already gone is fine
    boto3.client("scheduler").delete_schedule(Name=f"appt-{appt['_id']}-15m")
    assert put(api, pat, f"/appointment/{appt['_id']}/cancel", {"reason": "better"}).status_code == 200
    assert schedules() == {}


def test_send_reminder_sends_one_sms_through_the_twilio_sdk_and_never_twice(api, twilio, clock):
    # Given a patient reached by phone and a booking with its 15-minute schedule
    pat = patient(contact=PHONE, contactType="phone")
    appt = booked(api, pat, doctor(), day="2026-03-04", time="09:00")
    schedule = schedules()[f"appt-{appt['_id']}-15m"]
    twilio.requests.clear()
    emails_before = len(sent_emails())
    # When the Scheduler fires at its at() time with its Input
    clock.set(utc(2026, 3, 4, 3, 15))
    first = invoke(api, "send_reminder", json.loads(schedule["Target"]["Input"]))
    # Then exactly one SMS went out through the SDK's transport, and the doctor got an e-mail
    assert first["sent"] is True
    assert len(twilio.sms) == 1
    sms = twilio.sms[0]
    assert (sms["To"], sms["From"]) == (PHONE, TWILIO_FROM)
    assert "Wed 4 Mar 2026, 09:00 IST" in sms["Body"]
    assert sms["Body"].endswith("Details: https://app.cureconnect.test/appointments")
    assert twilio.requests[0]["uri"].endswith("/Messages.json")
    assert len(sent_emails()) == emails_before + 1
    # When the Lambda is retried (or the sweeper runs), nothing more is sent
    second = invoke(api, "send_reminder", json.loads(schedule["Target"]["Input"]))
    assert second["sent"] is False
    assert sweep(api)["reminders"] == 0
    assert len(twilio.sms) == 1 and len(sent_emails()) == emails_before + 1


def test_send_reminder_skips_cancelled_early_and_bogus_input(api, twilio, clock):
    pat, doc = patient(contact=PHONE, contactType="phone"), doctor()
    appt = booked(api, pat, doc, day="2026-03-04", time="09:00")
    twilio.requests.clear()
    payload = {"appointmentId": appt["_id"], "offset": 15}
    # too early: nothing
    clock.set(utc(2026, 3, 4, 2, 0))
    assert invoke(api, "send_reminder", payload)["sent"] is False
    # cancelled: nothing, even when due
    assert put(api, doc, f"/appointment/{appt['_id']}/cancel", {"reason": "x"}).status_code == 200
    twilio.requests.clear()
    clock.set(utc(2026, 3, 4, 3, 15))
    assert invoke(api, "send_reminder", payload)["sent"] is False
    for bogus in ({}, {"appointmentId": "x", "offset": 15}, {"appointmentId": str(ObjectId()), "offset": "soon"},
                  {"appointmentId": appt["_id"], "offset": 60}):
        assert invoke(api, "send_reminder", bogus)["sent"] is False
    assert twilio.sms == []


def test_a_reminder_for_the_old_time_does_not_fire_after_a_reschedule(api, twilio, clock):
    pat = patient(contact=PHONE, contactType="phone")
    appt = booked(api, pat, doctor(), day="2026-03-04", time="09:00")
    put(api, pat, f"/appointment/{appt['_id']}/reschedule", {"day": "2026-03-05", "time": "09:00"})
    twilio.requests.clear()
    clock.set(utc(2026, 3, 4, 3, 15))  # when the old 15-minute reminder would have fired
    assert invoke(api, "send_reminder", {"appointmentId": appt["_id"], "offset": 15})["sent"] is False
    clock.set(utc(2026, 3, 5, 3, 15))
    assert invoke(api, "send_reminder", {"appointmentId": appt["_id"], "offset": 15})["sent"] is True
    assert len(twilio.sms) == 1


def test_the_sweeper_sends_due_but_unsent_reminders_once(api, twilio, clock):
    # Given a booking whose schedules never fired (moto never fires them)
    pat = patient(contact=PHONE, contactType="phone")
    appt = booked(api, pat, doctor(), day="2026-03-04", time="09:00")
    twilio.requests.clear()
    # When the sweeper runs just after the 24 h reminder was due (past its grace)
    clock.set(utc(2026, 3, 3, 3, 33))
    assert sweep(api)["reminders"] == 1
    assert len(twilio.sms) == 1
    # Then a second sweep and the late Scheduler invocation send nothing
    assert sweep(api)["reminders"] == 0
    assert invoke(api, "send_reminder", {"appointmentId": appt["_id"], "offset": 1440})["sent"] is False
    assert len(twilio.sms) == 1


def test_a_failed_notification_never_fails_the_request_and_is_retried(api, twilio, db, clock):
    # Given Twilio is down
    pat = patient(contact=PHONE, contactType="phone")
    twilio.fail = True
    # When the patient books, the booking succeeds and the SMS waits in the outbox
    response = book(api, pat, doctor(), day="2026-03-04")
    assert response.status_code == 201
    queued = db.notifications.find_one({"channel": "phone"})
    assert queued["status"] == "pending" and queued["to"] == PHONE and queued["kind"] == "booked_confirmed"
    assert "SECRET" not in queued["body"]
    # When Twilio is back and the sweeper runs after the backoff
    twilio.fail = False
    twilio.requests.clear()
    clock.advance(minutes=5)
    result = sweep(api)
    # Then it is delivered once and marked sent
    assert result["delivered"] == 1
    assert db.notifications.find_one({"_id": queued["_id"]})["status"] == "sent"
    assert sweep(api)["retried"] == 0
    assert [s["To"] for s in twilio.sms] == [PHONE]


def test_ses_failures_are_queued_too(api, db):
    boto3.client("ses").delete_identity(Identity=SENDER)  # the sender is no longer verified
    assert book(api, patient(), doctor()).status_code == 201
    assert db.notifications.count_documents({"channel": "email", "status": "pending"}) == 2
    assert db.notifications.find_one({"channel": "email"})["lastError"] == "MessageRejected"


def test_the_outbox_gives_up_after_its_attempts(api, twilio, db, clock):
    from functions.core import notify

    twilio.fail = True
    book(api, patient(contact=PHONE, contactType="phone"), doctor())
    for _ in range(notify.MAX_ATTEMPTS + 2):
        clock.advance(hours=3)
        sweep(api)
    doc = db.notifications.find_one({"channel": "phone"})
    assert doc["status"] == "failed" and doc["attempts"] == notify.MAX_ATTEMPTS


def test_both_parties_hear_of_every_change_in_their_own_zone_and_no_body_carries_phi(api, twilio, clock):
    # Given a patient by SMS in Europe/London and a doctor by e-mail in Asia/Kolkata who confirms bookings
    pat = patient(contact=PHONE, contactType="phone", timezone="Europe/London")
    doc = doctor(availability={"requiresConfirmation": True})
    appt = booked(api, pat, doc, day="2026-03-04", time="09:00")
    put(api, doc, f"/appointment/{appt['_id']}/confirm")
    put(api, pat, f"/appointment/{appt['_id']}/reschedule", {"day": "2026-03-05", "time": "10:00"})
    clock.set(utc(2026, 3, 5, 4, 15))
    invoke(api, "send_reminder", {"appointmentId": appt["_id"], "offset": 15})
    clock.set(utc(2026, 3, 2, 10, 1))  # back before the start, after the last change
    put(api, doc, f"/appointment/{appt['_id']}/cancel", {"reason": "SECRET-REASON emergency"})
    # Then each party got booking, confirmation, reschedule, reminder and cancellation
    sms = [s["Body"] for s in twilio.sms]
    emails = [m for m in sent_emails() if doc["contact"] in m.destinations["ToAddresses"]]
    assert len(sms) == 5 and len(emails) == 5
    assert "Wed 4 Mar 2026, 03:30 GMT" in sms[0]              # the patient's zone
    assert "Wed 4 Mar 2026, 09:00 IST" in emails[0].body     # the doctor's zone
    assert "moved to Thu 5 Mar 2026, 04:30 GMT" in sms[2]
    # And no symptom, description, reason, name or room id in any of them
    bodies = sms + [m.body for m in emails] + [m.subject for m in emails]
    for text in bodies:
        for secret in ("SECRET", "nausea", "Recurring headache", appt["roomId"], pat["name"], doc["name"]):
            assert secret not in text
        assert text.startswith("CureConnect: ")
    assert all(text.endswith("Details: https://app.cureconnect.test/appointments") for text in bodies[:10])


@pytest.mark.parametrize("contact", ["9876543210", "+91 98765 43210"])
def test_sms_numbers_are_sent_in_e164(api, twilio, contact):
    book(api, patient(contact=contact, contactType="phone"), doctor())
    assert {s["To"] for s in twilio.sms} == {"+919876543210"}
