"""Issue 20 §1: the database round trips of the routes with a budget, counted on the request path
(auth read included) with a pymongo command listener, as bench/ counts them. Effects are recorded
in the outbox (one round trip) and not delivered (OUTBOX_DELIVERY=poll), so the worker's commands
are not the request's. A change that puts a round trip back on a route fails here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pymongo import MongoClient

from tests.appointments_support import book, doctor, patient, put
from tests.auth_support import login, register
from tests.commands import CommandLog
from tests.http import body, call
from tests.pharmacy_support import make_medicine, make_pharmacy, order_body


@pytest.fixture
def commands(api: Any, mongo_uri: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CommandLog]:
    """The app's database client, listened to; effects recorded, not delivered."""
    from functions.core import config
    from functions.core import db as core_db

    listener = CommandLog(request_path_only=True)
    listened: MongoClient[dict[str, Any]] = MongoClient(mongo_uri, tz_aware=True, event_listeners=[listener])
    monkeypatch.setattr(core_db, "get_client", lambda: listened)
    monkeypatch.setenv("OUTBOX_DELIVERY", "poll")
    config.reset_settings()
    yield listener
    listened.close()


def test_booking_takes_five_round_trips_and_cancelling_three(api, commands):
    # Given a doctor and a patient
    doc, pat = doctor(), patient()
    # When the patient books, then cancels
    booked, on_booking = commands.during(lambda: book(api, pat, doc))
    appt_id = body(booked)["appointment"]["_id"]
    cancelled, on_cancel = commands.during(lambda: put(api, pat, f"/appointment/{appt_id}/cancel", {"reason": "x"}))
    # Then the booking took 5 (the caller and the doctor in one read, the seats, the claims, the
    # appointment, the outbox) and the cancellation 3 (the caller, the write, the outbox)
    assert booked.status_code == 201 and cancelled.status_code == 200
    assert len(on_booking) <= 5, on_booking
    assert len(on_cancel) <= 3, on_cancel
    # And the notices, reminders and the release of the claims left the request path for the outbox
    assert on_cancel[-1] == "insert:notifications" and not any("appointment_claims" in c for c in on_cancel)


def test_an_order_is_placed_in_n_plus_6_and_moved_or_cancelled_in_4(api, commands):
    # Given a pharmacy with two medicines, and a customer
    shop = make_pharmacy()
    first, second = make_medicine(shop), make_medicine(shop, name="Cetirizine")
    customer = patient()
    owner = shop["ownerUser"]
    for items in ([(first, 1)], [(first, 1), (second, 2)]):
        # When the customer places an order of n items
        placed, sent = commands.during(lambda: call(api, "POST", "/orders", as_=customer,
                                                    json=order_body(shop, items)))  # noqa: B023
        # Then it took at most n + 6 round trips
        assert placed.status_code == 201, placed.body
        assert len(sent) <= len(items) + 6, sent
    order_id = body(placed)["order"]["_id"]
    # When the pharmacy confirms one order and the customer cancels another
    confirmed, on_status = commands.during(lambda: call(api, "PUT", f"/order/{order_id}/status", as_=owner,
                                                        json={"status": "confirmed"}))
    one = body(call(api, "POST", "/orders", as_=customer, json=order_body(shop, [(first, 1)])))["order"]["_id"]
    cancelled, on_cancel = commands.during(lambda: call(api, "PUT", f"/order/{one}/cancel", as_=customer, json={}))
    # Then each took at most 4, the give-backs and notices recorded in the outbox
    assert confirmed.status_code == 200 and cancelled.status_code == 200
    assert len(on_status) <= 4, on_status
    assert len(on_cancel) <= 4, on_cancel
    assert not any("medicines" in c or "order_holds" in c for c in on_cancel), on_cancel


def test_a_successful_login_takes_two_round_trips(api, commands):
    # Given an account
    assert register(api, name="Asha Rao", contact="asha@example.com").status_code == 201
    # When its owner logs in
    response, sent = commands.during(lambda: login(api, "asha@example.com"))
    # Then the attempt's claim and the user's read: 2 (the success settles off the request path)
    assert response.status_code == 200
    assert len(sent) <= 2, sent
