"""`make run`: the whole system on this machine, with no accounts anywhere.

Starts the embedded database (unless MONGODB_URI is set), a moto server standing in for AWS
(EventBridge Scheduler, SES) and stripe-mock (unless STRIPE_SECRET_KEY is set), then the
processes of one table (`processes`): it creates the indexes, serves the API with `chalice local`
on http://127.0.0.1:8000, the WebSocket gateway on ws://127.0.0.1:8001 (`local/ws_gateway.py`;
its HTTP port 8002 serves the management API, the call page and the local pages: the inbox,
Stripe events, the emergency line and the Cloudinary stand-in, see `local/site.py`) and runs the
reminder sweeper every 60 s (`local/sweeper.py`), since EventBridge is not there, and the outbox
worker every 0.2 s (`local/outbox_worker.py`), since SQS is not there.
`local_services` decides what stands in for each integration the developer did not configure.
Every process it starts (PostgreSQL, FerretDB, stripe-mock and the table's) is supervised: one
that exits is reaped and started again on the same ports (`local/supervisor.py`), and make run
prints each restart. Ctrl-C stops everything it started.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local import instance
from local.embedded_db import EmbeddedDB, EmbeddedDBError
from local.inbox import LOCAL_FROM_NUMBER, LOCAL_TWILIO_SID
from local.processes import stop_processes
from local.supervisor import TICK, Supervisor

ROOT = Path(__file__).resolve().parent.parent
DATA = instance.data_dir()
API_PORT = int(os.environ.get("PORT", "8000"))
DB_PORT = int(os.environ.get("FERRETDB_PORT", "27117"))
MOTO_PORT = int(os.environ.get("MOTO_PORT", "5055"))
WS_PORT = int(os.environ.get("WS_GATEWAY_PORT", "8001"))
WS_HTTP_PORT = int(os.environ.get("WS_GATEWAY_HTTP_PORT", "8002"))
STRIPE_MOCK_PORT = int(os.environ.get("STRIPE_MOCK_PORT", "12111"))
DEFAULT_DB = "cureconnect"
READY_WITHIN = 180.0  # seconds for the API and the gateway to accept connections
LOCAL_EMERGENCY_ARN = "arn:aws:lambda:us-east-1:123456789012:function:cureconnect-dev-emergency_timeout"
LOCAL_REMINDER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:cureconnect-dev-send_reminder"
LOCAL_SCHEDULER_ROLE = "arn:aws:iam::123456789012:role/cureconnect-dev-scheduler"
LOCAL_STRIPE_KEY = "sk_test_localStripeMock0000"  # stripe-mock accepts any valid-looking test key
LOCAL_CLOUD, LOCAL_CLOUDINARY_KEY = "local", "123456789012345"


@dataclass
class Services:
    """What `make run` sets for the integrations, what it tells local tools (run.json, secrets
    included) and what it prints (secrets shortened)."""

    env: dict[str, str] = field(default_factory=dict)
    info: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)


def local_services(given: Mapping[str, str], *, api: str, gateway: str, stripe_mock: str | None,
                   stripe_problem: str = "", data: Path = DATA,
                   token: Callable[[int], str] = secrets.token_hex) -> Services:
    """Each integration the developer configured (`given`, the environment) stays theirs; every
    other one gets its local stand-in and per-run secrets."""
    out = Services()
    # Stripe: stripe-mock and a webhook secret of this run, unless a real key is given.
    if given.get("STRIPE_SECRET_KEY"):
        out.lines.append("• stripe     your Stripe account (STRIPE_SECRET_KEY); webhooks come from Stripe")
    elif stripe_mock:
        hook = given.get("STRIPE_WEBHOOK_SECRET") or "whsec_" + token(24)
        out.env.update({"STRIPE_API_BASE": stripe_mock, "STRIPE_SECRET_KEY": LOCAL_STRIPE_KEY,
                        "STRIPE_WEBHOOK_SECRET": hook})
        out.lines.append(f"• stripe     stripe-mock on {stripe_mock}, webhook secret {instance.shown(hook)} "
                         f"(this run); pay and send webhook events at {gateway}/stripe/")
    else:
        out.lines.append(f"• stripe     off ({stripe_problem}): payments answer 503")
    stripe_env = {**given, **out.env}
    out.info.update({"stripeWebhookSecret": stripe_env.get("STRIPE_WEBHOOK_SECRET", ""),
                     "stripeApiBase": stripe_env.get("STRIPE_API_BASE", ""),
                     "stripeSecretKey": stripe_env.get("STRIPE_SECRET_KEY", "") if stripe_mock else ""})
    # Cloudinary: the stand-in on the gateway's HTTP port, unless a real cloud is given.
    if given.get("CLOUDINARY_URL"):
        out.lines.append("• uploads    your Cloudinary cloud (CLOUDINARY_URL)")
    else:
        out.env.update({"CLOUDINARY_URL": f"cloudinary://{LOCAL_CLOUDINARY_KEY}:{token(20)}@{LOCAL_CLOUD}",
                        "CLOUDINARY_API_BASE": f"{gateway}/cloudinary/api",
                        "CLOUDINARY_DELIVERY_BASE": f"{gateway}/cloudinary/res"})
        out.lines.append(f"• uploads    Cloudinary stand-in at {gateway}/cloudinary/ (files in {data / 'cloudinary'})")
    # Twilio: real SMS only with all three settings; the voice webhooks are signed with a token
    # of this run and checked against PUBLIC_BASE_URL (the local API) unless given.
    real_sms = all(given.get(v) for v in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"))
    auth_token = given.get("TWILIO_AUTH_TOKEN") or token(16)
    public = given.get("PUBLIC_BASE_URL") or api
    out.env.update({"TWILIO_AUTH_TOKEN": auth_token, "PUBLIC_BASE_URL": public})
    if not real_sms:
        out.env.update({"TWILIO_ACCOUNT_SID": LOCAL_TWILIO_SID, "TWILIO_FROM_NUMBER": LOCAL_FROM_NUMBER})
    out.info.update({"twilioAuthToken": auth_token, "publicBaseUrl": public})
    sms = "SMS through your Twilio account" if real_sms else "SMS and e-mails the API sent"
    out.lines.append(f"• inbox      {gateway}/inbox/ ({sms}; e-mails: moto's SES)")
    out.lines.append(f"• phone line {gateway}/ivr/ plays Twilio (signed webhooks to {public}/api/v1/ivr/..., "
                     f"TWILIO_AUTH_TOKEN {instance.shown(auth_token, 4)} this run)")
    if given.get("GOOGLE_API_KEY"):
        out.lines.append("• analysis   Google GenAI (GOOGLE_API_KEY)")
    else:
        out.lines.append("• analysis   off: POST /api/v1/analyze answers 503 until GOOGLE_API_KEY is set")
    return out


def admin_line(data: Path, database: str) -> str:
    """The operator CLI's command for this instance, whatever its LOCAL_DATA_DIR and MONGODB_DB."""
    argv = [".venv/bin/python", "-m", "functions.auth.admin", "create-admin", "--contact", "admin@example.com",
            "--name", "Site Admin"]
    return "ADMIN_PASSWORD='…' " + instance.command(argv, {"LOCAL_DATA_DIR": str(data), "MONGODB_DB": database},
                                                     {"LOCAL_DATA_DIR": str(instance.DEFAULT_DATA),
                                                      "MONGODB_DB": DEFAULT_DB})


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


