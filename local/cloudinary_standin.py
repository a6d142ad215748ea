"""A local stand-in for Cloudinary's Upload API and delivery, served by `make run` on the
WebSocket gateway's HTTP port:

    POST {CLOUDINARY_API_BASE}/v1_1/<cloud>/<image|video|raw|auto>/upload    (multipart or urlencoded)
    POST {CLOUDINARY_API_BASE}/v1_1/<cloud>/<type>/destroy
    GET  {CLOUDINARY_DELIVERY_BASE}/<cloud>/<type>/upload/v<version>/<public_id>.<format>

`make run` sets CLOUDINARY_URL to a local account with a per-run secret and the two bases to
`http://127.0.0.1:8002/cloudinary/api` and `.../cloudinary/res`, so the API's signer, the browser
and the SDK's server-side uploads and destroys all come here. Like Cloudinary it:

- checks a signed request by recomputing the signature with the SDK's own signer
  (`cloudinary.utils.api_sign_request`) over every parameter except file, api_key, signature,
  resource_type and cloud_name, refuses an unknown api_key (401), a wrong signature (401) and a
  timestamp older than an hour (400); an unsigned upload needs an `upload_preset`;
- applies `folder`/`public_id` (fixed folders: the public id holds the folder) and
  `allowed_formats` (400 when the file's format is not in it); `format` converts nothing here,
  it only names the stored format; incoming transformations are not applied;
- stores the file under `<data dir>/cloudinary/<cloud>/<type>/` and answers with the Upload
  API's JSON (public_id, version, format, bytes, width, height, secure_url, ...);
- posts the signed upload notification (`X-Cld-Timestamp`, `X-Cld-Signature`) to the upload's
  `notification_url` before it answers, so the upload is recorded by the time the browser sees
  the answer (Cloudinary sends it a moment later; signed uploads only).
"""

from __future__ import annotations

import hashlib
import io
import json
import mimetypes
import re
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local.site import Reply, Request

API_PREFIX = "/cloudinary/api"
DELIVERY_PREFIX = "/cloudinary/res"
MAX_BYTES = 100 * 1024 * 1024
STALE_AFTER = 3600  # seconds: Cloudinary refuses older signed requests ("Stale request")
UNSIGNED = ("file", "api_key", "signature", "resource_type", "cloud_name")
_PUBLIC_ID = re.compile(r"^[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*$")
_API_PATH = re.compile(r"^/v1_1/(?P<cloud>[A-Za-z0-9_-]+)/(?P<type>image|video|raw|auto)/(?P<action>upload|destroy)$")
_MAGIC = ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"GIF8", "gif"), (b"%PDF", "pdf"),
          (b"\x1aE\xdf\xa3", "webm"))
VIDEO = ("mp4", "mov", "webm")
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "POST, GET, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type, X-Requested-With, X-Unique-Upload-Id, Content-Range"}


@dataclass(frozen=True)
class Account:
    cloud_name: str
    api_key: str
    api_secret: str

    @classmethod
    def from_url(cls, url: str) -> Account | None:
        parts = urlsplit(url)
        if parts.scheme != "cloudinary" or not (parts.hostname and parts.username and parts.password):
            return None
        return cls(parts.hostname, unquote(parts.username), unquote(parts.password))


def error(status: int, message: str) -> Reply:
    return Reply(status, json.dumps({"error": {"message": message}}).encode(),
                 {"Content-Type": "application/json", **CORS})


def sniff(data: bytes, filename: str) -> str | None:
    for magic, fmt in _MAGIC:
        if data.startswith(magic):
            return fmt
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp":
        return "mov" if data[8:10] == b"qt" else "mp4"
    suffix = Path(filename).suffix.lower().lstrip(".")
    return suffix or None


def dimensions(data: bytes) -> tuple[int | None, int | None]:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            return int(image.width), int(image.height)
    except Exception:  # not an image Pillow reads (a PDF, a video): Cloudinary leaves them out too
        return None, None


