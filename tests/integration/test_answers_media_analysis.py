"""The uploads' and the analysis' answers are what the OpenAPI document says (issue 23): a signed
upload, Cloudinary's notification and an analysis (with and without the emergency it starts),
each answer validated against its route's documented schema (`tests.documented`, unknown keys
refused)."""
# ruff: noqa: F811  (pytest fixtures imported from tests.media_support and the analysis tests)

from __future__ import annotations

from tests.documented import documented
from tests.factories import make_user
from tests.http import call
from tests.integration.test_analysis import IMAGE, stub  # noqa: F401  (the `stub` provider fixture)
from tests.media_support import cloudinary_api, notification, notify  # noqa: F401  (fixture)


def test_a_signed_upload_and_its_notification_answer_what_the_document_says(client, cloudinary_api):
    # Given a patient and a pharmacist
    patient, pharmacist = make_user("patient"), make_user("pharmacist", approved=False)
    # When they ask to upload an avatar and a licence, and Cloudinary reports an upload (twice)
    avatar = call(client, "POST", "/uploads/sign", as_=patient, json={"purpose": "avatar"})
    licence = call(client, "POST", "/uploads/sign", as_=pharmacist, json={"purpose": "pharmacy-license"})
    public_id = f"cureconnect/avatar/{patient['_id']}/face"
    first = notify(client, notification(public_id))
    again = notify(client, notification(public_id))
    refused = call(client, "POST", "/uploads/sign", as_=patient, json={"purpose": "pharmacy-license"})
    # Then every answer validated: the avatar's crop and the notification url are in the signed params
    signed = documented(avatar, "POST", "/uploads/sign")
    assert signed["params"]["transformation"] and signed["params"]["notification_url"].endswith("/uploads/notify")
    assert "transformation" not in documented(licence, "POST", "/uploads/sign")["params"]
    assert documented(first, "POST", "/uploads/notify") == {"success": True, "received": True, "recorded": True}
    assert documented(again, "POST", "/uploads/notify")["recorded"] is False
    assert documented(refused, "POST", "/uploads/sign")["code"] == "FORBIDDEN"


def test_an_analysis_answers_what_the_document_says(client, stub):
    # Given a patient, and a provider that finds a mild level, then an emergency level
    patient = make_user("patient")
    # When the patient asks about an image twice
    mild = call(client, "POST", "/analyze", as_=patient, json={"image_url": IMAGE, "prompt": "Is it broken?"})
    stub.level = 5
    urgent = call(client, "POST", "/analyze", as_=patient, json={"mediaUrl": IMAGE})
    # Then both answers validated; the second names the emergency it started
    answer = documented(mild, "POST", "/analyze")
    assert answer["emergencyLevel"] == 2 and answer["findings"] and "emergency" not in answer
    started = documented(urgent, "POST", "/analyze")
    assert started["emergency"]["roomId"] and started["emergency"]["sessionId"]


def test_an_analysis_without_a_provider_is_the_documented_refusal(client):
    # Given no provider configured
    # When a patient asks for an analysis
    response = call(client, "POST", "/analyze", as_=make_user("patient"), json={"mediaUrl": IMAGE})
    # Then it is the error envelope with a code the route documents
    assert response.status_code == 503
    assert documented(response, "POST", "/analyze")["code"] == "ANALYSIS_NOT_CONFIGURED"