def _start_stripe_mock() -> tuple[Any, str]:
    """stripe-mock on STRIPE_MOCK_PORT (built from its Go module the first time), or why not."""
    from local.stripe_mock import BINARY, StripeMock, StripeMockError

    if not BINARY.exists():
        print("• stripe     building stripe-mock from its Go module (first run only)…", flush=True)
    try:
        return StripeMock(STRIPE_MOCK_PORT).start(), ""
    except StripeMockError as exc:
        return None, str(exc).splitlines()[0][:200]


def _verify_sender(env: dict[str, str]) -> None:
    """moto's SES refuses mail from unverified senders, as SES does: verify the dev sender so
    e-mails are recorded (see them in the inbox page)."""
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


def _wait_listening(ports: list[int], supervisor: Supervisor, timeout: float) -> list[int]:
    """The ports that do not accept a connection yet: none once all do; stops waiting when a
    child exits (at start, that is a failure to start, not a crash to heal) or time runs out."""
    deadline = time.monotonic() + timeout
    waiting = list(ports)
    while waiting and time.monotonic() < deadline:
        if any(child.process is None or child.process.poll() is not None for child in supervisor.children):
            break
        try:
            socket.create_connection(("127.0.0.1", waiting[0]), timeout=0.5).close()
            waiting.pop(0)
        except OSError:
            time.sleep(0.1)
    return waiting


def _stop_on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _say(label: str, text: str) -> None:
    print(f"• {label:<10} {text}", flush=True)


