"""The data export's zip (functions/privacy/archive.py): its raw limit is what fits a Lambda answer
once base64-encoded, and an archive over the limit is refused as soon as it is."""

from __future__ import annotations

import base64
import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from functions.privacy import archive

AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_the_raw_limit_is_the_most_that_fits_six_mebibytes_once_base64_encoded() -> None:
    # Given Lambda's 6 MiB answer and the reserve kept for its status, headers and keys
    room = 6 * 1024 * 1024 - archive.ANSWER_RESERVE
    # Then a body of the raw limit fits once base64-encoded, and 3 bytes more (4 characters) do not
    assert archive.MAX_BYTES == 4_706_304
    assert len(base64.b64encode(bytes(archive.MAX_BYTES))) <= room
    assert len(base64.b64encode(bytes(archive.MAX_BYTES + 3))) > room


def test_an_archive_holds_the_document_and_the_files_under_prescriptions() -> None:
    # Given a document and two files
    files = [("prescription-A.pdf", b"%PDF-1.4 a"), ("prescription-B.pdf", b"%PDF-1.4 b")]
    # When archived
    opened = zipfile.ZipFile(io.BytesIO(archive.build(b'{"success":true}', files, AT)))
    # Then each is there, as given, dated the export's time
    assert opened.namelist() == ["export.json", "prescriptions/prescription-A.pdf", "prescriptions/prescription-B.pdf"]
    assert opened.read("export.json") == b'{"success":true}'
    assert opened.read("prescriptions/prescription-B.pdf") == b"%PDF-1.4 b"
    assert opened.getinfo("export.json").date_time == (2026, 3, 2, 10, 0, 0)


def test_an_archive_of_exactly_the_limit_passes_and_one_byte_less_is_refused() -> None:
    # Given an archive's exact size
    files = [("prescription-A.pdf", bytes(5_000))]
    size = len(archive.build(b"{}", files, AT))
    # When the limit is that size, and one byte less
    assert len(archive.build(b"{}", files, AT, limit=size)) == size
    with pytest.raises(archive.ExportTooLarge) as refused:
        archive.build(b"{}", files, AT, limit=size - 1)
    # Then the refusal is a 413 naming the JSON export
    assert refused.value.status == 413 and refused.value.extra == {"alternative": "GET /api/v1/me/export"}


def test_no_file_is_read_once_the_archive_is_over_the_limit() -> None:
    # Given files produced one at a time, each larger than the limit
    produced: list[str] = []

    def files() -> Iterator[tuple[str, bytes]]:
        for name in ("a.pdf", "b.pdf", "c.pdf"):
            produced.append(name)
            yield name, bytes(3_000)

    # When archived under a 2 000-byte limit
    with pytest.raises(archive.ExportTooLarge):
        archive.build(b"{}", files(), AT, limit=2_000)
    # Then only the first was produced
    assert produced == ["a.pdf"]
