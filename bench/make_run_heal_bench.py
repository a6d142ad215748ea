"""How fast `make run` heals (issue 19 §4): each process it starts is killed (SIGKILL, by PID)
and the time is printed until make run says it is up again and until it serves again: the API's
`GET /api/v1/health` answers 200 with the database (PostgreSQL, FerretDB, the API, the sweeper),
the WebSocket gateway answers a ping, stripe-mock a Stripe call. Before the supervisor, none of
them came back (a killed PostgreSQL or FerretDB stayed a zombie; a killed API ended make run).

    .venv/bin/python bench/make_run_heal_bench.py [--rounds 3]

Figures depend on the machine and on its load; they are printed, never judged.
"""
# ruff: noqa: S310  (every URL here is the loopback system the bench started)

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.make_run import RunningSystem  # noqa: E402

CHILDREN = ("postgresql", "ferretdb", "api", "gateway", "sweeper", "stripe-mock")


def _until(check: Callable[[], bool], within: float = 180.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < within:
        try:
            if check():
                return time.monotonic() - start
        except (OSError, ValueError):
            pass
    raise SystemExit("not back within 180 s")


def _healthy(system: RunningSystem) -> bool:
    status, body = system.call("GET", "/health")
    return status == 200 and body["db"] == "ok"


def _serves(system: RunningSystem, name: str, token: str) -> Callable[[], bool]:
    if name == "gateway":
        return lambda: system.websocket_ping(token) == {"type": "pong"}
    if name == "stripe-mock":
        def stripe() -> bool:
            request = urllib.request.Request(f"{system.stripe_mock}/v1/balance",
                                             headers={"Authorization": "Bearer sk_test_123"})
            with urllib.request.urlopen(request, timeout=30) as answer:
                return bool(answer.status == 200)
        return stripe
    return lambda: _healthy(system)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="kills of each process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        system = RunningSystem(Path(tmp))
        try:
            status, user = system.call("POST", "/register", {"name": "Bench Person", "contact": "heal@example.com",
                                                            "password": "a-long-enough-pass"})
            assert status == 201, user
            up: dict[str, list[float]] = {name: [] for name in CHILDREN}
            serving: dict[str, list[float]] = {name: [] for name in CHILDREN}
            for round_ in range(1, args.rounds + 1):
                for name in CHILDREN:
                    pid = system.pid_of(name)
                    start = time.monotonic()
                    os.kill(pid, signal.SIGKILL)
                    line = f"• restart    {name} up again"
                    if not system.output.wait_for(line, timeout=180, times=round_):
                        raise SystemExit(f"{name} did not come back:\n{system.output.text()[-3000:]}")
                    up[name].append(time.monotonic() - start)
                    serves = _serves(system, name, user["token"])
                    _until(serves)
                    serving[name].append(time.monotonic() - start)
                    # Before the next kill, the API and its database are back too
                    _until(lambda: _healthy(system))
        finally:
            system.stop()
    print(f"make run: seconds from SIGKILL until back, {args.rounds} kills of each process (median / max;")
    print("a kill within 30 s of the last start waits the doubled delay)")
    print(f"  {'process':12} {'up again (make run says)':>26} {'serving again':>18}")
    for name in CHILDREN:
        print(f"  {name:12} {statistics.median(up[name]):17.2f} / {max(up[name]):5.2f} "
              f"{statistics.median(serving[name]):10.2f} / {max(serving[name]):5.2f}")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except urllib.error.URLError as exc:
        raise SystemExit(f"the system did not answer: {exc}") from None
