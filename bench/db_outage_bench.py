"""What a caller sees while the database is away (issue 19 §3): the embedded server is stopped
under a running API, and the bench prints how each route answers (status, code) and how long it
took, then starts the server again and prints the time until the API serves again (no restart
of the API). Before issue 19: 500 `INTERNAL` after about 5.3 s on every route but `/health`.

    .venv/bin/python bench/db_outage_bench.py [--requests 5]

Settings as deployed (MONGODB_TIMEOUT_MS's default); figures depend on the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._harness import bench_app  # noqa: E402

ROUTES = (("GET", "/api/v1/doctors", None),
          ("POST", "/api/v1/login", {"contact": "asha@example.com", "password": "whatever-it-is-42"}),
          ("GET", "/api/v1/medicines", None),
          ("GET", "/api/v1/health", None))
BUDGET_S = 29.0 / 4  # API Gateway gives up at 29 s; answer well before it


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=5)
    args = parser.parse_args()
    from local.embedded_db import EmbeddedDB

    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedDB(Path(tmp), durable=False).start()
        os.environ["MONGODB_URI"] = server.uri  # the bench's own server, which it stops and starts
        try:
            with bench_app() as (client, _):
                assert client.http.get("/api/v1/doctors").status_code == 200
                server.stop()
                print(f"the database ({server.uri}) stopped under the running API")
                print(f"{'route':<28} {'status':>6} {'code':<16} {'median s':>8} {'budget s':>8}")
                for method, path, payload in ROUTES:
                    _print_answers(client, method, path, payload, args.requests)
                start = time.monotonic()
                server.start()
                while client.http.get("/api/v1/doctors").status_code != 200:
                    pass
                print(f"serving again {time.monotonic() - start:.2f} s after the database started "
                      "(from the start command, its own start-up included; no API restart)")
        finally:
            server.stop()
    return 0


def _print_answers(client: Any, method: str, path: str, payload: Any, requests: int) -> None:
    took, answers = [], set()
    for _ in range(requests):
        start = time.monotonic()
        response = client.http.request(method, path, headers={"Content-Type": "application/json"},
                                       body=json.dumps(payload).encode() if payload else b"")
        took.append(time.monotonic() - start)
        answers.add((response.status_code, json.loads(response.body or b"{}").get("code", "")))
    for status, code in sorted(answers):
        print(f"{method + ' ' + path:<28} {status:>6} {code:<16} {statistics.median(took):>8.2f} {BUDGET_S:>8.2f}")


if __name__ == "__main__":
    sys.exit(main())
