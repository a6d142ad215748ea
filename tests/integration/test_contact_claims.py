"""Issue 21 item 4, contact squatting: registering someone else's contact blocked its owner for
ever (sign-up 409, recovery needs a verified contact, no admin route changed a contact). A
contact held only by an unverified account is claimed with a code sent to it; a proved one is
not; an admin can change a user's contact."""

import re

import pytest

from tests.appointments_support import concurrently, providers_configured, sent_emails
from tests.auth_support import auth, body, login, register
from tests.factories import PASSWORD, bearer, make_user
from tests.http import call

OWNER_PASSWORD = "owner-keeps-this-one-7"


@pytest.fixture
def sms(client, monkeypatch):
    return providers_configured(monkeypatch)


def _claim_code(to):
    mail = [m for m in sent_emails() if m.destinations["ToAddresses"] == [to] and "claim" in m.subject]
    return re.search(r"\b(\d{6})\b", mail[-1].body).group(1)


def _confirm(client, contact, code, **fields):
    payload = {"contact": contact, "code": code, "name": "Asha Owner", "password": OWNER_PASSWORD, **fields}
    return call(client, "POST", "/contact/claim/confirm", json=payload)


def _squat(client, contact="asha@example.com"):
    """A stranger signs up with the contact and never proves it; their session token."""
    response = register(client, contact=contact, name="Squatter Person")
    assert response.status_code == 201
    return body(response)["token"]


def test_the_owner_of_a_squatted_email_claims_it_and_the_squatter_loses_it(client, sms, db):
    # Given a stranger who signed up with Asha's e-mail and never proved it (signed in)
    squatter_token = _squat(client)
    squatter = db.users.find_one({"contact": "asha@example.com"})
    # When Asha signs up, she is pointed to the claim
    refused = register(client, name="Asha Owner", password=OWNER_PASSWORD)
    assert refused.status_code == 409 and body(refused)["code"] == "CONTACT_CLAIMABLE"
    assert "claim" in body(refused)["message"]
    # And when she claims it and confirms with the code sent to her address
    asked = call(client, "POST", "/contact/claim", json={"contact": "ASHA@example.com"})
    assert asked.status_code == 200 and body(asked)["expiresInSeconds"] == 600
    confirmed = _confirm(client, "asha@example.com", _claim_code("asha@example.com"))
    # Then she has an account like /register's answer, with the contact verified, and a session cookie
    assert confirmed.status_code == 201, confirmed.body
    user = body(confirmed)["user"]
    assert user["contact"] == "asha@example.com" and user["contactVerified"] is True and user["role"] == "patient"
    assert confirmed.headers["Set-Cookie"].startswith("token=ey")
    assert call(client, "GET", "/me", headers=auth(body(confirmed)["token"])).status_code == 200
    assert login(client, "asha@example.com", OWNER_PASSWORD).status_code == 200
    # And the squatter lost the contact: a placeholder, deactivated, its session ended
    stored = db.users.find_one({"_id": squatter["_id"]})
    assert stored["contact"] == f"released-{squatter['_id']}@contact.invalid" and stored["active"] is False
    assert call(client, "GET", "/me", headers=auth(squatter_token)).status_code == 401
    assert login(client, "asha@example.com", PASSWORD).status_code == 401
    # And the claim is audited, in the squatter's access trail
    entry = db.audit_log.find_one({"action": "contact.claimed"})
    assert entry["actorId"] == stored["contactReleased"]["by"] and entry["subjectId"] == squatter["_id"]
    # And nothing is ever sent to the placeholder
    from functions.core import notify

    assert notify.send("email", stored["contact"], "s", "b", kind="booked") is False


def test_a_claim_closes_the_squatters_sockets(client, sms, db, chalice_app, clock):
    from tests.signaling_support import fresh_sockets

    # Given a squatter connected to the WebSocket API
    token = _squat(client)
    squatter = db.users.find_one({"contact": "asha@example.com"})
    with fresh_sockets(chalice_app) as sockets:
        cid, status = sockets.connect(token=token)
        assert status == 200
        sockets.send(cid, {"action": "ping"})
        assert sockets.types(cid) == ["pong"]
        # When the owner claims the contact
        call(client, "POST", "/contact/claim", json={"contact": "asha@example.com"})
        assert _confirm(client, "asha@example.com", _claim_code("asha@example.com")).status_code == 201
        # Then the squatter's socket is closed (gone at the gateway) and its record removed
        assert sockets.frames(cid) == []
        assert db.connections.count_documents({"userId": squatter["_id"]}) == 0


