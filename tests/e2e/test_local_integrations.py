"""End to end: every integration works under `make run` with no accounts (issue 22).

One `make run` (free ports, its own data directory, REQUIRE_APPOINTMENT_PAYMENT=true) and, as a
person would, over HTTP and the local pages on the gateway's HTTP port: sign up with a phone
number and read the code on the inbox page; upload an avatar through the Cloudinary stand-in;
book a paid appointment, pay through stripe-mock from the Stripe events page (which delivers the
signed payment_intent.succeeded), download the prescription PDF; place, pay and cancel a pharmacy
order and see it refunded; walk the emergency line on its page and with its command. Nothing
here sleeps: every wait is on a line `make run` prints or on an answer.
"""
# ruff: noqa: S310  (every URL here is the loopback system the test started)

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.make_run import CONFIGURED, RunningSystem

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
PASSWORD = "a-long-enough-pass"
PNG = bytes.fromhex(  # a 2x1 PNG
    "89504e470d0a1a0a0000000d4948445200000002000000010802000000"
    "7b40e8dd0000000e4944415478da63f8cfc0f01f000503020069b6c3dd0000000049454e44ae426082")


# ---------------------------------------------------------------- a browser, roughly


class Forms(HTMLParser):
    """The forms of a page: action, hidden/text fields and the buttons (name, value, label)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._button: dict[str, str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": {}, "buttons": []})
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1]["fields"][a["name"]] = a.get("value", "")
        elif tag == "button" and self.forms:
            self._button = {"name": a.get("name", ""), "value": a.get("value", ""), "label": ""}
            self.forms[-1]["buttons"].append(self._button)

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button["label"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._button = None

    def submit(self, label: str, **typed: str) -> tuple[str, dict[str, str]]:
        """(action, fields) of the form whose button reads `label`, as the browser sends it."""
        for form in self.forms:
            for button in form["buttons"]:
                if button["label"].strip() == label:
                    fields = {**form["fields"], **typed}
                    if button["name"]:
                        fields[button["name"]] = button["value"]
                    return form["action"], fields
        raise AssertionError(f"no button {label!r} on the page")


class Pages:
    """The local pages as a browser on this machine reaches them."""

    def __init__(self, system: RunningSystem) -> None:
        self.origin = system.pages

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        request = urllib.request.Request(self.origin + path, headers=headers or {})
        return self._send(request)

    def post(self, path: str, fields: dict[str, str]) -> tuple[int, str]:
        # A form posted from its own page carries that page's origin.
        request = urllib.request.Request(self.origin + path, data=urllib.parse.urlencode(fields).encode(),
                                         method="POST", headers={"Origin": self.origin,
                                                                 "Content-Type": "application/x-www-form-urlencoded"})
        return self._send(request)

    @staticmethod
    def _send(request: urllib.request.Request) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, answer.read(), answer.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get("Content-Type", "")


def multipart(fields: dict[str, str], files: dict[str, tuple[str, str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    for name, (filename, kind, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: {kind}\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def post_multipart(url: str, fields: dict[str, str], files: dict[str, tuple[str, str, bytes]],
                   headers: dict[str, str] | None = None) -> tuple[int, Any]:
    body, kind = multipart(fields, files)
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": kind, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def inbox_rows(pages: Pages, to: str, showing: str, within: float = 30.0) -> list[str]:
    """The inbox's rows addressed to `to`, newest first, once one of them shows `showing`: the
    outbox worker sends a request's messages a moment after its answer (`local/outbox_worker.py`
    polls every 0.2 s), so the page is read again, each read waiting on its answer."""
    deadline = time.monotonic() + within
    while True:
        status, html = pages.get("/inbox/")
        assert status == 200, html
        rows = [row for row in html.split("<tr")[1:] if to in row]
        if any(showing in row for row in rows) or time.monotonic() > deadline:
            return rows


def payment_once(system: Any, order_id: str, token: str, status: str, within: float = 30.0) -> dict[str, Any]:
    """The order's payment, once it has `status` (or when `within` seconds have passed): effects
    such as a refund run in the outbox worker after the request's answer."""
    deadline = time.monotonic() + within
    while True:
        code, payment = system.call("GET", f"/payments/order/{order_id}", token=token)
        assert code == 200, payment
        if payment["payment"]["status"] == status or time.monotonic() > deadline:
            return dict(payment)


