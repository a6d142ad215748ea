"""The embedded database for development and tests: FerretDB v1.24.2, a real MongoDB-wire
server, on PostgreSQL when this machine has it (the default) or on SQLite otherwise. If
MONGODB_URI is set, that server is used instead and nothing starts.

Build: the exact release is fetched from the Go module proxy and built into `.bin/` (git-ignored).
`go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` alone produces a binary that
panics at start ("Invalid build/version/version.txt"): the release's version file is generated
by its build tooling and is not in the module. So we download the same module, write that file
(as upstream's `task gen-version` does), apply the patches and `go build` its
`cmd/ferretdb`.

What differs from upstream is in `local/ferretdb/` (its README says how to change it):
`patches/*.patch`, unified diffs against the pinned module applied in order (each opens with what
it fixes and why: atomic-writes, gin-indexes, in-pushdown, inline-documents, sql-sort-count), and
`overlay/`, whole Go files copied into the module at the same paths. The build applies them to a
copy of the module source; any change to them changes `patch_id()`, the stamp of the build.

    python -m local.embedded_db build            # make sure .bin/ferretdb is the patched build
    python -m local.embedded_db serve --data .data/embedded --port 27117 [--backend sqlite]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from local.processes import free_port, stop_processes

ROOT = Path(__file__).resolve().parent.parent
MODULE = "github.com/FerretDB/FerretDB"
VERSION = "v1.24.2"
BIN_DIR = ROOT / ".bin"
BINARY = BIN_DIR / "ferretdb"
STAMP = BIN_DIR / "ferretdb.patches"
PATCH_DIR = Path(__file__).resolve().parent / "ferretdb"  # patches/ and overlay/
BACKENDS = ("postgresql", "sqlite")


class EmbeddedDBError(RuntimeError):
    pass


# ---------------------------------------------------------------- the source patches


@dataclass(frozen=True)
class Hunk:
    line: int  # where `old` starts in the file before this patch (after the earlier ones), 1-based
    old: tuple[str, ...]  # context and removed lines, with their newlines
    new: tuple[str, ...]  # context and added lines


@dataclass(frozen=True)
class FilePatch:
    """One file's part of a patch: its hunks, in file order."""

    patch: str  # the patch's name, its file name without the number and `.patch`
    path: str  # relative to the module's root
    hunks: tuple[Hunk, ...]


def _patches() -> list[Path]:
    return sorted((PATCH_DIR / "patches").glob("*.patch"))


def _overlay() -> list[Path]:
    return sorted(p for p in (PATCH_DIR / "overlay").rglob("*") if p.is_file())


def _name(patch: Path) -> str:
    return re.sub(r"^\d+-", "", patch.stem)


def patch_names() -> list[str]:
    return [_name(p) for p in _patches()]


_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,(\d+))? @@")


def parse_patch(path: Path) -> list[FilePatch]:
    """A unified diff (`diff -u`, paths `a/…` and `b/…`); the text before its first `--- ` says why."""
    name = _name(path)
    lines = path.read_text().splitlines(keepends=True)
    files: list[FilePatch] = []
    i = 0
    while i < len(lines):
        if not lines[i].startswith("--- "):
            i += 1
            continue
        header = lines[i + 1] if i + 1 < len(lines) else ""
        target = header[4:].split("\t")[0].strip()
        if not header.startswith("+++ b/"):
            raise EmbeddedDBError(f"{path.name}: `+++ b/<path>` must follow line {i + 1} (new files go in overlay/)")
        i += 2
        hunks: list[Hunk] = []
        while i < len(lines) and (found := _HUNK.match(lines[i])):
            start, old_left, new_left = int(found[1]), int(found[2] or 1), int(found[3] or 1)
            old: list[str] = []
            new: list[str] = []
            i += 1
            while old_left or new_left:
                if i == len(lines):
                    raise EmbeddedDBError(f"{path.name}: the hunk for {target} at line {start} is cut short")
                line = lines[i] if lines[i].strip("\n") else " \n"  # an editor may strip a blank context's space
                kind, text = line[0], line[1:]
                if kind in " -":
                    old.append(text)
                    old_left -= 1
                if kind in " +":
                    new.append(text)
                    new_left -= 1
                if kind not in " -+" or old_left < 0 or new_left < 0:
                    raise EmbeddedDBError(f"{path.name}: line {i + 1} does not fit its hunk")
                i += 1
            hunks.append(Hunk(start if old else start + 1, tuple(old), tuple(new)))
        files.append(FilePatch(name, target[2:], tuple(hunks)))
    if not files:
        raise EmbeddedDBError(f"{path.name} holds no diff")
    return files


def patch_series() -> list[FilePatch]:
    return [part for path in _patches() for part in parse_patch(path)]


