"""The running system keeps the promises of its own OpenAPI document: schemathesis generates
requests for every operation (a bounded number of examples each, from a fixed seed) against
`make run` (chalice local, the embedded database, moto), with NUL characters and lone surrogates
among the generated text (issue 19: no input gives a 500), and checks that no answer is a 5xx and
none contradicts the document (undocumented status, wrong content type, body off its schema).
And the docs page renders it in a real browser under its content security policy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.make_run import RunningSystem

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_PER_OPERATION = 6
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory):
    running = RunningSystem(tmp_path_factory.mktemp("schemathesis-run"))
    yield running
    running.stop()


def patient_token(system: RunningSystem) -> str:
    status, _ = system.call("POST", "/register", {"name": "Fuzz Patient", "contact": "fuzz@patient.example",
                                                 "password": "long-enough-pass", "role": "patient"})
    assert status == 201
    status, body = system.call("POST", "/login", {"contact": "fuzz@patient.example", "password": "long-enough-pass"})
    assert status == 200 and body["token"]
    return str(body["token"])


@pytest.mark.slow
@pytest.mark.parametrize("caller", ["anonymous", "patient"])
def test_no_operation_answers_a_5xx_or_contradicts_the_document(system, tmp_path, caller):
    # Given the system `make run` starts, the document it serves, and a caller (anonymous, or a
    # signed-in patient so the generated requests get past authentication)
    status, document = system.call("GET", "/openapi.json")
    assert status == 200 and document["paths"]
    headers = ["-H", f"Authorization: Bearer {patient_token(system)}"] if caller == "patient" else []
    # When schemathesis exercises every operation with a bounded number of generated requests
    schemathesis = Path(sys.executable).with_name("schemathesis")
    result = subprocess.run(
        [str(schemathesis), "run", f"http://127.0.0.1:{system.port}/api/v1/openapi.json",
         "--url", f"http://127.0.0.1:{system.port}", "--checks", CHECKS,
         "--max-examples", str(EXAMPLES_PER_OPERATION), "--phases", "examples,fuzzing",
         "--seed", "20261128", "--generation-deterministic", "--generation-allow-x00", "true",
         "--workers", "2", "--request-timeout", "30", "--no-color", "--suppress-health-check", "all",
         "--report-dir", str(tmp_path), *headers],
        cwd=tmp_path, capture_output=True, text=True, timeout=900, check=False,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks", "PYTHONPATH": str(ROOT)},
    )
    # Then it finds no failure
    output = result.stdout + result.stderr
    print(output[-3000:])
    assert result.returncode == 0, output[-12000:]
    assert "No issues found" in output or "passed" in output


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists() and os.environ.get("CI") != "true",
                    reason="Debian's chromium is not installed (.ci/run installs it; in CI this must run)")
def test_the_docs_page_renders_every_operation_in_a_browser(system):
    from playwright.sync_api import sync_playwright

    # Given the document the running system serves
    _, document = system.call("GET", "/openapi.json")
    operations = sum(len(methods) for methods in document["paths"].values())
    with sync_playwright() as playwright:
        flags = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=flags)
        try:
            page = browser.new_page()
            blocked: list[str] = []
            page.on("console", lambda message: blocked.append(message.text)
                    if "Content Security Policy" in message.text else None)
            # When a reader opens the docs page (its scripts and styles are this API's own files)
            page.goto(f"http://127.0.0.1:{system.port}/api/v1/docs")
            page.wait_for_selector(".swagger-ui .info .title", timeout=60_000)
            # Then Swagger UI shows the API, every operation, and the page's policy blocked nothing
            assert "CureConnect API" in page.inner_text(".swagger-ui .info .title")
            assert page.locator(".opblock").count() == operations
            assert blocked == []
        finally:
            browser.close()
