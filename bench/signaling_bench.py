"""Signaling benchmark.

1. Cost per WebSocket frame, through the app's real ws_message Lambda (in-process, embedded
   database, moto's management API): database round trips and management-API posts for each
   relayed offer / answer / ICE candidate (target: 1 and 1), and for the other frames.
2. Relay through the local gateway (`python -m local.ws_gateway`, a real WebSocket server):
   one patient and one doctor exchanging ICE candidates, one at a time (latency) and pipelined
   (throughput). The frame rate limit is lifted for this part only.

    .venv/bin/python bench/signaling_bench.py [--frames 200] [--pipelined 1000]

Figures depend on the machine and on its load; they are printed, never judged.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

from bench._harness import bench_app  # noqa: E402

API_ID = "bench1"


def _event(route_key: str, cid: str, body: str | None = None, token: str | None = None) -> dict[str, Any]:
    return {"requestContext": {"routeKey": route_key, "connectionId": cid, "apiId": API_ID, "stage": "api",
                               "domainName": f"{API_ID}.execute-api.us-east-1.amazonaws.com",
                               "requestId": secrets.token_hex(8), "eventType": "MESSAGE"},
            "queryStringParameters": {"token": token} if token else None, "isBase64Encoded": False, "body": body}


def _people() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    from bson import ObjectId

    from functions.core.db import get_db

    db, now = get_db(), datetime.now(UTC)
    common = {"active": True, "sessionVersion": 0, "approvalStatus": "approved"}
    patient = {"_id": ObjectId(), "name": "Bench Patient", "role": "patient",
               "contact": f"bp{secrets.token_hex(4)}@bench.test", **common}
    doctor = {"_id": ObjectId(), "name": "Bench Doctor", "role": "doctor",
              "contact": f"bd{secrets.token_hex(4)}@bench.test", **common}
    db["users"].insert_many([patient, doctor])
    appt = {"_id": ObjectId(), "patient": patient["_id"], "doctor": doctor["_id"], "status": "confirmed",
            "start": now + timedelta(minutes=5), "end": now + timedelta(minutes=35),
            "roomId": secrets.token_urlsafe(16), "slotKey": secrets.token_hex(8),
            "patientSlotKey": secrets.token_hex(8)}
    db["appointments"].insert_one(appt)
    return appt, patient, doctor


def per_frame_costs(counter: Any, frames: int) -> None:
    from chalice.local import LambdaContext

    import app as app_module
    from functions.core.security import issue_token
    from functions.signaling import sender

    handlers = app_module.app.handler_map
    sender.reset()

    def invoke(name: str, event: dict[str, Any]) -> tuple[list[str], int]:
        counter.reset()
        posts = sender.posts
        handlers[name](event, LambdaContext(name, memory_size=512))
        return list(counter.commands), sender.posts - posts

    appt, patient, doctor = _people()
    room = appt["roomId"]
    p, d = "Pbench000001=", "Dbench000001="
    rows: list[tuple[str, float, float, Counter[str]]] = []

    def record(label: str, samples: list[tuple[list[str], int]]) -> None:
        kinds: Counter[str] = Counter(c.split(":")[0] for cmds, _ in samples for c in cmds)
        rows.append((label, statistics.mean(len(c) for c, _ in samples),
                     statistics.mean(n for _, n in samples), kinds))

    record("$connect (token check + insert)", [
        invoke("ws_connect", _event("$connect", p, token=issue_token(patient)[0])),
        invoke("ws_connect", _event("$connect", d, token=issue_token(doctor)[0]))])
    record("join-room, first member", [invoke("ws_message", _event("$default", p, json.dumps(
        {"action": "join-room", "roomId": room})))])
    record("join-room, second member (pairs, 2x ready)", [invoke("ws_message", _event("$default", d, json.dumps(
        {"action": "join-room", "roomId": room})))])
    offer = {"type": "offer", "sdp": "v=0\r\n" + "a=x\r\n" * 200}
    relayed = {
        "offer": lambda: {"action": "offer", "roomId": room, "offer": offer},
        "answer": lambda: {"action": "answer", "roomId": room, "answer": {"type": "answer", "sdp": "v=0"}},
        "ice-candidate": lambda: {"action": "ice-candidate", "roomId": room,
                                  "candidate": {"candidate": "candidate:1 1 udp 2122260223 10.0.0.1 5000 typ host",
                                                "sdpMid": "0", "sdpMLineIndex": 0}},
    }
    for action, frame in relayed.items():
        samples = []
        for i in range(frames):
            who = d if (action != "answer") == (i % 2 == 0) else p
            samples.append(invoke("ws_message", _event("$default", who, json.dumps(frame()))))
            if i % 15 == 14:
                time.sleep(1.0)  # stay under WS_MAX_FRAMES_PER_SECOND (20) per connection
        record(f"{action} (relayed)", samples)
    record("ping (keep-alive)", [invoke("ws_message", _event("$default", p, json.dumps({"action": "ping"})))])
    for cid in (p, d):
        invoke("ws_message", _event("$default", cid, json.dumps({"action": "chat-join", "roomId": room})))
    record("user-message (store + 2 deliveries)", [invoke("ws_message", _event("$default", p, json.dumps(
        {"action": "user-message", "roomId": room, "text": "hello"})))])
    record("$disconnect (peer told)", [invoke("ws_disconnect", _event("$disconnect", p))])

    print(f"\nPer frame, through the ws_* Lambdas ({frames} samples per relayed kind)")
    print(f"{'frame':46} {'db round trips':>15} {'mgmt posts':>11}   commands")
    for label, trips, posts, kinds in rows:
        mark = "   <- target 1 / 1" if "relayed" in label else ""
        print(f"{label:46} {trips:15.2f} {posts:11.2f}   {dict(kinds)}{mark}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _gateway_relay(ws_port: int, tokens: tuple[str, str], room: str, frames: int, pipelined: int) -> None:
    from websockets.asyncio.client import connect

    url = f"ws://127.0.0.1:{ws_port}/?token="
    async with connect(url + tokens[0]) as p, connect(url + tokens[1]) as d:
        async def until(ws: Any, kind: str) -> dict[str, Any]:
            while True:
                frame = json.loads(await ws.recv())
                if frame["type"] == kind:
                    return dict(frame)

        await p.send(json.dumps({"action": "join-room", "roomId": room}))
        await until(p, "joined")
        await d.send(json.dumps({"action": "join-room", "roomId": room}))
        await until(d, "ready")
        await until(p, "ready")
        candidate = {"action": "ice-candidate", "roomId": room, "candidate": {"candidate": "candidate:1 1 udp 1 h"}}
        latencies = []
        for _ in range(frames):
            started = time.perf_counter()
            await p.send(json.dumps(candidate))
            await until(d, "ice-candidate")
            latencies.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()

        async def pump() -> None:
            for _ in range(pipelined):
                await p.send(json.dumps(candidate))

        sending = asyncio.create_task(pump())
        for _ in range(pipelined):
            await until(d, "ice-candidate")
        await sending
        elapsed = time.perf_counter() - started
    latencies.sort()
    print("\nThrough the local gateway (real WebSocket clients, app handlers, management API over HTTP)")
    print(f"  one at a time, {frames} ICE candidates: p50 {statistics.median(latencies):.1f} ms, "
          f"p95 {latencies[int(len(latencies) * 0.95) - 1]:.1f} ms, max {latencies[-1]:.1f} ms")
    print(f"  pipelined, {pipelined} ICE candidates: {pipelined / elapsed:.0f} relayed frames/s "
          f"({elapsed:.2f} s)")


def gateway_throughput(frames: int, pipelined: int) -> None:
    from functions.core.security import issue_token

    appt, patient, doctor = _people()
    ws_port, http_port = _free_port(), _free_port()
    env = {**os.environ, "WS_MANAGEMENT_ENDPOINT": f"http://127.0.0.1:{http_port}",
           "WS_MAX_FRAMES_PER_SECOND": "1000000",
           "WS_MAX_FRAMES_PER_USER_PER_SECOND": "1000000", "POWERTOOLS_METRICS_DISABLED": "true"}
    env.pop("AWS_ENDPOINT_URL", None)
    with tempfile.TemporaryFile() as log:
        gateway = subprocess.Popen([sys.executable, "-m", "local.ws_gateway", "--port", str(ws_port),
                                    "--http-port", str(http_port)], cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", ws_port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or gateway.poll() is not None:
                        log.seek(0)
                        raise SystemExit("gateway did not start:\n" + log.read().decode()) from None
                    time.sleep(0.1)
            tokens = (issue_token(patient)[0], issue_token(doctor)[0])
            asyncio.run(_gateway_relay(ws_port, tokens, appt["roomId"], frames, pipelined))
        finally:
            gateway.terminate()
            gateway.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--pipelined", type=int, default=1000)
    args = parser.parse_args()
    with bench_app() as (_client, counter):
        per_frame_costs(counter, max(1, args.frames // 4))
        gateway_throughput(args.frames, args.pipelined)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
