"""GET /prescription/:id/pdf: a real PDF (D-09: the reference always sent 0 bytes), intact
through the binary path, readable, renderable, and in the scripts our users' names are in."""

import base64
import io
import json
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from tests.factories import bearer
from tests.http import lambda_answer
from tests.prescriptions_support import FIVE_MEDICINES, body, doctor, get, issue, patient

pytestmark = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs Debian poppler-utils (.ci/run)")


def _pdf(client, who, rx, accept="application/pdf"):
    return get(client, who, f"/prescription/{rx['_id']}/pdf", Accept=accept)


def _text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_pdf_arrives_intact_with_its_file_name(api):
    # Given a prescription
    author, owner = doctor(), patient()
    rx = issue(api, author, owner)
    # When the patient downloads it asking for a PDF
    response = _pdf(api, owner, rx)
    # Then the body is the PDF's bytes (not base64, not empty), named after the prescription number
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    expected_name = f"prescription-{rx['prescriptionNumber']}.pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{expected_name}"'
    assert response.body.startswith(b"%PDF-") and response.body.rstrip().endswith(b"%%EOF")
    assert len(PdfReader(io.BytesIO(response.body)).pages) >= 1


def test_a_browser_accept_header_gets_the_pdf_too(api):
    # Given a prescription
    author, owner = doctor(), patient()
    rx = issue(api, author, owner)
    # When a browser (Accept with */*) downloads it
    response = _pdf(api, owner, rx, accept="text/html,application/xhtml+xml,*/*;q=0.8")
    # Then the same PDF comes back
    assert response.status_code == 200 and response.body.startswith(b"%PDF-")


def test_the_pdf_text_has_every_medicine_the_code_and_the_parties(api):
    # Given a prescription with five medicines by a doctor with a registration number
    author = doctor(name="Anita Desai", speciality="Pulmonology", registrationNumber="MMC-2011-04417")
    owner = patient(name="Rahul Verma", dateOfBirth="1990-05-17")
    rx = issue(api, author, owner)
    # When its PDF is downloaded and its text extracted
    text = _text(_pdf(api, owner, rx).body)
    # Then every medicine, the number, the verification code and the people are in it
    for med in FIVE_MEDICINES:
        assert med["name"] in text
    assert rx["prescriptionNumber"] in text and rx["verificationCode"] in text
    for expected in ("Dr. Anita Desai", "Pulmonology", "MMC-2011-04417", "Rahul Verma", "35 years", "Acute bronchitis",
                     "Page 1 of 1", "/prescription/verify/"):
        assert expected in text


