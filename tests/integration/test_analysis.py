"""POST /analyze: the provider interface (stubbed), Google GenAI through its transport, the 503
without a provider, history, the emergency trigger and the per-user rate limit."""
# ruff: noqa: F811  (pytest fixtures imported from tests.media_support)

import json
import threading

import httpx2
import pytest

from functions.analysis import google as google_provider
from functions.analysis import provider as providers
from functions.analysis.schemas import AnalysisResult
from functions.core import config
from functions.core.db import get_db
from functions.signaling import api as signaling
from tests.appointments_support import body
from tests.factories import json_headers, make_user
from tests.media_support import cloudinary_api, uploaded  # noqa: F401  (fixture)

URL = "/api/v1/analyze"
IMAGE = "https://res.cloudinary.com/cc-test/image/upload/v1/scan.png"


class StubProvider:
    name = "stub"

    def __init__(self, level=2, fail=False):
        self.level, self.fail, self.seen = level, fail, []

    def analyze(self, media, prompt):
        self.seen.append((media, prompt))
        if self.fail:
            raise providers.ProviderError("stub down")
        return AnalysisResult(analysis="Mild swelling near the joint.", emergencyLevel=self.level,
                              findings=["swelling", "no fracture line"])


@pytest.fixture
def stub(monkeypatch):
    provider = StubProvider()
    monkeypatch.setattr(providers, "override", provider)
    return provider


@pytest.fixture
def emergencies(monkeypatch):
    started = []

    def start(patient_id, note, source, source_ip=None):
        started.append((patient_id, source, bool(source_ip)))  # the request's address spends the per-address budget
        return {"sessionId": "s1", "roomId": "r1"}

    monkeypatch.setattr(signaling, "start_emergency", start)
    return started


def analyze(client, who, payload):
    return client.http.post(URL, headers=json_headers(who), body=json.dumps(payload).encode())


def history(user):
    return get_db()["users"].find_one({"_id": user["_id"]}).get("medicalHistory", [])


def test_without_a_provider_it_is_503_never_a_canned_answer(client):
    # Given no GOOGLE_API_KEY and no provider installed
    # When a patient asks for an analysis
    response = analyze(client, make_user("patient"), {"mediaUrl": IMAGE})
    # Then the dependency is reported missing
    assert response.status_code == 503
    assert body(response)["message"] == "analysis provider not configured"


def test_a_result_is_answered_and_kept_in_the_history(client, stub, emergencies):
    # Given a patient and a provider
    who = make_user("patient")
    # When they ask about an image with a question
    response = analyze(client, who, {"mediaUrl": IMAGE, "kind": "image", "prompt": "Is my knee broken?"})
    # Then the provider saw the media and the question, and the result comes back
    assert response.status_code == 200, response.body
    out = body(response)
    assert (out["analysis"], out["emergencyLevel"], out["findings"]) == (
        "Mild swelling near the joint.", 2, ["swelling", "no fracture line"])
    media, prompt = stub.seen[0]
    assert (media.url, media.mime_type, prompt) == (IMAGE, "image/png", "Is my knee broken?")
    # And it is in the medical history, ending with the line the frontend reads
    [entry] = history(who)
    assert entry["image"]["url"] == IMAGE and entry["type"] == "image"
    assert entry["analysis"].endswith("Emergency Level: 2") and str(entry["_id"]) == out["historyEntryId"]
    assert emergencies == [] and "emergency" not in out


def test_the_references_field_names_are_accepted(client, stub):
    # Given a patient
    who = make_user("patient")
    # When the frontend sends image_url, or the reference's video_url
    image = analyze(client, who, {"image_url": IMAGE})
    video = analyze(client, who, {"video_url": "https://res.cloudinary.com/cc-test/video/upload/v1/gait.mp4"})
    # Then both are analysed, the video as a video
    assert (image.status_code, video.status_code) == (200, 200)
    assert [(m.kind, m.mime_type) for m, _ in stub.seen] == [("image", "image/png"), ("video", "video/mp4")]


@pytest.mark.parametrize("payload", [
    {}, {"mediaUrl": IMAGE, "publicId": "x"}, {"mediaUrl": "http://plain.example/x.png"},
    {"mediaUrl": IMAGE, "kind": "audio"}, {"mediaUrl": IMAGE, "model": "gemini-ultra"},
])
def test_bad_bodies_are_400(client, stub, payload):
    # When the body names no media, two, an insecure URL, an unknown kind or an unknown field
    response = analyze(client, make_user("patient"), payload)
    # Then it is refused before any provider call
    assert response.status_code == 400 and stub.seen == []


def test_an_upload_is_used_only_by_its_owner(client, stub, cloudinary_api):
    # Given a patient's analysis upload, and another patient
    owner, other = make_user("patient"), make_user("patient")
    asset = uploaded(client, owner, "analysis-media", name="knee")
    # When each analyses it by its public id
    mine = analyze(client, owner, {"publicId": asset["public_id"]})
    theirs = analyze(client, other, {"publicId": asset["public_id"]})
    # Then the owner's analysis uses Cloudinary's url; the other is refused
    assert mine.status_code == 200 and stub.seen[0][0].url == asset["url"]
    assert theirs.status_code == 422 and body(theirs)["code"] == "ASSET_INVALID"


