"""Registration, login with lockout, logout, profile, password change and the access log."""

import pytest
from bson import ObjectId

from functions.core.errors import Forbidden
from functions.core.security import ARGON2_PARAMS, require_user
from tests.auth_support import auth, body, cookie_attributes, field_paths, login, register
from tests.conftest import ALLOWED_ORIGIN
from tests.factories import PASSWORD, bearer, make_user
from tests.http import call
from tests.media_support import use_cloud

# ------------------------------------------------------------------ registration


def test_register_creates_a_patient_with_a_session_cookie_and_no_secret(client, db):
    # When someone signs up with the reference fields
    response = register(client, contact="  Asha@Example.COM ")
    # Then it is a 201 with the user, the token and the cookie
    assert response.status_code == 201
    payload = body(response)
    assert payload["success"] is True and payload["token"]
    user = payload["user"]
    assert user["role"] == "patient" and user["approvalStatus"] == "approved" and user["active"] is True
    assert user["contact"] == "asha@example.com" and user["contactType"] == "email"
    cookie = cookie_attributes(response.headers["Set-Cookie"])
    assert cookie["token"] == payload["token"]
    assert {"httponly", "secure"} <= cookie.keys() and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert cookie["max-age"] == "3600"  # the cookie lives exactly as long as the token (D-30)
    # And the stored password is an argon2id hash with the configured parameters
    stored = db.users.find_one({"contact": "asha@example.com"})
    assert stored["passwordHash"].startswith(f"$argon2id$v=19$m={ARGON2_PARAMS['memory_cost']},"
                                             f"t={ARGON2_PARAMS['time_cost']},p={ARGON2_PARAMS['parallelism']}$")
    assert PASSWORD not in str(stored)
    # And the token works
    assert call(client, "GET", "/me", headers=auth(payload["token"])).status_code == 200


def test_user_is_accepted_as_an_alias_of_patient(client):
    response = register(client, role="user")
    assert response.status_code == 201
    assert body(response)["user"]["role"] == "patient"


def test_a_bare_ten_digit_phone_is_stored_in_e164(client, db):
    response = register(client, contact="98765 43210")
    assert response.status_code == 201
    assert body(response)["user"]["contact"] == "+919876543210"
    assert body(response)["user"]["contactType"] == "phone"


def test_doctor_registers_pending_with_a_profile(client, db, monkeypatch):
    use_cloud(monkeypatch, "cc")  # the sign-up form's avatar is on this deployment's cloud
    response = register(client, role="doctor", name="Dr Meera Iyer", speciality="Cardiology", bio="Heart doctor",
                        languages=["en", "hi"], consultationFee="750.50", currency="inr", timezone="Asia/Kolkata",
                        avatar='{"public_id": "doctors/meera", "url": "https://res.cloudinary.com/cc/meera.png"}',
                        availability="true")
    assert response.status_code == 201
    user = body(response)["user"]
    assert user["approvalStatus"] == "pending"
    # the fee in rupees, as sent and shown; stored in paise
    assert (user["speciality"], user["consultationFee"], user["currency"]) == ("Cardiology", 750.5, "INR")
    assert db.users.find_one({"_id": ObjectId(user["_id"])})["consultationFee"] == 75050
    assert user["avatar"] == {"public_id": "doctors/meera", "url": "https://res.cloudinary.com/cc/meera.png"}
    assert user["availability"] is False  # the frontend's boolean: not bookable until approved


def test_doctor_defaults_come_from_settings(client):
    user = body(register(client, role="doctor"))["user"]
    assert (user["timezone"], user["currency"], user["speciality"]) == ("Asia/Kolkata", "INR", "general")