def test_a_proved_contact_an_admins_and_a_free_one_cannot_be_claimed(client, sms):
    # Given a verified patient, an admin (made by the operator, never verified) and a free contact
    verified = make_user("patient", contact="ravi@example.com")
    make_user("admin", contact="root@example.com", contactVerified=False)
    # When each is claimed
    taken = call(client, "POST", "/contact/claim", json={"contact": verified["contact"]})
    admin = call(client, "POST", "/contact/claim", json={"contact": "root@example.com"})
    free = call(client, "POST", "/contact/claim", json={"contact": "nobody@example.com"})
    # Then a held, proved contact gets /register's own answer, and nothing is sent
    signup = register(client, contact=verified["contact"])
    assert taken.status_code == admin.status_code == signup.status_code == 409
    assert body(taken)["code"] == body(admin)["code"] == body(signup)["code"] == "CONTACT_TAKEN"
    assert body(taken)["message"] == body(signup)["message"]
    assert free.status_code == 404 and body(free)["code"] == "NOTHING_TO_CLAIM"
    assert [m for m in sent_emails() if "claim" in m.subject] == []


def test_a_contact_proved_after_the_code_was_sent_is_no_longer_claimable(client, sms, db):
    # Given a claim code sent for a squatted contact
    token = _squat(client)
    call(client, "POST", "/contact/claim", json={"contact": "asha@example.com"})
    code = _claim_code("asha@example.com")
    # When the holder proves the contact (it was theirs after all)
    call(client, "POST", "/verify/contact/send", headers=auth(token))
    verify = [m for m in sent_emails() if "verification code" in m.subject][-1]
    own = re.search(r"\b(\d{6})\b", verify.body).group(1)
    assert call(client, "POST", "/verify/contact/confirm", json={"code": own}, headers=auth(token)).status_code == 200
    # Then the claim code no longer works, and the holder keeps everything
    refused = _confirm(client, "asha@example.com", code)
    assert refused.status_code == 422 and body(refused)["code"] == "INVALID_CODE"
    assert db.users.count_documents({"contact": "asha@example.com", "active": True}) == 1


def test_confirming_follows_the_sign_up_rules(client, sms, db):
    # Given a claim code for a squatted contact
    _squat(client)
    call(client, "POST", "/contact/claim", json={"contact": "asha@example.com"})
    code = _claim_code("asha@example.com")
    wrong = "000000" if code != "000000" else "111111"
    # When the confirmation asks for an admin account, has a weak password, a malformed or a wrong code
    admin = _confirm(client, "asha@example.com", code, role="admin")
    weak = _confirm(client, "asha@example.com", code, password="password123")
    malformed = _confirm(client, "asha@example.com", "12ab")
    guessed = _confirm(client, "asha@example.com", wrong)
    # Then each is a clear 4xx naming the field, and nothing changed
    assert admin.status_code == 422 and body(admin)["code"] == "ROLE_NOT_ALLOWED"
    assert weak.status_code in (400, 422) and body(weak)["errors"][0]["field"] == "password"
    assert malformed.status_code == 400 and body(malformed)["errors"][0]["field"] == "code"
    assert guessed.status_code == 422 and body(guessed)["code"] == "INVALID_CODE"
    assert db.users.count_documents({"contact": "asha@example.com", "active": True}) == 1
    # And a doctor may claim like a doctor signs up: pending approval
    doctor = _confirm(client, "asha@example.com", code, role="doctor", speciality="Cardiology")
    assert doctor.status_code == 201 and body(doctor)["user"]["approvalStatus"] == "pending"


def test_claim_codes_are_limited_per_contact_and_address(client, sms):
    # Given a squatted contact
    _squat(client)
    # When one client asks for four codes within the hour
    answers = [call(client, "POST", "/contact/claim", json={"contact": "asha@example.com"}).status_code
               for _ in range(4)]
    # Then the fourth is refused with a Retry-After
    assert answers == [200, 200, 200, 429]
    limited = call(client, "POST", "/contact/claim", json={"contact": "asha@example.com"})
    assert body(limited)["code"] == "TOO_MANY_CODES" and "Retry-After" in limited.headers


def test_claim_codes_are_limited_from_everywhere(client, sms, monkeypatch):
    # Given a platform-wide budget of 2 claim codes an hour, and three squatted addresses
    from functions.auth import claims

    monkeypatch.setattr(claims, "ALL_PER_HOUR", 2)
    for n in range(3):
        _squat(client, contact=f"owner{n}@example.com")
    # When each is claimed from its own client address
    answers = []
    for n in range(3):
        monkeypatch.setattr(client.http._local_gateway.event_converter, "LOCAL_SOURCE_IP", f"198.51.100.{n}")
        answers.append(call(client, "POST", "/contact/claim", json={"contact": f"owner{n}@example.com"}))
    # Then the third is refused, and no code was sent for it
    assert [a.status_code for a in answers] == [200, 200, 429]
    sent_to = [m.destinations["ToAddresses"] for m in sent_emails() if "claim" in m.subject]
    assert sent_to == [["owner0@example.com"], ["owner1@example.com"]]