# ---------------------------------------------------------------- what make run starts


@dataclass(frozen=True)
class Run:
    """What the processes of one `make run` share: the environment made from the database and
    the stand-ins, and the addresses it prints."""

    env: dict[str, str]
    api: str
    gateway: str
    database: str
    lines: list[str]  # what stands in for each integration (`local_services`)


@dataclass(frozen=True)
class Process:
    """A row of the table of processes `make run` starts (`processes`). A supervised process runs
    until Ctrl-C, and is started again whenever it exits; any other runs to its end (exit status
    0, or make run stops) before the next row starts."""

    name: str  # its label in what make run prints
    argv: tuple[str, ...]  # run in the project's root
    env: Mapping[str, str]  # its whole environment
    ports: tuple[int, ...] = ()  # it is ready once each of these accepts a connection
    supervised: bool = True
    says: str = ""  # printed, after `• name`, once it is started


def processes(run: Run) -> tuple[Process, ...]:
    """Every process `make run` starts once the database and the stand-ins are up, in order."""
    python = (sys.executable, "-m")
    return (
        Process("indexes", (*python, "functions.core.db", "ensure-indexes"), run.env, supervised=False),
        Process("api", (*python, "local.devserver", "--host", "127.0.0.1", "--port", str(API_PORT), "--stage", "dev"),
                run.env, ports=(API_PORT,), says=f"{run.api}/api/v1/health"),
        Process("gateway", (*python, "local.ws_gateway", "--port", str(WS_PORT), "--http-port", str(WS_HTTP_PORT),
                            "--api", run.api), run.env, ports=(WS_PORT, WS_HTTP_PORT)),
        Process("sweeper", (*python, "local.sweeper", "--every", "60"), run.env,
                says="reminders, notification retries and emergency timeouts every 60 s (stands in for EventBridge)"),
        Process("outbox", (*python, "local.outbox_worker", "--every", "0.2"), run.env,
                says="delivers the outbox (messages, effects) every 0.2 s (stands in for SQS and its worker)"),
    )


def _environment(uri: str, database: str, api: str, gateway: str, services: Services) -> dict[str, str]:
    return {
        **os.environ,
        "STAGE": "dev",  # the stage `chalice local --stage dev` serves (an exported STAGE is a deploy's)
        "MONGODB_URI": uri,
        "MONGODB_DB": database,
        "JWT_SECRET": os.environ.get("JWT_SECRET") or _dev_secret(),
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{MOTO_PORT}",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "POWERTOOLS_METRICS_DISABLED": "true",
        # No SQS: requests only record; local/outbox_worker.py polls the outbox (the `outbox` process).
        "OUTBOX_DELIVERY": "poll",
        # The local API is one threaded server for every route, not one request per container.
        "MONGODB_MAX_POOL_SIZE": os.environ.get("MONGODB_MAX_POOL_SIZE", "20"),
        # Reminder schedules land in moto's Scheduler (which never fires them: the sweeper does).
        "REMINDER_FUNCTION_ARN": os.environ.get("REMINDER_FUNCTION_ARN", LOCAL_REMINDER_ARN),
        "SCHEDULER_ROLE_ARN": os.environ.get("SCHEDULER_ROLE_ARN", LOCAL_SCHEDULER_ROLE),
        "EMERGENCY_FUNCTION_ARN": os.environ.get("EMERGENCY_FUNCTION_ARN", LOCAL_EMERGENCY_ARN),
        # The app's sender (in the API and in the gateway) posts frames to the local gateway.
        "WS_MANAGEMENT_ENDPOINT": gateway,
        # The local gateway's management API needs this run's secret (API Gateway needs SigV4).
        "WS_MANAGEMENT_SECRET": secrets.token_urlsafe(32),
        # For the local tools and pages (local/instance.py, local/inbox.py).
        "LOCAL_DATA_DIR": str(DATA),
        "LOCAL_API_URL": api,
        "LOCAL_INBOX": str(DATA / "inbox.jsonl"),
        **services.env,
    }


