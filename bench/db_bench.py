"""Database benchmark: the hot queries of the API at 1 000, 10 000 and 100 000 appointments and
users, on the embedded default (FerretDB on PostgreSQL) or on MONGODB_URI, and the concurrent
write results (atomic-writes patch).

For each operation it prints the database time of one request (the sum of its commands' server
round-trip durations, median of --runs), the round trips, and the whole request's time through
the app (argon2 included for the login). Goal on the embedded default: every database time
under 20 ms at 100 000 documents.

    .venv/bin/python bench/db_bench.py [--runs 15] [--sizes 1000,10000,100000] [--backend sqlite]

Every document is a clone of one made through the API (unique fields made unique), so the data
has exactly the shape the code writes, whatever the code's version.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
# One patient books a few dozen slots here: raise the per-patient limits just enough (each limit
# is a set of seat documents read by `_id $in`, so a huge limit would measure a huge read).
os.environ.setdefault("MAX_ACTIVE_PER_DOCTOR", "48")
os.environ.setdefault("MAX_ACTIVE_PER_PATIENT", "48")
os.environ.setdefault("MAX_MESSAGES_PER_RECIPIENT_PER_DAY", "100000")
os.environ.setdefault("REMINDER_FUNCTION_ARN", "arn:aws:lambda:us-east-1:123456789012:function:bench-send_reminder")
os.environ.setdefault("SCHEDULER_ROLE_ARN", "arn:aws:iam::123456789012:role/bench-scheduler")
os.environ.setdefault("SES_FROM_EMAIL", "no-reply@bench.test")

from bson import ObjectId
from pymongo import monitoring

from bench._harness import bench_app

BATCH = 5_000
PASSWORD = "bench-password-Quokka-42"


class Timer(monitoring.CommandListener):
    """Server round-trip time and count of the commands since `reset()`."""

    _IGNORED = {"hello", "ismaster", "isMaster", "ping", "endSessions", "killCursors"}
    _SHOWN = ("filter", "query", "updates", "deletes", "pipeline")

    def __init__(self) -> None:
        self.micros = 0
        self.count = 0
        self.slowest: list[tuple[int, str]] = []
        self._shapes: dict[int, str] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in self._IGNORED:
            self.count += 1
            body = {k: v for k, v in event.command.items() if k in self._SHOWN}
            name = event.command_name
            self._shapes[event.request_id] = f"{name} {event.command.get(name)} {body}"[:200]

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if event.command_name not in self._IGNORED:
            self.micros += event.duration_micros
            self.slowest.append((event.duration_micros, self._shapes.pop(event.request_id, "?")))

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self.micros += event.duration_micros

    def reset(self) -> None:
        self.micros = self.count = 0
        self.slowest.clear()


def _request(client: Any, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    raw = json.dumps(body).encode() if body is not None else b""
    response = client.http.request(method, f"/api/v1{path}", headers=headers, body=raw)
    if response.status_code >= 400:
        raise SystemExit(f"{method} {path} answered {response.status_code}: {response.body[:300]!r}")
    return json.loads(response.body) if response.body else {}


def _unique_fields(collection: str) -> list[str]:
    from functions.registry import collect_indexes

    return [next(iter(m.document["key"])) for m in collect_indexes().get(collection, [])
            if m.document.get("unique") and len(m.document["key"]) == 1]


def _clone(doc: dict[str, Any], i: int, unique: list[str], changes: dict[str, Any]) -> dict[str, Any]:
    copy = {**doc, **changes, "_id": ObjectId()}
    for field in unique:
        value = copy.get(field)
        if isinstance(value, str):
            copy[field] = f"{i}-{value}"
        elif isinstance(value, ObjectId):
            copy[field] = ObjectId()
    return copy


def _fill(collection: str, sample: dict[str, Any], start: int, total: int, vary: Any) -> None:
    from functions.core.db import get_db

    unique = _unique_fields(collection)
    for offset in range(start, total, BATCH):
        docs = [_clone(sample, i, unique, vary(i)) for i in range(offset, min(total, offset + BATCH))]
        get_db()[collection].insert_many(docs, ordered=False)


def _measure(client: Any, timer: Timer, runs: int, call: Any) -> tuple[float, int, float]:
    db_ms, trips, wall = [], [], []
    for i in range(runs):
        timer.reset()
        began = time.perf_counter()
        call(i)
        wall.append((time.perf_counter() - began) * 1000)
        db_ms.append(timer.micros / 1000)
        trips.append(timer.count)
    return statistics.median(db_ms), int(statistics.median(trips)), statistics.median(wall)


def _race(uri: str, db_name: str, clients_n: int, work: Any) -> list[Any]:
    from pymongo import MongoClient

    clients = [MongoClient(uri) for _ in range(clients_n)]
    for c in clients:
        c.admin.command("ping")
    barrier = threading.Barrier(clients_n)
    out: list[Any] = [None] * clients_n

    def run(i: int) -> None:
        barrier.wait()
        out[i] = work(clients[i][db_name]["bench_race"])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in clients:
        c.close()
    return out


def concurrency(trials: int = 5) -> None:
    from functions.core.config import get_settings
    from functions.core.db import get_db

    uri, name = get_settings().mongodb_uri, get_settings().mongodb_db
    coll = get_db()["bench_race"]
    incs, winners, modified = [], [], []
    for _ in range(trials):
        coll.delete_many({"_id": {"$in": ["c", "w", "u"]}})
        coll.insert_many([{"_id": "c", "n": 0}, {"_id": "w", "v": 0}, {"_id": "u", "s": "pending"}])
        _race(uri, name, 30, lambda c: c.update_one({"_id": "c"}, {"$inc": {"n": 1}}))
        incs.append(coll.find_one({"_id": "c"})["n"])
        winners.append(sum(r is not None for r in _race(
            uri, name, 30, lambda c: c.find_one_and_update({"_id": "w", "v": 0}, {"$inc": {"v": 1}}))))
        modified.append(sum(r.modified_count for r in _race(
            uri, name, 30, lambda c: c.update_one({"_id": "u", "s": "pending"}, {"$set": {"s": "done"}}))))
    print(f"\nconcurrent writes, 30 clients, {trials} trials:")
    print(f"  30 x $inc                           final n:  {incs}  (want 30)")
    print(f"  30 x conditional find_one_and_update winners: {winners}  (want 1)")
    print(f"  30 x conditional update_one  modified (sum): {modified}  (want 1)")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default=None)
    parser.add_argument("--slowest", type=int, default=0, help="print the N slowest commands of a slow operation")
    args = parser.parse_args()
    if args.backend:
        os.environ["EMBEDDED_DB_BACKEND"] = args.backend
    sizes = [int(s) for s in args.sizes.split(",")]

    timer = Timer()
    monitoring.register(timer)
    with bench_app() as (client, _counter):
        import boto3

        from functions.core.db import get_db
        from functions.core.security import hash_password

        boto3.client("ses").verify_email_identity(EmailAddress=os.environ["SES_FROM_EMAIL"])
        db = get_db()
        print(f"server: {db.client.admin.command('buildInfo').get('version')} "
              f"({os.environ.get('EMBEDDED_DB_BACKEND') or 'default backend'}), database {db.name}")
        # The measured patient and doctor, made through the API.
        patient = _request(client, "POST", "/register", body={"name": "Bench Patient", "contact": "bench-p@example.com",
                                                             "password": PASSWORD, "role": "patient"})
        doctor = _request(client, "POST", "/register", body={"name": "Bench Doctor", "contact": "bench-d@example.com",
                                                            "password": PASSWORD, "role": "doctor",
                                                            "speciality": "general"})
        db["users"].update_one({"_id": ObjectId(doctor["user"]["_id"])}, {"$set": {"approvalStatus": "approved"}})
        p_token = patient["token"]
        doctor_id = doctor["user"]["_id"]
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
        booked = _request(client, "POST", "/appointment/new", p_token, {
            "doctor": doctor_id, "description": "bench", "symptoms": "bench", "day": tomorrow.isoformat(),
            "time": "10:00"})
        appointment_id = booked["appointment"]["_id"]
        sample_user = db["users"].find_one({"_id": ObjectId(patient["user"]["_id"])})
        sample_user["passwordHash"] = hash_password(PASSWORD)
        sample_appt = db["appointments"].find_one({"_id": ObjectId(appointment_id)})
        base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=365)

        def vary_appt(i: int) -> dict[str, Any]:
            start = base + timedelta(minutes=30 * i)
            return {"patient": ObjectId(), "doctor": ObjectId(), "start": start, "end": start + timedelta(minutes=30),
                    "day": start.date().isoformat(), "time": f"{start:%H:%M}",
                    "status": ("pending", "confirmed", "completed", "cancelled")[i % 4]}

        booking_day = [tomorrow + timedelta(days=2)]
        header = f"{'operation':34} {'documents':>10} {'db ms':>8} {'trips':>6} {'request ms':>11}"
        print("\n" + header + "\n" + "-" * len(header))
        filled = 1
        for size in sizes:
            _fill("users", sample_user, filled, size, lambda i: {"name": f"Filler {i}"})
            _fill("appointments", sample_appt, filled, size, vary_appt)
            filled = size

            def book(i: int) -> None:
                day = booking_day[0] + timedelta(days=i // 14)
                _request(client, "POST", "/appointment/new", p_token, {
                    "doctor": doctor_id, "description": "bench", "symptoms": "bench", "day": day.isoformat(),
                    "time": f"{9 + (i % 14) // 2:02d}:{30 * (i % 2):02d}"})

            operations = [
                ("login by contact", lambda i: _request(client, "POST", "/login", body={
                    "contact": "bench-p@example.com", "password": PASSWORD})),
                ("guard's user read (GET /me)", lambda i: _request(client, "GET", "/me", p_token)),
                ("slots of a day", lambda i: _request(client, "GET", f"/appointment/slots/{doctor_id}/{tomorrow}")),
                ("my appointments", lambda i: _request(client, "GET", "/appointment/my", p_token)),
                ("one appointment", lambda i: _request(client, "GET", f"/appointment/{appointment_id}", p_token)),
                ("booking", book),
                ("sweeper", lambda i: client.lambda_.invoke("reminder_sweep", client.events.generate_cw_event(
                    source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]))),
            ]
            for name, call in operations:
                db_ms, trips, wall = _measure(client, timer, args.runs, call)
                print(f"{name:34} {size:>10,} {db_ms:>8.1f} {trips:>6} {wall:>11.1f}", flush=True)
                if args.slowest and db_ms > 20:
                    for micros, shape in sorted(timer.slowest, reverse=True)[:args.slowest]:
                        print(f"    {micros / 1000:8.1f} ms  {shape}")
            booking_day[0] += timedelta(days=args.runs // 14 + 2)
        concurrency()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