# ---------------------------------------------------------------- the system and its people


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory):
    running = RunningSystem(tmp_path_factory.mktemp("local-integrations"), {"REQUIRE_APPOINTMENT_PAYMENT": "true",
                                                                            "MONGODB_DB": "issue22"})
    yield running
    running.stop()


@pytest.fixture(scope="module")
def pages(system: RunningSystem) -> Pages:
    return Pages(system)


@pytest.fixture(scope="module")
def admin(system: RunningSystem) -> str:
    """An admin made with the command `make run` printed, run exactly as printed."""
    line = next(line for line in system.lines if line.startswith("• admin"))
    command = line.removeprefix("• admin").strip().replace("ADMIN_PASSWORD='…'", "ADMIN_PASSWORD='admin-pass-123456'")
    created = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=120,
                             env=_cli_env(system))
    assert created.returncode == 0, created.stdout + created.stderr
    status, body = system.call("POST", "/login", {"contact": "admin@example.com", "password": "admin-pass-123456"})
    assert status == 200, body
    return str(body["token"])


def register(system: RunningSystem, contact: str, role: str = "patient", **fields: Any) -> dict[str, Any]:
    status, body = system.call("POST", "/register", {"name": f"{role.title()} {contact[-4:]}", "contact": contact,
                                                     "password": PASSWORD, "role": role, **fields})
    assert status == 201, body
    return dict(body)


def approved(system: RunningSystem, admin: str, contact: str, role: str, **fields: Any) -> dict[str, Any]:
    account = register(system, contact, role, **fields)
    status, body = system.call("PUT", f"/admin/user/{account['user']['_id']}/approval", {"status": "approved"},
                               token=admin)
    assert status == 200, body
    return account


@pytest.fixture(scope="module")
def doctor(system: RunningSystem, admin: str) -> dict[str, Any]:
    return approved(system, admin, "dr.kavya@clinic.example", "doctor", speciality="general", timezone="UTC",
                    consultationFee=500)


# ---------------------------------------------------------------- what make run says


def test_make_run_prints_every_local_page_and_never_a_whole_secret(system):
    # Given the system make run started, and the secrets it made for this run (its run.json)
    printed = system.output.text()
    run = json.loads((system.data / "run.json").read_text())
    # Then it names the inbox, the Stripe events page, the emergency line and the upload stand-in
    for path in ("/inbox/", "/stripe/", "/ivr/", "/cloudinary/"):
        assert f"{system.pages}{path}" in printed
    assert "POST /api/v1/analyze answers 503 until GOOGLE_API_KEY is set" in printed
    # And no per-run secret appears in full in what it printed
    for secret in (run["stripeWebhookSecret"], run["twilioAuthToken"]):
        assert len(secret) >= 24 and secret not in printed


def test_the_local_pages_refuse_a_foreign_host_header(pages):
    # When a page elsewhere, its DNS name rebound to 127.0.0.1, asks for the inbox
    status, body = pages.get("/inbox/", headers={"Host": f"attacker.example:{pages.origin.rsplit(':', 1)[1]}"})
    # Then it is refused, while this machine's own name is served
    assert status == 403 and "Host" in body
    assert pages.get("/inbox/", headers={"Host": f"localhost:{pages.origin.rsplit(':', 1)[1]}"})[0] == 200


# ---------------------------------------------------------------- SMS and uploads


def test_a_phone_sign_up_is_verified_with_the_code_read_on_the_inbox_page(system, pages):
    # Given a patient who signed up with a phone number
    patient = register(system, "+919812340001")
    # When they ask for a verification code and read it on the inbox page
    status, body = system.call("POST", "/verify/contact/send", token=patient["token"])
    assert status == 200, body
    [newest, *_] = inbox_rows(pages, "+919812340001", "verification code is")
    code = re.search(r'class="code">(\d{6})<', newest)
    assert code is not None, newest
    # Then the code verifies the number
    status, body = system.call("POST", "/verify/contact/confirm", {"code": code.group(1)}, token=patient["token"])
    assert status == 200 and body["user"]["contactVerified"] is True, body


