"""The embedded database for development and tests: FerretDB v1.24.2, a real MongoDB-wire
server, on PostgreSQL when this machine has it (the default) or on SQLite otherwise. If
MONGODB_URI is set, that server is used instead and nothing starts.

Build: the exact release is fetched from the Go module proxy and built into `.bin/` (git-ignored).
`go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` alone produces a binary that
panics at start ("Invalid build/version/version.txt"): the release's version file is generated
by its build tooling and is not in the module. So we download the same module, write that file
(as upstream's `task gen-version` does), apply the patches below and `go build` its
`cmd/ferretdb`.

What differs from upstream (PATCHES, applied to a copy of the module source at build time):
1. `atomic-writes`: update, findAndModify and delete read the matching documents, change them
   in Go and write them back with nothing isolating the steps (FerretDB#3040): 30 concurrent
   `$inc` ended at 2-14, a conditional findAndModify had up to 20 winners. One process-wide
   mutex around those three commands makes each write atomic with respect to the others, as
   MongoDB's single-document writes are. Both backends have a single writer per table anyway.
2. `gin-indexes` (PostgreSQL backend): FerretDB pushes top-level equality down as
   `_jsonb->'f' @> value`, which its own btree indexes on `_jsonb->'f'` cannot serve (every
   query was a sequential scan). Beside each index it creates we add a GIN `jsonb_path_ops`
   index on the expression of the index's first field, which `@>` can use once PostgreSQL plans
   with the parameter values (`plan_cache_mode = force_custom_plan`, set when we start it).
   `fastupdate = off`: with GIN's pending list, every lookup after a burst of inserts scanned
   the list (3.4 ms instead of 0.06 ms for 20 rows of 100 000).
3. `in-pushdown` (PostgreSQL backend): a filter `f: {$in: [...]}` was read whole into FerretDB
   (13-15 s for two users by `_id` at 100 000). Scalar `$in` lists are now pushed down as ORed
   `@>` tests, which the GIN indexes serve; FerretDB still applies the whole filter afterwards.
4. `sql-sort-count` (PostgreSQL backend; the Go files are in `local/ferretdb/`): upstream sorts
   and counts in Go after decoding every matching document (a sorted catalogue page read the
   whole collection). A find sorted by plain fields is ordered in SQL as MongoDB orders values,
   with the page's limit when the filter can be stated exactly; countDocuments, `count` and
   per-field `$group`/`$sum: 1` count in SQL. Rows SQL cannot judge exactly (arrays,
   sub-documents, doubles beyond 2^53) send the command back to upstream's Go path.
5. `inline-documents` (PostgreSQL backend): collection tables are created with
   `toast_tuple_target = 8160`, so documents up to ~8 KB are stored uncompressed in the row. A
   2.4 KB medicine was pglz-compressed, and every field the SQL above reads decompressed the
   whole document again: a sorted page of 10 000 took 247 ms compressed, 65 ms inline.

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
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE = "github.com/FerretDB/FerretDB"
VERSION = "v1.24.2"
BIN_DIR = ROOT / ".bin"
BINARY = BIN_DIR / "ferretdb"
STAMP = BIN_DIR / "ferretdb.patches"
PATCH_DIR = Path(__file__).resolve().parent / "ferretdb"  # the Go files patches add
BACKENDS = ("postgresql", "sqlite")


class EmbeddedDBError(RuntimeError):
    pass


# ---------------------------------------------------------------- the source patches


@dataclass(frozen=True)
class Patch:
    """Insert `text` after the first line matching `anchor` in `path` (and optionally add a file)."""

    name: str
    path: str
    anchor: str
    text: str
    before: bool = False


_WRITE_LOCK_FILE = (
    "internal/handler/cureconnect_write_lock.go",
    """package handler

import "sync"

