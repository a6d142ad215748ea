"""`GET /me/export?format=zip` (issue 24 §3): the JSON export as `export.json` and each of the
caller's prescriptions as its PDF, in one zip that fits a Lambda answer once base64-encoded; a
larger one is a 413 naming the JSON export; one hourly budget with the JSON export."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from typing import Any

import pytest
from pypdf import PdfReader

from functions.privacy import archive
from tests.factories import bearer
from tests.http import body, call, lambda_answer
from tests.prescriptions_support import doctor, issue, patient


def _opened(data: bytes) -> zipfile.ZipFile:
    opened = zipfile.ZipFile(io.BytesIO(data))
    assert opened.testzip() is None  # every entry's CRC checks out
    return opened


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _pdf_name(rx: dict[str, Any]) -> str:
    return f"prescriptions/prescription-{rx['prescriptionNumber']}.pdf"


def test_the_zip_holds_the_json_export_and_the_pdf_of_each_prescription_of_the_caller_only(api: Any) -> None:
    # Given a patient with prescriptions from two doctors, and another patient of the first doctor
    first, second = doctor(name="Dr. Asha Menon"), doctor(name="Dr. Vikram Rao")
    me, other = patient(name="Mina Export"), patient(name="Otto Other")
    mine = [issue(api, first, me), issue(api, second, me, diagnosis="Migraine without aura")]
    theirs = issue(api, first, other)
    # When the patient asks for the zip, then for the JSON export (the clock stands still)
    response = call(api, "GET", "/me/export?format=zip", as_=me)
    as_json = call(api, "GET", "/me/export", as_=me)
    # Then the zip arrives as a download named after the day
    assert response.status_code == 200, response.body[:300]
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"] == 'attachment; filename="cureconnect-export-2026-03-02.zip"'
    opened = _opened(response.body)
    # And its export.json is the JSON export, byte for byte
    assert opened.read("export.json") == as_json.body
    # And it holds one PDF per prescription of the caller, and nothing else
    assert sorted(opened.namelist()) == sorted(["export.json", *map(_pdf_name, mine)])
    assert _pdf_name(theirs) not in opened.namelist()
    for rx, prescriber in zip(mine, ("Dr. Asha Menon", "Dr. Vikram Rao"), strict=True):
        pdf = opened.read(_pdf_name(rx))
        assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
        text = _text(pdf)
        assert rx["prescriptionNumber"] in text and prescriber in text and "Mina Export" in text
        assert "Otto Other" not in text
    assert "Migraine without aura" in _text(opened.read(_pdf_name(mine[1])))


def test_a_caller_without_prescriptions_gets_the_json_alone(api: Any) -> None:
    # Given a doctor who has never been prescribed anything (any role may export)
    me = doctor()
    # When they ask for the zip
    response = call(api, "GET", "/me/export?format=zip", as_=me)
    # Then it holds export.json only, their profile in it
    assert response.status_code == 200
    opened = _opened(response.body)
    assert opened.namelist() == ["export.json"]
    document = json.loads(opened.read("export.json"))
    assert document["profile"]["_id"] == str(me["_id"]) and document["prescriptions"] == []


def test_an_export_larger_than_one_answer_is_a_413_that_names_the_json_export(api: Any, monkeypatch: Any) -> None:
    # Given a patient with three prescriptions, and the answer limit lowered below one PDF
    me, author = patient(), doctor()
    for _ in range(3):
        issue(api, author, me)
    monkeypatch.setattr(archive, "MAX_BYTES", 10_000)
    from functions.prescriptions import pdf

    rendered: list[str] = []
    render = pdf.render
    monkeypatch.setattr(pdf, "render", lambda rx, *a: rendered.append(rx["prescriptionNumber"]) or render(rx, *a))
    # When they ask for the zip
    response = call(api, "GET", "/me/export?format=zip", as_=me)
    # Then 413, a JSON error that names the JSON-only export
    assert response.status_code == 413, response.body[:300]
    assert response.headers["Content-Type"] == "application/json"
    refusal = body(response)
    assert refusal["success"] is False and refusal["code"] == "EXPORT_TOO_LARGE"
    assert refusal["alternative"] == "GET /api/v1/me/export" and "GET /api/v1/me/export" in refusal["message"]
    # And the PDFs stopped being rendered once the archive was over the limit
    assert len(rendered) == 1
    # And the JSON export it names answers everything
    alternative = call(api, "GET", "/me/export", as_=me)
    assert alternative.status_code == 200 and len(body(alternative)["prescriptions"]) == 3


@pytest.mark.parametrize("asked", ["pdf", "tar.gz", "ZIPPED"])
def test_a_format_other_than_json_or_zip_is_a_400_naming_both(api: Any, asked: str) -> None:
    # Given a patient; When they ask for a format the export does not have
    response = call(api, "GET", f"/me/export?format={asked}", as_=patient())
    # Then a JSON 400 on `format` that says which formats there are
    assert response.status_code == 400
    refusal = body(response)
    assert [(e["field"], e["message"]) for e in refusal["errors"]] == [("format", "Input should be 'json' or 'zip'")]


def test_the_zip_and_the_json_export_spend_one_hourly_budget(api: Any) -> None:
    # Given a patient who exported twice as JSON and once as a zip (3 an hour by default)
    me = patient()
    assert call(api, "GET", "/me/export", as_=me).status_code == 200
    assert call(api, "GET", "/me/export?format=zip", as_=me).status_code == 200
    assert call(api, "GET", "/me/export?format=json", as_=me).status_code == 200
    # When they ask for either once more
    zipped = call(api, "GET", "/me/export?format=zip", as_=me)
    as_json = call(api, "GET", "/me/export", as_=me)
    # Then both are refused until the hour is over
    for refused in (zipped, as_json):
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert body(refused)["code"] == "RATE_LIMITED"


def test_only_the_zip_leaves_the_function_base64_encoded_and_its_answer_fits_lambdas_limit(
        api: Any, chalice_app: Any) -> None:
    # Given a patient with a prescription, asking with the existing frontend's Accept
    me = patient()
    issue(api, doctor(), me)
    frontend = {"Accept": "application/json", **bearer(me)}
    # When the app answers as a Lambda function would, the zip and the JSON export
    zipped = lambda_answer(chalice_app, "GET", "/me/export?format=zip", frontend)
    as_json = lambda_answer(chalice_app, "GET", "/me/export", frontend)
    # Then the zip is base64 (API Gateway decodes it for a binary Accept) and opens once decoded
    assert zipped["statusCode"] == 200 and zipped["isBase64Encoded"] is True
    assert "export.json" in _opened(base64.b64decode(zipped["body"])).namelist()
    # And everything else the answer carries (status, headers, keys) stays within the reserve the
    # raw limit keeps for it
    assert len(json.dumps({**zipped, "body": ""})) < archive.ANSWER_RESERVE // 4
    # And the JSON export is plain text, for any client
    assert as_json["statusCode"] == 200 and not as_json.get("isBase64Encoded")
    assert json.loads(as_json["body"])["success"] is True
    # And the app declares application/zip a binary type (what `chalice package` gives API Gateway)
    assert "application/zip" in chalice_app.api.binary_types


def test_the_zip_needs_a_session(api: Any) -> None:
    # Given no session; When the zip is asked for; Then a JSON 401
    response = api.http.get("/api/v1/me/export?format=zip", headers={"Accept": "application/zip"})
    assert response.status_code == 401 and body(response)["success"] is False


def test_the_document_describes_both_formats_and_the_413(chalice_app: Any) -> None:
    from functions.core import openapi

    # Given the API's document; When the export's operation is read
    operation = openapi.build(chalice_app, stage="prod")["paths"]["/api/v1/me/export"]["get"]
    # Then its success is the JSON model or a zip file, and its errors list the 413's code
    content = operation["responses"]["200"]["content"]
    assert content["application/json"]["schema"] == {"$ref": openapi.REF.format(model="ExportAnswer")}
    assert content["application/zip"]["schema"] == {"type": "string", "format": "binary"}
    assert {"EXPORT_TOO_LARGE", "PDF_FONTS_MISSING", "RATE_LIMITED"} <= set(operation["x-error-codes"])