def newest_code(pages: Pages, to: str, subject: str) -> str:
    [newest, *_] = [row for row in inbox_rows(pages, to, subject) if subject in row]
    code = re.search(r'class="code">(\d{6})<', newest)
    assert code is not None, newest
    return code.group(1)


def test_a_forgotten_password_is_reset_with_the_e_mail_code_read_on_the_inbox_page(system, pages):
    # Given a patient who signed up with an e-mail address and verified it with the e-mailed code
    patient = register(system, "forgetful@example.com")
    assert system.call("POST", "/verify/contact/send", token=patient["token"])[0] == 200
    code = newest_code(pages, "forgetful@example.com", "CureConnect verification code")
    assert system.call("POST", "/verify/contact/confirm", {"code": code}, token=patient["token"])[0] == 200
    # When they forget their password and ask for a reset code
    status, body = system.call("POST", "/password/forgot", {"contact": "forgetful@example.com"})
    assert status == 200, body
    code = newest_code(pages, "forgetful@example.com", "CureConnect password reset code")
    status, body = system.call("POST", "/password/reset", {"contact": "forgetful@example.com", "code": code,
                                                           "newPassword": "a-brand-new-password"})
    # Then the code from the inbox (the e-mail moto's SES holds) resets it
    assert status == 200, body
    assert system.call("POST", "/login", {"contact": "forgetful@example.com",
                                          "password": "a-brand-new-password"})[0] == 200


def upload_avatar(system: RunningSystem, token: str, data: bytes) -> dict[str, Any]:
    """What the frontend does: ask for signed parameters, send the file to the URL they name."""
    status, signed = system.call("POST", "/uploads/sign", {"purpose": "avatar"}, token=token)
    assert status == 200, signed
    fields = {**{k: str(v) for k, v in signed["params"].items()}, "api_key": signed["apiKey"],
              "signature": signed["signature"]}
    status, uploaded = post_multipart(signed["uploadUrl"], fields, {"file": ("me.png", "image/png", data)},
                                      headers={"Origin": "http://localhost:5173"})
    assert status == 200, uploaded
    return dict(uploaded)


def test_an_avatar_uploaded_through_the_stand_in_is_shown_served_and_destroyed_when_replaced(system):
    # Given a signed-in patient
    patient = register(system, "avatar.owner@example.com")
    # When they upload a picture through the stand-in and put it on their profile
    uploaded = upload_avatar(system, patient["token"], PNG)
    avatar = {"public_id": uploaded["public_id"], "url": uploaded["secure_url"]}
    status, body = system.call("PUT", "/me", {"avatar": avatar}, token=patient["token"])
    assert status == 200, body
    # Then the profile shows the stand-in's URL, which serves the very file
    status, me = system.call("GET", "/me", token=patient["token"])
    assert me["user"]["avatar"]["url"] == uploaded["secure_url"]
    assert uploaded["secure_url"].startswith(f"{system.pages}/cloudinary/res/")
    assert (uploaded["width"], uploaded["height"], uploaded["format"]) == (2, 1, "png")
    assert fetch(uploaded["secure_url"])[:2] == (200, PNG)
    # When they replace it with another picture
    replacement = upload_avatar(system, patient["token"], PNG + b"\0")
    status, body = system.call("PUT", "/me", {"avatar": {"public_id": replacement["public_id"],
                                                         "url": replacement["secure_url"]}}, token=patient["token"])
    assert status == 200, body
    # Then the old file is destroyed in the stand-in, the new one is served
    assert fetch(uploaded["secure_url"])[0] == 404
    assert fetch(replacement["secure_url"])[:2] == (200, PNG + b"\0")


def test_a_sign_up_avatar_uploaded_unsigned_to_the_stand_in_is_kept(system):
    # Given the sign-up form's unsigned browser upload (an upload preset, no signature, no account)
    # to the upload URL the README gives frontend developers
    upload_url = f"{system.pages}/cloudinary/api/v1_1/local/image/upload"
    status, uploaded = post_multipart(upload_url, {"upload_preset": "signup"}, {"file": ("me.png", "image/png", PNG)},
                                      headers={"Origin": "http://localhost:5173"})
    assert status == 200, uploaded
    # When the form registers with it
    avatar = json.dumps({"public_id": uploaded["public_id"], "url": uploaded["secure_url"]})
    account = register(system, "new.face@example.com", avatar=avatar)
    # Then the avatar is kept: its url is on this deployment's (local) cloud
    assert account["user"]["avatar"]["url"] == uploaded["secure_url"]


