"""Fixtures and helpers of the uploads tests: Cloudinary's SDK runs for real (its signer and
its verifier); only its transport (`cloudinary.uploader._http`, a urllib3 pool) is replaced."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from functions.core import clock
from functions.core.db import get_db

CLOUD, KEY, SECRET = "cc-test", "123456789012345", "cloudinary-test-secret"
PUBLIC_BASE = "https://api.cureconnect.test"


class FakeResponse:
    def __init__(self, status: int, payload: dict[str, Any]) -> None:
        self.status, self.data, self.headers = status, json.dumps(payload).encode(), {}


class FakeCloudinaryHttp:
    """Records the Upload API calls the SDK makes; answers `{"result": "ok"}` (or 500 while `fail`)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail = False

    def request(self, method: str, url: str, fields: Any = None, headers: Any = None, **kw: Any) -> FakeResponse:
        self.calls.append({"method": method, "url": url, "fields": dict(fields or [])})
        if self.fail:
            return FakeResponse(500, {"error": {"message": "General Error"}})
        if url.endswith("/upload"):  # a server-side upload: a fresh public id in the folder asked for
            form = dict(fields or [])
            public_id = f"{form.get('folder')}/up{len(self.calls)}"
            return FakeResponse(200, {"public_id": public_id, "resource_type": "image", "format": "png",
                                      "bytes": 1000, "secure_url": f"https://res.cloudinary.com/{CLOUD}/image/upload/"
                                                                   f"v1/{public_id}.png"})
        return FakeResponse(200, {"result": "ok"})

    @property
    def uploads(self) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["url"].endswith("/upload")]

    @property
    def destroyed(self) -> list[str]:
        return [c["fields"]["public_id"] for c in self.calls if c["url"].endswith("/destroy")]


@pytest.fixture
def cloudinary_api(monkeypatch: pytest.MonkeyPatch) -> FakeCloudinaryHttp:
    import cloudinary.uploader

    from functions.core import config

    monkeypatch.setenv("CLOUDINARY_URL", f"cloudinary://{KEY}:{SECRET}@{CLOUD}")
    monkeypatch.setenv("PUBLIC_BASE_URL", PUBLIC_BASE)
    config.reset_settings()
    fake = FakeCloudinaryHttp()
    monkeypatch.setattr(cloudinary.uploader, "_http", fake)
    return fake


def notification(public_id: str, *, fmt: str = "jpg", size: int = 120_000, resource_type: str = "image",
                 **extra: Any) -> dict[str, Any]:
    return {"notification_type": "upload", "public_id": public_id, "version": 1, "format": fmt,
            "resource_type": resource_type, "bytes": size, "width": 400, "height": 400, "type": "upload",
            "secure_url": f"https://res.cloudinary.com/{CLOUD}/{resource_type}/upload/v1/{public_id}.{fmt}",
            **extra}


def signed_headers(raw: str, *, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    import cloudinary.utils

    ts = str(timestamp if timestamp is not None else int(time.time()))
    return {"Content-Type": "application/json", "X-Cld-Timestamp": ts,
            "X-Cld-Signature": cloudinary.utils.compute_hex_hash(raw + ts + secret, "sha1")}


def notify(client: Any, payload: dict[str, Any], **kw: Any) -> Any:
    raw = json.dumps(payload)
    return client.http.post("/api/v1/uploads/notify", headers=signed_headers(raw, **kw), body=raw.encode())


def uploaded(client: Any, owner: dict[str, Any], purpose: str, name: str = "abc123", **kw: Any) -> dict[str, Any]:
    """An asset Cloudinary reported for `owner` and `purpose` (through the signed webhook)."""
    public_id = f"cureconnect/{purpose}/{owner['_id']}/{name}"
    response = notify(client, notification(public_id, **kw))
    assert response.status_code == 200, response.body
    found: dict[str, Any] = get_db()["media_assets"].find_one({"_id": public_id}) or {}
    return {"public_id": public_id, "url": found.get("url"), "at": clock.now()}


def use_cloud(monkeypatch: pytest.MonkeyPatch, cloud: str) -> None:
    """This deployment's Cloudinary cloud is `cloud` (the sign-up form's avatar must be on it)."""
    from functions.core import config

    monkeypatch.setenv("CLOUDINARY_URL", f"cloudinary://{KEY}:{SECRET}@{cloud}")
    config.reset_settings()
