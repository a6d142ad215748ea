"""The public doctor directory: approved doctors only, never their contact (D-31)."""

import pytest

from tests.auth_support import body
from tests.factories import make_user
from tests.http import call


def _names(response):
    return [d["name"] for d in body(response)["doctors"]]


def test_an_empty_directory_is_a_200_with_an_empty_list(client):
    # The reference answered 404 "No doctors found"
    response = call(client, "GET", "/doctors")
    assert response.status_code == 200
    assert body(response) == {"success": True, "count": 0, "doctors": [],
                              "pagination": {"total": 0, "page": 1, "pages": 0, "limit": 100}}


def test_only_approved_active_doctors_are_listed_with_public_fields_and_the_fee_in_rupees(client):
    listed = make_user("doctor", name="Dr Anil Shah", speciality="Cardiology", bio="Heart", languages=["en", "gu"],
                       consultationFee=70000, currency="INR", timezone="Asia/Kolkata",
                       avatar={"public_id": "d/a", "url": "https://res.cloudinary.com/cc/a.png"},
                       availability={"weekly": [{"day": 1}]}, timeOff=[{"from": "x"}])
    make_user("doctor", approved=False, name="Dr Pending")
    make_user("doctor", name="Dr Rejected", approvalStatus="rejected")
    make_user("doctor", name="Dr Inactive", active=False)
    make_user("patient", name="Not A Doctor")
    make_user("pharmacist", name="Not A Doctor Either")
    response = call(client, "GET", "/doctors")
    assert response.status_code == 200
    [doctor] = body(response)["doctors"]
    assert doctor == {"_id": str(listed["_id"]), "name": "Dr Anil Shah", "speciality": "Cardiology", "bio": "Heart",
                      "languages": ["en", "gu"], "consultationFee": 700, "currency": "INR",
                      "timezone": "Asia/Kolkata",
                      "avatar": {"public_id": "d/a", "url": "https://res.cloudinary.com/cc/a.png"},
                      "availability": True}
    assert listed["contact"] not in response.body.decode()


def test_filter_by_speciality_ignores_case(client):
    make_user("doctor", name="Dr Heart", speciality="Cardiology")
    make_user("doctor", name="Dr Skin", speciality="Dermatology")
    assert _names(call(client, "GET", "/doctors?speciality=cardiology")) == ["Dr Heart"]
    assert _names(call(client, "GET", "/doctors?speciality=Cardio")) == []


def test_q_matches_names_as_literal_text(client):
    make_user("doctor", name="Dr Priya Nair")
    make_user("doctor", name="Dr J. (Jo) Smith")
    assert _names(call(client, "GET", "/doctors?q=PRIYA")) == ["Dr Priya Nair"]
    assert _names(call(client, "GET", "/doctors?q=j.%20(jo")) == ["Dr J. (Jo) Smith"]
    # Regex syntax is text (D-19): no match-everything, no 500 on an invalid pattern
    assert _names(call(client, "GET", "/doctors?q=.*")) == []
    invalid = call(client, "GET", "/doctors?q=(%5B")
    assert invalid.status_code == 200 and _names(invalid) == []


def test_pages_are_bounded_and_reported(client):
    for i in range(5):
        make_user("doctor", name=f"Dr Number {i}")
    response = call(client, "GET", "/doctors?page=2&limit=2")
    assert _names(response) == ["Dr Number 2", "Dr Number 3"]
    assert body(response)["count"] == 2
    assert body(response)["pagination"] == {"total": 5, "page": 2, "pages": 3, "limit": 2}
    last = call(client, "GET", "/doctors?page=3&limit=2")
    assert _names(last) == ["Dr Number 4"] and body(last)["pagination"]["total"] == 5
    beyond = call(client, "GET", "/doctors?page=9&limit=2")
    assert _names(beyond) == [] and body(beyond)["pagination"]["total"] == 5


@pytest.mark.parametrize("query", ["limit=1000", "limit=0", "page=0", "page=-1", "page=abc"])
def test_bad_paging_is_a_400_naming_the_parameter(client, query):
    response = call(client, "GET", f"/doctors?{query}")
    assert response.status_code == 400
    assert body(response)["errors"][0]["field"] == query.split("=")[0]


def test_one_doctor_by_id(client):
    doctor = make_user("doctor", name="Dr One")
    response = call(client, "GET", f"/doctor/{doctor['_id']}")
    assert response.status_code == 200
    assert body(response)["doctor"]["name"] == "Dr One"
    assert "contact" not in body(response)["doctor"]


@pytest.mark.parametrize("who", ["pending", "patient", "missing", "malformed"])
def test_anything_but_a_listed_doctor_is_a_404(client, who):
    ids = {
        "pending": lambda: make_user("doctor", approved=False)["_id"],
        "patient": lambda: make_user("patient")["_id"],
        "missing": lambda: "0123456789abcdef01234567",
        "malformed": lambda: "not-an-id",
    }
    response = call(client, "GET", f"/doctor/{ids[who]()}")
    assert response.status_code == 404
    assert body(response)["message"] == "Doctor not found"
