"""Twenty Lambda containers book the same slot at the same moment.

Each booking runs in its own process (as concurrent invocations do in AWS: one container each),
through the real API entry point `app.app(event, context)` with an API Gateway proxy event, against
the same real database. The unique keys of the appointment insert decide the race.
"""

import json
import multiprocessing

from chalice.local import LambdaContext, LambdaEventConverter, RouteMatcher

from tests.appointments_support import book, doctor, patient
from tests.factories import bearer

CONTENDERS = 20
PATH = "/api/v1/appointment/new"


def _invoke(app, barrier, results, index, headers, payload):
    import functions.core.db as core_db

    core_db._client = None  # a container opens its own connection (never reuse the parent's sockets)
    core_db._client_uri = None
    converter = LambdaEventConverter(RouteMatcher(list(app.routes)), app.api.binary_types)
    event = converter.create_lambda_event("POST", PATH, headers, json.dumps(payload).encode())
    event["requestContext"]["requestId"] = f"race-{index}"
    barrier.wait(timeout=60)
    response = app(event, LambdaContext("api_handler", 512))
    results.put((index, response["statusCode"], json.loads(response["body"]).get("code")))


def test_twenty_containers_booking_one_slot_make_exactly_one_appointment(api, db, chalice_app):
    # Given an approved doctor and twenty patients who all want Tuesday 09:00
    the_doctor = doctor()
    patients = [patient() for _ in range(CONTENDERS)]
    payload = {"doctor": str(the_doctor["_id"]), "description": "check-up", "symptoms": "cough",
               "day": "2026-03-03", "time": "09:00"}
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(CONTENDERS), ctx.Queue()
    workers = [
        ctx.Process(target=_invoke, args=(chalice_app, barrier, results, i,
                                          {"content-type": "application/json", **bearer(p)}, payload))
        for i, p in enumerate(patients)
    ]
    # When all of them invoke the booking Lambda at once
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    # Then exactly one booking is created and every other caller is told the slot is taken
    statuses = sorted(status for _, status, _ in outcomes)
    assert statuses == [201] + [409] * (CONTENDERS - 1)
    assert {code for _, status, code in outcomes if status == 409} == {"SLOT_TAKEN"}
    assert db["appointments"].count_documents({"doctor": the_doctor["_id"]}) == 1
    # And the slot stays taken for a latecomer
    late = book(api, patient(), the_doctor)
    assert late.status_code == 409
