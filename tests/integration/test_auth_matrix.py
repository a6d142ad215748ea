"""Authorization matrix: every route of the auth domain, for every kind of caller.

Callers: anonymous, patient, pending doctor, approved doctor, pharmacist, admin. "other" in a
path is another user's resource (a patient with a medical history the caller does not treat),
"self" is the caller's own, "doctor" a listed doctor and "pending" a doctor awaiting approval.
"""


import pytest

from tests.factories import PASSWORD, bearer, make_user
from tests.http import call
from tests.matrix import cases, unlisted

CALLERS = ("anonymous", "patient", "pending_doctor", "doctor", "pharmacist", "admin")


def expect(anonymous, **by_caller):
    """Expected status per caller: `default` for every signed-in caller not named."""
    default = by_caller.pop("default", None)
    return {"anonymous": anonymous, **{c: by_caller.get(c, default) for c in CALLERS if c != "anonymous"}}


HISTORY = {"analysis": "note", "url": "https://res.cloudinary.com/cc/x.png"}
ROUTES = [
    ("POST", "/register", {"name": "New Person", "contact": "new-{caller}@example.com", "password": PASSWORD},
     expect(201, default=201)),
    ("POST", "/login", {"contact": "{other_contact}", "password": PASSWORD}, expect(200, default=200)),
    ("GET", "/logout", None, expect(200, default=200)),
    ("POST", "/logout", None, expect(200, default=200)),
    ("GET", "/me", None, expect(401, default=200)),
    ("PUT", "/me", {"name": "Renamed Person"}, expect(401, default=200)),
    ("PUT", "/password/update", {"oldPassword": PASSWORD, "newPassword": "another-long-pass"},
     expect(401, default=200)),
    ("GET", "/me/access-log", None, expect(401, default=200)),
    # test users' contacts are verified: asking again is a 409, confirming changes nothing
    ("POST", "/verify/contact/send", None, expect(401, default=409)),
    ("POST", "/verify/contact/confirm", {"code": "123456"}, expect(401, default=200)),
    # the page a verification link opens: the link authenticates, and one that is not live is a 404
    ("GET", "/verify/contact/link/{link}", None, expect(404, default=404)),
    ("POST", "/verify/contact/link/{link}", None, expect(404, default=404)),
    # the same answer for everyone; a reset without a live code is refused
    ("POST", "/password/forgot", {"contact": "{other_contact}"}, expect(200, default=200)),
    ("POST", "/password/reset", {"contact": "{other_contact}", "code": "123456", "newPassword": "another-long-pass"},
     expect(422, default=422)),
    # claiming a contact: a verified one is not claimable; a confirmation without a live claim code is refused
    ("POST", "/contact/claim", {"contact": "{other_contact}"}, expect(409, default=409)),
    ("POST", "/contact/claim/confirm", {"contact": "{other_contact}", "code": "123456", "name": "New Person",
                                        "password": PASSWORD}, expect(422, default=422)),
    ("GET", "/doctors", None, expect(200, default=200)),
    ("GET", "/doctor/{doctor}", None, expect(200, default=200)),
    ("GET", "/doctor/{pending}", None, expect(404, default=404)),
    ("POST", "/medical-history", HISTORY, expect(401, patient=201, default=403)),
    ("GET", "/medical-history/{self}", None, expect(401, default=200)),
    ("GET", "/medical-history/{other}", None, expect(401, default=404)),
    ("GET", "/patient/{self}/complete-data", None, expect(401, patient=200, default=404)),
    ("GET", "/patient/{other}/complete-data", None, expect(401, default=404)),
    ("GET", "/admin/users", None, expect(401, admin=200, default=403)),
    ("GET", "/admin/user/{other}", None, expect(401, admin=200, default=403)),
    ("PUT", "/admin/user/{pending}/approval", {"status": "approved"}, expect(401, admin=200, default=403)),
    ("PUT", "/admin/user/{other}/active", {"active": False}, expect(401, admin=200, default=403)),
    ("PUT", "/admin/user/{other}/contact", {"contact": "changed-{caller}@example.com"},
     expect(401, admin=200, default=403)),
    # two-factor sign-in (issue 24 §2): any role enrols; nobody has a setup or a factor here
    ("POST", "/mfa/totp/setup", None, expect(401, default=200)),
    ("POST", "/mfa/totp/confirm", {"code": "123456"}, expect(401, default=409)),
    ("DELETE", "/mfa/totp", {"password": PASSWORD, "code": "123456"}, expect(401, default=409)),
    ("POST", "/login/mfa", {"mfaToken": "not-a-step-token", "code": "123456"}, expect(401, default=401)),
    ("DELETE", "/admin/user/{other}/mfa", None, expect(401, admin=200, default=403)),
    # "other" asked for no deletion: the admin's restore is 409 NOT_DELETING
    ("POST", "/admin/user/{other}/restore", None, expect(401, admin=409, default=403)),
]


@pytest.fixture
def world(client):
    other = make_user("patient", contact="other@example.com", medicalHistory=[{"analysis": "private", "image": {"url": "https://x.example/1"}}])
    return {
        "other": other,
        "doctor": make_user("doctor"),
        "pending": make_user("doctor", approved=False),
        "callers": {
            "patient": make_user("patient"),
            "pending_doctor": make_user("doctor", approved=False),
            "doctor": make_user("doctor"),
            "pharmacist": make_user("pharmacist"),
            "admin": make_user("admin"),
        },
    }


def _fill(template, world, caller, me):
    values = {"other": world["other"]["_id"], "doctor": world["doctor"]["_id"], "pending": world["pending"]["_id"],
              "self": me["_id"] if me else world["other"]["_id"], "caller": caller,
              "other_contact": world["other"]["contact"], "link": f"{world['other']['_id']}.{'x' * 32}"}
    if isinstance(template, str):
        return template.format(**{k: str(v) for k, v in values.items()})
    if isinstance(template, dict):
        return {k: _fill(v, world, caller, me) for k, v in template.items()}
    return template


@pytest.mark.parametrize(("method", "path", "payload", "caller", "status"), cases(ROUTES, CALLERS))
def test_authorization_matrix(client, world, method, path, payload, caller, status):
    me = world["callers"].get(caller)
    headers = bearer(me) if me else {}
    response = call(client, method, _fill(path, world, caller, me), json=_fill(payload, world, caller, me),
                    headers=headers)
    assert response.status_code == status, response.body[:300]


def test_every_auth_route_is_in_the_matrix(chalice_app):
    # A route added later without a row here fails this test
    assert unlisted(chalice_app, "functions.auth.routes", ROUTES) == (set(), set())