def test_a_claim_by_sms_follows_the_sms_rules(client, sms, monkeypatch):
    # Given a number outside SMS_ALLOWED_REGIONS, and a squatted Indian mobile number
    refused = call(client, "POST", "/contact/claim", json={"contact": "+881612345678"})
    assert refused.status_code == 400 and body(refused)["code"] == "INVALID_CONTACT"
    _squat(client, contact="+919876543210")
    sent_before = len(sms.requests)
    # When the owner claims it from many addresses
    from functions.auth import sms_codes

    answers = []
    for n in range(7):
        monkeypatch.setattr(client.http._local_gateway.event_converter, "LOCAL_SOURCE_IP", f"198.51.100.{n}")
        answers.append(call(client, "POST", "/contact/claim", json={"contact": "+919876543210"}).status_code)
    # Then the number gets at most its code-SMS budget an hour, whoever asks (the sign-up link spent one)
    assert answers.count(200) == sms_codes.PER_NUMBER_HOUR - 1 and answers[-1] == 429
    assert len(sms.requests) - sent_before == sms_codes.PER_NUMBER_HOUR - 1
    assert re.search(r"your code is \d{6}", sms.requests[-1]["data"]["Body"])


def test_twenty_concurrent_confirms_of_one_claim_make_exactly_one_account(client, sms, db):
    # Given a claim code for a squatted contact
    _squat(client)
    call(client, "POST", "/contact/claim", json={"contact": "asha@example.com"})
    code = _claim_code("asha@example.com")
    # When 20 confirmations with that code arrive at once
    responses = concurrently(*[lambda n=n: _confirm(client, "asha@example.com", code, name=f"Claimer {n:02d}")
                               for n in range(20)])
    # Then exactly one made an account; the others are told the code is not valid
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [422] * 19, statuses
    assert db.users.count_documents({"contact": "asha@example.com"}) == 1
    assert db.users.count_documents({"contact": "asha@example.com", "contactVerified": True}) == 1
    assert db.users.count_documents({"contactReleased": {"$exists": True}}) == 1
    assert db.audit_log.count_documents({"action": "contact.claimed"}) == 1


# ---------------------------------------------------------------- an admin changes a user's contact


def test_an_admin_changes_a_users_contact_audited_and_unverified_unless_stated(client, db):
    # Given an admin and a patient
    admin, patient = make_user("admin"), make_user("patient")
    # When the admin gives the patient a new contact, then another one stated as checked
    changed = call(client, "PUT", f"/admin/user/{patient['_id']}/contact",
                   json={"contact": "New.Address@Example.com", "reason": "ticket 42"}, headers=bearer(admin))
    checked = call(client, "PUT", f"/admin/user/{patient['_id']}/contact",
                   json={"contact": "+91 98765 43210", "verified": True}, headers=bearer(admin))
    # Then the first is stored normalised and unverified, the second verified
    assert changed.status_code == 200, changed.body
    assert body(changed)["user"]["contact"] == "new.address@example.com"
    assert body(changed)["user"]["contactVerified"] is False
    assert body(checked)["user"]["contact"] == "+919876543210" and body(checked)["user"]["contactVerified"] is True
    assert login(client, "+919876543210").status_code == 200
    # And each change is audited with its reason
    entries = list(db.audit_log.find({"action": "contact.changed", "subjectId": patient["_id"]}).sort("at", 1))
    assert [e["reason"] for e in entries] == ["ticket 42", None]


def test_an_admin_cannot_give_a_contact_another_account_holds(client, db):
    # Given two patients
    admin = make_user("admin")
    first = make_user("patient", contact="first@example.com")
    second = make_user("patient", contact="second@example.com")
    # When the admin gives the first the second's contact, a malformed one, or changes a user that does not exist
    taken = call(client, "PUT", f"/admin/user/{first['_id']}/contact", json={"contact": second["contact"]},
                 headers=bearer(admin))
    malformed = call(client, "PUT", f"/admin/user/{first['_id']}/contact", json={"contact": "not a contact"},
                     headers=bearer(admin))
    missing = call(client, "PUT", f"/admin/user/{'0' * 24}/contact", json={"contact": "x@example.com"},
                   headers=bearer(admin))
    # Then each is refused clearly and the first keeps its contact
    assert taken.status_code == 409 and body(taken)["code"] == "CONTACT_TAKEN"
    assert malformed.status_code == 422 and body(malformed)["errors"][0]["field"] == "contact"
    assert missing.status_code == 404
    assert db.users.find_one({"_id": first["_id"]})["contact"] == first["contact"]
    # And only admins may change contacts
    for role in ("patient", "doctor", "pharmacist"):
        caller = make_user(role)
        assert call(client, "PUT", f"/admin/user/{caller['_id']}/contact", json={"contact": "me@example.com"},
                    headers=bearer(caller)).status_code == 403
