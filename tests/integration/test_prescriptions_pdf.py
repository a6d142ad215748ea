"""GET /prescription/:id/pdf: a real PDF (D-09: the reference always sent 0 bytes), intact
through the binary path, readable, renderable, and in the scripts our users' names are in."""

import io
import shutil
import subprocess

import pytest
from pypdf import PdfReader

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
    from functions.prescriptions import pdf

    author, owner = doctor(), patient()
    rx = issue(api, author, owner)
    monkeypatch.setenv("PDF_FONT_DIR", str(tmp_path))
    config.reset_settings()
    monkeypatch.setattr(pdf, "_registered_dir", None)
    # When the PDF is asked for
    response = _pdf(api, owner, rx)
    # Then a 503 in the envelope, and the log names the setting and the package to install
    assert response.status_code == 503
    assert body(response)["code"] == "PDF_FONTS_MISSING"
    logged = "\n".join(json_log_lines)
    assert "PDF_FONT_DIR" in logged and "fonts-noto-core" in logged and "NotoSansDevanagari-Regular.ttf" in logged


def test_an_accept_header_without_pdf_is_refused_in_the_envelope(api):
    # Given a prescription
    author, owner = doctor(), patient()
    rx = issue(api, author, owner)
    # When a client that only accepts JSON asks for the PDF
    response = _pdf(api, owner, rx, accept="application/json")
    # Then 400 in the JSON envelope (API Gateway could not send binary to it)
    assert response.status_code == 400
    assert body(response)["success"] is False
