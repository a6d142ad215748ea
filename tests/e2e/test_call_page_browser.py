"""The call page in a real browser: headless Debian Chromium driven by Playwright (never
`playwright install`: the browser is /usr/bin/chromium), fake camera and microphone.

The REST API (`local.devserver`, i.e. chalice local) and the WebSocket gateway run as in
`make run`, on the test's own database; the patient and the doctor each sign in on the page,
join the appointment's room, and both RTCPeerConnections must reach `connected`; they chat; and
when the gateway drops one socket the page reconnects and the call is re-established."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest

from local.embedded_db import free_port
from tests.e2e.processes import Output
from tests.factories import PASSWORD
from tests.signaling_support import confirmed_appointment

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
         "--disable-background-networking", "--disable-dev-shm-usage"]

SECRET = "management-secret-of-this-test-run-0123456789"
CONNECTED = "() => window.cc && window.cc.pc && window.cc.pc.connectionState === 'connected'"

# Skipped on a developer machine without Chromium; in CI (.ci/run installs it) it must run.
pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM) and os.environ.get("CI") != "true",
                                reason="Debian's chromium is not installed (.ci/run installs it)")


@pytest.fixture
def system(db, tmp_path):
    """chalice local + the WebSocket gateway, both on the test's database."""
    api_port, ws_port, http_port = free_port(), free_port(), free_port()
    env = {**os.environ, "WS_MANAGEMENT_ENDPOINT": f"http://127.0.0.1:{http_port}", "WS_MANAGEMENT_SECRET": SECRET,
           "POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
    env.pop("AWS_ENDPOINT_URL", None)
    processes = []
    # Each prints a line once it accepts connections: chalice local "Serving on", the gateway
    # "• websocket" (after both of its ports are open).
    for name, argv, ready in (
        ("api", ["-m", "local.devserver", "--host", "127.0.0.1", "--port", str(api_port), "--stage", "dev"],
         "Serving on"),
        ("gateway", ["-m", "local.ws_gateway", "--port", str(ws_port), "--http-port", str(http_port),
                     "--api", f"http://127.0.0.1:{api_port}"], "• websocket"),
    ):
        process = subprocess.Popen([sys.executable, *argv], cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT)
        processes.append(process)
        output = Output(process)
        if not output.wait_for(ready, timeout=90):
            for started in processes:
                started.kill()
            pytest.fail(f"{name} did not come up:\n{output.text()}")
    yield SimpleNamespace(page=f"http://127.0.0.1:{http_port}/call/", ws=f"ws://127.0.0.1:{ws_port}",
                          management=f"http://127.0.0.1:{http_port}")
    for process in processes:
        process.send_signal(signal.SIGINT)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_patient_and_doctor_hold_a_video_call_and_chat_on_the_call_page(system, db):
    from playwright.sync_api import sync_playwright

    # Given a confirmed appointment starting in ten minutes
    appt, patient, doctor = confirmed_appointment(SimpleNamespace(current=datetime.now(UTC)))
    url = f"{system.page}?appointment={appt['_id']}&ws={system.ws}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            pages = {}
            # When the patient and the doctor each open the page and sign in
            for who, user in (("patient", patient), ("doctor", doctor)):
                page = browser.new_context().new_page()
                page.goto(url)
                page.fill("#contact", user["contact"])
                page.fill("#password", PASSWORD)
                page.click("#login")
                pages[who] = page
            # Then both peer connections reach `connected` (host candidates on loopback)
            for page in pages.values():
                page.wait_for_function(CONNECTED, timeout=60_000)
                assert page.get_attribute("#status", "data-state") == "connected"
            # And each side receives the other's video
            for page in pages.values():
                page.wait_for_function("() => { const v = document.getElementById('remote');"
                                       " return v.srcObject && v.srcObject.getVideoTracks().length > 0; }",
                                       timeout=30_000)
            # When the patient writes in the chat
            pages["patient"].fill("#chat-text", "Hello doctor <b>not bold</b>")
            pages["patient"].click("#chat-send")
            # Then the doctor sees it as text, and the patient sees it was read
            pages["doctor"].wait_for_selector("#messages li.theirs", timeout=20_000)
            assert pages["doctor"].inner_text("#messages li.theirs") == "Hello doctor <b>not bold</b>"
            pages["patient"].wait_for_selector("#messages li.mine .read", timeout=20_000)
            # When the gateway drops the patient's socket (as API Gateway does at its 2-hour cap)
            cid = db["connections"].find_one({"userId": patient["_id"]})["_id"]
            dropped = urllib.request.Request(  # noqa: S310 - loopback
                f"{system.management}/@connections/{quote(cid, safe='')}", method="DELETE",
                headers={"X-Local-Gateway-Secret": SECRET})
            with urllib.request.urlopen(dropped, timeout=10) as answer:  # noqa: S310 - loopback
                assert answer.status == 204
            # Then the page reconnects on its own, rejoins, and both sides are in a call again
            pages["patient"].wait_for_function(
                "() => window.cc.events.filter(e => e === 'ready').length >= 2", timeout=60_000)
            for page in pages.values():
                page.wait_for_function(CONNECTED, timeout=60_000)
            assert db["connections"].find_one({"_id": cid}) is None
        finally:
            browser.close()
    assert db["messages"].find_one({"roomId": appt["roomId"]})["readAt"] is not None
