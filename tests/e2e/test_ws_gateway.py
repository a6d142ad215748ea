"""End to end: two real WebSocket clients through the local gateway (`python -m local.ws_gateway`),
which runs the app's own ws_* Lambdas against the real embedded database and answers the
management API the app's sender posts to (WS_MANAGEMENT_ENDPOINT)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from local.embedded_db import free_port
from tests.e2e.processes import Output
from tests.factories import make_user
from tests.signaling_support import confirmed_appointment

ROOT = Path(__file__).resolve().parents[2]


SECRET = "management-secret-of-this-test-run-0123456789"
AUTH = {"X-Local-Gateway-Secret": SECRET}


class Gateway:
    def __init__(self, tmp: Path, api: str = "http://127.0.0.1:9") -> None:
        self.port, self.http_port = free_port(), free_port()
        env = {**os.environ, "WS_MANAGEMENT_ENDPOINT": f"http://127.0.0.1:{self.http_port}",
               "WS_MANAGEMENT_SECRET": SECRET,
               "POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local.ws_gateway", "--port", str(self.port), "--http-port", str(self.http_port),
             "--api", api, "--log-connections"], cwd=ROOT, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.out = Output(self.process)
        if not self.out.wait_for("• websocket", timeout=60):  # printed once both ports accept
            self.stop()
            pytest.fail("the gateway did not come up:\n" + self.output())

    def output(self) -> str:
        return self.out.text()

    def url(self, user: dict[str, Any]) -> str:
        from functions.core.security import issue_token

        return f"ws://127.0.0.1:{self.port}/?token={issue_token(user)[0]}"

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=30)


@pytest.fixture
def gateway(db, tmp_path):
    running = Gateway(tmp_path)
    yield running
    running.stop()


def receive(ws: Any, wanted: str) -> dict[str, Any]:
    """The next frame of type `wanted` (frames of other types on the way are skipped)."""
    while True:
        frame = json.loads(ws.recv(timeout=20))
        if frame["type"] == wanted:
            return frame


def test_a_call_is_set_up_and_chatted_through_the_local_gateway(gateway, db):
    # Given a confirmed appointment starting in ten minutes (real time: the gateway's clock)
    appt, patient, doctor = confirmed_appointment(SimpleNamespace(current=datetime.now(UTC)))
    room = appt["roomId"]
    with connect(gateway.url(patient)) as p, connect(gateway.url(doctor)) as d:
        # When both join the room
        p.send(json.dumps({"action": "join-room", "roomId": room}))
        assert receive(p, "joined")["waiting"] is True
        d.send(json.dumps({"action": "join-room", "roomId": room}))
        # Then both are told the call can start
        assert receive(d, "ready")["initiator"] is True
        assert receive(p, "ready")["peer"] == str(doctor["_id"])
        # When they exchange offer, answer and an ICE candidate
        d.send(json.dumps({"action": "offer", "roomId": room, "offer": {"type": "offer", "sdp": "v=0 d"}}))
        assert receive(p, "offer")["offer"] == {"type": "offer", "sdp": "v=0 d"}
        p.send(json.dumps({"action": "answer", "roomId": room, "answer": {"type": "answer", "sdp": "v=0 p"}}))
        assert receive(d, "answer")["from"] == str(patient["_id"])
        d.send(json.dumps({"action": "ice-candidate", "roomId": room, "candidate": {"candidate": "candidate:1"}}))
        assert receive(p, "ice-candidate")["candidate"] == {"candidate": "candidate:1"}
        # And chat in the same room
        for ws in (p, d):
            ws.send(json.dumps({"action": "chat-join", "roomId": room}))
            receive(ws, "chat-joined")
        p.send(json.dumps({"action": "user-message", "roomId": room, "text": "Can you hear me?"}))
        heard = receive(d, "message")
        echo = receive(p, "message")
        # Then the message reached both, stored once with one id
        assert heard["text"] == "Can you hear me?" and heard["sender"] == str(patient["_id"])
        assert echo["id"] == heard["id"]
        assert db["messages"].count_documents({"roomId": room}) == 1
        # When the patient hangs up, the doctor hears it
        p.close()
        assert receive(d, "peer-left")["peer"] == str(patient["_id"])
    # And the gateway's $disconnect removed both connections
    assert gateway.out.wait_for("$disconnect of", timeout=20, times=2), gateway.output()
    assert db["connections"].count_documents({}) == 0


def test_a_connection_without_a_valid_token_is_refused(gateway, db):
    # When a browser connects with no token, and with a forged one
    for url in (f"ws://127.0.0.1:{gateway.port}/", f"ws://127.0.0.1:{gateway.port}/?token=forged"):
        with pytest.raises(InvalidStatus) as refused:
            connect(url).close()
        # Then the handshake is refused with 403, as API Gateway refuses it
        assert refused.value.response.status_code == 403


def test_the_management_api_answers_like_api_gateway(gateway, db):
    # Given a connected patient
    patient = make_user("patient")
    with connect(gateway.url(patient)) as ws:
        cid = db["connections"].find_one({"userId": patient["_id"]})["_id"]
        base = f"http://127.0.0.1:{gateway.http_port}/@connections/"
        # When a frame is posted through boto3 and the connection is described
        import boto3

        client = boto3.client("apigatewaymanagementapi", endpoint_url=f"http://127.0.0.1:{gateway.http_port}")
        client.meta.events.register("before-sign.apigatewaymanagementapi",
                                    lambda request, **_: request.headers.__setitem__(*next(iter(AUTH.items()))))
        client.post_to_connection(ConnectionId=cid, Data=b'{"type":"hello"}')
        info = client.get_connection(ConnectionId=cid)
        # Then the browser got it, and the description has API Gateway's fields
        assert json.loads(ws.recv(timeout=10)) == {"type": "hello"}
        assert info["Identity"]["SourceIp"] == "127.0.0.1"
        # And an unknown connection is 410 GoneException
        with pytest.raises(client.exceptions.GoneException):
            client.post_to_connection(ConnectionId="unknown=", Data=b"{}")
        with pytest.raises(urllib.error.HTTPError) as gone:
            urllib.request.urlopen(urllib.request.Request(base + "unknown%3D", method="DELETE", headers=AUTH),  # noqa: S310
                                   timeout=10)
        assert gone.value.code == 410


def test_ctrl_c_closes_connections_and_exits(tmp_path, db):
    # Given a gateway with a connected client
    running = Gateway(tmp_path)
    patient = make_user("patient")
    with connect(running.url(patient)) as ws:
        # When it gets Ctrl-C
        code = running.stop()
        # Then it exits cleanly, the client was closed (going away) and its connection removed
        assert code == 0
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
    assert db["connections"].count_documents({}) == 0


def test_a_rest_side_push_reaches_the_browser_through_the_configured_endpoint(gateway, db, monkeypatch):
    from functions.core import config
    from functions.signaling import api, sender

    # Given the API's process configured like make run's (WS_MANAGEMENT_ENDPOINT = the gateway)
    monkeypatch.setenv("WS_MANAGEMENT_ENDPOINT", f"http://127.0.0.1:{gateway.http_port}")
    monkeypatch.setenv("WS_MANAGEMENT_SECRET", SECRET)
    config.reset_settings()
    sender.reset()
    patient = make_user("patient")
    with connect(gateway.url(patient)) as first, connect(gateway.url(patient)) as second:
        assert db["connections"].count_documents({"userId": patient["_id"]}) == 2  # $connect ran before the handshake
        # When a REST use case pushes to the patient (as /notify-doctor-joined does)
        frame = {"type": "doctor-joined", "roomId": "r", "doctorName": "Dr. Rao"}  # as the protocol documents it
        delivered = api.push_to_user(patient["_id"], frame)
        # Then each of their open pages gets it
        assert delivered == 2
        for ws in (first, second):
            assert json.loads(ws.recv(timeout=10)) == frame
    sender.reset()


def _http(url: str, method: str = "GET", headers: dict[str, str] | None = None, body: bytes | None = None
          ) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_the_management_api_refuses_a_caller_without_the_runs_secret(gateway, db):
    # Given a connected patient
    patient = make_user("patient")
    with connect(gateway.url(patient)) as ws:
        cid = quote(db["connections"].find_one({"userId": patient["_id"]})["_id"], safe="")
        url = f"http://127.0.0.1:{gateway.http_port}/@connections/{cid}"
        # When another program on this machine posts a frame, describes or closes the socket,
        # without the secret or with a wrong one
        for headers in ({}, {"X-Local-Gateway-Secret": "guessed"}):
            assert _http(url, "POST", headers, b'{"type":"fake-offer"}')[0] == 403
            assert _http(url, "GET", headers)[0] == 403
            assert _http(url, "DELETE", headers)[0] == 403
        # Then nothing reached the browser and the socket is still open; the app's own post does
        assert _http(url, "POST", AUTH, b'{"type":"real"}')[0] == 200
        assert json.loads(ws.recv(timeout=10)) == {"type": "real"}


def test_every_page_and_api_of_the_gateway_refuses_a_foreign_host(gateway, db):
    # Given a page whose DNS name was rebound to 127.0.0.1 (its requests name its own host)
    base, foreign = f"http://127.0.0.1:{gateway.http_port}", {"Host": f"evil.example:{gateway.http_port}"}
    cid = "unknown%3D"
    # Then the call page, the API proxy, the management API and the local pages refuse it
    for path, method in (("/call/", "GET"), ("/api/v1/health", "GET"), (f"/@connections/{cid}", "POST"),
                         (f"/@connections/{cid}", "GET"), ("/inbox/", "GET")):
        status, _ = _http(base + path, method, {**foreign, **AUTH})
        assert status == 403, (path, status)
    # And so does the WebSocket handshake
    patient = make_user("patient")
    with pytest.raises(InvalidStatus) as refused:
        connect(gateway.url(patient), additional_headers={"Host": f"evil.example:{gateway.port}"}).close()
    assert refused.value.response.status_code == 403
    # While its own names are served
    assert _http(base + "/call/")[0] == 200
    assert _http(f"http://localhost:{gateway.http_port}/call/")[0] == 200


def test_the_api_proxy_forwards_the_pages_origin(db, tmp_path):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[dict[str, str]] = []

    class Api(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append({k.lower(): v for k, v in self.headers.items()})
            self.send_response(403)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    api = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    running = Gateway(tmp_path, api=f"http://127.0.0.1:{api.server_address[1]}")
    try:
        # When a foreign page posts a form through the gateway's /api proxy
        status, _ = _http(f"http://127.0.0.1:{running.http_port}/api/v1/logout", "POST",
                          {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site",
                           "Content-Type": "application/x-www-form-urlencoded"}, b"a=1")
    finally:
        running.stop()
        api.shutdown()
    # Then the API saw the browser's Origin and Sec-Fetch-Site (so its same-site rule can refuse
    # it), with the page's Host and scheme to compare them with
    assert status == 403
    assert seen[0]["origin"] == "https://evil.example" and seen[0]["sec-fetch-site"] == "cross-site"
    assert seen[0]["host"] == f"127.0.0.1:{running.http_port}" and seen[0]["x-forwarded-proto"] == "http"
