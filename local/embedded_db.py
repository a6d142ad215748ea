"""The embedded database for development and tests: FerretDB v1.24.2 (SQLite backend), a real
MongoDB-wire server. If MONGODB_URI is set, that server is used instead and nothing starts.

Build: the exact release is fetched from the Go module proxy and built into `.bin/` (git-ignored).
`go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` alone produces a binary that
panics at start ("Invalid build/version/version.txt"): the release's version file is generated
by its build tooling and is not in the module. So we download the same module, write that file
(as upstream's `task gen-version` does) and `go build` its `cmd/ferretdb`.

    python -m local.embedded_db build            # make sure .bin/ferretdb exists
    python -m local.embedded_db serve --data .data/ferretdb --port 27117
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE = "github.com/FerretDB/FerretDB"
VERSION = "v1.24.2"
BIN_DIR = ROOT / ".bin"
BINARY = BIN_DIR / "ferretdb"


class EmbeddedDBError(RuntimeError):
    pass


def _run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True, **kw)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise EmbeddedDBError(f"command failed ({result.returncode}): {' '.join(cmd)}\n{result.stdout}{result.stderr}")
    return result  # type: ignore[no-any-return]


def binary_ok() -> bool:
    if not BINARY.exists():
        return False
    try:
        out = subprocess.run([str(BINARY), "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and f"version: {VERSION}" in out.stdout


def build(force: bool = False) -> Path:
    if not force and binary_ok():
        return BINARY
    go = shutil.which("go")
    if go is None:
        raise EmbeddedDBError(
            "Go is not installed, and MONGODB_URI is not set.\n"
            "Either install Go >= 1.24 (the embedded FerretDB database is built with it),\n"
            "or point the project at a MongoDB >= 6 server: export MONGODB_URI=mongodb://host:27017/"
        )
    env = {**os.environ, "GOFLAGS": "-mod=mod", "CGO_ENABLED": "0"}
    info = json.loads(_run([go, "mod", "download", "-json", f"{MODULE}@{VERSION}"], env=env).stdout)
    BIN_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=BIN_DIR) as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(info["Dir"], src)
        for path in src.rglob("*"):
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
        (src / "build" / "version" / "version.txt").write_text(VERSION + "\n")
        _run([go, "build", "-buildvcs=false", "-trimpath", "-o", str(BINARY), "./cmd/ferretdb"], cwd=src, env=env)
    if not binary_ok():
        raise EmbeddedDBError(f"built {BINARY} but `{BINARY} --version` does not report {VERSION}")
    return BINARY


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_ping(uri: str, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None) -> None:
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    deadline = time.monotonic() + timeout
    client: MongoClient[dict[str, object]] = MongoClient(uri, serverSelectionTimeoutMS=500)
    try:
        while True:
            if process is not None and process.poll() is not None:
                raise EmbeddedDBError(f"FerretDB exited with code {process.returncode} before answering ping")
            try:
                client.admin.command("ping")
                return
            except PyMongoError:
                if time.monotonic() > deadline:
                    raise EmbeddedDBError(f"no answer to ping from {uri} within {timeout:.0f}s") from None
    finally:
        client.close()


class EmbeddedDB:
    """A running FerretDB process; `stop()` ends it cleanly."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.uri = f"mongodb://127.0.0.1:{self.port}/"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> EmbeddedDB:
        build()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.data_dir / "ferretdb.log", "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [
                str(BINARY),
                "--handler=sqlite",
                f"--sqlite-url=file:{self.data_dir.resolve()}/",
                f"--listen-addr=127.0.0.1:{self.port}",
                f"--state-dir={self.data_dir.resolve()}",
                f"--debug-addr=127.0.0.1:{free_port()}",
                "--telemetry=disable",
                "--log-level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        try:
            wait_for_ping(self.uri, process=self.process)
        except EmbeddedDBError as exc:
            self.stop()
            tail = (self.data_dir / "ferretdb.log").read_text(errors="replace")[-2000:]
            raise EmbeddedDBError(f"{exc}\n--- ferretdb.log ---\n{tail}") from None
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> EmbeddedDB:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.embedded_db")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="build .bin/ferretdb if it is missing")
    serve = sub.add_parser("serve", help="run FerretDB in the foreground until Ctrl-C")
    serve.add_argument("--data", default=".data/ferretdb")
    serve.add_argument("--port", type=int, default=27117)
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            if os.environ.get("MONGODB_URI"):
                print("MONGODB_URI is set: using that server, nothing to build")
                return 0
            print(f"ferretdb {VERSION}: {build()}")
            return 0
        db = EmbeddedDB(Path(args.data), args.port).start()
    except EmbeddedDBError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"FerretDB {VERSION} on {db.uri} (data in {db.data_dir})", flush=True)
    try:
        assert db.process is not None
        db.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        db.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
