"""Item 1 of issue 17: the same-site check as the frontend's proxy meets it, and stale cookies.

The proxy sends the page's bare `host:port` as `Origin` and the API's own `Host`; the browser
says `Sec-Fetch-Site`. Every cookie-authenticated write of the frontend must pass, a foreign
page must stay refused, and a stale cookie must never stand in the way of signing in again.
"""

from __future__ import annotations

import pytest

from tests.auth_support import cookie_attributes
from tests.conftest import ALLOWED_ORIGIN
from tests.contract.frontend import API_HOST, cookie_of, read, send
from tests.factories import PASSWORD, bearer, make_user

HISTORY = {"analysis": "Mild eczema on the left forearm", "url": "https://res.cloudinary.com/cc/h.png",
           "type": "image"}
# What a foreign page's request looks like after the proxy (or straight from a browser).
FOREIGN = [
    pytest.param({"Origin": "https://evil.example"}, "same-origin", id="foreign serialized origin"),
    pytest.param({"Origin": "null"}, "same-origin", id="opaque origin (sandboxed frame)"),
    pytest.param({}, "cross-site", id="bare origin, cross-site (a foreign page through the proxy)"),
    pytest.param({}, "same-site", id="bare origin, same-site (a sibling subdomain)"),
    pytest.param({"Origin": "evil.example:443"}, "cross-site", id="another bare origin, cross-site"),
]


def _cleared(response) -> bool:
    cookie = cookie_attributes(response.headers.get("Set-Cookie", "x=1"))
    return cookie.get("token") == "" and cookie.get("max-age") == "0"


# ---------------------------------------------------------------- cookie-authenticated writes


def test_the_frontends_cookie_writes_pass_through_its_proxy(client, db):
    # Given a signed-in patient whose browser sends what the proxy delivers (bare Origin, API Host)
    owner = make_user("patient")
    # When the frontend saves an analysis and renames the account
    saved = send(client, "POST", "/medical-history", owner, json_body=HISTORY)
    renamed = send(client, "PUT", "/me", owner, json_body={"name": "Asha Renamed"})
    # Then both writes are done, not refused as cross-site
    assert saved.status_code == 201, saved.body
    assert renamed.status_code == 200 and read(renamed)["user"]["name"] == "Asha Renamed"
    assert len(db.users.find_one({"_id": owner["_id"]})["medicalHistory"]) == 1


@pytest.mark.parametrize(("headers", "site"), FOREIGN)
def test_a_foreign_pages_cookie_write_stays_refused(client, db, headers, site):
    # Given a signed-in patient, and a foreign page making their browser post with the cookie
    owner = make_user("patient")
    # When it posts a medical-history entry
    response = send(client, "POST", "/medical-history", owner, json_body=HISTORY, site=site, headers=headers)
    # Then 403 CROSS_SITE_REQUEST in the envelope, and nothing was written
    assert response.status_code == 403 and read(response)["code"] == "CROSS_SITE_REQUEST"
    assert isinstance(read(response)["message"], str)
    assert "medicalHistory" not in db.users.find_one({"_id": owner["_id"]})


@pytest.mark.parametrize("headers", [
    {"Origin": ALLOWED_ORIGIN},  # a deployment where the page calls the API cross-origin
    {"Origin": f"https://{API_HOST}"},  # the API's own origin
])
def test_serialized_origins_of_the_frontend_or_the_api_pass_whatever_the_fetch_metadata(client, headers):
    owner = make_user("patient")
    response = send(client, "PUT", "/me", owner, json_body={"name": "Asha Renamed"}, site="cross-site",
                    headers=headers)
    assert response.status_code == 200, response.body


def test_a_client_that_is_not_a_browser_and_a_bearer_token_pass(client):
    owner = make_user("patient")
    # A script with the cookie and no fetch metadata (the bare Origin proves nothing either way)
    script = client.http.put("/api/v1/me", body=b'{"name": "Script Name"}',
                             headers={"Content-Type": "application/json", "Cookie": cookie_of(owner),
                                      "Origin": "localhost:5173"})
    assert script.status_code == 200
    # A bearer token is no ambient authority: the same-site check never applies to it
    token = client.http.put("/api/v1/me", body=b'{"name": "Bearer Name"}',
                            headers={"Content-Type": "application/json", "Origin": "https://evil.example",
                                     "Sec-Fetch-Site": "cross-site", **bearer(owner)})
    assert token.status_code == 200