def test_pharmacist_registers_pending_and_cannot_use_privileged_routes_yet(client):
    response = register(client, role="pharmacist")
    assert body(response)["user"]["approvalStatus"] == "pending"
    token = body(response)["token"]
    # Their own profile works, the guard of every pharmacist route does not let them in yet
    assert call(client, "GET", "/me", headers=auth(token)).status_code == 200
    with pytest.raises(Forbidden) as refused:
        require_user({"authorization": f"Bearer {token}"}, roles=("pharmacist",))
    assert refused.value.code == "APPROVAL_REQUIRED"


def test_admin_cannot_self_register(client, db):
    response = register(client, role="admin")
    assert response.status_code == 422
    assert field_paths(response) == ["role"]
    assert db.users.count_documents({}) == 0


def test_non_doctors_get_no_doctor_fields(client):
    user = body(register(client, role="patient", speciality="Cardiology"))["user"]
    assert "speciality" not in user


@pytest.mark.parametrize("second", ["ASHA@example.com", "asha@EXAMPLE.com "])
def test_a_second_account_for_the_same_email_is_a_conflict(client, second):
    assert register(client).status_code == 201
    response = register(client, contact=second, name="Someone Else")
    assert response.status_code == 409
    assert body(response)["code"] == "CONTACT_TAKEN"


def test_the_same_phone_in_another_spelling_is_a_conflict(client):
    assert register(client, contact="9876543210").status_code == 201
    assert register(client, contact="+91 98765-43210").status_code == 409


@pytest.mark.parametrize(("payload", "status", "fields"), [
    ({"name": "A", "password": "short"}, 400, ["name", "password"]),
    ({"password": "x" * 129}, 400, ["password"]),
    ({"role": "superuser"}, 400, ["role"]),
    ({"approvalStatus": "approved"}, 400, ["approvalStatus"]),
    ({"avatar": {"public_id": "a", "url": "http://plain.example/a.png"}}, 400, ["avatar.url"]),
    ({"role": "doctor", "consultationFee": 12.505}, 400, ["consultationFee"]),
    ({"role": "doctor", "consultationFee": "12.5", "currency": "JPY"}, 400, ["consultationFee"]),
    ({"role": "doctor", "consultationFee": "free"}, 400, ["consultationFee"]),
    ({"role": "doctor", "timezone": "Asia/Atlantis"}, 400, ["timezone"]),
    ({"contact": "not-an-email@"}, 422, ["contact"]),
    ({"contact": "12345"}, 422, ["contact"]),
])
def test_bad_registrations_name_the_fields(client, db, payload, status, fields):
    response = register(client, **payload)
    assert response.status_code == status
    assert sorted(field_paths(response)) == sorted(fields)
    assert db.users.count_documents({}) == 0


