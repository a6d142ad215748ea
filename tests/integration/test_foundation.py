"""Health, the error envelope, CORS and the real database."""

import json

import pytest
from bson import ObjectId
from pydantic import BaseModel, ConfigDict, Field
from pymongo.errors import DuplicateKeyError

from tests.conftest import ALLOWED_ORIGIN
from tests.http import body


def test_health_reports_ok_with_a_live_database(client):
    response = client.http.get("/api/v1/health")
    assert response.status_code == 200
    assert body(response) == {"success": True, "version": "0.1.0", "db": "ok"}


def test_health_is_503_when_the_database_does_not_answer(client, monkeypatch):
    # Given a database address where nothing listens
    from functions.core import config

    monkeypatch.setenv("MONGODB_URI", "mongodb://127.0.0.1:9/")
    monkeypatch.setenv("HEALTH_DB_TIMEOUT_MS", "200")
    config.reset_settings()
    config.get_settings()
    # When the health check runs
    response = client.http.get("/api/v1/health")
    # Then it is a 503 that says which dependency is down
    assert response.status_code == 503
    assert body(response)["db"] == "unavailable"
    assert body(response)["success"] is False


def test_unknown_route_is_a_json_404_in_the_envelope(client):
    response = client.http.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert body(response) == {"success": False, "message": "Route not found", "code": "ROUTE_NOT_FOUND",
                              "errors": []}


def test_wrong_method_is_a_json_405_with_allow(client):
    response = client.http.delete("/api/v1/health")
    assert response.status_code == 405
    assert body(response)["code"] == "METHOD_NOT_ALLOWED"
    assert "GET" in response.headers["Allow"]
    # the envelope keeps Chalice's own explanation (the UI shows only `message`)
    assert body(response)["message"] == "Unsupported method: DELETE"


def test_cors_only_for_allowed_origins(client):
    allowed = client.http.get("/api/v1/health", headers={"Origin": ALLOWED_ORIGIN})
    foreign = client.http.get("/api/v1/health", headers={"Origin": "https://evil.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert allowed.headers["Access-Control-Allow-Credentials"] == "true"
    assert not any(h.lower().startswith("access-control-") for h in foreign.headers)


def test_preflight_answers_allowed_origin_with_methods(client):
    response = client.http.request("OPTIONS", "/api/v1/health", headers={
        "Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "GET"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert response.headers["Access-Control-Allow-Methods"] == "GET"
    foreign = client.http.request("OPTIONS", "/api/v1/health", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Origin" not in foreign.headers


# ------------------------------------------------------------------ envelope machinery on a probe app


class Probe(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=2)
    address: "Address"


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")
    city: str


Probe.model_rebuild()


@pytest.fixture(scope="module")
def probe_client():
    from chalice.test import Client

    from functions.core.app_factory import create_app
    from functions.core.edge import Blueprint
    from functions.core.envelope import respond
    from functions.core.errors import Conflict
    from functions.core.validation import parse_body
    from local.gateway_responses import install

    install()
    bp = Blueprint("probe")

    @bp.route("/probe", methods=["POST"])
    def probe():
        data = parse_body(bp.current_request, Probe)
        return respond(201, probe=data.model_dump())

    @bp.route("/probe/conflict", methods=["POST"])
    def conflict():
        raise Conflict("Already there")

    @bp.route("/probe/boom", methods=["GET"])
    def boom():
        raise RuntimeError("secret internals: mongodb://user:pass@host")

    app = create_app("probe", [bp])
    with Client(app, project_dir="/nonexistent") as c:
        yield c


def test_malformed_json_is_a_400(probe_client):
    response = probe_client.http.post("/api/v1/probe", body=b"{not json",
                                      headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert body(response)["code"] == "MALFORMED_JSON"
    assert body(response)["success"] is False


def test_validation_errors_name_dotted_fields(probe_client):
    payload = {"name": "x", "address": {"city": 5}, "role": "admin"}
    response = probe_client.http.post("/api/v1/probe", body=json.dumps(payload).encode(),
                                      headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    errors = body(response)["errors"]
    fields = {e["field"] for e in errors}
    assert fields == {"name", "address.city", "role"}
    assert next(e for e in errors if e["field"] == "role")["message"] == "Unknown field"


def test_a_valid_body_passes(probe_client):
    payload = {"name": "ok", "address": {"city": "Pune"}}
    response = probe_client.http.post("/api/v1/probe", body=json.dumps(payload).encode(),
                                      headers={"Content-Type": "application/json"})
    assert response.status_code == 201
    assert body(response) == {"success": True, "probe": payload}


def test_domain_errors_map_to_their_status(probe_client):
    response = probe_client.http.post("/api/v1/probe/conflict")
    assert response.status_code == 409
    assert body(response) == {"success": False, "message": "Already there", "code": "CONFLICT", "errors": []}


def test_unexpected_errors_are_500_without_internals_and_logged_under_the_request_id(probe_client, json_log_lines):
    # When a route fails unexpectedly
    response = probe_client.http.get("/api/v1/probe/boom")
    # Then the caller gets a bare 500 with a request id and nothing of the internals
    assert response.status_code == 500
    data = body(response)
    assert data["message"] == "Internal error"
    assert data["requestId"]
    assert "mongodb://" not in response.body.decode()
    # And the stack is logged, correlated by that same id
    logs = [json.loads(line) for line in json_log_lines]
    error = next(entry for entry in logs if entry.get("message") == "Unhandled error")
    assert error["correlation_id"] == data["requestId"]
    assert "RuntimeError" in error["exception"]


# ------------------------------------------------------------------ the database is real


def test_unique_index_rejects_a_duplicate_on_the_real_server(db):
    # Given a unique index declared the way stores declare them
    db["probe"].create_index("key", unique=True)
    db["probe"].insert_one({"key": "a"})
    # When a second document reuses the key, Then the server refuses it
    with pytest.raises(DuplicateKeyError):
        db["probe"].insert_one({"key": "a"})
    assert db["probe"].count_documents({}) == 1


def test_ensure_indexes_creates_every_declared_index(db):
    names = {ix["name"] for ix in db["audit_log"].list_indexes()}
    assert {"by_resource", "by_actor", "by_subject"} <= names


def test_audit_record_writes_what_it_is_given(db, clock):
    from functions.core import audit

    doctor = {"_id": ObjectId(), "role": "doctor", "name": "Dr. Rao"}
    patient_id = ObjectId()
    resource_id = ObjectId()
    audit.record(doctor, "read", "medical_history", resource_id, "consultation", subject_id=patient_id)
    stored = db["audit_log"].find_one({"resourceId": resource_id})
    assert stored["actorId"] == doctor["_id"]
    assert stored["actorRole"] == "doctor"
    assert stored["actorName"] == "Dr. Rao"
    assert stored["action"] == "read"
    assert stored["resourceType"] == "medical_history"
    assert stored["reason"] == "consultation"
    assert stored["subjectId"] == patient_id
    assert stored["at"] == clock.current


def test_cross_site_simple_posts_are_refused(probe_client):
    # A browser sends text/plain or form bodies cross-site without a CORS preflight (the CSRF
    # vector of D-04); writes accept JSON only, which a foreign page cannot send unannounced.
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        response = probe_client.http.post("/api/v1/probe", body=b'{"name": "ok", "address": {"city": "Pune"}}',
                                          headers={"Content-Type": content_type})
        assert response.status_code == 415
        assert body(response)["code"] == "UNSUPPORTED_MEDIA_TYPE"