def test_an_urgent_result_for_a_patient_starts_the_emergency_flow(client, stub, emergencies):
    # Given a provider that rates the media 4 (the default EMERGENCY_ALERT_LEVEL), a patient and a doctor
    stub.level = 4
    patient, doctor = make_user("patient"), make_user("doctor")
    # When each asks for an analysis
    mine = body(analyze(client, patient, {"mediaUrl": IMAGE}))
    analyze(client, doctor, {"mediaUrl": IMAGE})
    # Then only the patient's starts an emergency, and the answer says which
    assert emergencies == [(patient["_id"], "analysis", True)]
    assert mine["emergency"] == {"sessionId": "s1", "roomId": "r1"}


def test_a_provider_failure_is_503_and_nothing_is_stored(client, stub):
    # Given a failing provider
    stub.fail = True
    who = make_user("patient")
    # When the patient asks
    response = analyze(client, who, {"mediaUrl": IMAGE})
    # Then it is a dependency failure and the history is untouched
    assert response.status_code == 503 and body(response)["code"] == "ANALYSIS_PROVIDER_ERROR"
    assert history(who) == []


def test_the_hourly_limit_holds_under_concurrency(client, stub, monkeypatch, clock):
    # Given at most 3 analyses per hour
    monkeypatch.setenv("ANALYSIS_PER_HOUR", "3")
    config.reset_settings()
    who = make_user("patient")
    barrier, codes = threading.Barrier(6), []

    def one():
        barrier.wait()
        codes.append(analyze(client, who, {"mediaUrl": IMAGE}).status_code)

    # When six requests race
    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then exactly three pass and three are told when to come back
    assert sorted(codes) == [200, 200, 200, 429, 429, 429]
    late = analyze(client, who, {"mediaUrl": IMAGE})
    assert late.status_code == 429 and int(late.headers["Retry-After"]) > 0
    # And the next hour starts afresh
    clock.advance(hours=1)
    assert analyze(client, who, {"mediaUrl": IMAGE}).status_code == 200


def test_anonymous_callers_are_401(client, stub):
    # When nobody is logged in
    response = client.http.post(URL, headers={"Content-Type": "application/json"}, body=b'{"mediaUrl": "x"}')
    # Then it is refused
    assert response.status_code == 401


# ---------------------------------------------------------------- Google GenAI through its transport


def gemini_transport(monkeypatch, answer, status=200):
    seen = []

    def handle(request):
        seen.append({"url": str(request.url), "key": request.headers.get("x-goog-api-key"),
                     "body": json.loads(request.content)})
        payload = {"candidates": [{"content": {"role": "model", "parts": [{"text": answer}]},
                                   "finishReason": "STOP"}]} if status == 200 else \
            {"error": {"code": status, "message": "boom", "status": "INTERNAL"}}
        return httpx2.Response(status, json=payload)

    monkeypatch.setattr(google_provider, "transport", lambda: httpx2.MockTransport(handle))
    return seen


@pytest.fixture
def google_key(monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", "test-google-key")
    monkeypatch.setenv("ANALYSIS_MODEL", "gemini-2.5-flash")
    config.reset_settings()


def test_google_genai_is_called_with_the_media_and_its_json_answer_is_used(client, google_key, monkeypatch):
    # Given Gemini answering the JSON we ask for
    answer = json.dumps({"analysis": "Clear lungs.", "emergencyLevel": 1, "findings": ["no opacity"]})
    seen = gemini_transport(monkeypatch, answer)
    who = make_user("patient")
    # When a patient asks about an X-ray
    response = analyze(client, who, {"mediaUrl": IMAGE, "prompt": "chest x-ray"})
    # Then the SDK posted the model, the key (server-side) and the image by URL, and the answer is used
    assert response.status_code == 200, response.body
    assert body(response)["analysis"] == "Clear lungs." and body(response)["emergencyLevel"] == 1
    [call] = seen
    assert call["url"].endswith("/models/gemini-2.5-flash:generateContent") and call["key"] == "test-google-key"
    parts = call["body"]["contents"][0]["parts"]
    assert parts[0]["fileData"] == {"file_uri": IMAGE, "mime_type": "image/png"} and parts[1]["text"] == "chest x-ray"
    assert call["body"]["generationConfig"]["responseMimeType"] == "application/json"
    assert "test-google-key" not in response.body.decode()


@pytest.mark.parametrize(("answer", "status"), [("not json at all", 200),
                                                 (json.dumps({"analysis": "x", "emergencyLevel": 9}), 200),
                                                 ("", 500)])
def test_unusable_google_answers_are_503(client, google_key, monkeypatch, answer, status):
    # Given Gemini answering prose, an out-of-range level, or an error
    gemini_transport(monkeypatch, answer, status)
    who = make_user("patient")
    # When a patient asks
    response = analyze(client, who, {"mediaUrl": IMAGE})
    # Then it is a dependency failure and nothing is stored
    assert response.status_code == 503 and history(who) == []
