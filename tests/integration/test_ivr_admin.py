"""The emergency line's data: hospitals (admin CRUD) and the doctors' on-call switch."""


from bson import ObjectId

from functions.core.db import get_db
from tests.factories import make_user
from tests.http import body, call

H = "/api/v1/admin/hospitals"
NEW = {"name": "City General", "phone": "+91 80 2222 3333", "address": "1 MG Road", "city": " Bengaluru ",
       "pincode": "560001"}


def as_admin(client, who, method, path, payload=None):
    return call(client, method, path.removeprefix("/api/v1"), as_=who, json=payload)


def test_an_admin_manages_hospitals(client):
    # Given an admin
    admin = make_user("admin")
    # When they create, read, update, list and delete a hospital
    created = as_admin(client, admin, "POST", H, NEW)
    assert created.status_code == 201, created.body
    hid = body(created)["hospital"]["_id"]
    read = body(as_admin(client, admin, "GET", f"{H}/{hid}"))["hospital"]
    updated = body(as_admin(client, admin, "PUT", f"{H}/{hid}", {"kind": "private", "pincode": "110001"}))["hospital"]
    by_pincode = body(as_admin(client, admin, "GET", f"{H}?pincode=110001"))
    by_city = body(as_admin(client, admin, "GET", f"{H}?city=bengaluru"))
    deleted = as_admin(client, admin, "DELETE", f"{H}/{hid}")
    # Then each step shows the hospital as it is, and the lookup keys follow the edits
    assert read["city"] == "Bengaluru" and read["kind"] == "public" and read["active"] is True
    assert updated["kind"] == "private" and updated["pincode"] == "110001"
    assert [h["_id"] for h in by_pincode["hospitals"]] == [hid] and by_pincode["pagination"]["total"] == 1
    assert [h["_id"] for h in by_city["hospitals"]] == [hid]
    assert deleted.status_code == 200 and as_admin(client, admin, "GET", f"{H}/{hid}").status_code == 404
    assert get_db()["hospitals"].count_documents({}) == 0


def test_only_admins_touch_hospitals(client):
    # Given a doctor, a patient and no one
    for who in (make_user("doctor"), make_user("patient")):
        # When they try to list or create
        # Then they are refused
        assert as_admin(client, who, "GET", H).status_code == 403
        assert as_admin(client, who, "POST", H, NEW).status_code == 403
    assert client.http.get(H).status_code == 401


def test_bad_hospital_bodies_and_ids(client):
    # Given an admin
    admin = make_user("admin")
    # When fields are missing, extra, malformed, or the id does not exist
    answers = [
        as_admin(client, admin, "POST", H, {**NEW, "pincode": "5600"}).status_code,
        as_admin(client, admin, "POST", H, {**NEW, "rating": 5}).status_code,
        as_admin(client, admin, "POST", H, {"name": "x"}).status_code,
        as_admin(client, admin, "PUT", f"{H}/{ObjectId()}", {"name": "y"}).status_code,
        as_admin(client, admin, "PUT", f"{H}/nope", {"name": "y"}).status_code,
        as_admin(client, admin, "DELETE", f"{H}/{ObjectId()}").status_code,
    ]
    # Then bad bodies are 400 and unknown or malformed ids 404
    assert answers == [400, 400, 400, 404, 404, 404]
    hid = body(as_admin(client, admin, "POST", H, NEW))["hospital"]["_id"]
    assert as_admin(client, admin, "PUT", f"{H}/{hid}", {}).status_code == 400


def test_a_doctor_goes_on_call_with_their_verified_phone(client):
    # Given a doctor registered by e-mail, and one registered by a verified phone
    by_email = make_user("doctor")
    by_phone = make_user("doctor", contact="+919800000009", contactType="phone", contactVerified=True)
    # When the first goes on call without a phone; the second without one either
    refused = as_admin(client, by_email, "PUT", "/api/v1/doctor/on-call", {"onCall": True})
    own = as_admin(client, by_phone, "PUT", "/api/v1/doctor/on-call", {"onCall": True})
    # Then a phone is required, and the account's verified phone is used at once
    assert refused.status_code == 422 and body(refused)["code"] == "PHONE_REQUIRED"
    assert body(own)["onCall"]["onCall"] is True and body(own)["onCall"]["phone"] == "+919800000009"
    # When the second goes off call
    off = as_admin(client, by_phone, "PUT", "/api/v1/doctor/on-call", {"onCall": False})
    # Then they are off, and the switch reads back
    assert body(off)["onCall"]["onCall"] is False
    assert body(as_admin(client, by_phone, "GET", "/api/v1/doctor/on-call"))["onCall"]["onCall"] is False


def test_only_doctors_have_an_on_call_switch(client):
    # Given a patient
    # When they try the switch
    # Then it is refused
    assert as_admin(client, make_user("patient"), "PUT", "/api/v1/doctor/on-call", {"onCall": True}).status_code == 403


def test_a_hospital_field_cannot_be_cleared_with_null(client):
    # Given an admin and a hospital
    admin = make_user("admin")
    hid = body(as_admin(client, admin, "POST", H, NEW))["hospital"]["_id"]
    for field in ("kind", "name", "phone", "address", "city", "pincode", "emergency", "active"):
        # When they send the field as null
        response = as_admin(client, admin, "PUT", f"{H}/{hid}", {field: None})
        # Then it is a 400 naming that field, and the hospital is as it was
        assert response.status_code == 400, (field, response.body)
        assert [e["field"] for e in body(response)["errors"]] == [field]
    stored = body(as_admin(client, admin, "GET", f"{H}/{hid}"))["hospital"]
    assert (stored["kind"], stored["city"], stored["pincode"], stored["active"]) == ("public", "Bengaluru", "560001",
                                                                                      True)