def patch_id() -> str:
    """Changes whenever a patch or an overlay file changes (a byte, a name), so an older build is rebuilt."""
    blob = json.dumps([VERSION, [(str(p.relative_to(PATCH_DIR)), p.read_text()) for p in _patches() + _overlay()]])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _apply(src: Path, part: FilePatch) -> None:
    """Each hunk's old lines must be at the line it names (after the hunks before it) or, if the
    file moved under it, at exactly one other place: otherwise this is not the source it was made for."""
    path = src / part.path
    if not path.is_file():
        raise EmbeddedDBError(f"patch {part.patch}: {part.path} does not exist: is this FerretDB {VERSION}?")
    lines = path.read_text().splitlines(keepends=True)
    shift = 0
    for hunk in part.hunks:
        at, size = hunk.line - 1 + shift, len(hunk.old)
        if lines[at:at + size] != list(hunk.old):
            places = [i for i in range(len(lines) - size + 1) if lines[i:i + size] == list(hunk.old)]
            if len(places) != 1:
                raise EmbeddedDBError(f"patch {part.patch} does not apply to {part.path} at line {hunk.line}: "
                                      f"is this FerretDB {VERSION}?")
            at = places[0]
        lines[at:at + size] = hunk.new
        shift = at + len(hunk.new) - (hunk.line - 1 + size)
    path.write_text("".join(lines))


def apply_patches(src: Path) -> None:
    """The overlay's files copied in at their paths, then the patches in order."""
    for path in _overlay():
        dest = src / path.relative_to(PATCH_DIR / "overlay")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, dest)
    for part in patch_series():
        _apply(src, part)


# ---------------------------------------------------------------- build


def _run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True, **kw)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise EmbeddedDBError(f"command failed ({result.returncode}): {' '.join(cmd)}\n{result.stdout}{result.stderr}")
    return result  # type: ignore[no-any-return]


def binary_ok() -> bool:
    """The binary exists, is the pinned release, and was built with the current patches."""
    if not BINARY.exists() or not STAMP.exists() or STAMP.read_text().strip() != patch_id():
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
        apply_patches(src)
        built = Path(tmp) / "ferretdb"
        _run([go, "build", "-buildvcs=false", "-trimpath", "-o", str(built), "./cmd/ferretdb"], cwd=src, env=env)
        # A rename, so a server already running from the old binary keeps its file.
        built.replace(BINARY)
    STAMP.write_text(patch_id() + "\n")
    if not binary_ok():
        raise EmbeddedDBError(f"built {BINARY} but `{BINARY} --version` does not report {VERSION}")
    return BINARY


# ---------------------------------------------------------------- PostgreSQL (private cluster)


_PG_TOOLS = ("initdb", "postgres", "pg_isready", "createdb")


def postgres_bin_dir() -> Path | None:
    """Where PostgreSQL's server tools are: Debian's /usr/lib/postgresql/<newest>/bin, else PATH."""
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                    key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    for candidate in [*reversed(debian), *(Path(d) for d in os.environ.get("PATH", "").split(os.pathsep) if d)]:
        if all((candidate / tool).exists() for tool in _PG_TOOLS):
            return candidate
    return None