class CloudinaryStandIn:
    def __init__(self, root: Path, account: Account | None, delivery_base: str) -> None:
        self.root, self.account, self.delivery_base = root, account, delivery_base.rstrip("/")

    # ------------------------------------------------------------ routing

    def handle(self, request: Request) -> Reply:
        if request.method == "OPTIONS":
            return Reply(204, b"", dict(CORS))
        if request.path.startswith(DELIVERY_PREFIX + "/") and request.method in ("GET", "HEAD"):
            return self.deliver(request.path.removeprefix(DELIVERY_PREFIX + "/"))
        match = _API_PATH.match(request.path.removeprefix(API_PREFIX))
        if not request.path.startswith(API_PREFIX + "/") or match is None or request.method != "POST":
            return error(404, "Not found (local Cloudinary stand-in)")
        if self.account is None or match["cloud"] != self.account.cloud_name:
            return error(404, f"Unknown cloud {match['cloud']!r}")
        if len(request.body) > MAX_BYTES:
            return error(413, "File size too large")
        try:
            fields, file = self.parse(request)
        except ValueError as exc:
            return error(400, str(exc))
        refused = self.check_signature(fields)
        if refused is not None:
            return refused
        if match["action"] == "destroy":
            return self.destroy(match["type"], fields)
        return self.upload(match["type"], fields, file)

    @staticmethod
    def parse(request: Request) -> tuple[dict[str, Any], tuple[str, bytes] | None]:
        """The form's fields (`k[]` collected into lists) and its file as (filename, bytes)."""
        kind = request.header("Content-Type")
        fields: dict[str, Any] = {}
        file: tuple[str, bytes] | None = None

        def put(name: str, value: str) -> None:
            if name.endswith("[]"):
                fields.setdefault(name[:-2], []).append(value)
            else:
                fields[name] = value

        if kind.startswith("multipart/form-data"):
            message = BytesParser(policy=policy.HTTP).parsebytes(
                f"Content-Type: {kind}\r\n\r\n".encode() + request.body)
            if not message.is_multipart():
                raise ValueError("Malformed multipart body")
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True) or b""
                if not isinstance(name, str):
                    continue
                if name == "file" and part.get_filename() is not None:
                    file = (str(part.get_filename()), bytes(payload))
                else:
                    put(name, bytes(payload).decode("utf-8"))
        else:
            for name, value in parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True):
                put(name, value)
        if file is None and isinstance(fields.get("file"), str):  # a data URI, as the Upload API accepts
            raw = str(fields.pop("file"))
            match = re.match(r"^data:[^;,]*;base64,(.*)$", raw, re.S)
            if match is None:
                raise ValueError("Only file parts and base64 data URIs are stored locally (no remote URLs)")
            import base64

            file = ("file", base64.b64decode(match.group(1)))
        return fields, file

    def check_signature(self, fields: dict[str, Any]) -> Reply | None:
        import cloudinary.utils

        assert self.account is not None
        signature = fields.get("signature")
        if not signature:
            return None if fields.get("upload_preset") else error(
                400, "Upload preset must be specified when using unsigned upload")
        if fields.get("api_key") != self.account.api_key:
            return error(401, f"Unknown API key {fields.get('api_key')}")
        timestamp = str(fields.get("timestamp") or "")
        if not timestamp.isdigit():
            return error(400, "Missing required parameter - timestamp")
        if int(timestamp) < time.time() - STALE_AFTER:
            return error(400, f"Stale request - reported time is {timestamp} which is more than 1 hour ago")
        signed = {k: v for k, v in fields.items() if k not in UNSIGNED and v not in ("", None, [])}
        expected = cloudinary.utils.api_sign_request(signed, self.account.api_secret)
        if not secrets.compare_digest(str(signature), str(expected)):
            return error(401, f"Invalid Signature {signature}. String to sign - "
                              f"'{cloudinary.utils.api_string_to_sign(signed)}'.")
        return None

    # ------------------------------------------------------------ the Upload API

    def upload(self, resource_type: str, fields: dict[str, Any], file: tuple[str, bytes] | None) -> Reply:
        assert self.account is not None
        if file is None:
            return error(400, "Missing required parameter - file")
        filename, data = file
        detected = sniff(data, filename)
        fmt = str(fields.get("format") or detected or "").lower().replace("jpeg", "jpg")
        if not fmt:
            return error(400, "Invalid image file")
        allowed = fields.get("allowed_formats")
        allowed_list = allowed if isinstance(allowed, list) else str(allowed or "").split(",")
        allowed_set = {a.strip().lower().replace("jpeg", "jpg") for a in allowed_list if a.strip()}
        if allowed_set and fmt not in allowed_set:
            return error(400, f"{'Video' if fmt in VIDEO else 'Image'} file format {fmt} not allowed")
        if resource_type == "auto":
            resource_type = "video" if fmt in VIDEO else "image"
        public_id = str(fields.get("public_id") or secrets.token_hex(10))
        folder = str(fields.get("folder") or "").strip("/")
        if folder:
            public_id = f"{folder}/{public_id}"
        if not _PUBLIC_ID.match(public_id):
            return error(400, f"Invalid public id {public_id!r} (the stand-in keeps to letters, digits, _ - /)")
        target = self.path_of(resource_type, public_id, fmt)
        target.parent.mkdir(parents=True, exist_ok=True)
        for old in target.parent.glob(Path(public_id).name + ".*"):  # a re-upload replaces the old format
            old.unlink()
        target.write_bytes(data)
        version = int(time.time())
        width, height = dimensions(data) if resource_type == "image" else (None, None)
        url = f"{self.delivery_base}/{self.account.cloud_name}/{resource_type}/upload/v{version}/{public_id}.{fmt}"
        result: dict[str, Any] = {
            "asset_id": hashlib.md5(f"{resource_type}/{public_id}".encode()).hexdigest(),  # noqa: S324 - an id
            "public_id": public_id, "version": version, "version_id": secrets.token_hex(16),
            "signature": hashlib.sha1(data).hexdigest(),  # noqa: S324 - Cloudinary's result field, not security
            "width": width, "height": height, "format": fmt, "resource_type": resource_type,
            "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "tags": [], "bytes": len(data),
            "type": "upload", "etag": hashlib.md5(data).hexdigest(), "placeholder": False,  # noqa: S324
            "url": url, "secure_url": url, "folder": folder, "asset_folder": folder,
            "original_filename": Path(filename).stem, "api_key": self.account.api_key}
        result = {k: v for k, v in result.items() if v is not None}
        if fields.get("signature") and fields.get("notification_url"):
            self.notify(str(fields["notification_url"]), result)
        return Reply(200, json.dumps(result).encode(), {"Content-Type": "application/json", **CORS})

    def notify(self, url: str, result: dict[str, Any]) -> int:
        """Cloudinary's upload notification, signed: sha1(body + timestamp + api_secret)."""
        import cloudinary.utils

        assert self.account is not None
        if urlsplit(url).scheme not in ("http", "https"):
            return 0
        timestamp = str(int(time.time()))
        body = json.dumps({"notification_type": "upload", "timestamp": timestamp,
                           "request_id": secrets.token_hex(16), **result})
        signature = cloudinary.utils.compute_hex_hash(body + timestamp + self.account.api_secret, "sha1")
        headers = {"Content-Type": "application/json", "X-Cld-Timestamp": timestamp, "X-Cld-Signature": signature}
        request = urllib.request.Request(url, data=body.encode(), method="POST", headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - http(s) only, named by a signed upload
                status = int(answer.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            status = 0
        if status != 200:
            print(f"cloudinary stand-in: the upload notification to {url} answered {status or 'nothing'}", flush=True)
        return status

    def destroy(self, resource_type: str, fields: dict[str, Any]) -> Reply:
        public_id = str(fields.get("public_id") or "")
        if not _PUBLIC_ID.match(public_id):
            return error(400, "Missing required parameter - public_id")
        gone = list(self.path_of(resource_type, public_id, "x").parent.glob(Path(public_id).name + ".*"))
        for path in gone:
            path.unlink()
        return Reply(200, json.dumps({"result": "ok" if gone else "not found"}).encode(),
                     {"Content-Type": "application/json", **CORS})

    # ------------------------------------------------------------ delivery

    def path_of(self, resource_type: str, public_id: str, fmt: str) -> Path:
        assert self.account is not None
        return self.root / self.account.cloud_name / resource_type / f"{public_id}.{fmt}"

    def deliver(self, rest: str) -> Reply:
        """`<cloud>/<type>/upload/[<transformations>/][v<n>/]<public_id>.<format>`: transformations
        are not applied; the stored file is served as it was uploaded."""
        parts = [unquote(p) for p in rest.split("/") if p]
        if self.account is None or len(parts) < 4 or parts[0] != self.account.cloud_name or parts[2] != "upload":
            return error(404, "Resource not found")
        resource_type, path = parts[1], parts[3:]
        while path:
            candidate = "/".join(path)
            stem, dot, fmt = candidate.rpartition(".")
            if dot and _PUBLIC_ID.match(stem) and re.fullmatch(r"[a-z0-9]+", fmt):
                target = self.path_of(resource_type, stem, fmt)
                base = (self.root / self.account.cloud_name).resolve()
                if target.resolve().is_relative_to(base) and target.is_file():
                    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
                    return Reply(200, target.read_bytes(), {"Content-Type": kind, "Cache-Control": "no-store",
                                                            "Access-Control-Allow-Origin": "*"})
            path = path[1:]  # drop a version or transformation segment
        return error(404, "Resource not found")
