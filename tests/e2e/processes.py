"""Waiting for a started server without sleeping: each server prints a line once it accepts
connections (`chalice local`: "Serving on", the WebSocket gateway: "• websocket", make run: both),
and `Output` blocks until that line arrives, the process exits, or a deadline passes."""

from __future__ import annotations

import subprocess
import threading


class Output:
    """The lines a process writes (stdout and stderr together), read as they come."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None, "start the process with stdout=subprocess.PIPE, text=True"
        self.process = process
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._ended = False
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    def count(self, text: str) -> int:
        with self._changed:
            return sum(text in line for line in self.lines)

    def wait_for(self, text: str, timeout: float, times: int = 1) -> bool:
        """True once `text` has appeared in `times` lines; False if the output ended or the
        deadline passed first."""
        with self._changed:
            return self._changed.wait_for(
                lambda: sum(text in line for line in self.lines) >= times or self._ended, timeout=timeout,
            ) and sum(text in line for line in self.lines) >= times

    def text(self) -> str:
        with self._changed:
            return "".join(self.lines)
