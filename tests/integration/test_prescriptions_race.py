"""Races the database must decide: twenty doctors' Lambdas numbering prescriptions at the same
moment, and twenty pharmacy orders taking the last units of a prescription."""

import threading

from bson import ObjectId

from functions.core.errors import Unprocessable
from functions.prescriptions.api import RxLine, release_for_order, reserve_for_order
from tests.factories import make_user
from tests.lambda_race import race
from tests.prescriptions_support import appointment, doctor, issue, patient, payload

CONTENDERS = 20


def test_twenty_concurrent_creates_get_twenty_distinct_numbers_and_codes(api, db, chalice_app):
    # Given twenty doctors, each with a confirmed appointment
    requests = []
    for _ in range(CONTENDERS):
        the_doctor = doctor()
        requests.append(("POST", "/prescription/new", the_doctor, payload(appointment(the_doctor, patient())), None))
    # When all twenty Lambdas create a prescription at once
    outcomes = race(chalice_app, requests)
    # Then all succeed, with twenty different numbers (the day's sequence 1..20) and codes
    assert sorted(status for status, _ in outcomes) == [201] * CONTENDERS
    numbers = [b["prescription"]["prescriptionNumber"] for _, b in outcomes]
    codes = {b["prescription"]["verificationCode"] for _, b in outcomes}
    assert len(set(numbers)) == CONTENDERS and len(codes) == CONTENDERS
    assert sorted(int(n[8:]) for n in numbers) == list(range(1, CONTENDERS + 1))
    assert db["prescriptions"].count_documents({}) == CONTENDERS


def test_twenty_concurrent_reservations_of_the_last_units_never_go_below_zero(api, db):
    # Given a prescription with 5 units of Amoxicillin left (21 prescribed, 16 already dispensed)
    author, owner = doctor(), patient()
    rx = issue(api, author, owner)
    first = make_user("pharmacist")
    reserve_for_order(rx["_id"], owner["_id"], first["_id"], [RxLine("Amoxicillin", None, None, 16)], ObjectId())
    pharmacists = [make_user("pharmacist") for _ in range(CONTENDERS)]
    barrier = threading.Barrier(CONTENDERS)
    outcomes: list[str] = []

    def order(pharmacist):
        barrier.wait(timeout=60)
        try:
            reserve_for_order(rx["_id"], owner["_id"], pharmacist["_id"],
                              [RxLine("amoxicillin", None, "500mg", 2)], ObjectId())
            outcomes.append("reserved")
        except Unprocessable as exc:
            outcomes.append(exc.code)

    # When twenty pharmacies each try to take 2 units at the same moment
    threads = [threading.Thread(target=order, args=(p,)) for p in pharmacists]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    # Then exactly two succeed (4 of the 5 units), the rest are told why, and nothing goes negative
    assert outcomes.count("reserved") == 2
    assert outcomes.count("PRESCRIPTION_INVALID") == CONTENDERS - 2
    stored = db["prescriptions"].find_one({"_id": ObjectId(rx["_id"])})
    assert stored["remaining"]["m0"] == 1
    assert all(value >= 0 for value in stored["remaining"].values())
    assert len(stored["pharmacistIds"]) == 3


def test_a_release_racing_a_reservation_keeps_the_count_exact(api, db):
    # Given a prescription with 21 units of Amoxicillin, 10 of them reserved by an order
    author, owner = doctor(), patient()
    rx = issue(api, author, owner)
    pharmacist = make_user("pharmacist")
    line = [RxLine("Amoxicillin", None, None, 10)]
    first_order = ObjectId()
    reserve_for_order(rx["_id"], owner["_id"], pharmacist["_id"], line, first_order)
    barrier = threading.Barrier(2)

    def release():
        barrier.wait(timeout=60)
        release_for_order(rx["_id"], first_order)

    def reserve():
        barrier.wait(timeout=60)
        reserve_for_order(rx["_id"], owner["_id"], pharmacist["_id"],
                          [RxLine("Amoxicillin", None, None, 5)], ObjectId())

    # When the order is cancelled while another order takes 5 units
    threads = [threading.Thread(target=release), threading.Thread(target=reserve)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Then 16 are left, whatever the order of the two writes
    assert db["prescriptions"].find_one({"_id": ObjectId(rx["_id"])})["remaining"]["m0"] == 16
