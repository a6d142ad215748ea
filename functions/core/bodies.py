"""Request bodies: the one parser of JSON, `application/x-www-form-urlencoded` and
`multipart/form-data`, framework-free (headers and raw bytes in, a `FormBody` out).

What a route accepts is its `BodyRules`: whether file parts are kept (else a form carrying a
file is refused: `/register` takes none) and whether a form's fields are expanded into objects
(the pharmacy forms send nested objects as dotted names or as JSON strings). A form's empty
inputs are inputs not given (a browser form sends every input). A JSON body is an object, at
most `MAX_JSON_DEPTH` deep. Form bodies are "simple" requests a foreign page can send: the
same-site check runs before any view (`core.samesite`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from functions.core.errors import BadRequest, Code, PayloadTooLarge, ValidationFailed

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
FORM_TYPES = (JSON, MULTIPART, FORM)  # what a browser form or a script may post to a form route
MAX_JSON_DEPTH = 64
MAX_FIELDS = 200
MAX_FILE_BODY_BYTES = 8 * 1024 * 1024  # a body that may carry files (API Gateway's own cap is 10 MB)
_NESTING = 4  # `a.b.c.d` at most


class BodyRules:
    """How a route reads a form body (JSON bodies are taken as sent).

    `files`: keep file parts (`FormBody.files`); without it a file part is a 400.
    `nested`: a dotted name (`contactInfo.phone`) or a JSON-string value (`address={"city": ..}`)
    becomes an object, and a repeated name keeps its last value; without it names are taken as
    they are and a repeated name becomes a list.

    (Plain classes here, not dataclasses: every handler imports this module at cold start, and
    building a dataclass costs about half a millisecond.)"""

    __slots__ = ("files", "nested")

    def __init__(self, *, files: bool = False, nested: bool = False) -> None:
        self.files, self.nested = files, nested

    def __repr__(self) -> str:
        return f"BodyRules(files={self.files}, nested={self.nested})"


FLAT = BodyRules()
NESTED_WITH_FILES = BodyRules(files=True, nested=True)


class UploadedFile:
    __slots__ = ("content_type", "data", "field", "filename")

    def __init__(self, field: str, filename: str, content_type: str, data: bytes) -> None:
        self.field, self.filename, self.content_type, self.data = field, filename, content_type, data

    def __repr__(self) -> str:
        return f"UploadedFile({self.field!r}, {self.filename!r}, {self.content_type!r}, {len(self.data)} bytes)"


class FormBody:
    __slots__ = ("data", "files")

    def __init__(self, data: dict[str, Any], files: list[UploadedFile] | None = None) -> None:
        self.data, self.files = data, files or []

    def file(self, name: str) -> UploadedFile | None:
        return next((f for f in self.files if f.field == name), None)

    def files_named(self, *names: str) -> list[UploadedFile]:
        return [f for f in self.files if f.field in names]

    def fields_except(self, read_only: frozenset[str]) -> dict[str, Any]:
        """The fields, without the server-managed ones a client may echo back (dropped, never
        applied); anything else unknown is left for the model to refuse."""
        return {k: v for k, v in self.data.items() if k not in read_only}


def media_type(headers: Mapping[str, Any] | None) -> str | None:
    """The body's media type, parsed strictly: `type/subtype` before any parameter, lower case
    (Chalice's own check also takes `text/plain; x=*/*` or `text/plain, application/json` as
    JSON). None when there is no Content-Type, "" when it is malformed."""
    raw = (headers or {}).get("content-type")
    if raw is None:
        return None
    value = str(raw).split(";", 1)[0].strip().lower()
    if "," in value or not re.fullmatch(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+", value):
        return ""
    return value


# NUL (PostgreSQL, behind the embedded server, refuses it; no field of this API needs it) and
# surrogate code points (a lone `\ud800` escape in JSON, or undecodable bytes): text no field takes.
_UNUSABLE = re.compile("[\x00\ud800-\udfff]")
UNUSABLE_TEXT = "must not contain NUL characters or unpaired surrogates"


def refuse_unusable_text(value: Any, where: str = "body") -> None:
    """The one rule for text from a client (bodies, queries, path parameters, WebSocket frames):
    a string or key holding NUL or an unpaired surrogate is a 400 naming its field. File parts
    of a multipart body are bytes and exempt."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, field = stack.pop()
        if isinstance(item, str):
            if _UNUSABLE.search(item):
                raise _unusable(field)
        elif isinstance(item, dict):
            for key, child in item.items():
                name = key if field == "body" else f"{field}.{key}"
                if isinstance(key, str) and _UNUSABLE.search(key):
                    raise _unusable(field if field != "body" else "body")
                stack.append((child, name))
        elif isinstance(item, list):
            stack.extend((child, f"{field}.{i}") for i, child in enumerate(item))