def _prepare(cleanup: contextlib.ExitStack, supervisor: Supervisor) -> Run:
    """The database (unless MONGODB_URI is set), moto and stripe-mock (unless STRIPE_SECRET_KEY
    is set), the environment made from them, and run.json; `cleanup` stops them, `supervisor`
    starts their processes again when they exit."""
    uri_file = DATA / "mongodb-uri"
    cleanup.callback(instance.remove, DATA)
    cleanup.callback(uri_file.unlink, missing_ok=True)
    api, gateway = f"http://127.0.0.1:{API_PORT}", f"http://127.0.0.1:{WS_HTTP_PORT}"
    uri = os.environ.get("MONGODB_URI")
    if not uri:
        db = EmbeddedDB(DATA / "embedded", DB_PORT)
        cleanup.callback(db.stop)
        uri = db.start().uri
        if db.postgres is not None:
            supervisor.watch("postgresql", db.postgres.launch, (db.postgres.port,), db.postgres.process)
        supervisor.watch("ferretdb", db.launch, (DB_PORT,), db.process)
        _say("database", db.describe())
        _mention_legacy_sqlite(db)
    else:
        _say("database", "MONGODB_URI (external server)")
    uri_file.write_text(uri)
    database = os.environ.get("MONGODB_DB") or DEFAULT_DB
    cleanup.callback(_start_moto().stop)
    stripe, stripe_problem = None, ""
    if not os.environ.get("STRIPE_SECRET_KEY"):
        stripe, stripe_problem = _start_stripe_mock()
    if stripe is not None:
        cleanup.callback(stripe.stop)
        supervisor.watch("stripe-mock", stripe.launch, (STRIPE_MOCK_PORT,), stripe.process)
    services = local_services(os.environ, api=api, gateway=gateway,
                              stripe_mock=stripe.url if stripe is not None else None, stripe_problem=stripe_problem)
    env = _environment(uri, database, api, gateway, services)
    Path(env["LOCAL_INBOX"]).write_text("")  # one inbox per run, like moto's SES
    instance.write(DATA, {"api": api, "gateway": gateway, "mongodbUri": uri, "mongodbDb": database,
                          "dataDir": str(DATA), **services.info})
    _say("aws", f"moto server on {env['AWS_ENDPOINT_URL']}")
    _verify_sender(env)
    return Run(env=env, api=api, gateway=gateway, database=database, lines=services.lines)


def _launcher(process: Process) -> Callable[[], subprocess.Popen[bytes]]:
    return lambda: subprocess.Popen(list(process.argv), env=dict(process.env), cwd=ROOT)


def _start(table: tuple[Process, ...], supervisor: Supervisor) -> None:
    """Each row in order: a supervised one is started and watched, any other runs to its end first."""
    for process in table:
        if process.supervised:
            supervisor.watch(process.name, _launcher(process), process.ports)
        else:
            subprocess.run(list(process.argv), env=dict(process.env), check=True, cwd=ROOT)
        if process.says:
            _say(process.name, process.says)


def _stop(supervisor: Supervisor, names: list[str]) -> None:
    """Ctrl-C to the table's processes, then waits for them (the others have their own stop)."""
    stop_processes([child.process for child in supervisor.children if child.name in names and child.process],
                   signal.SIGINT)


def _supervise(supervisor: Supervisor) -> None:
    """Restarts what exits until Ctrl-C or SIGTERM. Both only set flags here, so that a signal
    never falls between starting a process and recording it, and a child that got the terminal's
    Ctrl-C too is not started again."""
    stopping = threading.Event()

    def stop(signum: int, frame: Any) -> None:
        supervisor.stopping = True
        stopping.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    while not stopping.wait(TICK):
        supervisor.check()


def main() -> int:
    started = time.monotonic()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    DATA.mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor(lambda text: _say("restart", text))
    with contextlib.ExitStack() as cleanup:  # stops what was started, the last first
        try:
            run = _prepare(cleanup, supervisor)
            table = processes(run)
            names = [process.name for process in table if process.supervised]
            cleanup.callback(_stop, supervisor, names)
            _start(table, supervisor)
            for line in run.lines:
                print(line, flush=True)
            _say("admin", admin_line(DATA, run.database))
            waiting = _wait_listening([port for p in table for port in p.ports], supervisor, READY_WITHIN)
            if waiting:
                exited = [c.name for c in supervisor.children if c.process is None or c.process.poll() is not None]
                late = exited or [p.name for p in table if set(p.ports) & set(waiting)]
                print(f"make run: {' and '.join(late)} did not start", file=sys.stderr, flush=True)
                return 1
            _say("ready", f"in {time.monotonic() - started:.1f} s. Ctrl-C stops everything.")
            _supervise(supervisor)
            return 0
        except KeyboardInterrupt:
            return 0
        except EmbeddedDBError as exc:
            print(str(exc), file=sys.stderr)
            return 1


if __name__ == "__main__":
    raise SystemExit(main())
