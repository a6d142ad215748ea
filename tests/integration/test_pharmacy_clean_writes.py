"""Inventory writes answer from what was stored, and no date reaches arithmetic unbounded
(issue 19 §1 "500 after the write", §2 "date-times", "bounded ranges")."""

from datetime import UTC, datetime

import pytest
from bson import ObjectId

from tests.faults import Fault, FaultPlan, inject
from tests.http import call
from tests.pharmacy_support import body, make_pharmacy, medicine_fields


@pytest.fixture
def shop(api):
    return make_pharmacy()


def test_a_naive_expiry_is_in_the_pharmacys_zone_and_answered_as_stored(api, db, shop):
    # Given an expiry date-time without an offset (DEFAULT_TIMEZONE Asia/Kolkata, UTC+05:30)
    owner = shop["ownerUser"]
    # When the medicine is added
    response = call(api, "POST", "/pharmacy/medicines", as_=owner,
                    json=medicine_fields(expiryDate="2027-06-30T18:00:00"))
    # Then it is created once (was a 500 after the insert), stored and answered as that instant in UTC
    assert response.status_code == 201, response.body
    medicine = body(response)["medicine"]
    stored = db.medicines.find_one({"_id": ObjectId(medicine["_id"])})
    assert stored["expiryDate"] == datetime(2027, 6, 30, 12, 30, tzinfo=UTC)
    assert medicine["expiryDate"].startswith("2027-06-30T12:30:00")
    assert db.medicines.count_documents({"pharmacy": shop["_id"]}) == 1
    assert db.pharmacies.find_one({"_id": shop["_id"]})["totalMedicines"] == 1


def test_a_date_only_expiry_stays_the_end_of_that_day(api, db, shop):
    response = call(api, "POST", "/pharmacy/medicines", as_=shop["ownerUser"],
                    json=medicine_fields(expiryDate="2027-06-30"))
    assert response.status_code == 201, response.body
    stored = db.medicines.find_one({"_id": ObjectId(body(response)["medicine"]["_id"])})
    assert stored["expiryDate"] == datetime(2027, 6, 30, 23, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize("expiry", ["0001-01-01T00:00:00", "9999-12-31T23:59:59", "0001-01-01"])
def test_an_expiry_beyond_reason_is_a_clear_4xx(api, db, shop, expiry):
    response = call(api, "POST", "/pharmacy/medicines", as_=shop["ownerUser"], json=medicine_fields(expiryDate=expiry))
    assert 400 <= response.status_code < 500, response.body
    assert "expiryDate" in response.body.decode()
    assert db.medicines.count_documents({}) == 0


def test_a_bulk_upload_is_all_rows_or_none_and_its_report_matches_what_was_written(api, db, shop):
    # Given a pharmacy that uploaded three medicines once (a clean run, which locates the insert)
    rows = [medicine_fields(name=n) for n in ("A", "B", "C")]
    insert_step = _insert_step(api, shop, rows)
    # When the database refuses the next upload's insert, or loses its reply after applying it
    for fault in Fault:
        with inject(FaultPlan(fail_at=insert_step, fault=fault)):
            response = call(api, "POST", "/pharmacy/medicines/bulk-upload", as_=shop["ownerUser"],
                            json={"medicines": rows})
        # Then the owner is told (503, not 500), and none of its rows is stored, nor counted
        assert response.status_code == 503, response.body
        assert db.medicines.count_documents({"pharmacy": shop["_id"], "name": {"$in": ["A", "B", "C"]}}) == 3
        assert db.pharmacies.find_one({"_id": shop["_id"]})["totalMedicines"] == 3
    # And an upload that succeeds reports exactly the rows written and counts them
    response = call(api, "POST", "/pharmacy/medicines/bulk-upload", as_=shop["ownerUser"], json={"medicines": rows})
    assert response.status_code == 201 and body(response)["inserted"] == 3
    assert db.medicines.count_documents({"pharmacy": shop["_id"]}) == 6
    assert db.pharmacies.find_one({"_id": shop["_id"]})["totalMedicines"] == 6
    assert {r["id"] for r in body(response)["results"]} <= {str(d["_id"]) for d in db.medicines.find({})}


def _insert_step(api, shop, rows):
    """The position of the medicines' insert among the commands of a clean upload (which stays)."""
    from tests.faults import count_steps

    seen = count_steps(lambda: call(api, "POST", "/pharmacy/medicines/bulk-upload", as_=shop["ownerUser"],
                                    json={"medicines": rows}))
    return seen.index("medicines.insert_many") + 1


@pytest.mark.parametrize("query", ["endDate=0001-01-01", "startDate=0001-01-01&endDate=0001-01-05",
                                   "startDate=9999-12-01&endDate=9999-12-31", "endDate=9999-12-31"])
def test_report_dates_are_bounded_before_any_arithmetic(api, shop, query):
    # When a report is asked for days no pharmacy has seen (was an OverflowError, 500)
    response = call(api, "GET", f"/pharmacy/report?{query}", as_=shop["ownerUser"])
    # Then a clear 400
    assert (response.status_code, body(response)["code"]) == (400, "INVALID_DATE"), response.body
    assert "between the years" in body(response)["message"]
