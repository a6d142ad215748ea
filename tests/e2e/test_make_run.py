"""End to end: the system `make run` starts, over real HTTP.

Starts `python -m local.run` (embedded FerretDB, moto server, chalice local, sweeper) on free
ports with its own data directory, walks a patient and a doctor through sign-up, approval,
availability, slots, booking and reading the appointment, then stops it with Ctrl-C (SIGINT)
and checks that everything it started has ended.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import subprocess
import sys
import threading
import urllib.request
import zipfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.make_run import EXTERNAL_MONGODB_URI, RunningSystem, children_of

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory):
    running = RunningSystem(tmp_path_factory.mktemp("make-run"))
    yield running
    running.stop()


def test_health_answers_with_a_live_database(system):
    status, body = system.call("GET", "/health")
    assert status == 200
    assert body["db"] == "ok"


@pytest.mark.skipif(bool(EXTERNAL_MONGODB_URI), reason="an external server: nothing embedded to describe")
def test_make_run_says_which_database_server_it_started(system):
    # Then the user reads the server, its backend and that it is the patched build
    from local.embedded_db import default_backend, patch_names

    started = next(line for line in system.lines if line.startswith("• database"))
    assert f"FerretDB v1.24.2 (patched: {', '.join(patch_names())})" in started
    assert "atomic-writes" in patch_names() and "index-order" in patch_names()
    assert f"on {default_backend()}" in started


def test_a_patient_books_an_approved_doctor_over_http(system):
    # Given a doctor who signed up and was approved by an admin created with the CLI
    status, doctor = system.call("POST", "/register", {"name": "Dr Meera Iyer", "contact": "meera@clinic.example",
                                                      "password": "long-enough-pass", "role": "doctor",
                                                      "speciality": "dermatology", "timezone": "UTC"})
    assert status == 201 and doctor["user"]["approvalStatus"] == "pending"
    env = {**os.environ, **system.database, "ADMIN_PASSWORD": "admin-pass-123456"}
    created = subprocess.run([sys.executable, "-m", "functions.auth.admin", "create-admin", "--contact",
                              "root@clinic.example", "--name", "Clinic Admin"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stdout + created.stderr
    status, admin = system.call("POST", "/login", {"contact": "root@clinic.example",
                                                   "password": "admin-pass-123456"})
    assert status == 200
    doctor_id = doctor["user"]["_id"]
    status, _ = system.call("PUT", f"/admin/user/{doctor_id}/approval", {"status": "approved"},
                            token=admin["token"])
    assert status == 200
    # And a patient
    status, patient = system.call("POST", "/register", {"name": "Kiran Shah", "contact": "kiran@example.com",
                                                       "password": "another-long-pass"})
    assert status == 201
    # When the patient asks for a day's slots (three days ahead: past the notice, within the
    # horizon) and books the first one, written as "9:00"
    day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    status, slots = system.call("GET", f"/appointment/slots/{doctor_id}/{day}")
    assert status == 200 and slots["availableSlots"][0] == "09:00"
    status, booked = system.call("POST", "/appointment/new", {"doctor": doctor_id, "description": "rash",
                                                              "symptoms": "itchy rash", "day": day,
                                                              "time": "9:00"}, token=patient["token"])
    # Then the booking holds, the slot is gone, and only the participants can read it
    assert status == 201, booked
    status, slots = system.call("GET", f"/appointment/slots/{doctor_id}/{day}")
    assert "09:00" not in slots["availableSlots"]
    appointment_id = booked["appointment"]["_id"]
    assert system.call("GET", f"/appointment/{appointment_id}", token=patient["token"])[0] == 200
    status, other = system.call("POST", "/register", {"name": "Some One Else", "contact": "else@example.com",
                                                     "password": "yet-another-pass"})
    assert system.call("GET", f"/appointment/{appointment_id}", token=other["token"])[0] == 404


def test_the_websocket_gateway_and_the_call_page_answer(system):
    # Given a registered patient
    status, patient = system.call("POST", "/register", {"name": "Asha Rao", "contact": "asha@example.com",
                                                       "password": "a-long-enough-pass"})
    assert status == 201
    # When they open a WebSocket with their token and ping, and fetch the call page
    reply = system.websocket_ping(patient["token"])
    with urllib.request.urlopen(f"http://127.0.0.1:{system.ws_http_port}/call/", timeout=30) as page:
        html = page.read().decode()
    # Then the gateway ran the app's handlers, and the page is served
    assert reply == {"type": "pong"}
    assert "CureConnect video consultation" in html


def test_fifty_people_signing_up_at_once_all_get_an_answer(system):
    # Given 50 people pressing "sign up" at the same moment, each browser on a new connection
    barrier = threading.Barrier(50)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def sign_up(i: int) -> None:
        body = json.dumps({"name": f"Crowd Person {i}", "contact": f"crowd-{i}@example.com",
                           "password": "a-long-enough-pass"})
        barrier.wait(timeout=60)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", system.port, timeout=120)
            conn.request("POST", "/api/v1/register", body=body, headers={"Content-Type": "application/json"})
            outcome = str(conn.getresponse().status)
            conn.close()
        except ConnectionResetError:
            outcome = "reset"
        except OSError as exc:
            outcome = type(exc).__name__
        with lock:
            outcomes[outcome] += 1

    # When they all send it
    crowd = [threading.Thread(target=sign_up, args=(i,)) for i in range(50)]
    for person in crowd:
        person.start()
    for person in crowd:
        person.join()
    # Then no connection was reset and every one of them has an account
    assert outcomes["reset"] == 0, outcomes
    assert outcomes == Counter({"201": 50})


def test_ctrl_c_stops_everything_it_started(tmp_path):
    # Given a second, separate system whose WebSocket gateway answers
    running = RunningSystem(tmp_path)
    pids = children_of(running.process.pid)
    assert pids, "local.run started no child processes"
    status, user = running.call("POST", "/register", {"name": "Ravi Kumar", "contact": "ravi@example.com",
                                                     "password": "a-long-enough-pass"})
    assert status == 201 and running.websocket_ping(user["token"]) == {"type": "pong"}
    # When it gets Ctrl-C
    code = running.stop()
    # Then it exits cleanly and none of its children is left
    assert code == 0
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def _raw(system: RunningSystem, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{system.port}/api/v1{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback only
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_the_frontends_pdf_and_zip_downloads_and_the_qr_codes_page_under_chalice_local(system):
    from bson import ObjectId
    from pymongo import MongoClient

    # Given a doctor and a patient who signed up over HTTP, the doctor approved and a confirmed
    # appointment between them written straight into the system's database
    status, medic = system.call("POST", "/register", {"name": "Dr. Ananya Iyer", "contact": "ananya@clinic.example",
                                                     "password": "long-enough-pass", "role": "doctor"})
    assert status == 201
    status, owner = system.call("POST", "/register", {"name": "Rahul Verma", "contact": "rahul@example.com",
                                                     "password": "another-long-pass"})
    assert status == 201
    doctor_id, patient_id = ObjectId(medic["user"]["_id"]), ObjectId(owner["user"]["_id"])
    start = datetime.now(UTC) - timedelta(hours=1)
    appointment_id = ObjectId()
    with MongoClient(system.database["MONGODB_URI"], tz_aware=True) as client:
        db = client[system.database["MONGODB_DB"]]
        db.users.update_one({"_id": doctor_id}, {"$set": {"approvalStatus": "approved"}})
        db.appointments.insert_one({
            "_id": appointment_id, "doctor": doctor_id, "patient": patient_id, "status": "confirmed",
            "start": start, "end": start + timedelta(minutes=30), "day": start.strftime("%Y-%m-%d"),
            "time": start.strftime("%H:%M"), "description": "Cough", "slotKey": f"released|{appointment_id}",
            "patientSlotKey": f"released|{appointment_id}", "roomId": f"room-{appointment_id}",
            "createdAt": start})
    status, written = system.call("POST", "/prescription/new", {
        "patientId": str(patient_id), "appointmentId": str(appointment_id), "diagnosis": "Acute bronchitis",
        "medications": [{"name": "Amoxicillin", "dosage": "500 mg", "frequency": "3 times a day"}]},
        token=medic["token"])
    assert status == 201, written
    rx = written["prescription"]
    # When the patient's browser downloads the PDF the way the frontend does (through its proxy:
    # the cookie, a bare Origin, `Accept: application/json`)
    proxied = {"Cookie": f"token={owner['token']}", "Accept": "application/json", "Origin": "localhost:5173",
               "Sec-Fetch-Site": "same-origin", "X-Forwarded-Proto": "https"}
    status, headers, pdf = _raw(system, f"/prescription/{rx['_id']}/pdf", proxied)
    # Then chalice local sends the PDF's bytes
    assert status == 200, pdf[:300]
    assert headers["Content-Type"] == "application/pdf" and pdf.startswith(b"%PDF-")
    # And the patient's data export as a zip, downloaded the same way, arrives as bytes that open,
    # the prescription's PDF inside
    status, headers, archive = _raw(system, "/me/export?format=zip", proxied)
    assert status == 200, archive[:300]
    assert headers["Content-Type"] == "application/zip"
    opened = zipfile.ZipFile(io.BytesIO(archive))
    assert opened.testzip() is None
    assert opened.read(f"prescriptions/prescription-{rx['prescriptionNumber']}.pdf").startswith(b"%PDF-")
    assert json.loads(opened.read("export.json"))["profile"]["name"] == "Rahul Verma"
    # And the page its QR code opens answers a browser with HTML, the title printed once
    status, headers, page = _raw(system, f"/prescription/verify/{rx['verificationCode']}",
                                 {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "Valid prescription" in page.decode() and "Dr. Ananya Iyer" in page.decode()
