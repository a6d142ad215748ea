"""Database connections held by N Lambda containers (issue 23 §3), measured against the model of
README "Capacity".

N forked processes stand in for N warm containers of the API: each builds the client exactly as
`functions.core.db.get_client` does (the production settings, from `functions.core.config`),
serves one request (one query), then stays warm and idle. A TCP proxy in front of the embedded
database counts the connections open to it: right after the requests (the application connection
still pooled) and after `MONGODB_MAX_IDLE_TIME_MS` (only the monitor left). The model's figure is
printed beside each measurement.

The embedded server is a single server, so this checks the terms of one replica-set member (the
application connection and one monitoring connection); a replica set multiplies the monitoring
term by its members (the driver's SDAM specification: one monitor per member, and with
`serverMonitoringMode=stream` one more round-trip-time connection per member).

    .venv/bin/python bench/mongo_connections_bench.py [--containers 10 50 100] [--idle-ms 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class CountingProxy:
    """A TCP proxy that counts the client connections open through it."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.open = 0
        self.port = 0
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._run, daemon=True).start()
        self._ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=1024))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            self.open -= 1
            writer.close()
            return

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.open -= 1


def _container(uri: str, idle_ms: int, served: Any, stop: Any) -> None:
    """One warm container: the production client, one request, then idle until told to stop."""
    os.environ.update({"MONGODB_URI": uri, "MONGODB_DB": "capacity", "MONGODB_MAX_IDLE_TIME_MS": str(idle_ms),
                       "JWT_SECRET": "bench-secret-that-is-long-enough-0123456789"})
    from functions.core import config, db

    config.reset_settings()
    db._client, db._client_uri = None, None  # never the parent's sockets
    db.get_db()["users"].find_one({"_id": 0})
    served.release()
    stop.wait(600)


def _until(check: Any, within: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < within and not check():
        time.sleep(0.1)
    return time.monotonic() - start


def measure(proxy: CountingProxy, containers: int, idle_ms: int) -> tuple[int, int, float]:
    ctx = multiprocessing.get_context("fork")
    served, stop = ctx.Semaphore(0), ctx.Event()
    uri = f"mongodb://127.0.0.1:{proxy.port}/"
    workers = [ctx.Process(target=_container, args=(uri, idle_ms, served, stop)) for _ in range(containers)]
    for worker in workers:
        worker.start()
    for _ in workers:
        served.acquire(timeout=120)
    time.sleep(0.5)  # connections opened by the last requests are counted
    after_requests = proxy.open
    waited = _until(lambda: proxy.open <= containers, within=idle_ms / 1000 + 30)
    idle = proxy.open
    stop.set()
    for worker in workers:
        worker.join(30)
    _until(lambda: proxy.open == 0, within=30)
    return after_requests, idle, waited


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--containers", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--idle-ms", type=int, default=5000, help="MONGODB_MAX_IDLE_TIME_MS for the run "
                        "(60000 deployed; shorter here so the idle state comes quickly)")
    args = parser.parse_args()
    from functions.core.config import load_settings
    from local.embedded_db import EmbeddedDB

    defaults = load_settings({"MONGODB_URI": "mongodb://x/", "JWT_SECRET": "s" * 32})
    monitors = 1  # per member: one polling monitor (`serverMonitoringMode=poll`)
    print(f"client settings: maxPoolSize={defaults.mongodb_max_pool_size} minPoolSize={defaults.mongodb_min_pool_size}"
          f" maxIdleTimeMS={defaults.mongodb_max_idle_time_ms} (run with {args.idle_ms})"
          f" serverMonitoringMode={defaults.mongodb_server_monitoring_mode}")
    print("model for one member: after a request W x (monitors + app) = W x "
          f"({monitors} + {defaults.mongodb_max_pool_size}); idle W x {monitors}")
    print(f"{'containers W':>12} {'after requests':>15} {'model':>6} {'idle':>6} {'model':>6} {'idle after s':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedDB(Path(tmp), durable=False).start()
        try:
            proxy = CountingProxy(server.port)
            for containers in args.containers:
                busy, idle, waited = measure(proxy, containers, args.idle_ms)
                print(f"{containers:>12} {busy:>15} {containers * (monitors + defaults.mongodb_max_pool_size):>6} "
                      f"{idle:>6} {containers * monitors:>6} {waited:>12.1f}")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
