"""Doctor presence and emergencies over the WebSocket Lambdas: alerts to online approved doctors,
the per-patient rate limit, the first-accept race, and the timeout (one-off schedule + sweeper)."""

from __future__ import annotations

import json
import threading

import pytest

from tests.factories import make_user
from tests.signaling_support import fresh_sockets

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:cureconnect-test-emergency_timeout"
ROLE_ARN = "arn:aws:iam::123456789012:role/cureconnect-scheduler"


@pytest.fixture
def sockets(client, chalice_app, clock, monkeypatch):
    from functions.core import config

    monkeypatch.setenv("EMERGENCY_FUNCTION_ARN", FUNCTION_ARN)
    monkeypatch.setenv("SCHEDULER_ROLE_ARN", ROLE_ARN)
    config.reset_settings()
    with fresh_sockets(chalice_app) as driver:
        yield driver


def online_doctor(sockets):
    doctor = make_user("doctor")
    cid = sockets.open(doctor)
    sockets.send(cid, {"action": "doctorConnect"})
    assert sockets.types(cid) == ["doctor-online"]
    return doctor, cid


def request_help(sockets, patient_cid, note="chest pain"):
    sockets.send(patient_cid, {"action": "emergencyRequest", "note": note, "location": {"lat": 12.9, "lng": 77.6}})
    return sockets.new_frames(patient_cid)


def test_an_emergency_alerts_every_online_approved_doctor_and_arms_a_timeout(sockets, db):
    # Given two online doctors, one doctor connected but not online, and a patient
    (_, d1), (_, d2) = online_doctor(sockets), online_doctor(sockets)
    idle = sockets.open(make_user("doctor"))
    patient = make_user("patient", name="Meena Das")
    p = sockets.open(patient)
    # When the patient asks for help
    [created] = request_help(sockets, p)
    # Then the patient gets the session and a fresh room, the online doctors are alerted
    assert created["type"] == "emergency-created" and created["timeoutSeconds"] == 120
    alert = {"type": "emergencyNotification", "sessionId": created["sessionId"], "patientName": "Meena Das",
             "roomId": created["roomId"]}
    assert sockets.new_frames(d1) == [alert] and sockets.new_frames(d2) == [alert]
    assert sockets.new_frames(idle) == []
    assert len(created["roomId"]) >= 20 and created["roomId"] != "emergency"  # D-52: one constant room
    # And the session is stored, audited, and its one-off timeout schedule targets the Lambda
    import boto3

    schedule = boto3.client("scheduler").get_schedule(Name=f"emergency-{created['sessionId']}")
    assert schedule["Target"]["Arn"] == FUNCTION_ARN
    assert json.loads(schedule["Target"]["Input"]) == {"sessionId": created["sessionId"]}
    assert schedule["ScheduleExpression"] == "at(2026-03-02T10:02:00)"
    session = db["emergencies"].find_one({"roomId": created["roomId"]})
    assert session["status"] == "pending" and session["note"] == "chest pain"
    assert db["audit_log"].count_documents({"resourceType": "emergency", "action": "create"}) == 1


def test_only_approved_doctors_go_online_and_only_patients_ask_for_help(sockets):
    pending = sockets.open(make_user("doctor", approved=False))
    patient = sockets.open(make_user("patient"))
    doctor = make_user("doctor")
    impostor = sockets.open(doctor)
    # When a pending doctor and a patient say doctorConnect, a doctor claims another id,
    # and a doctor requests an emergency
    sockets.send(pending, {"action": "doctorConnect"})
    sockets.send(patient, {"action": "doctorConnect"})
    sockets.send(impostor, {"action": "doctorConnect", "doctorId": "a" * 24})
    sockets.send(impostor, {"action": "emergencyRequest"})
    # Then each is refused (D-52: anyone could register as a doctor and read patients' names)
    for cid, count in ((pending, 1), (patient, 1), (impostor, 2)):
        assert [f.get("code") for f in sockets.new_frames(cid)] == ["forbidden"] * count


def test_one_emergency_per_minute_and_one_open_per_patient(sockets, clock, db):
    _, d = online_doctor(sockets)
    p = sockets.open(make_user("patient"))
    # When the patient asks three times: now, 30 s later, 61 s later (the first still waits for a doctor)
    [first] = request_help(sockets, p)
    clock.advance(seconds=30)
    second = request_help(sockets, p)
    clock.advance(seconds=31)
    third = request_help(sockets, p)
    # Then the second is refused (a minute), the third too (one open at a time)
    assert first["type"] == "emergency-created"
    assert second[0]["code"] == "rate_limited" and "minute" in second[0]["message"]
    assert third[0]["code"] == "rate_limited" and "open" in third[0]["message"]
    # When a doctor accepts the first, and the patient asks again
    sockets.send(d, {"action": "emergency-accept", "sessionId": first["sessionId"]})
    assert sockets.types(p) == ["doctor-joined"]
    fourth = request_help(sockets, p)
    # Then that one is created: two sessions in all
    assert [f["type"] for f in fourth] == ["emergency-created"]
    assert db["emergencies"].count_documents({}) == 2


