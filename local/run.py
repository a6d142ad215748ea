"""`make run`: the whole system on this machine.

Starts the embedded database (unless MONGODB_URI is set), a moto server standing in for AWS
(EventBridge Scheduler, SES), creates the indexes, then serves the API with `chalice local` on
http://127.0.0.1:8000, the WebSocket gateway on ws://127.0.0.1:8001 (`local/ws_gateway.py`;
its management API and the call page on http://127.0.0.1:8002/call/) and runs the reminder
sweeper every 60 s (`local/sweeper.py`), since EventBridge is not there. Ctrl-C stops
everything it started.
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
DATA = Path(os.environ.get("LOCAL_DATA_DIR") or ROOT / ".data")
API_PORT = int(os.environ.get("PORT", "8000"))
DB_PORT = int(os.environ.get("FERRETDB_PORT", "27117"))
MOTO_PORT = int(os.environ.get("MOTO_PORT", "5055"))
WS_PORT = int(os.environ.get("WS_GATEWAY_PORT", "8001"))
WS_HTTP_PORT = int(os.environ.get("WS_GATEWAY_HTTP_PORT", "8002"))
LOCAL_EMERGENCY_ARN = "arn:aws:lambda:us-east-1:123456789012:function:cureconnect-dev-emergency_timeout"
LOCAL_REMINDER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:cureconnect-dev-send_reminder"
LOCAL_SCHEDULER_ROLE = "arn:aws:iam::123456789012:role/cureconnect-dev-scheduler"


def _dev_secret() -> str:
    """A random JWT secret for this checkout, kept in .data/ so sessions survive restarts."""
    path = DATA / "dev-jwt-secret"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _start_moto() -> Any:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=MOTO_PORT, verbose=False)
    server.start()
    return server


def _verify_sender(env: dict[str, str]) -> None:
    """moto's SES refuses mail from unverified senders, as SES does: verify the dev sender so
    e-mails are recorded (see them at http://127.0.0.1:5055/moto-api/)."""
    import boto3

    sender = env.get("SES_FROM_EMAIL", "no-reply@cureconnect.example")
    boto3.client("ses", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_DEFAULT_REGION"],
                 aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                 ).verify_email_identity(EmailAddress=sender)


def _mention_legacy_sqlite(db: EmbeddedDB) -> None:
    """Before the PostgreSQL default, make run kept FerretDB's SQLite files in .data/ferretdb/:
    they are left alone; say how to reach them."""
    legacy = DATA / "ferretdb"
    if db.backend != "sqlite" and any(legacy.glob("*.sqlite")):
        print(f"  (earlier data on SQLite is still in {legacy}: serve it with `.venv/bin/python -m "
              f"local.embedded_db serve --backend sqlite --sqlite-dir {legacy} --data {legacy} --port 27118`)",
              flush=True)


def _stop_on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    DATA.mkdir(parents=True, exist_ok=True)
    db: EmbeddedDB | None = None
    children: list[subprocess.Popen[bytes]] = []
    moto = None
    uri_file = DATA / "mongodb-uri"
    try:
        uri = os.environ.get("MONGODB_URI")
        if not uri:
            db = EmbeddedDB(DATA / "embedded", DB_PORT).start()
            uri = db.uri
            print(f"• database   {db.describe()}", flush=True)
            _mention_legacy_sqlite(db)
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
            # Reminder schedules land in moto's Scheduler (which never fires them: the sweeper does).
            "REMINDER_FUNCTION_ARN": os.environ.get("REMINDER_FUNCTION_ARN", LOCAL_REMINDER_ARN),
            "SCHEDULER_ROLE_ARN": os.environ.get("SCHEDULER_ROLE_ARN", LOCAL_SCHEDULER_ROLE),
            "EMERGENCY_FUNCTION_ARN": os.environ.get("EMERGENCY_FUNCTION_ARN", LOCAL_EMERGENCY_ARN),
            # The app's sender (in the API and in the gateway) posts frames to the local gateway.
            "WS_MANAGEMENT_ENDPOINT": f"http://127.0.0.1:{WS_HTTP_PORT}",
        }
        print(f"• aws        moto server on {env['AWS_ENDPOINT_URL']}", flush=True)
        subprocess.run([sys.executable, "-m", "functions.core.db", "ensure-indexes"], env=env, check=True, cwd=ROOT)
        api = subprocess.Popen(
            [sys.executable, "-m", "local.devserver", "--host", "127.0.0.1", "--port", str(API_PORT), "--stage", "dev"],
            env=env, cwd=ROOT,
        )
        children.append(api)
        print(f"• api        http://127.0.0.1:{API_PORT}/api/v1/health", flush=True)
        children.append(subprocess.Popen(
            [sys.executable, "-m", "local.ws_gateway", "--port", str(WS_PORT), "--http-port", str(WS_HTTP_PORT),
             "--api", f"http://127.0.0.1:{API_PORT}"], env=env, cwd=ROOT))
        _verify_sender(env)
        children.append(subprocess.Popen([sys.executable, "-m", "local.sweeper", "--every", "60"], env=env, cwd=ROOT))
        print("• sweeper    reminders, notification retries and emergency timeouts every 60 s "
              "(stands in for EventBridge)", flush=True)
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