def _service_user() -> pwd.struct_passwd | None:
    """PostgreSQL refuses to run as root: as root, run it as `postgres` (or `nobody`)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise EmbeddedDBError("running as root and no unprivileged user (postgres, nobody) to run PostgreSQL as")


def _reachable_by(user: pwd.struct_passwd | None, path: Path) -> bool:
    """Whether `user` can enter every directory above `path` (pytest's temp dirs are root-only)."""
    if user is None:
        return True
    for parent in path.resolve().parents:
        if not parent.exists():
            continue  # created by us with the usual 0755
        info = parent.stat()
        if info.st_uid != user.pw_uid and not info.st_mode & stat.S_IXOTH:
            return False
    return True


_libc: object | None = None


def _dies_with_parent(sig: signal.Signals) -> Callable[[], None] | None:
    """A `preexec_fn`: the child gets `sig` when we die, even by SIGKILL, so that no database is
    left running behind a killed test run or `make run` (Linux; elsewhere nothing is done)."""
    global _libc
    if not sys.platform.startswith("linux"):
        return None
    if _libc is None:
        import ctypes

        _libc = ctypes.CDLL(None, use_errno=True)  # loaded here: the child must not import
    libc, parent = _libc, os.getpid()

    def set_parent_death_signal() -> None:
        libc.prctl(1, int(sig))  # type: ignore[attr-defined]  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before the line above
            os._exit(1)

    return set_parent_death_signal


_OWNED_PREFIX = "cureconnect-pg-"


def _reap_stale_clusters(quiet_seconds: float = 900) -> None:
    """Remove the data of private clusters whose postmaster is gone (a run killed before stop()).
    A cluster is someone else's while its postmaster lives, and while anything in its data
    directory changed within `quiet_seconds` (initdb runs several short-lived servers)."""
    for path in Path(tempfile.gettempdir()).glob(_OWNED_PREFIX + "*"):
        data = path / "pgdata"
        try:
            if time.time() - max(path.stat().st_mtime, data.stat().st_mtime if data.exists() else 0) < quiet_seconds:
                continue
            pid = int((data / "postmaster.pid").read_text().split()[0])
            os.kill(pid, 0)
            continue  # still running
        except (FileNotFoundError, IndexError, ValueError, ProcessLookupError):
            pass
        except PermissionError:
            continue
        shutil.rmtree(path, ignore_errors=True)


class PostgresCluster:
    """A private PostgreSQL cluster on 127.0.0.1 only (no unix socket), for FerretDB's backend."""

    def __init__(self, data_dir: Path, *, durable: bool) -> None:
        bindir = postgres_bin_dir()
        if bindir is None:
            raise EmbeddedDBError("PostgreSQL is not installed (no initdb/postgres found)")
        self.bindir = bindir
        self.user = _service_user()
        self.durable = durable
        self.owned_dir: Path | None = None
        if not _reachable_by(self.user, data_dir):
            # Somewhere the service user can reach; removed on stop.
            _reap_stale_clusters()
            self.owned_dir = Path(tempfile.mkdtemp(prefix=_OWNED_PREFIX))
            data_dir = self.owned_dir / "pgdata"
        self.data_dir = data_dir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def _as_service(self) -> dict[str, object]:
        if self.user is None:
            return {}
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}

    def _chown(self, path: Path) -> None:
        if self.user is not None:
            os.chown(path, self.user.pw_uid, self.user.pw_gid)

    def start(self) -> PostgresCluster:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if self.owned_dir is not None:
            self._chown(self.owned_dir)
        if not (self.data_dir / "PG_VERSION").exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.data_dir.chmod(0o700)
            self._chown(self.data_dir)
            _run([str(self.bindir / "initdb"), "-D", str(self.data_dir), "-U", "ferret", "--auth=trust",
                  "-E", "UTF8", "--no-locale", "--no-instructions"], **self._as_service())
        self.launch()
        self._wait_ready()
        created = subprocess.run([str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
                                  "ferret", "ferretdb"], capture_output=True, text=True)
        if created.returncode != 0 and "already exists" not in created.stderr:
            self.stop()
            raise EmbeddedDBError(f"createdb failed: {created.stderr}")
        return self

    def launch(self) -> subprocess.Popen[bytes]:
        """The postmaster, on this cluster's port, without waiting for it: at `start`, and again
        when it died (reaped first: its own check of a stale `postmaster.pid` needs the old PID gone;
        the file is never removed here)."""
        log = open(self.data_dir.parent / "postgresql.log", "ab")  # noqa: SIM115 - closed with the process
        self._chown(self.data_dir.parent / "postgresql.log")
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": "",
            "plan_cache_mode": "force_custom_plan",  # lets `@>` with bound values use the GIN indexes
            "max_wal_size": "96MB",  # the default let WAL grow to 700 MB
            "min_wal_size": "32MB",
            "shared_buffers": "64MB",
            "max_connections": "200",
            # counts are index-only scans of the "index-order" companions (no row read) only on
            # pages the visibility map marks all-visible: vacuum soon after inserts, not after 20 %
            "autovacuum_naptime": "5s",
            "autovacuum_vacuum_insert_scale_factor": "0.01",
            "jit": "off",  # a compile of 20-40 ms on any query whose estimate passed 100 000
        }
        if not self.durable:  # tests: the data dies with the run anyway
            settings.update({"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"})
        args = [str(self.bindir / "postgres"), "-D", str(self.data_dir)]
        for key, value in settings.items():
            args += ["-c", f"{key}={value}"]
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True, preexec_fn=_dies_with_parent(signal.SIGINT),
                                        **self._as_service())  # type: ignore[call-overload]
        log.close()
        assert self.process is not None
        return self.process

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                tail = (self.data_dir.parent / "postgresql.log").read_text(errors="replace")[-2000:]
                raise EmbeddedDBError(f"PostgreSQL exited with code {self.process.returncode}\n{tail}")
            ready = subprocess.run([str(self.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port),
                                    "-U", "ferret", "-q"], capture_output=True)
            if ready.returncode == 0:
                return
            if time.monotonic() > deadline:
                self.stop()
                raise EmbeddedDBError(f"PostgreSQL did not accept connections within {timeout:.0f}s")
            time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"postgres://ferret@127.0.0.1:{self.port}/ferretdb"

    def stop(self) -> None:
        if self.process is not None:
            stop_processes([self.process], signal.SIGINT, timeout=30)  # SIGINT: PostgreSQL's "fast" shutdown
        self.process = None
        if self.owned_dir is not None:
            shutil.rmtree(self.owned_dir, ignore_errors=True)


