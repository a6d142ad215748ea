"""Pharmacies: registration (JSON and the frontend's multipart), the owner's pharmacy, the
public directory, admin verification and the dev-only quick setup."""

import pytest

from tests.appointments_support import sent_emails
from tests.factories import bearer, make_user
from tests.http import call
from tests.pharmacy_support import (
    body,
    cloudinary_fixture,  # noqa: F401  (the `cloudinary` fixture)
    make_medicine,
    make_pharmacy,
    multipart,
    patient,
    pharmacist,
    png_bytes,
    registration,
)

ORIGIN = "https://app.cureconnect.test"


# ---------------------------------------------------------------- registration


def test_an_approved_pharmacist_registers_a_pending_pharmacy_and_keeps_their_role(api, db):
    # Given an approved pharmacist
    owner = pharmacist()
    # When they register with JSON
    response = call(api, "POST", "/pharmacy/register", as_=owner, json=registration())
    # Then the pharmacy exists, pending, with the reference's keys, and nobody's role changed
    assert response.status_code == 201, response.body
    pharmacy = body(response)["pharmacy"]
    assert pharmacy["verificationStatus"] == "pending" and pharmacy["isVerified"] is False
    assert pharmacy["deliveryCharges"] == 40 and pharmacy["freeDeliveryAbove"] == 500  # rupees, as sent
    assert "licenseKey" not in pharmacy and "ratingSum" not in pharmacy
    stored = db.pharmacies.find_one({"owner": owner["_id"]})
    assert (stored["deliveryCharges"], stored["freeDeliveryAbove"]) == (4000, 50000)  # paise
    assert db.users.find_one({"_id": owner["_id"]})["role"] == "pharmacist"


@pytest.mark.parametrize("role", ["patient", "doctor", "admin"])
def test_only_pharmacists_register_pharmacies(api, db, role):
    # D-15 (registering made anyone a pharmacist and demoted doctors and admins)
    user = make_user(role)
    response = call(api, "POST", "/pharmacy/register", as_=user, json=registration())
    assert response.status_code == 403
    assert db.users.find_one({"_id": user["_id"]})["role"] == role
    assert db.pharmacies.count_documents({}) == 0


def test_a_pharmacist_awaiting_approval_cannot_register(api):
    response = call(api, "POST", "/pharmacy/register", as_=make_user("pharmacist", approved=False), json=registration())
    assert response.status_code == 403 and body(response)["code"] == "APPROVAL_REQUIRED"


def test_one_pharmacy_per_owner_and_per_licence_whatever_its_spelling(api, db):
    owner = pharmacist()
    assert call(api, "POST", "/pharmacy/register", as_=owner, json=registration()).status_code == 201
    again = call(api, "POST", "/pharmacy/register", as_=owner, json=registration(licenseNumber="OTHER-1"))
    same_licence = call(api, "POST", "/pharmacy/register", as_=pharmacist(),
                        json=registration(licenseNumber="mh pun 12345"))
    assert (again.status_code, body(again)["code"]) == (409, "PHARMACY_EXISTS")
    assert (same_licence.status_code, body(same_licence)["code"]) == (409, "REGISTRATION_REFUSED")  # issue 21
    assert db.pharmacies.count_documents({}) == 1


def test_two_concurrent_registrations_of_one_owner_make_one_pharmacy(api, db, chalice_app):
    from tests.pharmacy_support import race

    owner = pharmacist()
    outcomes = race(chalice_app, [("POST", "/pharmacy/register", owner, registration(licenseNumber=f"L-{i}"), None)
                                  for i in range(4)])
    assert sorted(status for status, _ in outcomes) == [201, 409, 409, 409]
    assert db.pharmacies.count_documents({"owner": owner["_id"]}) == 1


