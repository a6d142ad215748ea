"""The local API server (`python -m local.devserver`, i.e. `chalice local`) under a browser's
and a load test's traffic, before and after issue 19 §4 / issue 20 §3.

1. Latency of `GET /api/v1/doctors` on one keep-alive connection and on a new connection per
   request (median, p95), beside the 10 ms budget for keep-alive. Before the fix, a response's
   headers and body left in two writes, so Nagle's algorithm held the body until the client's
   delayed ACK (~40 ms) on a reused connection.
2. Connections reset when 20 and 50 clients sign up at once (`POST /api/v1/register`, each on a
   new connection, all released together). Before the fix, the listen backlog was
   socketserver's 5.

"Before" is the dev server of `--baseline` (a git revision; the file is taken with `git show`
into a temporary directory and run from there, against this checkout's code), "after" is this
checkout's. Both serve the same embedded database (or MONGODB_URI).

    .venv/bin/python bench/local_server_bench.py [--baseline 8391a2a] [--requests 200]

Figures depend on the machine and on its load; they are printed, never judged.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._harness import dev_server, median_p95  # noqa: E402
from local.embedded_db import EmbeddedDB  # noqa: E402

BASELINE = "8391a2a"  # the last dev server with socketserver's backlog of 5 and two writes per response
BUDGET_MS = 10.0  # keep-alive GET /doctors, locally (issue 20 §3)
PASSWORD = "correct-horse-battery"


def _started(argv: list[str], env: dict[str, str], stack: ExitStack) -> int:
    return dev_server(argv, env, stack, ROOT)


_ms = median_p95


def _get(conn: http.client.HTTPConnection) -> None:
    conn.request("GET", "/api/v1/doctors", headers={"Accept": "application/json"})
    response = conn.getresponse()
    response.read()
    if response.status != 200:
        raise SystemExit(f"GET /doctors answered {response.status}")


def latency(port: int, requests: int) -> dict[str, tuple[float, float]]:
    kept = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(10):  # warm the app, the pool and the connection
        _get(kept)
    reused: list[float] = []
    for _ in range(requests):
        start = time.perf_counter()
        _get(kept)
        reused.append(time.perf_counter() - start)
    kept.close()
    fresh: list[float] = []
    for _ in range(requests):
        start = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        _get(conn)
        conn.close()
        fresh.append(time.perf_counter() - start)
    return {"keep-alive": _ms(reused), "new connection": _ms(fresh)}


def burst(port: int, clients: int) -> Counter[str]:
    """`clients` sign-ups at once, each on its own new connection: what each got."""
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(clients)
    run = secrets.token_hex(3)

    def one(i: int) -> None:
        body = json.dumps({"name": f"Burst User {i}", "contact": f"burst-{run}-{i}@example.com",
                           "password": PASSWORD})
        barrier.wait(timeout=60)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            conn.request("POST", "/api/v1/register", body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            conn.close()
            outcome = str(response.status)
        except ConnectionResetError:
            outcome = "reset"
        except OSError as exc:
            outcome = type(exc).__name__
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default=BASELINE, help="git revision of the 'before' dev server")
    parser.add_argument("--requests", type=int, default=200, help="requests per latency figure")
    args = parser.parse_args()
    env = {**os.environ, "MONGODB_DB": f"bench_{secrets.token_hex(4)}", "STAGE": "dev",
           "JWT_SECRET": "bench-secret-that-is-long-enough-0123456789", "POWERTOOLS_METRICS_DISABLED": "true",
           "POWERTOOLS_LOG_LEVEL": "WARNING", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench",
           "AWS_SECRET_ACCESS_KEY": "bench", "PYTHONPATH": str(ROOT)}
    with ExitStack() as stack:
        if not env.get("MONGODB_URI"):
            db = stack.enter_context(EmbeddedDB(Path(stack.enter_context(tempfile.TemporaryDirectory())),
                                                durable=False))
            env["MONGODB_URI"] = db.uri
        subprocess.run([sys.executable, "-m", "functions.core.db", "ensure-indexes"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        old = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "devserver_before.py"
        old.write_text(subprocess.run(["git", "show", f"{args.baseline}:local/devserver.py"], cwd=ROOT, check=True,
                                      capture_output=True, text=True).stdout)
        variants = {f"before ({args.baseline})": [sys.executable, str(old)],
                    "after (this checkout)": [sys.executable, "-m", "local.devserver"]}
        print(f"GET /api/v1/doctors, {args.requests} requests each; budget for keep-alive {BUDGET_MS:.0f} ms")
        for label, argv in variants.items():
            with ExitStack() as server:
                port = _started(argv, env, server)
                figures = latency(port, args.requests)
                bursts = {clients: burst(port, clients) for clients in (20, 50)}
            print(f"\n{label}")
            for kind, (median, p95) in figures.items():
                within = "" if kind != "keep-alive" else ("  (within budget)" if p95 <= BUDGET_MS else
                                                          "  (OVER budget)")
                print(f"  {kind:15} median {median:6.1f} ms   p95 {p95:6.1f} ms{within}")
            for clients, outcomes in bursts.items():
                shown = ", ".join(f"{outcome}: {n}" for outcome, n in sorted(outcomes.items()))
                print(f"  {clients} sign-ups at once: {outcomes['reset']} reset   ({shown})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
