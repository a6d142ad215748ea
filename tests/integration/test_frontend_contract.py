"""What the original CureConnect frontend (React) sends and reads, as seen in a browser against
`make run`: its sign-up form, its cards, its lists without paging, its headers."""

import json
from urllib.parse import urlencode

import pytest

from tests.appointments_support import book, doctor, get, patient
from tests.auth_support import API, body, login, register
from tests.conftest import ALLOWED_ORIGIN
from tests.factories import PASSWORD, bearer, make_user
from tests.http import call
from tests.media_support import use_cloud

BOUNDARY = "----WebKitFormBoundary7MA4YWxkTrZu0gW"


def multipart(fields):
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()]
    return ("".join(parts) + f"--{BOUNDARY}--\r\n").encode()


def test_the_sign_up_form_posts_multipart_and_creates_the_doctor(client, db, monkeypatch):
    # Given the fields the sign-up form sends for a doctor, avatar as a JSON string from its
    # unsigned browser upload to this deployment's Cloudinary cloud ("cc")
    use_cloud(monkeypatch, "cc")
    fields = {"name": "Dr Meera Iyer", "contact": "meera@example.com", "password": PASSWORD, "role": "doctor",
              "speciality": "Cardiology", "availability": "true",
              "avatar": json.dumps({"public_id": "doctors/meera", "url": "https://res.cloudinary.com/cc/m.png"})}
    # When it is posted as multipart/form-data
    response = client.http.post(f"{API}/register", body=multipart(fields),
                                headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    # Then the account is made exactly as from JSON
    assert response.status_code == 201, response.body
    user = body(response)["user"]
    assert (user["role"], user["speciality"], user["approvalStatus"]) == ("doctor", "Cardiology", "pending")
    assert user["avatar"]["public_id"] == "doctors/meera" and user["availability"] is False
    assert login(client, "meera@example.com").status_code == 200


def test_an_urlencoded_sign_up_works_too_and_unknown_fields_are_still_refused(client):
    form = {"name": "Asha Rao", "contact": "asha@example.com", "password": PASSWORD, "role": "patient"}
    ok = client.http.post(f"{API}/register", body=urlencode(form).encode(),
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert ok.status_code == 201
    sneaky = client.http.post(f"{API}/register", body=urlencode({**form, "contact": "b@example.com",
                                                                 "approvalStatus": "approved"}).encode(),
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert sneaky.status_code == 400


@pytest.mark.parametrize("content_type", ["text/plain; x=*/*", "text/plain, application/json", "text/plain",
                                          "application/jsonx", "*/*", "application/x-www-form-urlencoded"])
def test_content_types_are_parsed_strictly(client, content_type):
    # Chalice alone takes the first two as JSON; JSON-only routes refuse all of these
    response = client.http.post(f"{API}/login", headers={"Content-Type": content_type},
                                body=json.dumps({"contact": "a@example.com", "password": "whatever-1"}).encode())
    assert response.status_code == 415 and body(response)["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_a_malformed_multipart_body_is_a_400(client):
    response = client.http.post(f"{API}/register", body=b"--nope\r\ngarbage",
                                headers={"Content-Type": "multipart/form-data; boundary=other"})
    assert response.status_code == 400


def test_the_sign_up_form_refuses_a_file(client, db):
    # Given the sign-up form's fields with a file part added (sign-up takes no files; an avatar
    # is uploaded to Cloudinary by the browser and sent as a JSON string)
    fields = {"name": "Asha Rao", "contact": "asha@example.com", "password": PASSWORD, "role": "patient"}
    file_part = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="avatar"; filename="a.png"\r\n'
                 f"Content-Type: image/png\r\n\r\n\x89PNG\r\n")
    raw = multipart(fields).replace(f"--{BOUNDARY}--".encode(), file_part.encode() + f"--{BOUNDARY}--".encode())
    # When it is posted
    response = client.http.post(f"{API}/register", body=raw,
                                headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    # Then it is a 400 that says so, and no account was made
    assert response.status_code == 400
    assert (body(response)["code"], body(response)["message"]) == ("MALFORMED_FORM", "This form takes no files")
    assert db["users"].count_documents({}) == 0


def _cookie_put(client, user, **headers):
    token = bearer(user)["Authorization"].split()[1]
    return client.http.put(f"{API}/me", body=json.dumps({"name": "New Name"}).encode(),
                           headers={"Content-Type": "application/json", "Cookie": f"token={token}", **headers})


def test_state_changing_cookie_requests_from_a_foreign_origin_are_refused(client):
    user = make_user("patient")
    # From a foreign page (Origin, or only Sec-Fetch-Site, also behind the frontend's proxy, which
    # sends a bare `host:port` Origin), or a sandboxed one: 403
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"},
                    {"Sec-Fetch-Site": "same-site"}, {"Origin": "localhost:5173", "Sec-Fetch-Site": "cross-site"},
                    {"Origin": "https://evil.example", "Sec-Fetch-Site": "same-origin"}):
        refused = _cookie_put(client, user, **headers)
        assert refused.status_code == 403 and body(refused)["code"] == "CROSS_SITE_REQUEST", headers
    # From the frontend's origin, the API's own, the frontend through its proxy (a bare Origin is
    # no origin: the browser's Sec-Fetch-Site decides), or a client that is not a browser: allowed
    for headers in ({"Origin": ALLOWED_ORIGIN}, {"Origin": "https://api.cureconnect.test",
                                                 "Host": "api.cureconnect.test"}, {},
                    {"Origin": "localhost:5173", "Host": "127.0.0.1:8000", "Sec-Fetch-Site": "same-origin"},
                    {"Origin": "localhost:5173"}):
        assert _cookie_put(client, user, **headers).status_code == 200, headers
    # A bearer token carries no ambient authority: CORS alone guards reading the answer
    response = client.http.put(f"{API}/me", body=b'{"name": "Other Name"}',
                               headers={**bearer(user), "Content-Type": "application/json",
                                        "Origin": "https://evil.example"})
    assert response.status_code == 200


def test_preflight_allows_the_x_forwarded_proto_header_the_frontend_sends(client):
    response = client.http.request("OPTIONS", f"{API}/login", headers={
        "Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-forwarded-proto"})
    assert response.status_code == 204
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "x-forwarded-proto"} <= allowed


def test_doctors_carry_the_availability_boolean_and_come_bookable_first_without_paging(client, db):
    # Given doctors: one bookable, one not taking bookings, one with no weekly hours
    make_user("doctor", name="Aaron Busy", availability={"weeklyHours": None, "acceptingBookings": False})
    make_user("doctor", name="Bella Empty", availability={"weeklyHours": {"monday": []}})
    make_user("doctor", name="Zed Free")
    for n in range(25):
        make_user("doctor", name=f"Filler {n:02d}")
    # When the frontend lists doctors without page or limit
    data = body(call(client, "GET", "/doctors"))
    # Then all 28 come back (not 20), the bookable ones first, each with the boolean
    assert data["count"] == 28 and data["pagination"]["limit"] == 100
    flags = [d["availability"] for d in data["doctors"]]
    assert flags == [True] * 26 + [False] * 2
    assert {d["name"] for d in data["doctors"][-2:]} == {"Aaron Busy", "Bella Empty"}
    assert "weeklyHours" not in json.dumps(data) and "contact" not in data["doctors"][0]
    # And a doctor's own /me says whether they are bookable
    me = body(call(client, "GET", "/me", headers=bearer(db.users.find_one({"name": "Zed Free"}))))["user"]
    assert me["availability"] is True


def test_a_doctor_without_an_active_flag_is_listed_and_bookable_alike(api, db):
    # One definition of "listed doctor": a missing `active` means active, for both domains
    doc = doctor()
    db.users.update_one({"_id": doc["_id"]}, {"$unset": {"active": ""}})
    assert body(get(api, None, f"/doctor/{doc['_id']}"))["doctor"]["availability"] is True
    assert book(api, patient(), doc).status_code == 201


def test_registration_with_a_deeply_nested_body_is_a_400(client):
    deep = "[" * 65 + "]" * 65
    response = client.http.post(f"{API}/register", headers={"Content-Type": "application/json"},
                                body=f'{{"name": {deep}}}'.encode())
    assert response.status_code == 400
    huge = "[" * 100_000 + "]" * 100_000
    response = client.http.post(f"{API}/login", headers={"Content-Type": "application/json"}, body=huge.encode())
    assert response.status_code == 400
    assert register(client).status_code == 201