@pytest.mark.parametrize(("change", "field"), [
    ({"contactInfo": {"phone": "+919812345678", "email": "not-an-email"}}, "contactInfo.email"),
    ({"contactInfo": {"phone": "call me", "email": "a@example.com"}}, "contactInfo.phone"),
    ({"address": {"street": "x", "city": "Pune", "state": "MH", "pincode": "41100"}}, "address.pincode"),
    ({"operatingHours": {"weekdays": {"open": "9am", "close": "21:00"}}}, "operatingHours.weekdays.open"),
    ({"establishedYear": 2027}, "establishedYear"),
    ({"deliveryRadius": 60}, "deliveryRadius"),
    ({"deliveryCharges": -1}, "deliveryCharges"),
    ({"freeDeliveryAbove": "499.999"}, "freeDeliveryAbove"),
    ({"deliveryRadius": "five"}, "deliveryRadius"),
    ({"verificationStatus": "verified"}, "verificationStatus"),
])
def test_registration_fields_are_validated(api, change, field):
    response = call(api, "POST", "/pharmacy/register", as_=pharmacist(), json=registration(**change))
    assert response.status_code == 400
    assert field in [e["field"] for e in body(response)["errors"]]


def test_the_frontends_multipart_registration_with_an_avatar_goes_to_cloudinary(api, db, cloudinary):
    # Given the frontend's form: nested objects as JSON strings, one dot-notation key, a PNG avatar
    fields = registration()
    fields["contactInfo.whatsapp"] = "+919812345679"
    raw, ctype = multipart(fields, {"avatar": ("me.jpg", "image/jpeg", png_bytes())})
    # When it is posted with the session cookie from the app's own origin
    token = bearer(owner := pharmacist())["Authorization"].split()[1]
    response = api.http.post("/api/v1/pharmacy/register", body=raw,
                             headers={"Content-Type": ctype, "Cookie": f"token={token}", "Origin": ORIGIN})
    # Then the pharmacy is registered and the image was uploaded server-side
    assert response.status_code == 201, response.body
    pharmacy = body(response)["pharmacy"]
    assert pharmacy["avatar"]["url"].startswith("https://res.cloudinary.com/")
    assert pharmacy["contactInfo"]["whatsapp"] == "+919812345679"
    assert pharmacy["address"]["city"] == "Pune" and pharmacy["establishedYear"] == 2015
    assert len(cloudinary.calls) == 1 and "/demo/image/upload" in cloudinary.calls[0]["url"]
    folder = cloudinary.uploads[0]["fields"]["folder"]  # the answer's public id is in the folder asked for
    assert db.pharmacies.find_one({"owner": owner["_id"]})["avatar"]["public_id"].startswith(f"{folder}/")


def test_an_avatar_is_judged_by_its_content_and_size(api, cloudinary):
    owner = pharmacist()
    text, ctype = multipart(registration(), {"avatar": ("photo.png", "image/png", b"<svg onload=alert(1)>")})
    huge, ctype2 = multipart(registration(), {"avatar": ("big.png", "image/png", png_bytes() + b"\0" * 2_100_000)})
    first = api.http.post("/api/v1/pharmacy/register", body=text, headers={"Content-Type": ctype, **bearer(owner)})
    second = api.http.post("/api/v1/pharmacy/register", body=huge, headers={"Content-Type": ctype2, **bearer(owner)})
    assert (first.status_code, body(first)["code"]) == (422, "IMAGE_TYPE")
    assert (second.status_code, body(second)["code"]) == (413, "IMAGE_TOO_LARGE")
    assert cloudinary.calls == []


def test_without_cloudinary_the_avatar_stays_unset(api):
    raw, ctype = multipart(registration(), {"avatar": ("a.png", "image/png", png_bytes())})
    response = api.http.post("/api/v1/pharmacy/register", body=raw,
                             headers={"Content-Type": ctype, **bearer(pharmacist())})
    assert response.status_code == 201 and "avatar" not in body(response)["pharmacy"]