def test_page_one_renders_to_a_png(api, tmp_path):
    # Given a downloaded prescription PDF
    author, owner = doctor(), patient()
    pdf = tmp_path / "rx.pdf"
    pdf.write_bytes(_pdf(api, owner, issue(api, author, owner)).body)
    # When poppler renders page 1
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(tmp_path / "page")], check=True, capture_output=True, timeout=60)
    # Then a PNG image comes out
    png = (tmp_path / "page.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 2000


@pytest.mark.parametrize("name", ["Zofia Łukasiewicz-Żółć", "प्रिया शर्मा", "Анна Смирнова"])
def test_names_in_polish_hindi_and_russian_are_printed(api, name):
    # Given a patient whose name is written in Polish, Hindi (Devanagari) or Russian (Cyrillic)
    author, owner = doctor(), patient(name=name)
    rx = issue(api, author, owner)
    # When their prescription is downloaded
    text = _text(_pdf(api, owner, rx).body)
    # Then the name comes back out of the PDF's text exactly as written
    assert name in text


def test_medicines_with_long_text_flow_onto_a_second_page(api):
    # Given a prescription with twenty medicines with long instructions
    author, owner = doctor(), patient()
    meds = [{**FIVE_MEDICINES[i % 5], "name": f"Medicine {i:02d}", "instructions": "Take with water. " * 20}
            for i in range(20)]
    rx = issue(api, author, owner, medications=meds)
    # When it is downloaded
    reader = PdfReader(io.BytesIO(_pdf(api, owner, rx).body))
    # Then it has several numbered pages and every medicine is on one of them
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 2 and f"Page 2 of {len(reader.pages)}" in text
    assert all(f"Medicine {i:02d}" in text for i in range(20))


def test_a_revoked_prescription_says_so_on_paper(api):
    # Given a prescription the doctor revoked
    author, owner = doctor(), patient()
    rx = issue(api, author, owner)
    from tests.prescriptions_support import put

    assert put(api, author, f"/prescription/{rx['_id']}/revoke", {"reason": "Wrong dose"}).status_code == 200
    # When it is downloaded
    text = _text(_pdf(api, owner, rx).body)
    # Then the page says it must not be dispensed
    assert "REVOKED" in text and "must not be dispensed" in text


def test_missing_fonts_are_a_503_that_names_the_setting(api, monkeypatch, tmp_path, json_log_lines):
    # Given a container whose PDF_FONT_DIR has no fonts
    from functions.core import config

    author, owner = doctor(), patient()
    rx = issue(api, author, owner)
    monkeypatch.setenv("PDF_FONT_DIR", str(tmp_path))
    config.reset_settings()
    # When the PDF is asked for
    response = _pdf(api, owner, rx)
    # Then a 503 in the envelope, and the log names the setting and the package to install
    assert response.status_code == 503
    assert body(response)["code"] == "PDF_FONTS_MISSING"
    logged = "\n".join(json_log_lines)
    assert "PDF_FONT_DIR" in logged and "fonts-noto-core" in logged and "NotoSansDevanagari-Regular.ttf" in logged


@pytest.mark.parametrize("accept", ["application/json", "application/json, text/plain, */*", "text/html", None])
def test_the_pdf_answers_whatever_the_accept_header(api, accept):
    # Given a prescription
    author, owner = doctor(), patient()
    rx = issue(api, author, owner)
    # When a client that names no PDF type asks for it (the existing frontend's axios sends
    # `Accept: application/json` with `responseType: 'blob'`), or names no type at all
    response = _pdf(api, owner, rx, accept=accept) if accept else api.http.get(
        f"/api/v1/prescription/{rx['_id']}/pdf", headers=bearer(owner))
    # Then it gets the PDF's bytes, not Chalice's 400 for a binary answer to that Accept
    assert response.status_code == 200, response.body[:200]
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.body.startswith(b"%PDF-")


def test_the_qr_code_and_the_printed_link_open_the_apis_own_verification_page(api, monkeypatch):
    from functions.core import config
    from functions.prescriptions import pdf

    encoded = []
    real_qr = pdf.qr_code
    monkeypatch.setattr(pdf, "qr_code", lambda url, *a, **kw: encoded.append(url) or real_qr(url, *a, **kw))
    # Given a prescription by a doctor whose name already carries the title
    owner = patient()
    rx = issue(api, doctor(name="Dr. Ananya Iyer"), owner)
    # When its PDF is made (PUBLIC_BASE_URL empty: the link goes through the frontend's proxy)
    text = _text(_pdf(api, owner, rx).body)
    # Then the QR code and the printed link are the API's verification route, under /api/v1
    url = f"https://app.cureconnect.test/api/v1/prescription/verify/{rx['verificationCode']}"
    assert encoded == [url] and url in text
    # And the doctor's title prints once, under the name and under the signature
    assert text.count("Dr. Ananya Iyer") == 2 and "Dr. Dr." not in text
    # And that link answers (the path the proxy forwards)
    assert api.http.get(url.removeprefix("https://app.cureconnect.test")).status_code == 200
    # And with PUBLIC_BASE_URL set, the link is on the API's public URL
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://api.cureconnect.test")
    config.reset_settings()
    _pdf(api, owner, rx)
    assert encoded[-1] == f"https://api.cureconnect.test/api/v1/prescription/verify/{rx['verificationCode']}"


def test_json_bodies_arrive_base64_in_the_split_stack_and_are_read_as_json(api, chalice_app):
    # Given the deployed API's binary media types, which include the frontend's application/json
    # (infra/split_routes.py), so API Gateway base64-encodes every JSON request body
    deployed_types = [*chalice_app.api.binary_types, "application/json"]
    user = patient()
    # When the frontend posts JSON (its profile edit)
    answer = lambda_answer(chalice_app, "PUT", "/me", {"Content-Type": "application/json",
                                                        "Accept": "application/json", **bearer(user)},
                            body=json.dumps({"name": "Base Sixtyfour"}).encode(), gateway_binary_types=deployed_types)
    # Then the function reads the JSON and answers plain JSON text (only binary routes encode)
    assert answer["statusCode"] == 200 and not answer.get("isBase64Encoded")
    assert json.loads(answer["body"])["user"]["name"] == "Base Sixtyfour"


def test_only_the_pdf_route_answers_base64_and_all_of_its_answers_are(api, chalice_app):
    # Given a prescription, its patient and a stranger, each asking with the frontend's Accept
    owner = patient()
    rx = issue(api, doctor(), owner)
    frontend = {"Accept": "application/json"}
    # When the app answers as a Lambda function would
    pdf = lambda_answer(chalice_app, "GET", f"/prescription/{rx['_id']}/pdf", {**frontend, **bearer(owner)})
    refused = lambda_answer(chalice_app, "GET", f"/prescription/{rx['_id']}/pdf", {**frontend, **bearer(patient())})
    listed = lambda_answer(chalice_app, "GET", "/prescriptions", {**frontend, **bearer(owner)})
    # Then both answers of the PDF route are base64 (its integration decodes every answer), the
    # refusal a JSON envelope inside
    assert pdf["statusCode"] == 200 and pdf["isBase64Encoded"] is True
    assert base64.b64decode(pdf["body"]).startswith(b"%PDF-")
    assert refused["statusCode"] == 404 and refused["isBase64Encoded"] is True
    assert json.loads(base64.b64decode(refused["body"]))["success"] is False
    # And a JSON route answers plain text, as before
    assert listed["statusCode"] == 200 and not listed.get("isBase64Encoded")
    assert json.loads(listed["body"])["success"] is True
    # And outside a request the app's binary media types (what `chalice package` writes) are its own
    assert "*/*" not in chalice_app.api.binary_types and "application/pdf" in chalice_app.api.binary_types
