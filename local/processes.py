"""Stopping the child processes local tooling starts (`make run`'s table, the embedded database,
stripe-mock): one way, so that none is left running when its owner stops."""

from __future__ import annotations

import signal
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