def test_missing_fields_and_malformed_json_are_400(client):
    missing = call(client, "POST", "/register", json={})
    assert missing.status_code == 400
    assert sorted(field_paths(missing)) == ["contact", "name", "password"]
    malformed = client.http.post("/api/v1/register", body=b"{not json", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400 and body(malformed)["code"] == "MALFORMED_JSON"


def test_registration_sends_only_the_verification_link(client, aws, monkeypatch):
    # D-36: the reference texted arbitrary numbers at sign-up; we send one verification message
    # (a code kind), and by SMS at most a few per source address and hour
    from functions.auth import sms_codes
    from functions.core import notify

    sent = []
    monkeypatch.setattr(notify, "deliver", lambda channel, to, subject, text, **_: sent.append((channel, to, text)))
    monkeypatch.setattr(sms_codes, "PER_ADDRESS_HOUR", 2)
    # When four people sign up from one address, three by phone and one by e-mail
    for contact in ("9876543210", "9876543211", "9876543212", "someone@example.com"):
        assert register(client, contact=contact).status_code == 201
    # Then each e-mail and the first two phones got their link, nothing else went out
    assert [(channel, to) for channel, to, _ in sent] == [
        ("phone", "+919876543210"), ("phone", "+919876543211"), ("email", "someone@example.com")]
    assert all("/api/v1/verify/contact/link/" in text for _, _, text in sent)


# ------------------------------------------------------------------ login


def test_login_returns_user_token_and_cookie(client):
    register(client)
    response = login(client, "ASHA@example.com")
    assert response.status_code == 200
    payload = body(response)
    assert payload["user"]["contact"] == "asha@example.com"
    assert cookie_attributes(response.headers["Set-Cookie"])["token"] == payload["token"]


def test_login_by_phone_accepts_any_spelling(client):
    register(client, contact="9876543210")
    assert login(client, "+91 98765 43210").status_code == 200


def test_unknown_contact_and_wrong_password_are_the_same_401(client):
    register(client)
    unknown = login(client, "nobody@example.com")
    wrong = login(client, "asha@example.com", "wrong-password-1")
    assert unknown.status_code == wrong.status_code == 401
    assert body(unknown) == body(wrong)
    # no session is set: the answer only removes any cookie the browser holds (issue 17)
    for failed in (unknown, wrong):
        cookie = cookie_attributes(failed.headers["Set-Cookie"])
        assert cookie["token"] == "" and cookie["max-age"] == "0"


def _fail(client, contact, times):
    return [login(client, contact, "wrong-password-1").status_code for _ in range(times)]


def test_five_failures_lock_the_contact_with_retry_after(client, clock):
    register(client)
    # Given five wrong passwords within the window
    assert _fail(client, "asha@example.com", 5) == [401] * 5
    # Then even the right password is refused for now, with Retry-After
    locked = login(client, "asha@example.com")
    assert locked.status_code == 429
    assert body(locked)["code"] == "LOGIN_LOCKED"
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    # And when the window has passed, the right password works again
    clock.advance(minutes=15, seconds=1)
    assert login(client, "asha@example.com").status_code == 200


def test_retry_after_counts_down_from_the_first_failure(client, clock):
    register(client)
    _fail(client, "asha@example.com", 1)
    clock.advance(minutes=10)
    _fail(client, "asha@example.com", 4)
    response = login(client, "asha@example.com")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) == 5 * 60


def test_unknown_contacts_lock_the_same_way(client, clock):
    # An attacker cannot tell accounts from non-accounts by the lockout either
    assert _fail(client, "ghost@example.com", 5) == [401] * 5
    locked = login(client, "ghost@example.com")
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) == 15 * 60
    clock.advance(minutes=16)
    assert _fail(client, "ghost@example.com", 1) == [401]


def test_failures_are_kept_per_contact(client):
    register(client)
    register(client, contact="ravi@example.com", name="Ravi Kumar")
    _fail(client, "asha@example.com", 5)
    assert login(client, "ravi@example.com").status_code == 200


def test_a_successful_login_clears_earlier_failures(client, db):
    register(client)
    _fail(client, "asha@example.com", 4)
    assert login(client, "asha@example.com").status_code == 200
    assert "loginFailures" not in db.users.find_one({"contact": "asha@example.com"})
    assert _fail(client, "asha@example.com", 4) == [401] * 4
    assert login(client, "asha@example.com").status_code == 200


def test_deactivated_accounts_cannot_log_in(client):
    user = make_user("patient", contact="off@example.com", active=False)
    response = login(client, user["contact"])
    assert response.status_code == 401
    assert body(response)["code"] == "ACCOUNT_INACTIVE"


def test_login_validates_its_body(client):
    response = call(client, "POST", "/login", json={"contact": "asha@example.com"})
    assert response.status_code == 400 and field_paths(response) == ["password"]