def test_the_first_doctor_to_accept_wins_and_both_may_join_the_room(sockets, db):
    (doc1, d1), (_, d2) = online_doctor(sockets), online_doctor(sockets)
    patient = make_user("patient")
    p = sockets.open(patient)
    [created] = request_help(sockets, p)
    sockets.new_frames(d1)
    sockets.new_frames(d2)
    # When one doctor accepts, then the other
    sockets.send(d1, {"action": "emergency-accept", "sessionId": created["sessionId"]})
    sockets.send(d2, {"action": "emergency-accept", "sessionId": created["sessionId"]})
    # Then the first is assigned, the patient hears who joined, the other learns it was taken
    assert sockets.new_frames(d1) == [{"type": "emergency-assigned", "sessionId": created["sessionId"],
                                       "roomId": created["roomId"], "patientName": patient["name"],
                                       "note": "chest pain", "location": {"lat": 12.9, "lng": 77.6, "accuracy": None}}]
    assert sockets.new_frames(p) == [{"type": "doctor-joined", "sessionId": created["sessionId"],
                                      "roomId": created["roomId"], "doctorName": doc1["name"]}]
    assert sockets.types(d2) == ["emergency-taken", "emergency-taken"]  # the broadcast, then its own answer
    # And the patient and the assigned doctor (not the other) can open the call
    sockets.send(d2, {"action": "join-room", "roomId": created["roomId"]})
    assert sockets.frames(d2)[-1]["code"] == "forbidden"
    sockets.send(p, {"action": "join-room", "roomId": created["roomId"]})
    sockets.send(d1, {"action": "join-room", "roomId": created["roomId"]})
    assert sockets.types(p) == ["joined", "ready"] and sockets.types(d1) == ["joined", "ready"]
    assert db["audit_log"].count_documents({"resourceType": "emergency", "action": "accept"}) == 1


