"""stripe-mock, Stripe's official mock API server (Go), for tests and `make run` without Stripe.

It is built from its Go module at an exact version into `.bin/` (git-ignored) and started on a
free port. It is stateless: it answers each call from Stripe's OpenAPI fixtures and reflects
some parameters (amounts, currencies), so tests check what the SDK sent through a recording
transport as well.

    python -m local.stripe_mock build     # make sure .bin/stripe-mock exists
    python -m local.stripe_mock serve     # run it on 12111 until Ctrl-C
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from local.processes import free_port, stop_processes

ROOT = Path(__file__).resolve().parent.parent
MODULE = "github.com/stripe/stripe-mock"
VERSION = "v0.203.0"
BIN_DIR = ROOT / ".bin"
BINARY = BIN_DIR / "stripe-mock"
STAMP = BIN_DIR / "stripe-mock.version"


class StripeMockError(RuntimeError):
    pass


def build() -> Path:
    """`go install <module>@<version>` into .bin/, unless that exact version is there already."""
    if BINARY.exists() and STAMP.exists() and STAMP.read_text().strip() == VERSION:
        return BINARY
    go = shutil.which("go")
    if go is None:
        raise StripeMockError("Go is needed to build stripe-mock (go install " + MODULE + "@" + VERSION + ")")
    BIN_DIR.mkdir(exist_ok=True)
    env = {**os.environ, "GOBIN": str(BIN_DIR)}
    done = subprocess.run([go, "install", f"{MODULE}@{VERSION}"], env=env, capture_output=True, text=True,
                          timeout=900, check=False)
    if done.returncode != 0 or not BINARY.exists():
        raise StripeMockError(f"building stripe-mock failed: {done.stderr.strip()[-2000:]}")
    STAMP.write_text(VERSION + "\n")
    return BINARY


class StripeMock:
    """A running stripe-mock: `with StripeMock() as mock: mock.url`."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> StripeMock:
        build()
        self.launch()
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise StripeMockError(f"stripe-mock exited with {self._proc.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise StripeMockError("stripe-mock did not start listening")

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        return self._proc

    def launch(self) -> subprocess.Popen[bytes]:
        """The server on this port, without waiting for it: at `start`, and again when it died."""
        self._proc = subprocess.Popen([str(BINARY), "-http-port", str(self.port), "-https-port", str(free_port())],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self._proc

    def stop(self) -> None:
        if self._proc is not None:
            stop_processes([self._proc])
        self._proc = None

    def __enter__(self) -> StripeMock:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str]) -> int:
    if argv[:1] == ["build"]:
        print(build())
        return 0
    if argv[:1] == ["serve"]:
        with StripeMock(12111) as mock:
            print(f"stripe-mock {VERSION} on {mock.url} (STRIPE_API_BASE={mock.url})")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                return 0
    print("usage: python -m local.stripe_mock build|serve", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
