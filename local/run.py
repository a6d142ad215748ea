"""`make run`: the whole system on this machine.

Starts the embedded database (unless MONGODB_URI is set), a moto server standing in for AWS
(EventBridge Scheduler, SES), creates the indexes, then serves the API with `chalice local` on
http://127.0.0.1:8000. Ctrl-C stops everything it started.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from local.embedded_db import EmbeddedDB, EmbeddedDBError

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
API_PORT = int(os.environ.get("PORT", "8000"))
DB_PORT = int(os.environ.get("FERRETDB_PORT", "27117"))
MOTO_PORT = int(os.environ.get("MOTO_PORT", "5055"))


def _dev_secret() -> str:
    """A random JWT secret for this checkout, kept in .data/ so sessions survive restarts."""
    path = DATA / "dev-jwt-secret"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _start_moto() -> Any:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=MOTO_PORT, verbose=False)
    server.start()
    return server


def _stop_on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    DATA.mkdir(exist_ok=True)
    db: EmbeddedDB | None = None
    children: list[subprocess.Popen[bytes]] = []
    moto = None
    uri_file = DATA / "mongodb-uri"
    try:
        uri = os.environ.get("MONGODB_URI")
        if not uri:
            db = EmbeddedDB(DATA / "ferretdb", DB_PORT).start()
            uri = db.uri
            print(f"• database   FerretDB on {uri} (data in .data/ferretdb)", flush=True)
        else:
            print("• database   MONGODB_URI (external server)", flush=True)
        uri_file.write_text(uri)
        moto = _start_moto()
        env = {
            **os.environ,
            "MONGODB_URI": uri,
            "MONGODB_DB": os.environ.get("MONGODB_DB", "cureconnect"),
            "JWT_SECRET": os.environ.get("JWT_SECRET") or _dev_secret(),
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{MOTO_PORT}",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
        print(f"• aws        moto server on {env['AWS_ENDPOINT_URL']}", flush=True)
        subprocess.run([sys.executable, "-m", "functions.core.db", "ensure-indexes"], env=env, check=True, cwd=ROOT)
        api = subprocess.Popen(
            [sys.executable, "-m", "local.devserver", "--host", "127.0.0.1", "--port", str(API_PORT), "--stage", "dev"],
            env=env, cwd=ROOT,
        )
        children.append(api)
        print(f"• api        http://127.0.0.1:{API_PORT}/api/v1/health", flush=True)
        print("• admin      ADMIN_PASSWORD='…' .venv/bin/python -m functions.auth.admin create-admin "
              "--contact admin@example.com --name 'Site Admin'", flush=True)
        print("Ctrl-C stops everything.", flush=True)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        return next(child.returncode for child in children if child.poll() is not None) or 1
    except KeyboardInterrupt:
        return 0
    except EmbeddedDBError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        if moto is not None:
            moto.stop()
        if db is not None:
            db.stop()
        uri_file.unlink(missing_ok=True)


if __name__ == "__main__":
    raise SystemExit(main())