def test_many_doctors_accepting_at_once_make_exactly_one_winner(sockets, db):
    # Given eight online doctors alerted to one emergency
    doctors = [online_doctor(sockets) for _ in range(8)]
    p = sockets.open(make_user("patient"))
    [created] = request_help(sockets, p)
    barrier = threading.Barrier(len(doctors))
    errors = []

    def accept(cid):
        try:
            barrier.wait(timeout=30)
            sockets.send(cid, {"action": "emergency-accept", "sessionId": created["sessionId"]})
        except Exception as exc:  # surfaced below
            errors.append(exc)

    # When they all accept at the same moment, each through its own Lambda invocation
    threads = [threading.Thread(target=accept, args=(cid,)) for _, cid in doctors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Then exactly one is assigned, and the session names that one
    assert errors == []
    winners = [doctor for doctor, cid in doctors if any(f["type"] == "emergency-assigned" for f in sockets.frames(cid))]
    assert len(winners) == 1
    assert db["emergencies"].find_one({"roomId": created["roomId"]})["doctorId"] == winners[0]["_id"]
    assert [f["type"] for f in sockets.frames(p)].count("doctor-joined") == 1


def test_an_unanswered_emergency_tells_the_patient_when_its_schedule_fires(sockets, clock, db):
    import boto3

    p = sockets.open(make_user("patient"))
    [created] = request_help(sockets, p)
    schedule = boto3.client("scheduler").get_schedule(Name=f"emergency-{created['sessionId']}")
    payload = json.loads(schedule["Target"]["Input"])
    # When the schedule fires early (nothing happens), then at the deadline
    clock.advance(seconds=60)
    early = sockets.invoke("emergency_timeout", payload)
    clock.advance(seconds=60)
    due = sockets.invoke("emergency_timeout", payload)
    again = sockets.invoke("emergency_timeout", payload)
    # Then the patient is told once, and a late accept finds it closed
    assert (early, due, again) == ({"expired": False}, {"expired": True}, {"expired": False})
    assert sockets.types(p) == ["emergency-unanswered"]
    _, d = online_doctor(sockets)
    sockets.send(d, {"action": "emergency-accept", "sessionId": created["sessionId"]})
    assert sockets.types(d) == ["emergency-closed"]
    assert db["emergencies"].find_one({"roomId": created["roomId"]})["status"] == "unanswered"


def test_the_sweeper_closes_emergencies_whose_schedule_never_fired(sockets, clock, db):
    from functions.signaling import jobs

    p = sockets.open(make_user("patient"))
    request_help(sockets, p)
    # When the periodic sweeper runs before and after the deadline
    before = jobs.sweep()
    clock.advance(minutes=3)
    after = jobs.sweep()
    # Then only the second closes it and tells the patient
    assert before["emergenciesUnanswered"] == 0 and after["emergenciesUnanswered"] == 1
    assert sockets.types(p) == ["emergency-unanswered"]
    # And after the 2-hour cap the connection is purged (the request's rate-limit window is
    # core.throttle's, purged by its own sweep: tests/integration/test_core_throttle.py)
    clock.advance(hours=2)
    assert jobs.sweep()["connectionsPurged"] == 1


def test_the_ivr_starts_an_emergency_through_the_seam(sockets, db):
    from functions.signaling import api

    (_, d), patient = online_doctor(sockets), make_user("patient")
    # When another domain (the IVR) starts an emergency for a patient
    created = api.start_emergency(patient["_id"], None, "ivr")
    # Then online doctors are alerted exactly as from the WebSocket, and the seams report them
    assert sockets.new_frames(d)[0]["sessionId"] == created["sessionId"]
    assert api.online_doctor_ids() == [db["presence"].find_one()["_id"]]
    assert db["emergencies"].find_one({"roomId": created["roomId"]})["source"] == "ivr"


# ---------------------------------------------------------------- issue 21: alert floods


def test_a_patient_who_never_verified_their_contact_alerts_nobody(sockets, db):
    # Given an online doctor and a fresh account that never verified its contact
    _, d = online_doctor(sockets)
    p = sockets.open(make_user("patient", name="Anyone At All", contactVerified=False))
    # When it asks for emergency help
    [refused] = request_help(sockets, p)
    # Then it is refused, saying why, and no doctor hears of it
    assert refused["type"] == "error" and refused["code"] == "contact_not_verified"
    assert sockets.new_frames(d) == [] and db["emergencies"].count_documents({}) == 0


def test_a_doctor_is_alerted_once_per_patient_at_a_time(sockets, clock, db):
    from functions.core.errors import RateLimited
    from functions.signaling import api

    _, d = online_doctor(sockets)
    patient = make_user("patient")
    p = sockets.open(patient)
    # When the patient asks over the WebSocket, then (after the minute) an analysis asks again
    request_help(sockets, p)
    clock.advance(seconds=61)
    with pytest.raises(RateLimited) as refused:
        api.start_emergency(patient["_id"], "AI analysis: emergency level 5", "analysis")
    # Then the doctor got one alert: the first request is still open
    assert refused.value.code == "EMERGENCY_OPEN"
    assert [f["type"] for f in sockets.new_frames(d)] == ["emergencyNotification"]


def test_one_client_address_alerts_doctors_at_most_five_times_an_hour(sockets, db):
    # Given an online doctor and six verified patients on one client address (the socket's sourceIp)
    _, d = online_doctor(sockets)
    patients = [sockets.open(make_user("patient")) for _ in range(6)]
    # When each asks for help
    answers = [request_help(sockets, p)[0] for p in patients]
    # Then five are created, the sixth refused; the doctor got five alerts
    assert [a["type"] for a in answers] == ["emergency-created"] * 5 + ["error"]
    assert answers[-1]["code"] == "rate_limited"
    assert len(sockets.new_frames(d)) == 5


def _start_for(patient_ids, ips):
    def start(i):
        from functions.signaling import emergencies

        emergencies.start_emergency(patient_ids[i], None, "websocket", source_ip=ips[i])
        return "created"
    return start


def test_twenty_requests_at_once_of_one_patient_open_exactly_one_emergency(sockets, db):
    from tests.lambda_race import race_calls

    patient = make_user("patient")
    # When 20 containers start an emergency for the same patient at the same moment, from 20 addresses
    outcomes = race_calls(_start_for([patient["_id"]] * 20, [f"10.0.0.{i}" for i in range(20)]), 20)
    # Then exactly one is created, the others refused
    assert outcomes.count("created") == 1
    assert {o for o in outcomes if o != "created"} <= {("RateLimited", "EMERGENCY_RATE_LIMITED"),
                                                         ("RateLimited", "EMERGENCY_OPEN")}
    assert db["emergencies"].count_documents({"patientId": patient["_id"]}) == 1


def test_twenty_patients_at_once_on_one_address_open_exactly_five(sockets, db):
    from tests.lambda_race import race_calls

    patients = [make_user("patient")["_id"] for _ in range(20)]
    # When 20 verified patients on one address ask at the same moment (EMERGENCIES_PER_IP_PER_HOUR = 5)
    outcomes = race_calls(_start_for(patients, ["9.9.9.9"] * 20), 20)
    # Then exactly five are created
    assert outcomes.count("created") == 5
    assert set(outcomes) - {"created"} == {("RateLimited", "EMERGENCY_RATE_LIMITED")}
    assert db["emergencies"].count_documents({}) == 5


def test_twenty_patients_at_once_from_everywhere_open_exactly_the_global_budget(sockets, db, monkeypatch):
    from functions.core import config
    from tests.lambda_race import race_calls

    monkeypatch.setenv("EMERGENCIES_PER_MINUTE", "4")
    config.reset_settings()
    patients = [make_user("patient")["_id"] for _ in range(20)]
    # When 20 verified patients on 20 addresses ask at the same moment
    outcomes = race_calls(_start_for(patients, [f"10.1.0.{i}" for i in range(20)]), 20)
    # Then exactly EMERGENCIES_PER_MINUTE are created
    assert outcomes.count("created") == 4
    assert db["emergencies"].count_documents({}) == 4
