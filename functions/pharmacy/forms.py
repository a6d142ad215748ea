"""Request bodies the existing frontend sends as forms: `multipart/form-data` (nested objects as
JSON strings or dot-notation keys, plus optional files) or `application/x-www-form-urlencoded`,
next to plain JSON. Framework-free and reusable, so it can move to `core` later.

Form bodies are "simple" requests a foreign page can send without a CORS preflight; the
same-site check of every cookie-authenticated write lives in `core.http` (`check_same_site`).
`core.http.form_body` refuses file parts; this parser keeps them (avatars, medicine images).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl

from functions.core.errors import BadRequest, Code, PayloadTooLarge

JSON, MULTIPART, URLENCODED = "application/json", "multipart/form-data", "application/x-www-form-urlencoded"
FORM_TYPES = [JSON, MULTIPART, URLENCODED]
MAX_FIELDS = 200
MAX_BODY_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class UploadedFile:
    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class FormBody:
    data: dict[str, Any]
    files: list[UploadedFile] = field(default_factory=list)

    def file(self, name: str) -> UploadedFile | None:
        return next((f for f in self.files if f.field == name), None)

    def files_named(self, *names: str) -> list[UploadedFile]:
        return [f for f in self.files if f.field in names]

    def fields_except(self, read_only: frozenset[str]) -> dict[str, Any]:
        """The fields, without the server-managed ones a client may echo back (dropped, never
        applied); anything else unknown is left for the model to refuse."""
        return {k: v for k, v in self.data.items() if k not in read_only}


def _media_type(headers: Mapping[str, str]) -> str:
    return (headers.get("content-type") or JSON).split(";", 1)[0].strip().lower()


def _set_path(target: dict[str, Any], dotted: str, value: Any) -> None:
    parts = [p for p in dotted.split(".") if p]
    if not parts or len(parts) > 4:
        raise BadRequest(f"Unusable field name {dotted[:40]!r}", code=Code.MALFORMED_FORM)
    node = target
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise BadRequest(f"Field {dotted[:40]!r} conflicts with another field", code=Code.MALFORMED_FORM)
        node = child
    node[parts[-1]] = value


def _field_value(raw: str) -> Any:
    """Nested objects arrive as JSON strings; everything else stays a string for the model to
    coerce (pydantic parses "10" as an int and "true" as a bool the same way everywhere)."""
    text = raw.strip()
    if text[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            raise BadRequest("A form field holds malformed JSON", code=Code.MALFORMED_FORM) from None
    return raw


def to_nested(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """`[("address", '{"city": "Pune"}'), ("contactInfo.phone", "98...")]` -> nested dict.
    The three shapes of the reference (JSON objects, JSON strings, dot keys) merge into one."""
    if len(pairs) > MAX_FIELDS:
        raise BadRequest("Too many form fields", code=Code.MALFORMED_FORM)
    out: dict[str, Any] = {}
    for name, raw in pairs:
        if not raw.strip():
            continue  # an input left empty (a browser form sends every input): not given
        value = _field_value(raw)
        existing = out.get(name)
        if isinstance(existing, dict) and isinstance(value, dict):
            existing.update(value)
        else:
            _set_path(out, name, value)
    return out


def parse_multipart(content_type: str, body: bytes) -> FormBody:
    """Parse a multipart/form-data body with the standard library's MIME parser."""
    if "boundary=" not in content_type.lower():
        raise BadRequest("Multipart body without a boundary", code=Code.MALFORMED_FORM)
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise BadRequest("Malformed multipart body", code=Code.MALFORMED_FORM)
    pairs: list[tuple[str, str]] = []
    files: list[UploadedFile] = []
    assert isinstance(message, EmailMessage)
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            if data:
                files.append(UploadedFile(name, filename, part.get_content_type(), data))
            continue
        try:
            pairs.append((name, data.decode("utf-8")))
        except UnicodeDecodeError:
            raise BadRequest("Form fields must be UTF-8", code=Code.MALFORMED_FORM) from None
    return FormBody(to_nested(pairs), files)


def parse_form(headers: Mapping[str, str], raw: bytes | str | None) -> FormBody:
    """The body as a nested dict (and files) whatever the accepted content type."""
    body = raw.encode() if isinstance(raw, str) else (raw or b"")
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge("The request body is too large")
    kind = _media_type(headers)
    if kind == MULTIPART:
        return parse_multipart(headers.get("content-type", ""), body)
    if kind == URLENCODED:
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
        except (UnicodeDecodeError, ValueError):
            raise BadRequest("Malformed form body", code=Code.MALFORMED_FORM) from None
        return FormBody(to_nested(pairs))
    if not body:
        return FormBody({})
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("Malformed JSON body", code=Code.MALFORMED_JSON) from None
    if not isinstance(data, dict):
        raise BadRequest("The JSON body must be an object", code=Code.MALFORMED_JSON)
    return FormBody(data)
