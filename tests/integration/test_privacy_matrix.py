"""Authorization matrix: every route of the privacy domain (a user's own data), for every kind of
caller. Each route acts on the caller's own account only: every signed-in role may call it; the
deletion's answer then depends on the role's obligations (the platform's only admin is refused)."""

import re

import pytest

from tests.factories import PASSWORD, bearer, make_user
from tests.http import call

CALLERS = ("anonymous", "patient", "pending_doctor", "doctor", "pharmacist", "admin")
ROUTES = [
    ("GET", "/me/export", None, {"anonymous": 401, "patient": 200, "pending_doctor": 200, "doctor": 200,
                                 "pharmacist": 200, "admin": 200}),
    ("POST", "/me/delete", {"password": PASSWORD}, {"anonymous": 401, "patient": 202, "pending_doctor": 202,
                                                    "doctor": 202, "pharmacist": 202, "admin": 409}),
]
ROLES = {"patient": ("patient", True), "pending_doctor": ("doctor", False), "doctor": ("doctor", True),
         "pharmacist": ("pharmacist", True), "admin": ("admin", True)}

CASES = [pytest.param(method, path, payload, caller, statuses[caller], id=f"{method} {path} as {caller}")
         for method, path, payload, statuses in ROUTES for caller in CALLERS]


@pytest.mark.parametrize(("method", "path", "payload", "caller", "status"), CASES)
def test_authorization_matrix(client, method, path, payload, caller, status):
    # Given a caller of that kind (the only admin of the platform, for an admin)
    me = make_user(ROLES[caller][0], approved=ROLES[caller][1]) if caller != "anonymous" else None
    # When they call the route; Then the status of the matrix
    response = call(client, method, path, json=payload, headers=bearer(me) if me else {})
    assert response.status_code == status, response.body[:300]


def test_every_privacy_route_is_in_the_matrix(chalice_app):
    # A route added later without a row here fails this test
    registered = {(method, re.sub(r"\{[^}]+\}", "{id}", path.removeprefix("/api/v1")))
                  for path, methods in chalice_app.routes.items() for method, entry in methods.items()
                  if entry.view_function.__module__.startswith("functions.privacy.routes")}
    assert registered and registered == {(method, path) for method, path, _, _ in ROUTES}