def test_a_tampered_upload_is_refused_like_cloudinary_does(system):
    # Given signed upload parameters
    patient = register(system, "tamper@example.com")
    _, signed = system.call("POST", "/uploads/sign", {"purpose": "avatar"}, token=patient["token"])
    fields = {**{k: str(v) for k, v in signed["params"].items()}, "api_key": signed["apiKey"],
              "signature": signed["signature"]}
    # When the browser changes the folder the server signed
    fields["folder"] = "cureconnect/avatar/000000000000000000000000"
    status, body = post_multipart(signed["uploadUrl"], fields, {"file": ("me.png", "image/png", PNG)})
    # Then the stand-in refuses the signature
    assert status == 401 and body["error"]["message"].startswith("Invalid Signature"), body


# ---------------------------------------------------------------- Stripe


def pay_on_the_stripe_page(pages: Pages, ref: str) -> str:
    status, html = pages.get("/stripe/")
    assert status == 200 and ref in html, html
    action, fields = next(
        (action, fields) for action, fields in _buttons(html, "Pay with a test card") if fields.get("ref") == ref)
    status, result = pages.post(action, fields)
    assert status == 200, result
    return result


def _buttons(html: str, label: str) -> list[tuple[str, dict[str, str]]]:
    found = []
    for form in Forms(html).forms:
        for button in form["buttons"]:
            if button["label"].strip() == label:
                found.append((form["action"], dict(form["fields"])))
    return found


def test_a_paid_appointment_is_booked_paid_prescribed_and_its_pdf_downloaded(system, pages, doctor):
    # Given a patient who books with payment required: the slot is held, pending payment
    patient = register(system, "paying.patient@example.com")
    day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    status, booked = system.call("POST", "/appointment/new", {"doctor": doctor["user"]["_id"], "description": "rash",
                                                              "symptoms": "itchy rash", "day": day, "time": "9:00"},
                                 token=patient["token"])
    assert status == 201 and booked["appointment"]["status"] == "pending_payment", booked
    appointment_id = booked["appointment"]["_id"]
    # When they pay: the API creates the PaymentIntent at stripe-mock, the card is confirmed there
    # and the signed payment_intent.succeeded is delivered, from the Stripe events page
    status, intent = system.call("POST", "/payments/intent", {"kind": "appointment", "id": appointment_id},
                                 token=patient["token"])
    assert status == 201 and intent["paymentIntentId"].startswith("pi_"), intent
    result = pay_on_the_stripe_page(pages, f"appointment:{appointment_id}")
    assert "payment_intent.succeeded" in result and "the API answered <b>200</b>" in result, result
    # Then the appointment no longer waits for payment, and the payment reads succeeded
    status, appt = system.call("GET", f"/appointment/{appointment_id}", token=patient["token"])
    assert status == 200 and appt["appointment"]["status"] != "pending_payment", appt
    status, payment = system.call("GET", f"/payments/appointment/{appointment_id}", token=patient["token"])
    assert payment["payment"]["status"] == "succeeded", payment
    # When the doctor confirms it (unless it is confirmed already), prescribes, and the patient
    # downloads the prescription
    if appt["appointment"]["status"] == "pending":
        status, body = system.call("PUT", f"/appointment/{appointment_id}/confirm", token=doctor["token"])
        assert status == 200, body
    status, rx = system.call("POST", "/prescription/new", {
        "patientId": patient["user"]["_id"], "appointmentId": appointment_id, "diagnosis": "Contact dermatitis",
        "medications": [{"name": "Cetirizine", "dosage": "10 mg", "frequency": "once a day"}]}, token=doctor["token"])
    assert status == 201, rx
    status, pdf, kind = fetch(f"http://127.0.0.1:{system.port}/api/v1/prescription/{rx['prescription']['_id']}/pdf",
                              {"Authorization": f"Bearer {patient['token']}", "Accept": "application/pdf"})
    # Then it is a PDF (the Noto fonts are installed: the OS-packages check saw to it)
    assert status == 200 and kind.startswith("application/pdf") and pdf.startswith(b"%PDF"), pdf[:300]


