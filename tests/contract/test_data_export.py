"""A user's own data export (issue 24 §3), each request exactly as the existing frontend's proxy
delivers it (`tests/contract/frontend.py`: the cookie, a bare Origin, `Accept: application/json`).
The frontend has no export page yet; one would download with its axios instance, as it does the
prescription PDF (row 17)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from typing import Any

from functions.privacy import archive
from tests.contract.frontend import read, renders_as_text, send
from tests.prescriptions_support import doctor, issue, patient


def test_the_zip_download_with_the_frontends_accept(client: Any) -> None:
    # Given a patient with a prescription written through the API
    me = patient(name="Asha Rao")
    rx = issue(client, doctor(name="Dr. Meera Iyer"), me)
    # When the zip is downloaded through the proxy
    response = send(client, "GET", "/me/export?format=zip", me)
    # Then the file's bytes arrive as a download, whatever the Accept
    assert response.status_code == 200, response.body[:300]
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="cureconnect-export-')
    opened = zipfile.ZipFile(io.BytesIO(response.body))
    # And it holds the export's JSON and the prescription's PDF
    assert opened.read(f"prescriptions/prescription-{rx['prescriptionNumber']}.pdf").startswith(b"%PDF-")
    document = json.loads(opened.read("export.json"))
    assert document["success"] is True and document["profile"]["name"] == "Asha Rao"
    assert [p["prescriptionNumber"] for p in document["prescriptions"]] == [rx["prescriptionNumber"]]


def test_the_json_export_and_a_zip_too_large_through_the_proxy(client: Any, monkeypatch: Any) -> None:
    # Given a patient with a prescription
    me = patient(name="Ravi Kumar")
    issue(client, doctor(), me)
    # When the JSON export is asked for through the proxy
    response = send(client, "GET", "/me/export", me)
    # Then it is plain JSON with the fields a page would print as text
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    document = read(response)
    assert renders_as_text(document["exportedAt"]) and datetime.fromisoformat(document["exportedAt"])
    assert renders_as_text(document["profile"]["name"]) and document["profile"]["name"] == "Ravi Kumar"
    assert all(renders_as_text(p["prescriptionNumber"]) for p in document["prescriptions"])
    # And when the zip would not fit one answer (the limit lowered below one PDF)
    monkeypatch.setattr(archive, "MAX_BYTES", 10_000)
    refused = send(client, "GET", "/me/export?format=zip", me)
    # Then a JSON 413 whose message, the text the UI shows, names the JSON export
    assert refused.status_code == 413 and refused.headers["Content-Type"] == "application/json"
    answer = read(refused)
    assert answer["success"] is False and answer["code"] == "EXPORT_TOO_LARGE"
    assert renders_as_text(answer["message"]) and "GET /api/v1/me/export" in answer["message"]
    assert answer["alternative"] == "GET /api/v1/me/export"
