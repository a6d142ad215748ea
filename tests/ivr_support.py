"""Helpers of the emergency-line tests: Twilio's webhooks signed with the SDK's own
`RequestValidator`, TwiML parsed as XML, hospitals and doctors on call written straight to the
database."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from functions.core import clock
from functions.core.db import get_db
from tests.factories import make_user

PUBLIC_BASE = "https://api.cureconnect.test"
TOKEN = "twilio-test-token"  # the appointments fixtures' TWILIO_AUTH_TOKEN
CALLER = "+919812345678"
_order = itertools.count()


@pytest.fixture
def ivr(appt_env: None, client: Any, twilio: Any, clock: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The app with Twilio configured (SMS transport stubbed) and PUBLIC_BASE_URL set."""
    from functions.core import config

    monkeypatch.setenv("PUBLIC_BASE_URL", PUBLIC_BASE)
    config.reset_settings()
    return client


def twilio_post(client: Any, step: str, query: dict[str, Any] | None = None, *, signature: str | None = "sign",
                url_base: str = PUBLIC_BASE, token: str = TOKEN, **form: str) -> Any:
    params = {"CallSid": "CA" + "1" * 32, "From": CALLER, "To": "+918000000000", "AccountSid": "AC" + "0" * 32,
              **form}
    qs = f"?{urlencode(sorted((k, str(v)) for k, v in query.items()))}" if query else ""
    path = f"/api/v1/ivr/{step}{qs}"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature == "sign":
        signature = RequestValidator(token).compute_signature(url_base + path, params)
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return client.http.post(path, headers=headers, body=urlencode(params).encode())


def twiml(response: Any) -> ET.Element:
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.body)  # noqa: S314 (our own response, in a test)
    assert root.tag == "Response"
    return root


def said(root: ET.Element) -> list[tuple[str, str]]:
    """(language, text) of every <Say>, in order, nested ones included."""
    return [(el.get("language", ""), el.text or "") for el in root.iter("Say")]


def on_call_doctor(phone: str, **fields: Any) -> dict[str, Any]:
    """A doctor on call with a verified phone; each one made later went on call a second later
    (they are rung in order)."""
    doc = make_user("doctor", **fields)
    since = clock.now() + timedelta(seconds=next(_order))
    get_db()["on_call"].insert_one({"_id": doc["_id"], "onCall": True, "phone": phone, "since": since,
                                    "phoneVerifiedAt": since})
    return doc


def hospital(name: str, pincode: str, city: str = "Bengaluru", kind: str = "public", **fields: Any) -> dict[str, Any]:
    doc = {"name": name, "phone": "+91 80 2222 3333", "address": f"{name} Road", "city": city,
           "cityKey": city.casefold(), "pincode": pincode, "pincodeArea": pincode[:3], "kind": kind,
           "rank": {"public": 0, "private": 1}[kind],
           "emergency": True, "active": True, "createdAt": clock.now(), "updatedAt": clock.now(), **fields}
    doc["_id"] = get_db()["hospitals"].insert_one(doc).inserted_id
    return doc
