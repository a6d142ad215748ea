"""Shared set-up for benchmarks: a real database (embedded FerretDB or MONGODB_URI), the app
through chalice.test.Client, and a pymongo command listener that counts round trips.

    with bench_app() as (client, counter):
        response, commands = measure(client, counter, "GET", "/api/v1/me", headers=...)
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pymongo import monitoring

# Commands a driver sends on its own that are not part of serving the request.
_IGNORED = {"hello", "ismaster", "isMaster", "ping", "endSessions", "saslStart", "saslContinue", "killCursors"}


class CommandCounter(monitoring.CommandListener):
    def __init__(self) -> None:
        self.commands: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        # a thread named off-path-* writes after the answer is built, without the request waiting
        if event.command_name not in _IGNORED and not threading.current_thread().name.startswith("off-path-"):
            self.commands.append(f"{event.command_name}:{event.command.get(event.command_name)}")

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def reset(self) -> None:
        self.commands.clear()


@contextlib.contextmanager
def bench_app() -> Iterator[tuple[Any, CommandCounter]]:
    counter = CommandCounter()
    monitoring.register(counter)  # applies to clients created from now on (the app's)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(key, "bench")
    # Effects are recorded in the outbox (their one round trip counts) and not delivered: the
    # worker's commands are not the request's (issue 20 §1).
    os.environ.setdefault("OUTBOX_DELIVERY", "poll")
    os.environ.update({"MONGODB_DB": f"bench_{uuid.uuid4().hex[:8]}",
                       "JWT_SECRET": "bench-secret-that-is-long-enough-0123456789",
                       "POWERTOOLS_METRICS_DISABLED": "true"})
    with contextlib.ExitStack() as stack:
        if not os.environ.get("MONGODB_URI"):
            from local.embedded_db import EmbeddedDB

            tmp = stack.enter_context(tempfile.TemporaryDirectory())
            db = stack.enter_context(EmbeddedDB(Path(tmp)))
            os.environ["MONGODB_URI"] = db.uri
        from moto import mock_aws

        stack.enter_context(mock_aws())
        from chalice.test import Client

        from functions.core.config import reset_settings
        from functions.core.db import get_client, get_db
        from functions.registry import ensure_indexes
        from local.gateway_responses import install

        reset_settings()
        install()
        ensure_indexes()
        from app import app

        client = stack.enter_context(Client(app, project_dir=tempfile.gettempdir()))
        try:
            yield client, counter
        finally:
            get_client().drop_database(get_db().name)


def measure(client: Any, counter: CommandCounter, method: str, path: str,
            body: Any = None, headers: dict[str, str] | None = None) -> tuple[Any, list[str]]:
    """One request; returns the response and the database commands it sent."""
    raw = json.dumps(body).encode() if body is not None else b""
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    counter.reset()
    response = client.http.request(method, path, headers=hdrs, body=raw)
    return response, list(counter.commands)


def timed(client: Any, counter: CommandCounter, method: str, path: str, body: Any = None,
          headers: dict[str, str] | None = None) -> tuple[Any, list[str], float]:
    """`measure`, and how long the request took (seconds)."""
    started = time.perf_counter()
    response, commands = measure(client, counter, method, path, body, headers)
    return response, commands, time.perf_counter() - started


def median_p95(samples: list[float]) -> tuple[float, float]:
    """Median and 95th percentile of durations in seconds, in milliseconds."""
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000


def dev_server(argv: list[str], env: dict[str, str], stack: contextlib.ExitStack, cwd: Path) -> int:
    """The local API server of `argv` (e.g. `python -m local.devserver`) on a free port, once it
    prints "Serving on"; stopped when `stack` closes."""
    from local.embedded_db import free_port

    port = free_port()
    process = subprocess.Popen([*argv, "--host", "127.0.0.1", "--port", str(port), "--stage", "dev"], cwd=cwd,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    stack.callback(process.wait, 30)
    stack.callback(process.terminate)
    assert process.stdout is not None
    for line in process.stdout:
        if "Serving on" in line:
            break
    else:
        raise SystemExit(f"the server did not start: {' '.join(argv)}")
    threading.Thread(target=process.stdout.read, daemon=True).start()  # keep its pipe drained
    return port
