"""The emergency line's answers are what the OpenAPI document says (issue 23): the hospitals
admin and the on-call switch answer JSON validated against their routes' documented schemas
(`tests.documented`, unknown keys refused); Twilio's webhooks are documented as TwiML with their
error codes."""

from __future__ import annotations

from typing import Any

from tests.documented import document, documented
from tests.factories import make_user
from tests.http import call
from tests.integration.test_ivr_on_call import code_texted_to
from tests.ivr_support import ivr, twilio_post  # noqa: F401  (the `ivr` fixture)

HOSPITAL = {"name": "City General", "phone": "+91 80 2222 3333", "address": "1 MG Road", "city": "Bengaluru",
            "pincode": "560001"}


def ok(api: Any, method: str, path: str, user: dict[str, Any] | None, status: int = 200, **kwargs: Any) -> Any:
    response = call(api, method, path, as_=user, **kwargs)
    assert response.status_code == status, (method, path, response.body[:400])
    return documented(response, method, path)


def test_the_hospitals_admin_answers_what_the_document_says(api):
    # Given an admin
    admin = make_user("admin")
    # When they add, read, change, list and remove a hospital
    created = ok(api, "POST", "/admin/hospitals", admin, 201, json=HOSPITAL)["hospital"]
    read = ok(api, "GET", f"/admin/hospitals/{created['_id']}", admin)
    changed = ok(api, "PUT", f"/admin/hospitals/{created['_id']}", admin, json={"kind": "private"})
    listed = ok(api, "GET", "/admin/hospitals?pincode=560001", admin)
    removed = ok(api, "DELETE", f"/admin/hospitals/{created['_id']}", admin)
    gone = call(api, "GET", f"/admin/hospitals/{created['_id']}", as_=admin)
    # Then every answer validated, the refusal too
    assert read["hospital"] == created and changed["hospital"]["kind"] == "private"
    assert [h["_id"] for h in listed["hospitals"]] == [created["_id"]] and listed["pagination"]["total"] == 1
    assert removed == {"success": True, "message": "Hospital deleted"}
    assert documented(gone, "GET", f"/admin/hospitals/{created['_id']}")["code"] == "NOT_FOUND"


def test_the_on_call_switch_answers_what_the_document_says(api, twilio):
    # Given a doctor
    doctor = make_user("doctor")
    # When they read the switch, go on call with a new number and confirm its code (a wrong one first)
    before = ok(api, "GET", "/doctor/on-call", doctor)
    asked = ok(api, "PUT", "/doctor/on-call", doctor, json={"onCall": True, "phone": "98000 00001"})
    code = code_texted_to(twilio, "+919800000001")
    wrong = call(api, "POST", "/doctor/on-call/confirm", as_=doctor, json={"code": "111111" if code == "000000"
                                                                            else "000000"})
    confirmed = ok(api, "POST", "/doctor/on-call/confirm", doctor, json={"code": code})
    # Then every answer validated, with the switch's state
    assert before["onCall"] == {"onCall": False, "phone": None, "since": None, "pendingPhone": None,
                                "codeSent": False}
    assert asked["onCall"]["pendingPhone"] == "+919800000001" and asked["onCall"]["codeSent"] is True
    assert documented(wrong, "POST", "/doctor/on-call/confirm")["code"] == "INVALID_CODE"
    assert confirmed["onCall"]["onCall"] is True and confirmed["onCall"]["phone"] == "+919800000001"


def test_twilio_s_webhooks_are_documented_as_twiml_with_their_codes(ivr):  # noqa: F811
    # Given the document's IVR operations
    for step in ("voice", "menu", "dial", "pincode"):
        operation = document()["paths"][f"/api/v1/ivr/{step}"]["post"]
        # Then each answers TwiML and lists the signature's code
        assert list(operation["responses"]["200"]["content"]) == ["text/xml; charset=utf-8"], step
        assert "BAD_SIGNATURE" in operation["x-error-codes"], step
    # And an unsigned call is refused with the documented error envelope
    refused = twilio_post(ivr, "voice", signature=None)
    assert refused.status_code == 403
    assert documented(refused, "POST", "/ivr/voice")["code"] == "BAD_SIGNATURE"
