"""The one preflight Lambda of the split stack answers CORS for allowed origins only."""

from __future__ import annotations

from functions.core.preflight import handler
from tests.conftest import ALLOWED_ORIGIN


def event(origin: str | None) -> dict:
    headers = {"Access-Control-Request-Method": "PUT"} | ({"Origin": origin} if origin else {})
    return {"httpMethod": "OPTIONS", "resource": "/api/v1/me", "path": "/api/v1/me", "headers": headers,
            "requestContext": {"resourcePath": "/api/v1/me", "httpMethod": "OPTIONS"}}


def test_an_allowed_origin_may_send_credentials_and_the_standard_methods():
    response = handler(event(ALLOWED_ORIGIN), None)
    assert response["statusCode"] == 204 and response["body"] == ""
    headers = response["headers"]
    assert headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert headers["Access-Control-Allow-Credentials"] == "true" and headers["Vary"] == "Origin"
    assert "PUT" in headers["Access-Control-Allow-Methods"]
    assert "Authorization" in headers["Access-Control-Allow-Headers"]


def test_another_origin_or_none_gets_no_cors_grant():
    for origin in ("https://evil.example", None):
        headers = handler(event(origin), None)["headers"]
        assert not [h for h in headers if h.startswith("Access-Control-")], origin
