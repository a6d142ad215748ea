"""Attacks on the token and the guard (D-37): every one of them is a 401."""

import base64
import json
from datetime import timedelta

import jwt
import pytest

from functions.core import clock as core_clock
from functions.core.security import issue_token
from tests.auth_support import auth, body, login, register
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, make_user
from tests.http import call


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(user, **overrides):
    now = core_clock.now().replace(microsecond=0)
    claims = {"sub": str(user["_id"]), "role": user["role"], "sv": 0, "jti": "j-1", "iat": now,
              "exp": now + timedelta(hours=1), "iss": "cureconnect", "aud": "cureconnect-web"}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _me(client, token):
    return call(client, "GET", "/me", headers=auth(token))


def _assert_rejected(response):
    assert response.status_code == 401
    assert body(response)["success"] is False
    assert "user" not in body(response)


def test_a_well_formed_token_is_accepted(client):
    # The control for every attack below: the same construction with nothing changed passes
    user = make_user("patient")
    token = jwt.encode(_claims(user), TEST_SECRET, algorithm="HS256")
    assert _me(client, token).status_code == 200


def test_alg_none_is_rejected(client):
    user = make_user("admin")
    claims = {k: int(v.timestamp()) if k in ("iat", "exp") else v for k, v in _claims(user).items()}
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    _assert_rejected(_me(client, unsigned))


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_other_hmac_algorithms_are_rejected(client):
    user = make_user("patient")
    _assert_rejected(_me(client, jwt.encode(_claims(user), TEST_SECRET, algorithm="HS512")))


def test_a_tampered_payload_or_signature_is_rejected(client):
    patient = make_user("patient")
    admin = make_user("admin")
    token, _ = issue_token(patient)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = str(admin["_id"])
    _assert_rejected(_me(client, f"{header}.{_b64(claims)}.{signature}"))
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    _assert_rejected(_me(client, f"{header}.{payload}.{flipped}"))
    _assert_rejected(_me(client, jwt.encode(_claims(patient), "another-secret-that-is-long-enough-xx", "HS256")))


def test_an_expired_token_is_rejected(client, clock):
    user = make_user("patient")
    token, _ = issue_token(user)
    clock.advance(minutes=59)
    assert _me(client, token).status_code == 200
    clock.advance(minutes=1)
    _assert_rejected(_me(client, token))


def test_a_token_from_the_future_is_rejected(client, clock):
    user = make_user("patient")
    clock.advance(hours=1)
    token, _ = issue_token(user)
    clock.advance(hours=-1)
    _assert_rejected(_me(client, token))


@pytest.mark.parametrize("override", [{"aud": "another-app"}, {"iss": "someone-else"}, {"exp": None},
                                      {"aud": None}, {"iss": None}, {"jti": None}, {"sub": "not-an-id"},
                                      {"sub": "0123456789abcdef01234567"}, {"sv": 1},
                                      # a malformed `sv` or `jti` is a 401, never a 500
                                      {"sv": "abc"}, {"sv": {"$gt": -1}}, {"sv": True}, {"sv": 0.5},
                                      {"jti": "a.b"}, {"jti": "$where"}, {"jti": 7}])
def test_wrong_or_missing_claims_are_rejected(client, override):
    user = make_user("patient")
    _assert_rejected(_me(client, jwt.encode(_claims(user, **override), TEST_SECRET, algorithm="HS256")))


@pytest.mark.parametrize("header", [{"Authorization": "Bearer"}, {"Authorization": "Bearer not.a.jwt"},
                                    {"Authorization": "Basic dXNlcjpwYXNz"}, {"Cookie": "token="},
                                    {"Cookie": "token=garbage"}, {}])
def test_missing_or_garbage_credentials_are_rejected(client, header):
    _assert_rejected(call(client, "GET", "/me", headers=header))


def test_a_token_is_revoked_by_logout(client):
    register(client)
    token = body(login(client, "asha@example.com"))["token"]
    assert _me(client, token).status_code == 200
    call(client, "GET", "/logout", headers=auth(token))
    _assert_rejected(_me(client, token))


def test_old_tokens_die_with_a_password_change(client):
    register(client)
    old = body(login(client, "asha@example.com"))["token"]
    current = body(login(client, "asha@example.com"))["token"]
    call(client, "PUT", "/password/update", json={"oldPassword": PASSWORD, "newPassword": "brand-new-secret"},
         headers=auth(current))
    _assert_rejected(_me(client, old))


def test_a_deactivated_user_is_rejected_at_once(client, db):
    user = make_user("doctor")
    token, _ = issue_token(user)
    assert _me(client, token).status_code == 200
    db.users.update_one({"_id": user["_id"]}, {"$set": {"active": False}})
    response = _me(client, token)
    _assert_rejected(response)
    assert body(response)["code"] == "ACCOUNT_INACTIVE"


def test_a_deleted_user_is_a_401_not_a_404(client, db):
    user = make_user("patient")
    token, _ = issue_token(user)
    db.users.delete_one({"_id": user["_id"]})
    _assert_rejected(_me(client, token))


def test_the_role_is_read_from_the_database_on_every_request(client, db):
    # A token minted while the user was an admin carries no power once the role changed
    user = make_user("admin")
    token, _ = issue_token(user)
    assert call(client, "GET", "/admin/users", headers=auth(token)).status_code == 200
    db.users.update_one({"_id": user["_id"]}, {"$set": {"role": "patient"}})
    assert call(client, "GET", "/admin/users", headers=auth(token)).status_code == 403