def test_a_webhook_with_a_bad_signature_is_400_as_in_production(system):
    status, body = system.call("POST", "/payments/webhook", {"id": "evt_forged", "type": "payment_intent.succeeded"})
    assert status == 400, body
    request = urllib.request.Request(f"http://127.0.0.1:{system.port}/api/v1/payments/webhook",
                                     data=b'{"id": "evt_forged"}', method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Stripe-Signature": "t=1700000000,v1=" + "0" * 64})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 400


def test_a_paid_order_is_refunded_when_cancelled(system, pages, admin):
    # Given a verified pharmacy (registered with its picture, which the server uploads to the
    # stand-in) selling one medicine
    owner = approved(system, admin, "owner@goodhealth.example", "pharmacist")
    registration = {"name": "Good Health Pharmacy", "description": "Open late",
                    "address": json.dumps({"street": "12 MG Road", "city": "Pune", "state": "Maharashtra",
                                           "pincode": "411001"}),
                    "contactInfo": json.dumps({"phone": "+919812345678", "email": "shop@example.com"}),
                    "licenseNumber": "MH-PUN-22022", "establishedYear": "2015"}
    status, body = post_multipart(f"http://127.0.0.1:{system.port}/api/v1/pharmacy/register", registration,
                                  {"avatar": ("shop.png", "image/png", PNG)},
                                  {"Authorization": f"Bearer {owner['token']}"})
    assert status == 201, body
    pharmacy = body["pharmacy"]
    assert pharmacy["avatar"]["url"].startswith(f"{system.pages}/cloudinary/res/")
    assert fetch(pharmacy["avatar"]["url"])[:2] == (200, PNG)
    status, body = system.call("PUT", f"/admin/pharmacy/{pharmacy['_id']}/status", {"status": "verified"},
                               token=admin)
    assert status == 200, body
    status, body = system.call("POST", "/pharmacy/medicines", {
        "name": "Paracetamol", "genericName": "Acetaminophen", "category": "Pain Relief", "manufacturer": "Cipla",
        "composition": "Paracetamol 500 mg",
        "strength": "500 mg", "packSize": "10 tablets", "batchNumber": "B1", "formType": "Tablet", "price": 2500,
        "mrp": 3000, "stock": 50, "minStock": 10, "expiryDate": "2030-12-31", "prescriptionRequired": False},
        token=owner["token"])
    assert status == 201, body
    medicine = body["medicine"]
    # And a patient's online order, paid through stripe-mock from the Stripe events page
    patient = register(system, "buyer@example.com")
    status, body = system.call("POST", "/orders", {
        "pharmacyId": pharmacy["_id"], "items": [{"medicine": medicine["_id"], "quantity": 2}],
        "paymentInfo": {"method": "online"}, "deliveryInfo": {"type": "pickup"}}, token=patient["token"])
    assert status == 201, body
    order_id = body["order"]["_id"]
    status, intent = system.call("POST", "/payments/intent", {"kind": "order", "id": order_id}, token=patient["token"])
    assert status == 201, intent
    assert "the API answered <b>200</b>" in pay_on_the_stripe_page(pages, f"order:{order_id}")
    status, payment = system.call("GET", f"/payments/order/{order_id}", token=patient["token"])
    assert payment["payment"]["status"] == "succeeded", payment
    # When the patient cancels the order
    status, body = system.call("PUT", f"/order/{order_id}/cancel", {"reason": "ordered twice"}, token=patient["token"])
    assert status == 200, body
    # Then the whole amount is refunded through stripe-mock (by the outbox worker, a moment after
    # the answer: the payment is read again, each read waiting on its answer)
    payment = payment_once(system, order_id, patient["token"], "refunded")
    assert payment["payment"]["status"] == "refunded", payment
    assert payment["payment"]["refundedAmount"] == payment["payment"]["amount"]


def test_paid_from_a_terminal_a_notice_to_an_unverified_number_is_dropped_with_its_reason(system, pages, doctor):
    # Given a patient whose phone number is not verified, with an appointment waiting for payment
    patient = register(system, "+919812340002")
    day = (datetime.now(UTC) + timedelta(days=4)).date().isoformat()
    status, booked = system.call("POST", "/appointment/new", {"doctor": doctor["user"]["_id"], "description": "cough",
                                                              "symptoms": "dry cough", "day": day, "time": "10:00"},
                                 token=patient["token"])
    assert status == 201, booked
    appointment_id = booked["appointment"]["_id"]
    assert system.call("POST", "/payments/intent", {"kind": "appointment", "id": appointment_id},
                       token=patient["token"])[0] == 201
    # When the developer pays it from a terminal (only LOCAL_DATA_DIR names the instance)
    done = subprocess.run([sys.executable, "-m", "local.stripe_webhooks", "pay", "appointment", appointment_id],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, env=_cli_env(system))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "payment_intent.succeeded" in done.stdout and "-> 200" in done.stdout
    # Then the booking notice due to that number is listed in the inbox as dropped, with the reason
    rows = inbox_rows(pages, "+919812340002", "dropped: unverified number")
    assert any("booked" in row and "dropped: unverified number" in row for row in rows), rows


def _cli_env(system: RunningSystem) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CONFIGURED}
    return {**env, "LOCAL_DATA_DIR": str(system.data)}