// writeLock serialises update, findAndModify and delete so that each one's read-modify-write
// is atomic with respect to the others (CureConnect patch "atomic-writes"; FerretDB#3040).
var writeLock sync.Mutex
""",
)
_LOCK = "\twriteLock.Lock()\n\tdefer writeLock.Unlock()\n"
_GIN = """
		// CureConnect patch "gin-indexes": a GIN index the pushed-down `@>` filter can use.
		if !strings.Contains(index.Key[0].Field, ".") {
			gin := fmt.Sprintf(
				"CREATE INDEX IF NOT EXISTS %s ON %s USING gin ((%s->%s) jsonb_path_ops) WITH (fastupdate = off)",
				pgx.Identifier{strings.TrimSuffix(index.PgIndex, "_idx") + "_gin"}.Sanitize(),
				pgx.Identifier{dbName, c.TableName}.Sanitize(),
				DefaultColumn, quoteString(index.Key[0].Field),
			)
			if _, err = p.Exec(ctx, gin); err != nil {
				_ = r.indexesDrop(ctx, p, dbName, collectionName, created)
				return lazyerrors.Error(err)
			}
		}
"""
_GIN_DROP = """
		// CureConnect patch "gin-indexes": drop the companion GIN index too.
		ginDrop := fmt.Sprintf("DROP INDEX IF EXISTS %s",
			pgx.Identifier{dbName, strings.TrimSuffix(c.Indexes[i].PgIndex, "_idx") + "_gin"}.Sanitize())
		if _, err := p.Exec(ctx, ginDrop); err != nil {
			return lazyerrors.Error(err)
		}
"""
_IN_PUSHDOWN = """
				// CureConnect patch "in-pushdown": `f: {$in: [scalars]}` as ORed `@>` tests the GIN
				// indexes serve; a superset like every pushed-down filter (FerretDB filters again).
				case "$in":
					values, isArray := v.(*types.Array)
					if !isArray || values.Len() == 0 || values.Len() > 1000 {
						break
					}
					pushable := true
					for i := 0; i < values.Len(); i++ {
						switch must.NotFail(values.Get(i)).(type) {
						case float64, string, types.ObjectID, time.Time, bool, int32, int64:
						default:
							pushable = false
						}
					}
					if !pushable {
						break
					}
					ors := make([]string, 0, values.Len())
					for i := 0; i < values.Len(); i++ {
						f, a := filterEqual(p, key, must.NotFail(values.Get(i)), keyOperator)
						ors = append(ors, f)
						args = append(args, a...)
					}
					filters = append(filters, "("+strings.Join(ors, " OR ")+")")

"""
# CureConnect patch "sql-sort-count": its Go files (local/ferretdb/) and where they are called.
_SQL_FILES = (
    ("internal/backends/postgresql/cureconnect_sql_sort_count.go", "backend_sql_sort_count.go"),
    ("internal/handler/cureconnect_sql_sort_count.go", "handler_sql_sort_count.go"),
)
_SQL_COUNT = """
	// CureConnect patch "sql-sort-count": a count PostgreSQL can state exactly.
	if params.CureConnectCount {
		n, counted, ccErr := cureconnectCount(ctx, p, pgx.Identifier{c.dbName, meta.TableName}.Sanitize(),
			&placeholder, where, args, params.Filter)
		if ccErr != nil {
			return nil, ccErr
		}
		if counted {
			return &backends.QueryResult{
				Iter: newQueryIterator(ctx, nil, params.OnlyRecordIDs), CureConnectCounted: true, CureConnectN: n,
			}, nil
		}
	}
"""
_SQL_GROUP = """
	// CureConnect patch "sql-sort-count": counts per value of a field, in one GROUP BY.
	if params.CureConnectGroup {
		res, grouped, ccErr := cureconnectGroupCount(ctx, p, pgx.Identifier{c.dbName, meta.TableName}.Sanitize(),
			&placeholder, where, args, params)
		if ccErr != nil {
			return nil, ccErr
		}
		if grouped {
			return res, nil
		}
		return &backends.QueryResult{Iter: newQueryIterator(ctx, nil, params.OnlyRecordIDs)}, nil
	}
