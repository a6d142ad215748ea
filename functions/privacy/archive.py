"""The data export as a zip (`GET /me/export?format=zip`, issue 24 §3): `export.json`, the same
document as the JSON answer, and each of the caller's prescriptions as its PDF, under
`prescriptions/`.

The archive must fit in one Lambda answer: at most 6 MB (6 MiB) for the whole proxy answer, whose
body travels base64-encoded (4 characters for every 3 bytes, API Gateway decodes it), beside the
status, the headers and the JSON keys of the answer. So the zip may hold at most `MAX_BYTES`
raw bytes; a larger one is a 413 `EXPORT_TOO_LARGE` naming the JSON-only export (`GET
/me/export`), which has no PDFs and is not base64-encoded. The archive is checked as it grows, so
an export far over the limit stops rendering PDFs as soon as it is over.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from datetime import datetime

from functions.core.errors import Code, PayloadTooLarge

LAMBDA_ANSWER_BYTES = 6 * 1024 * 1024  # a synchronous invocation's answer, its JSON whole
ANSWER_RESERVE = 16 * 1024  # the answer's status, headers (security, CORS, download) and JSON keys
JSON_ONLY = "GET /api/v1/me/export"  # the alternative a 413 names


def raw_limit(answer_bytes: int = LAMBDA_ANSWER_BYTES, reserve: int = ANSWER_RESERVE) -> int:
    """The most raw bytes whose base64 text fits in `answer_bytes - reserve` (4 characters per 3 bytes)."""
    return (answer_bytes - reserve) // 4 * 3


MAX_BYTES = raw_limit()  # 4 706 304 bytes


class ExportTooLarge(PayloadTooLarge):
    code = Code.EXPORT_TOO_LARGE


def too_large(limit: int) -> ExportTooLarge:
    return ExportTooLarge(
        f"Your export with the prescriptions' PDFs is larger than one download can carry ({limit:,} bytes): "
        f"ask for {JSON_ONLY} (everything, as JSON, without the PDFs)", extra={"alternative": JSON_ONLY})


def build(document: bytes, files: Iterable[tuple[str, bytes]], at: datetime, limit: int | None = None) -> bytes:
    """The zip of `export.json` (`document`, compressed) and each (name, bytes) of `files` under
    `prescriptions/` (stored: a PDF is compressed already), dated `at` (UTC); ExportTooLarge as
    soon as it passes `limit` bytes (`MAX_BYTES`). `files` is read one at a time, and no further
    once the archive is over the limit."""
    limit = MAX_BYTES if limit is None else limit
    stamp = (max(at.year, 1980), at.month, at.day, at.hour, at.minute, at.second)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        _add(archive, "export.json", document, zipfile.ZIP_DEFLATED, stamp)
        _check(buffer, limit)
        for name, data in files:
            _add(archive, f"prescriptions/{name}", data, zipfile.ZIP_STORED, stamp)
            _check(buffer, limit)
    data = buffer.getvalue()  # with the central directory, written on close
    if len(data) > limit:
        raise too_large(limit)
    return data


def _add(archive: zipfile.ZipFile, name: str, data: bytes, method: int, stamp: tuple[int, ...]) -> None:
    info = zipfile.ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]  # a 6-tuple
    info.compress_type = method
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def _check(buffer: io.BytesIO, limit: int) -> None:
    if buffer.tell() > limit:
        raise too_large(limit)