# ---------------------------------------------------------------- FerretDB


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


def default_backend() -> str:
    """PostgreSQL where it is installed (fast, index-backed equality), else SQLite.
    `EMBEDDED_DB_BACKEND=sqlite|postgresql` chooses explicitly."""
    chosen = os.environ.get("EMBEDDED_DB_BACKEND", "").strip().lower()
    if chosen:
        if chosen not in BACKENDS:
            raise EmbeddedDBError(f"EMBEDDED_DB_BACKEND must be one of {', '.join(BACKENDS)}, not {chosen!r}")
        return chosen
    return "postgresql" if postgres_bin_dir() is not None else "sqlite"


class EmbeddedDB:
    """A running FerretDB process (and its PostgreSQL cluster); `stop()` ends both cleanly.

    `data_dir` holds everything of this server: `sqlite/` or `postgres/` (the cluster) and
    FerretDB's state and log. `durable=False` (tests) trades crash safety for speed."""

    def __init__(self, data_dir: Path, port: int | None = None, *, backend: str | None = None,
                 durable: bool = True, sqlite_dir: Path | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.sqlite_dir = Path(sqlite_dir) if sqlite_dir else self.data_dir / "sqlite"
        self.port = port or free_port()
        self.uri = f"mongodb://127.0.0.1:{self.port}/"
        self.backend = backend or default_backend()
        self.durable = durable
        self.process: subprocess.Popen[bytes] | None = None
        self.postgres: PostgresCluster | None = None
        self._args: list[str] = []

    def describe(self) -> str:
        where = self.postgres.data_dir if self.postgres else self.sqlite_dir
        return f"FerretDB {VERSION} (patched: {', '.join(patch_names())}) on {self.backend}, " \
               f"{self.uri} (data in {where})"

    def _backend_args(self) -> list[str]:
        if self.backend == "postgresql":
            self.postgres = PostgresCluster(self.data_dir / "postgres", durable=self.durable).start()
            return ["--handler=postgresql", f"--postgresql-url={self.postgres.url}"]
        self.sqlite_dir.mkdir(parents=True, exist_ok=True)
        return ["--handler=sqlite", f"--sqlite-url=file:{self.sqlite_dir.resolve()}/"]

    def start(self) -> EmbeddedDB:
        build()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._args = [
            str(BINARY),
            *self._backend_args(),
            f"--listen-addr=127.0.0.1:{self.port}",
            f"--state-dir={self.data_dir.resolve()}",
            "--debug-addr=127.0.0.1:0",  # any free port at each start (a fixed one may be taken by then)
            "--telemetry=disable",
            "--log-level=warn",
        ]
        self.launch()
        try:
            wait_for_ping(self.uri, process=self.process)
        except EmbeddedDBError as exc:
            self.stop()
            tail = (self.data_dir / "ferretdb.log").read_text(errors="replace")[-2000:]
            raise EmbeddedDBError(f"{exc}\n--- ferretdb.log ---\n{tail}") from None
        return self

    def launch(self) -> subprocess.Popen[bytes]:
        """FerretDB's process as `start` made it (the same port and backend), without waiting for
        it: at `start`, and again when it died. It starts whether or not PostgreSQL is up, and
        connects to it on each request."""
        log = open(self.data_dir / "ferretdb.log", "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(self._args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        preexec_fn=_dies_with_parent(signal.SIGTERM))
        log.close()
        return self.process

    def stop(self) -> None:
        if self.process is not None:
            stop_processes([self.process])
        self.process = None
        if self.postgres is not None:
            self.postgres.stop()
            self.postgres = None

    def __enter__(self) -> EmbeddedDB:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.embedded_db")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="build .bin/ferretdb (patched) if it is missing or outdated")
    serve = sub.add_parser("serve", help="run FerretDB in the foreground until Ctrl-C")
    serve.add_argument("--data", default=".data/embedded")
    serve.add_argument("--port", type=int, default=27117)
    serve.add_argument("--backend", choices=BACKENDS, default=None)
    serve.add_argument("--sqlite-dir", default=None, help="SQLite files elsewhere (e.g. an older make run's)")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            if os.environ.get("MONGODB_URI"):
                print("MONGODB_URI is set: using that server, nothing to build")
                return 0
            print(f"ferretdb {VERSION} (patches {patch_id()}): {build()}")
            return 0
        db = EmbeddedDB(Path(args.data), args.port, backend=args.backend, sqlite_dir=args.sqlite_dir).start()
    except EmbeddedDBError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(db.describe(), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
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