def test_a_cross_site_form_with_the_session_cookie_is_refused(api, db):
    raw, ctype = multipart(registration())
    token = bearer(pharmacist())["Authorization"].split()[1]
    for origin in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        response = api.http.post("/api/v1/pharmacy/register", body=raw,
                                 headers={"Content-Type": ctype, "Cookie": f"token={token}", **origin})
        assert (response.status_code, body(response)["code"]) == (403, "CROSS_SITE_REQUEST")
    assert db.pharmacies.count_documents({}) == 0


# ---------------------------------------------------------------- the owner's pharmacy


def test_the_owner_edits_allow_listed_fields_only(api, db):
    # Given a pending pharmacy
    shop = make_pharmacy(verification="pending")
    owner = shop["ownerUser"]
    current = body(call(api, "GET", "/pharmacy/my", as_=owner))["pharmacy"]
    # When the owner sends it back with server-managed fields changed (D-17 mass assignment)
    forged = {**current, "name": "Renamed Pharmacy", "verificationStatus": "verified", "isVerified": True,
              "rating": 5, "totalOrders": 999, "owner": str(patient()["_id"]), "licenseNumber": "FAKE-1"}
    response = call(api, "PUT", "/pharmacy/my", as_=owner, json=forged)
    # Then only the allow-listed name changed
    assert response.status_code == 200, response.body
    stored = db.pharmacies.find_one({"_id": shop["_id"]})
    assert stored["name"] == "Renamed Pharmacy"
    assert (stored["verificationStatus"], stored["isVerified"], stored["listed"]) == ("pending", False, False)
    assert stored["owner"] == owner["_id"] and stored["licenseNumber"] == shop["licenseNumber"]
    assert stored["totalOrders"] == 0 and stored["ratingSum"] == 0
    # And a field nobody knows is refused
    assert call(api, "PUT", "/pharmacy/my", as_=owner, json={"discountEverything": True}).status_code == 400


def test_closing_the_shop_unlists_it_and_its_medicines(api, db):
    shop = make_pharmacy()
    make_medicine(shop)
    assert call(api, "PUT", "/pharmacy/my", as_=shop["ownerUser"], json={"status": "inactive"}).status_code == 200
    assert db.pharmacies.find_one({"_id": shop["_id"]})["listed"] is False
    assert db.medicines.count_documents({"pharmacy": shop["_id"], "listed": True}) == 0
    assert call(api, "GET", "/medicines").status_code == 200
    assert body(call(api, "GET", "/medicines"))["medicines"] == []


def test_my_pharmacy_is_404_before_registering(api):
    response = call(api, "GET", "/pharmacy/my", as_=pharmacist())
    assert (response.status_code, body(response)["code"]) == (404, "NO_PHARMACY")


# ---------------------------------------------------------------- the public directory


def test_only_verified_active_pharmacies_are_public(api):
    # Given pharmacies in every state (D-16: verification was cosmetic)
    shown = make_pharmacy()
    hidden = [make_pharmacy(verification=s) for s in ("pending", "rejected", "suspended")]
    hidden.append(make_pharmacy(status="inactive"))
    # When anyone lists or opens them
    listed = body(call(api, "GET", "/pharmacies"))
    # Then only the verified, active one appears, without private fields
    assert [p["_id"] for p in listed["pharmacies"]] == [str(shown["_id"])]
    assert listed["pagination"] == {"total": 1, "page": 1, "pages": 1, "limit": 10}
    public = body(call(api, "GET", f"/pharmacy/{shown['_id']}"))["pharmacy"]
    for private in ("licenseNumber", "verificationDocuments", "monthlyRevenue", "totalOrders", "owner", "licenseKey"):
        assert private not in public
    for shop in hidden:
        assert call(api, "GET", f"/pharmacy/{shop['_id']}").status_code == 404