def test_analysis_stays_off_without_a_google_key(system):
    patient = register(system, "analysis@example.com")
    status, body = system.call("POST", "/analyze", {"image_url": "https://example.com/x.png"}, token=patient["token"])
    assert status == 503 and body["code"] == "ANALYSIS_NOT_CONFIGURED", body


# ---------------------------------------------------------------- the emergency line


def test_the_emergency_line_is_walked_on_its_page(system, pages, doctor):
    # Given a doctor on call, their number proven by the code the local inbox shows
    status, body = system.call("PUT", "/doctor/on-call", {"onCall": True, "phone": "+919800000022"},
                               token=doctor["token"])
    assert status == 200 and body["onCall"]["codeSent"] is True, body
    [code] = [m.group(1) for row in inbox_rows(pages, "+919800000022", "on-call code is")
              if (m := re.search(r"on-call code is (\d{6})", row))][:1]
    status, body = system.call("POST", "/doctor/on-call/confirm", {"code": code}, token=doctor["token"])
    assert status == 200 and body["onCall"]["onCall"] is True, body
    # When someone calls from their phone, chooses English, then "a doctor now"
    status, html = pages.post("/ivr/step", {"from": "+919812340009"})
    assert status == 200 and "For English, press 1" in html, html
    status, html = pages.post(*Forms(html).submit("1"))
    assert "To speak to a doctor now, press 1" in html, html
    status, html = pages.post(*Forms(html).submit("1"))
    # Then the line says it connects them and dials the doctor on call
    assert "Connecting you to a doctor on call" in html and "Dialling <b>+919800000022</b>" in html, html
    # When nobody answers
    status, html = pages.post(*Forms(html).submit("no-answer"))
    # Then a call back is promised, the caller got the confirmation SMS and the doctor the request
    assert "A doctor will call you back" in html and "The line hangs up" in html, html
    assert any("connecting you to a doctor" in row
               for row in inbox_rows(pages, "+919812340009", "connecting you to a doctor"))
    assert any("please call back +919812340009" in row
               for row in inbox_rows(pages, "+919800000022", "please call back +919812340009"))


def test_the_emergency_line_command_reads_out_the_nearest_hospitals(system, admin):
    # Given a hospital in pin code 411001
    status, body = system.call("POST", "/admin/hospitals", {"name": "Sassoon General Hospital", "phone": "02026128000",
                                                            "address": "Station Road", "city": "Pune",
                                                            "pincode": "411001"}, token=admin)
    assert status == 201, body
    # When a caller the line does not know presses 1 (English), 2 (hospitals) and types 411001
    done = subprocess.run([sys.executable, "-m", "local.ivr_phone", "--from", "+919812340010", "--json",
                           "1", "2", "411001"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=_cli_env(system))
    assert done.returncode == 0, done.stdout + done.stderr
    steps = [json.loads(line) for line in done.stdout.splitlines()]
    # Then the line asked for the pin code and read out that hospital
    assert [s["status"] for s in steps] == [200, 200, 200, 200]
    assert steps[2]["gather"]["numDigits"] == 6
    assert any("Sassoon General Hospital" in text for text in steps[3]["said"]) and steps[3]["hangup"]