def test_cors_on_login_only_for_the_allowed_origin(client):
    register(client)
    payload = {"contact": "asha@example.com", "password": PASSWORD}
    allowed = call(client, "POST", "/login", json=payload, headers={"Origin": ALLOWED_ORIGIN})
    foreign = call(client, "POST", "/login", json=payload, headers={"Origin": "https://evil.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert allowed.headers["Access-Control-Allow-Credentials"] == "true"
    # a foreign page may not sign a visitor in, even without a cookie (issue 17), nor read the answer
    assert foreign.status_code == 403 and body(foreign)["code"] == "CROSS_SITE_REQUEST"
    assert "Set-Cookie" not in foreign.headers
    assert not any(h.lower().startswith("access-control-") for h in foreign.headers)
    preflight = client.http.request("OPTIONS", "/api/v1/login", headers={
        "Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204 and "POST" in preflight.headers["Access-Control-Allow-Methods"]
    foreign_preflight = client.http.request("OPTIONS", "/api/v1/login", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in foreign_preflight.headers


def test_the_session_cookie_alone_authenticates(client):
    token = body(register(client))["token"]
    response = client.http.get("/api/v1/me", headers={"Cookie": f"theme=dark; token={token}"})
    assert response.status_code == 200


# ------------------------------------------------------------------ logout


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_logout_clears_the_cookie_with_the_same_attributes_and_revokes_the_token(client, method):
    registered = register(client)
    token = body(registered)["token"]
    set_at_login = cookie_attributes(registered.headers["Set-Cookie"])
    response = call(client, method, "/logout", headers={"Cookie": f"token={token}"})
    assert response.status_code == 200 and body(response)["message"] == "Logged Out"
    cleared = cookie_attributes(response.headers["Set-Cookie"])
    assert cleared["token"] == "" and cleared["max-age"] == "0"
    for attribute in ("path", "samesite", "secure", "httponly"):
        assert cleared[attribute] == set_at_login[attribute]
    assert call(client, "GET", "/me", headers=auth(token)).status_code == 401


def test_logout_without_a_session_still_clears_the_cookie(client):
    response = call(client, "POST", "/logout")
    assert response.status_code == 200
    assert cookie_attributes(response.headers["Set-Cookie"])["max-age"] == "0"


def test_revoked_tokens_are_pruned_once_expired(client, db, clock):
    register(client)
    first = body(login(client, "asha@example.com"))["token"]
    call(client, "POST", "/logout", headers=auth(first))
    clock.advance(minutes=61)  # the first token would have expired by now anyway
    second = body(login(client, "asha@example.com"))["token"]
    call(client, "POST", "/logout", headers=auth(second))
    assert call(client, "GET", "/me", headers=auth(second)).status_code == 401
    from functions.core.security import decode_token

    assert list(db.users.find_one({"contact": "asha@example.com"})["revokedJtis"]) == [decode_token(second)["jti"]]
    assert call(client, "GET", "/me", headers=auth(body(login(client, "asha@example.com"))["token"])).status_code == 200


# ------------------------------------------------------------------ profile


def test_me_returns_the_caller_without_private_fields(client):
    user = make_user("doctor", approved=False)
    response = call(client, "GET", "/me", headers=bearer(user))
    assert response.status_code == 200
    me = body(response)["user"]
    assert me["_id"] == str(user["_id"]) and me["approvalStatus"] == "pending"
    assert not {"sessionVersion", "revokedTokens", "nameKey", "loginFailures"} & me.keys()


def test_a_doctors_fee_is_read_and_written_in_major_units_of_the_currency_that_applies(client, db):
    # Given a doctor who charges in yen (no minor unit): ¥1500 stored as 1500
    doctor = make_user("doctor", currency="JPY", consultationFee=1500)
    assert body(call(client, "GET", "/me", headers=bearer(doctor)))["user"]["consultationFee"] == 1500
    # When they send a fee with decimals alone, it is read in their stored currency: refused, naming the field
    refused = call(client, "PUT", "/me", json={"consultationFee": "1500.5"}, headers=bearer(doctor))
    assert refused.status_code == 400 and field_paths(refused) == ["consultationFee"]
    assert db.users.find_one({"_id": doctor["_id"]})["consultationFee"] == 1500
    # When the same body switches to rupees, the fee is read in rupees
    moved = call(client, "PUT", "/me", json={"consultationFee": 499.99, "currency": "inr"}, headers=bearer(doctor))
    assert moved.status_code == 200, moved.body
    assert (body(moved)["user"]["consultationFee"], body(moved)["user"]["currency"]) == (499.99, "INR")
    assert db.users.find_one({"_id": doctor["_id"]})["consultationFee"] == 49999


def test_put_me_changes_allowed_fields_only(client, db):
    doctor = make_user("doctor")
    response = call(client, "PUT", "/me", json={"name": "Dr New Name", "bio": "Paediatrics", "consultationFee": "600"},
                    headers=bearer(doctor))
    assert response.status_code == 200
    assert (body(response)["user"]["name"], body(response)["user"]["consultationFee"]) == ("Dr New Name", 600)
    stored = db.users.find_one({"_id": doctor["_id"]})
    assert (stored["bio"], stored["consultationFee"], stored["nameKey"]) == ("Paediatrics", 60000, "dr new name")
    for forbidden in ({"role": "admin"}, {"approvalStatus": "approved"}, {"active": True}, {"contact": "x@y.com"},
                      {"passwordHash": "x"}, {"medicalHistory": []}):
        rejected = call(client, "PUT", "/me", json=forbidden, headers=bearer(doctor))
        assert rejected.status_code == 400, forbidden
        assert field_paths(rejected) == list(forbidden)
    assert db.users.find_one({"_id": doctor["_id"]})["role"] == "doctor"


def test_non_doctors_cannot_set_doctor_fields(client):
    patient = make_user("patient")
    response = call(client, "PUT", "/me", json={"speciality": "Surgery", "name": "Asha R"}, headers=bearer(patient))
    assert response.status_code == 422
    assert field_paths(response) == ["speciality"]


def test_put_me_with_nothing_is_rejected(client):
    patient = make_user("patient")
    assert call(client, "PUT", "/me", json={}, headers=bearer(patient)).status_code == 400
    assert call(client, "PUT", "/me", json={"name": None}, headers=bearer(patient)).status_code == 422


# ------------------------------------------------------------------ password change


def test_password_change_revokes_every_other_token(client):
    register(client)
    other_device = body(login(client, "asha@example.com"))["token"]
    this_device = body(login(client, "asha@example.com"))["token"]
    response = call(client, "PUT", "/password/update",
                    json={"oldPassword": PASSWORD, "newPassword": "a-new-passphrase"},
                    headers=auth(this_device))
    assert response.status_code == 200
    new_token = body(response)["token"]
    assert cookie_attributes(response.headers["Set-Cookie"])["token"] == new_token
    assert call(client, "GET", "/me", headers=auth(other_device)).status_code == 401
    assert call(client, "GET", "/me", headers=auth(this_device)).status_code == 401
    assert call(client, "GET", "/me", headers=auth(new_token)).status_code == 200
    assert login(client, "asha@example.com").status_code == 401
    assert login(client, "asha@example.com", "a-new-passphrase").status_code == 200


def test_password_change_checks_the_old_password_and_the_new_one(client):
    token = body(register(client))["token"]
    wrong = call(client, "PUT", "/password/update",
                 json={"oldPassword": "not-my-password", "newPassword": "whatever-123"},
                 headers=auth(token))
    assert wrong.status_code == 422 and field_paths(wrong) == ["oldPassword"]
    same = call(client, "PUT", "/password/update", json={"oldPassword": PASSWORD, "newPassword": PASSWORD},
                headers=auth(token))
    assert same.status_code == 422 and field_paths(same) == ["newPassword"]
    short = call(client, "PUT", "/password/update", json={"oldPassword": PASSWORD, "newPassword": "short"},
                 headers=auth(token))
    assert short.status_code == 400 and field_paths(short) == ["newPassword"]


def test_guessing_the_old_password_counts_towards_the_lockout(client):
    token = body(register(client))["token"]
    for _ in range(5):
        call(client, "PUT", "/password/update", json={"oldPassword": "guess-guess", "newPassword": "whatever-123"},
             headers=auth(token))
    response = call(client, "PUT", "/password/update", json={"oldPassword": PASSWORD, "newPassword": "whatever-123"},
                    headers=auth(token))
    assert response.status_code == 429 and "Retry-After" in response.headers


# ------------------------------------------------------------------ access log


def test_access_log_shows_who_touched_my_data(client, db, clock):
    patient = make_user("patient")
    doctor = make_user("doctor", name="Dr Who Reads")
    db.appointments.insert_one({"doctor": doctor["_id"], "patient": patient["_id"], "status": "confirmed"})
    call(client, "GET", f"/medical-history/{patient['_id']}", headers=bearer(doctor))
    clock.advance(minutes=1)
    admin = make_user("admin", name="Site Admin")
    call(client, "GET", f"/admin/user/{patient['_id']}", headers=bearer(admin))
    response = call(client, "GET", "/me/access-log", headers=bearer(patient))
    assert response.status_code == 200
    entries = body(response)["entries"]
    assert [(e["actor"]["name"], e["actor"]["role"], e["action"], e["resource"]["type"]) for e in entries] == [
        ("Site Admin", "admin", "read", "user"),
        ("Dr Who Reads", "doctor", "read", "medicalHistory"),
    ]
    assert entries[1]["at"] == "2026-03-02T10:00:00.000Z"
    assert body(response)["pagination"] == {"total": 2, "page": 1, "pages": 1, "limit": 20}
    # And nobody else sees those entries
    assert body(call(client, "GET", "/me/access-log", headers=bearer(doctor)))["entries"] == []


@pytest.mark.parametrize("sessions", [2, 10])
def test_every_revoked_token_stays_revoked_however_many_are_live(client, sessions):
    # Given a user logged in from several devices, each session then logged out
    register(client)
    tokens = [body(login(client, "asha@example.com"))["token"] for _ in range(sessions)]
    survivor = body(login(client, "asha@example.com"))["token"]
    # When every session but one logs out
    for token in tokens:
        assert call(client, "POST", "/logout", headers=auth(token)).status_code == 200
    # Then none of the logged-out tokens works (the first version let them all back in after
    # the second logout), and the session that did not log out still does
    assert [call(client, "GET", "/me", headers=auth(t)).status_code for t in tokens] == [401] * sessions
    assert call(client, "GET", "/me", headers=auth(survivor)).status_code == 200


# ------------------------------------------------------------------ password rules (NIST SP 800-63B)


@pytest.mark.parametrize(("password", "why"), [
    ("password123", "too common"), ("qwertyuiop", "too common"), ("Iloveyou1", "too common"),
    ("asha@example.com", "your contact"), ("AshaRao12", "too easy to guess"), ("asha rao", "your contact or your name"),
    ("ashaexample", "too easy to guess"), ("quokka-lantern-42", None),
])
def test_common_passwords_and_the_users_own_contact_or_name_are_refused(client, password, why):
    # When someone signs up with that password
    response = register(client, password=password)
    # Then a password from the common list, equal to their contact or name, or made of them (a zxcvbn
    # score under 3 with the name and contact as known words; issue 21) is refused with a 422
    if why is None:
        assert response.status_code == 201
        return
    assert response.status_code == 422 and body(response)["code"] == "WEAK_PASSWORD"
    assert field_paths(response) == ["password"] and why.split()[-1] in body(response)["errors"][0]["message"]


def test_a_new_password_follows_the_same_rules(client):
    token = body(register(client))["token"]
    response = call(client, "PUT", "/password/update", json={"oldPassword": PASSWORD, "newPassword": "1234567890"},
                    headers=auth(token))
    assert response.status_code == 422 and field_paths(response) == ["newPassword"]