"""
_SQL_AGGREGATE = """
		// CureConnect patch "sql-sort-count": counts per value of a field, in SQL when exact.
		ccIter, ccDone, ccErr := h.cureconnectGroupCount(ctx, c, qp, aggregationStages)
		if ccErr != nil || ccDone {
			iter, err = ccIter, ccErr
		} else {
"""
_SQL_ORDER = """
	// CureConnect patch "sql-sort-count": MongoDB's order (and the page's limit) in SQL.
	var ccLimited bool
	if params.CureConnectSort.Len() > 0 {
		var ccArgs []any
		q, ccArgs, ccLimited = cureconnectSortSQL(&placeholder, pgx.Identifier{c.dbName, meta.TableName}.Sanitize(),
			where, params)
		sort, args = "", append(args, ccArgs...)
	}
"""
_SQL_FIND = """
	// CureConnect patch "sql-sort-count": rows PostgreSQL ordered are not sorted again.
	if qp.CureConnectSort.Len() > 0 {
		var sorted bool
		if queryRes, sorted, err = h.cureconnectSorted(ctx, coll, qp, queryRes); err != nil {
			return nil, handleMaxTimeMSError(err, params.MaxTimeMS, "find")
		}
		if sorted {
			unsorted := *params
			unsorted.Sort = nil
			params = &unsorted
		}
	}

"""
_SQL_COUNTED = """	// CureConnect patch "sql-sort-count"
	if queryRes.CureConnectCounted {
		queryRes.Iter.Close()
		return documentOpMsg(must.NotFail(types.NewDocument("n", int32(queryRes.CureConnectN), "ok", float64(1))))
	}

"""
_REGISTRY = "internal/backends/postgresql/metadata/registry.go"
PATCHES: tuple[Patch, ...] = (
    Patch("atomic-writes", "internal/handler/msg_update.go", r"^func \(h \*Handler\) MsgUpdate\(", _LOCK),
    Patch("atomic-writes", "internal/handler/msg_findandmodify.go", r"^func \(h \*Handler\) MsgFindAndModify\(", _LOCK),
    Patch("atomic-writes", "internal/handler/msg_delete.go", r"^func \(h \*Handler\) MsgDelete\(", _LOCK),
    # Right after FerretDB's own CREATE INDEX succeeded, before it records the index as created...
    Patch("gin-indexes", _REGISTRY, r"^\t\tcreated = append\(created, index\.Name\)$", _GIN, before=True),
    # ...and right before it drops its own index.
    Patch("gin-indexes", _REGISTRY, r"^\t\tq := fmt\.Sprintf\(\"DROP INDEX %s\", pgx\.Identifier", _GIN_DROP,
          before=True),
    Patch("in-pushdown", "internal/backends/postgresql/query.go", r'^\t\t\t\tcase "\$ne":$', _IN_PUSHDOWN, before=True),
    Patch("inline-documents", _REGISTRY, r"^\tq \+= fmt\.Sprintf\(`%s jsonb\)`, DefaultColumn\)$",
          "\tq += ` WITH (toast_tuple_target = 8160)` // CureConnect patch \"inline-documents\"\n"),
    Patch("sql-sort-count", "internal/backends/collection.go", r"^type QueryParams struct \{$",
          "\tCureConnectSort  *types.Document // plain keys: the PostgreSQL backend orders rows like MongoDB\n"
          "\tCureConnectLimit int64           // with CureConnectSort: skip+limit, applied when the filter is exact\n"
          "\tCureConnectCount bool            // count in SQL when exact (the result says if it did)\n"
          "\tCureConnectGroup   bool          // with Filter: count in SQL when exact, per value of...\n"
          "\tCureConnectGroupBy string        // ...this field, or all in one group of _id CureConnectGroupID\n"
          "\tCureConnectGroupID any\n"
          "\tCureConnectGroupAs string        // the count's field name in each group's document\n"),
    Patch("sql-sort-count", "internal/backends/collection.go", r"^type QueryResult struct \{$",
          "\tCureConnectLimited bool\n\tCureConnectCounted bool\n\tCureConnectN       int64\n"
          "\tCureConnectGrouped bool\n"),
    Patch("sql-sort-count", "internal/backends/postgresql/collection.go",
          r"^\tsort, sortArgs := prepareOrderByClause\(params\.Sort\)$", _SQL_COUNT, before=True),
    Patch("sql-sort-count", "internal/backends/postgresql/collection.go",
          r"^\tsort, sortArgs := prepareOrderByClause\(params\.Sort\)$", _SQL_GROUP, before=True),
    Patch("sql-sort-count", "internal/backends/postgresql/collection.go",
          r"^\tsort, sortArgs := prepareOrderByClause\(params\.Sort\)$", _SQL_ORDER),
    Patch("sql-sort-count", "internal/handler/msg_aggregate.go",
          r"^\t\titer, err = processStagesDocuments\(ctx, closer, ", _SQL_AGGREGATE, before=True),
    Patch("sql-sort-count", "internal/handler/msg_aggregate.go",
          r"^\t\titer, err = processStagesDocuments\(ctx, closer, ", "\t\t}\n"),
    Patch("sql-sort-count", "internal/backends/postgresql/collection.go",
          r"^\t\tIter: newQueryIterator\(ctx, rows, params\.OnlyRecordIDs\),$", "\t\tCureConnectLimited: ccLimited,\n"),
    Patch("sql-sort-count", "internal/handler/msg_find.go", r"^\t// Limit pushdown is not applied if:$",
          "\th.cureconnectFindParams(qp, params, cInfo) // CureConnect patch \"sql-sort-count\"\n\n", before=True),
    Patch("sql-sort-count", "internal/handler/msg_find.go", r"^\t// closer accumulates all things", _SQL_FIND,
          before=True),
    Patch("sql-sort-count", "internal/handler/msg_count.go", r"^\tvar qp backends\.QueryParams$",
          "\tqp.CureConnectCount = cureconnectSQL && !h.DisablePushdown && params.Skip == 0 && params.Limit == 0"
          " // CureConnect patch \"sql-sort-count\"\n"),
    Patch("sql-sort-count", "internal/handler/msg_count.go", r"^\titer := queryRes\.Iter$", _SQL_COUNTED, before=True),
    Patch("sql-sort-count", "internal/handler/registry/postgresql.go", r"^\t\th, err := handler\.New\(handlerOpts\)$",
          "\t\thandler.EnableCureConnectSQL() // CureConnect patch \"sql-sort-count\"\n", before=True),
)


def patch_id() -> str:
    """Changes whenever a patch changes, so an older build is rebuilt."""
    blob = json.dumps([VERSION, _WRITE_LOCK_FILE, [p.__dict__ for p in PATCHES],
                       [(dest, (PATCH_DIR / name).read_text()) for dest, name in _SQL_FILES]])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _insert(src: Path, rel: str, anchor: str, text: str, before: bool = False) -> None:
    path = src / rel
    lines = path.read_text().splitlines(keepends=True)
    for i, line in enumerate(lines):
        if re.match(anchor, line):
            lines.insert(i if before else i + 1, text)
            path.write_text("".join(lines))
            return
    raise EmbeddedDBError(f"patch anchor {anchor!r} not found in {rel}: is this FerretDB {VERSION}?")


def apply_patches(src: Path) -> None:
    (src / _WRITE_LOCK_FILE[0]).write_text(_WRITE_LOCK_FILE[1])
    for dest, name in _SQL_FILES:
        (src / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PATCH_DIR / name, src / dest)
    for patch in PATCHES:
        _insert(src, patch.path, patch.anchor, patch.text, before=patch.before)


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
        self._wait_ready()
        created = subprocess.run([str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
                                  "ferret", "ferretdb"], capture_output=True, text=True)
        if created.returncode != 0 and "already exists" not in created.stderr:
            self.stop()
            raise EmbeddedDBError(f"createdb failed: {created.stderr}")
        return self

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
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
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

    def describe(self) -> str:
        where = self.postgres.data_dir if self.postgres else self.sqlite_dir
        return f"FerretDB {VERSION} (patched: {', '.join(sorted({p.name for p in PATCHES}))}) on {self.backend}, " \
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
        backend_args = self._backend_args()
        log = open(self.data_dir / "ferretdb.log", "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [
                str(BINARY),
                *backend_args,
                f"--listen-addr=127.0.0.1:{self.port}",
                f"--state-dir={self.data_dir.resolve()}",
                f"--debug-addr=127.0.0.1:{free_port()}",
                "--telemetry=disable",
                "--log-level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_dies_with_parent(signal.SIGTERM),
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
