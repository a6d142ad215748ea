"""The child processes local tooling starts (`make run`'s table, the embedded database,
stripe-mock): a free port for each, and one way to stop them, so that none is left running when
its owner stops."""

from __future__ import annotations

import signal
import socket
import subprocess
from collections.abc import Iterable
from typing import Any


def stop_processes(processes: Iterable[subprocess.Popen[Any]], sig: int = signal.SIGTERM, timeout: float = 10) -> None:
    """Send `sig` to each process still running, then wait up to `timeout` seconds for each and
    kill (and reap) the ones that have not exited by then."""
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            process.send_signal(sig)
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