# ---------------------------------------------------------------- signing up, in and out


@pytest.mark.parametrize(("headers", "site"), FOREIGN)
def test_a_foreign_page_cannot_sign_a_visitor_up_in_or_out_even_without_a_cookie(client, db, headers, site):
    # Given an account, and a visitor's browser with no session cookie at all
    owner = make_user("patient")
    sign_up = {"name": "Mallory Fake", "contact": "mallory@example.com", "password": PASSWORD, "role": "patient"}
    # When a foreign page posts the sign-up and login forms, and opens the logout URL
    answers = [send(client, "POST", "/register", form=sign_up, site=site, headers=headers),
               send(client, "POST", "/login", json_body={"contact": owner["contact"], "password": PASSWORD},
                    site=site, headers=headers),
               send(client, "GET", "/logout", site=site, headers=headers),
               send(client, "POST", "/logout", site=site, headers=headers)]
    # Then every one is refused, no account is made and no session cookie is set
    for response in answers:
        assert response.status_code == 403 and read(response)["code"] == "CROSS_SITE_REQUEST"
        assert "token=ey" not in response.headers.get("Set-Cookie", "")
    assert db.users.count_documents({"contact": "mallory@example.com"}) == 0


def test_the_frontend_signs_in_and_out_without_a_cookie_through_its_proxy(client):
    owner = make_user("patient")
    signed_in = send(client, "POST", "/login", json_body={"contact": owner["contact"], "password": PASSWORD})
    assert signed_in.status_code == 200 and read(signed_in)["user"]["_id"] == str(owner["_id"])
    assert cookie_attributes(signed_in.headers["Set-Cookie"])["token"].startswith("ey")
    signed_out = send(client, "GET", "/logout", cookie=f"token={read(signed_in)['token']}")
    assert signed_out.status_code == 200 and _cleared(signed_out)


# ---------------------------------------------------------------- stale cookies


def test_a_browser_holding_a_revoked_cookie_signs_in_again(client):
    # Given a browser whose cookie was revoked by logging out elsewhere
    owner = make_user("patient")
    stale = cookie_of(owner)
    assert send(client, "POST", "/logout", cookie=stale).status_code == 200
    # When a page load asks who is signed in
    me = send(client, "GET", "/me", cookie=stale)
    # Then 401, and the answer removes the stale cookie
    assert me.status_code == 401 and read(me)["code"] == "INVALID_TOKEN" and _cleared(me)
    # And when the browser still sends it with the login form, the login succeeds with a new cookie
    again = send(client, "POST", "/login", cookie=stale, json_body={"contact": owner["contact"],
                                                                     "password": PASSWORD})
    assert again.status_code == 200, again.body
    fresh = cookie_attributes(again.headers["Set-Cookie"])["token"]
    assert fresh.startswith("ey") and f"token={fresh}" != stale
    assert send(client, "GET", "/me", cookie=f"token={fresh}").status_code == 200


@pytest.mark.parametrize("kind", ["expired", "malformed", "deactivated account"])
def test_every_401_caused_by_the_cookie_removes_it(client, db, clock, kind):
    owner = make_user("patient")
    cookie = cookie_of(owner)
    if kind == "expired":
        from functions.core.config import get_settings

        clock.advance(seconds=get_settings().jwt_ttl_seconds + 1)
    elif kind == "malformed":
        cookie = "token=not-a-jwt"
    else:
        db.users.update_one({"_id": owner["_id"]}, {"$set": {"active": False}})
    response = send(client, "GET", "/me", cookie=cookie)
    assert response.status_code == 401 and _cleared(response), kind


def test_a_failed_login_removes_the_cookie_and_a_bad_bearer_token_sets_none(client):
    owner = make_user("patient")
    failed = send(client, "POST", "/login", cookie=cookie_of(owner),
                  json_body={"contact": owner["contact"], "password": "wrong-password-1"})
    assert failed.status_code == 401 and _cleared(failed)
    malformed = send(client, "POST", "/login", cookie=cookie_of(owner), json_body={"contact": owner["contact"]})
    assert malformed.status_code == 400 and _cleared(malformed)
    # a bearer client has no cookie to remove
    bad_bearer = client.http.get("/api/v1/me", headers={"Authorization": "Bearer not-a-jwt"})
    assert bad_bearer.status_code == 401 and "Set-Cookie" not in bad_bearer.headers