def test_city_filter_is_escaped_and_case_insensitive(api):
    make_pharmacy()
    assert len(body(call(api, "GET", "/pharmacies?city=pUNe"))["pharmacies"]) == 1
    assert body(call(api, "GET", "/pharmacies?city=P.ne"))["pharmacies"] == []
    # D-19: a catastrophic-backtracking pattern is a harmless literal
    response = call(api, "GET", "/pharmacies?city=(a%2B)%2B%24&pincode=411001")
    assert response.status_code == 200 and body(response)["pharmacies"] == []


def test_pharmacy_orders_report_and_stats_are_not_shadowed_by_the_id_route(api):
    # D-05 (GET /pharmacy/:id answered 400 "Invalid _id: orders" for these)
    owner = make_pharmacy()["ownerUser"]
    for path in ("/pharmacy/orders", "/pharmacy/report", "/pharmacy/stats"):
        response = call(api, "GET", path, as_=owner)
        assert response.status_code == 200, (path, response.body)


# ---------------------------------------------------------------- admin verification


def test_admin_verification_lists_the_pharmacy_and_its_medicines_and_tells_the_owner(api, db):
    shop = make_pharmacy(verification="pending")
    medicine = make_medicine(shop)
    admin = make_user("admin")
    response = call(api, "PUT", f"/admin/pharmacy/{shop['_id']}/status", as_=admin, json={"status": "verified"})
    assert response.status_code == 200
    stored = db.pharmacies.find_one({"_id": shop["_id"]})
    assert (stored["verificationStatus"], stored["isVerified"], stored["listed"]) == ("verified", True, True)
    assert db.medicines.find_one({"_id": medicine["_id"]})["listed"] is True
    assert any("verified" in m.body for m in sent_emails())
    # And suspending hides both again
    call(api, "PUT", f"/admin/pharmacy/{shop['_id']}/status", as_=admin,
         json={"status": "suspended", "reason": "audit"})
    assert db.pharmacies.find_one({"_id": shop["_id"]})["isVerified"] is False
    assert db.medicines.find_one({"_id": medicine["_id"]})["listed"] is False
    assert call(api, "GET", f"/medicine/{medicine['_id']}").status_code == 404


def test_admin_lists_pharmacies_by_status(api):
    for status in ("pending", "pending", "verified", "rejected"):
        make_pharmacy(verification=status)
    admin = make_user("admin")
    pending = body(call(api, "GET", "/admin/pharmacies?status=pending", as_=admin))
    everything = body(call(api, "GET", "/admin/pharmacies?limit=3", as_=admin))
    assert pending["pagination"]["total"] == 2
    assert all(p["verificationStatus"] == "pending" and isinstance(p["owner"], str) and p["ownerName"]
               for p in pending["pharmacies"])
    assert everything["pagination"]["total"] == 4 and len(everything["pharmacies"]) == 3
    # Without page or limit (the admin page never pages): all of them, up to 100
    whole = body(call(api, "GET", "/admin/pharmacies", as_=admin))
    assert len(whole["pharmacies"]) == 4 and whole["pagination"]["limit"] == 100


# ---------------------------------------------------------------- quick setup


def test_quick_setup_exists_only_in_the_dev_stage(api, monkeypatch, db):
    from functions.core import config

    owner = pharmacist()
    assert call(api, "POST", "/pharmacy/quick-setup", as_=owner).status_code == 404
    monkeypatch.setenv("STAGE", "dev")
    config.reset_settings()
    created = call(api, "POST", "/pharmacy/quick-setup", as_=owner)
    again = call(api, "POST", "/pharmacy/quick-setup", as_=owner)
    assert created.status_code == 201 and body(created)["pharmacy"]["verificationStatus"] == "verified"
    assert again.status_code == 200 and body(again)["message"] == "Pharmacy already exists"
    assert call(api, "POST", "/pharmacy/quick-setup", as_=patient()).status_code == 403
    assert db.pharmacies.count_documents({}) == 1
