"""`make run` (`python -m local.run`) started by a test: free ports for every server it starts
(never the defaults, so a developer's own `make run` is never in the way), its own data
directory, and the line it prints once the API and the WebSocket gateway accept connections."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from local.embedded_db import free_port
from tests.e2e.processes import Output

ROOT = Path(__file__).resolve().parents[2]
# Read at import time: the per-test settings fixture replaces MONGODB_URI with a dummy.
EXTERNAL_MONGODB_URI = os.environ.get("MONGODB_URI")
READY = "• ready"
CONFIGURED = ("MONGODB_URI", "MONGODB_DB", "JWT_SECRET", "AWS_ENDPOINT_URL", "STRIPE_SECRET_KEY",
              "STRIPE_WEBHOOK_SECRET", "STRIPE_API_BASE", "CLOUDINARY_URL", "CLOUDINARY_API_BASE",
              "CLOUDINARY_DELIVERY_BASE", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER",
              "PUBLIC_BASE_URL", "GOOGLE_API_KEY", "REQUIRE_APPOINTMENT_PAYMENT", "STAGE")


class RunningSystem:
    def __init__(self, tmp: Path, env: dict[str, str] | None = None) -> None:
        self.port, db_port = free_port(), free_port()
        self.ws_port, self.ws_http_port = free_port(), free_port()
        self.data = tmp / "data"
        given = dict(env or {})
        stripe_port = free_port()
        self.stripe_mock = f"http://127.0.0.1:{stripe_port}"
        env = {**os.environ, "PORT": str(self.port), "FERRETDB_PORT": str(db_port),
               "MOTO_PORT": str(free_port()), "STRIPE_MOCK_PORT": str(stripe_port), "LOCAL_DATA_DIR": str(self.data),
               "WS_GATEWAY_PORT": str(self.ws_port), "WS_GATEWAY_HTTP_PORT": str(self.ws_http_port)}
        # Nothing of the test process's own configuration: make run decides, as on a fresh machine.
        for var in CONFIGURED:
            env.pop(var, None)
        env.update(given)
        # The database the system uses, so local tools (the admin CLI) can be pointed at it.
        self.database = {"MONGODB_URI": f"mongodb://127.0.0.1:{db_port}/", "MONGODB_DB": "cureconnect"}
        if EXTERNAL_MONGODB_URI:  # tests against an external server: the system uses it too
            self.database = {"MONGODB_URI": EXTERNAL_MONGODB_URI, "MONGODB_DB": f"e2e_{self.port}"}
            env.update(self.database)
        self.process = subprocess.Popen([sys.executable, "-m", "local.run"], cwd=ROOT, env=env, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.output = Output(self.process)
        if not self.output.wait_for(READY, timeout=240):
            self.stop()
            pytest.fail("make run did not come up:\n" + self.output.text())

    @property
    def lines(self) -> list[str]:
        return self.output.lines

    @property
    def pages(self) -> str:
        """The local pages' origin (the gateway's HTTP port)."""
        return f"http://127.0.0.1:{self.ws_http_port}"

    def call(self, method: str, path: str, payload: Any = None, token: str | None = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/v1{path}", data=data,
                                         headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def websocket_ping(self, token: str) -> dict[str, Any]:
        """Connect to the WebSocket gateway and answer its reply to a ping."""
        from websockets.sync.client import connect

        with connect(f"ws://127.0.0.1:{self.ws_port}/?token={token}", open_timeout=5) as ws:
            ws.send(json.dumps({"action": "ping"}))
            return dict(json.loads(ws.recv(timeout=20)))

    def pid_of(self, name: str) -> int:
        """The process make run started as `name` (the label of its restart lines), running now."""
        for pid in children_of(self.process.pid):
            try:
                argv = [arg.decode() for arg in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if arg]
            except OSError:
                continue
            if argv and (Path(argv[0]).name == PROGRAMS.get(name) or f"local.{MODULES.get(name)}" in argv):
                return pid
        raise LookupError(f"make run has no {name} process now:\n" + self.output.text()[-3000:])

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)


# What make run's processes are, by the name its restart lines give them.
PROGRAMS = {"postgresql": "postgres", "ferretdb": "ferretdb", "stripe-mock": "stripe-mock"}
MODULES = {"api": "devserver", "gateway": "ws_gateway", "sweeper": "sweeper", "outbox": "outbox_worker"}


def approved_doctor(system: RunningSystem, name: str, contact: str) -> str:
    """A doctor who signed up over HTTP, approved by an admin made with the operator CLI: their id."""
    status, doctor = system.call("POST", "/register", {"name": name, "contact": contact, "password": "long-enough-pass",
                                                      "role": "doctor", "timezone": "UTC"})
    assert status == 201, doctor
    admin_contact = f"admin-{doctor['user']['_id']}@clinic.example"
    env = {**os.environ, **system.database, "LOCAL_DATA_DIR": str(system.data), "ADMIN_PASSWORD": "admin-pass-123456"}
    created = subprocess.run([sys.executable, "-m", "functions.auth.admin", "create-admin", "--contact",
                              admin_contact, "--name", "Clinic Admin"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stdout + created.stderr
    status, admin = system.call("POST", "/login", {"contact": admin_contact, "password": "admin-pass-123456"})
    assert status == 200, admin
    status, body = system.call("PUT", f"/admin/user/{doctor['user']['_id']}/approval", {"status": "approved"},
                               token=admin["token"])
    assert status == 200, body
    return str(doctor["user"]["_id"])


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found