def _unusable(field: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {UNUSABLE_TEXT}" if field != "body" else f"The body {UNUSABLE_TEXT}",
                            errors=[{"field": field, "message": UNUSABLE_TEXT}])


def _depth(value: Any) -> int:
    """Nesting depth of decoded JSON, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def read_json(raw: bytes | str | None) -> Any:
    """The decoded JSON (`{}` for an empty body), at most MAX_JSON_DEPTH deep, or a 400."""
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest("Malformed JSON body", code=Code.MALFORMED_JSON) from None
    if _depth(data) > MAX_JSON_DEPTH:
        raise BadRequest(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", code=Code.MALFORMED_JSON)
    refuse_unusable_text(data)
    return data


def read_body(headers: Mapping[str, Any] | None, raw: bytes | str | None, rules: BodyRules = FLAT) -> FormBody:
    """The body as an object (and files, where `rules` keeps them): a form by its Content-Type,
    JSON otherwise (also without a Content-Type). Every malformed body is a 400."""
    body = raw.encode() if isinstance(raw, str) else bytes(raw or b"")
    if rules.files and len(body) > MAX_FILE_BODY_BYTES:
        raise PayloadTooLarge("The request body is too large")
    kind = media_type(headers)
    if kind in (FORM, MULTIPART):
        pairs, files = _urlencoded(body) if kind == FORM else _multipart(str((headers or {})["content-type"]), body,
                                                                        rules)
        fields = _nested(pairs) if rules.nested else _flat(pairs)
        refuse_unusable_text(fields)
        return FormBody(fields, files)
    data = read_json(body)
    if not isinstance(data, dict):
        raise BadRequest("The JSON body must be an object", code=Code.MALFORMED_JSON)
    return FormBody(data)


def _malformed(message: str = "Malformed form body") -> BadRequest:
    return BadRequest(message, code=Code.MALFORMED_FORM)


def _urlencoded(body: bytes) -> tuple[list[tuple[str, str]], list[UploadedFile]]:
    from urllib.parse import parse_qsl

    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body),
                         max_num_fields=MAX_FIELDS), []
    except (ValueError, UnicodeDecodeError):
        raise _malformed() from None


def _multipart(content_type: str, body: bytes, rules: BodyRules) -> tuple[list[tuple[str, str]], list[UploadedFile]]:
    """The standard library's MIME parser. Every part is named; a file part is kept where the
    rules allow files (an empty one, a file input left empty, is not given), else refused."""
    from email.parser import BytesParser
    from email.policy import HTTP

    if "boundary=" not in content_type.lower():
        raise _malformed("Multipart body without a boundary")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise _malformed()
    pairs: list[tuple[str, str]] = []
    files: list[UploadedFile] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            raise _malformed()
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            if not rules.files:
                raise _malformed("This form takes no files")
            if data:
                files.append(UploadedFile(name, filename, part.get_content_type(), data))
            continue
        try:
            pairs.append((name, data.decode("utf-8")))
        except UnicodeDecodeError:
            raise _malformed("Form fields must be UTF-8") from None
    if len(pairs) + len(files) > MAX_FIELDS:
        raise _malformed("Too many form fields")
    return pairs, files


def _flat(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Names as they are; a repeated name becomes a list of its values."""
    fields: dict[str, Any] = {}
    for name, value in pairs:
        if not value.strip():
            continue  # an input left empty: not given
        if name in fields:
            fields[name] = [*fields[name], value] if isinstance(fields[name], list) else [fields[name], value]
        else:
            fields[name] = value
    return fields


def _field_value(raw: str) -> Any:
    """Nested objects arrive as JSON strings; everything else stays a string for the model to
    coerce (pydantic parses "10" as an int and "true" as a bool the same way everywhere)."""
    text = raw.strip()
    if text[:1] in ("{", "["):
        try:
            return read_json(text)
        except BadRequest:
            raise _malformed("A form field holds malformed JSON") from None
    return raw


def _set_path(target: dict[str, Any], dotted: str, value: Any) -> None:
    parts = [p for p in dotted.split(".") if p]
    if not parts or len(parts) > _NESTING:
        raise _malformed(f"Unusable field name {dotted[:40]!r}")
    node = target
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise _malformed(f"Field {dotted[:40]!r} conflicts with another field")
        node = child
    node[parts[-1]] = value


def _nested(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """`[("address", '{"city": "Pune"}'), ("contactInfo.phone", "98...")]` -> nested dict.
    The three shapes of the reference (JSON objects, JSON strings, dot keys) merge into one."""
    out: dict[str, Any] = {}
    for name, raw in pairs:
        if not raw.strip():
            continue  # an input left empty: not given
        value = _field_value(raw)
        existing = out.get(name)
        if isinstance(existing, dict) and isinstance(value, dict):
            existing.update(value)
        else:
            _set_path(out, name, value)
    return out
