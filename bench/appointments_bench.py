"""Appointments benchmark: the database round trips of every appointments route (auth read
included; the effects' one record in the outbox counted, their delivery not: OUTBOX_DELIVERY=poll),
the booking latency with 10,000 claim documents in the database, and the slots query with
1,000 and 100,000 appointments in the collection; and flat growth (issue 20 goal 2): slots of a
doctor with 10,000 other appointments and "my appointments" of a user with 10,000, each beside
its small twin (no appointments; one full page of 100) and the 1.5x budget
(`--only-growth` prints only those rows).

Round-trip budgets (issue 20 §1; the reference's count in brackets): booking 5 [4] (the guard's
user read with the doctor, the patient's limit seats, one `insert_many` of claims and seats, the
insert, the outbox record of the notices and reminders; one more per seat taken over from an
ended appointment; one more with an Idempotency-Key, its claim: 6), cancel 3 [3] (user, the
conditional update, the outbox record: the claims are freed, the reminders deleted and the
notices sent by the outbox's worker),
slots 2 [2], my appointments 2-3 [4], one appointment 2 [4].

    .venv/bin/python bench/appointments_bench.py [--runs 15] [--big 100000] [--claims 10000] [--only-growth]

Against the embedded FerretDB v1.24 (SQLite backend) note that the server only uses an index
for a filter that is exactly `{_id: <value>}`: every other filter reads the whole collection,
so query time there grows with the collection whatever indexes exist. Point MONGODB_URI at a
MongoDB server to see the indexed (flat) figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # before the app's logger exists
os.environ.setdefault("REMINDER_FUNCTION_ARN", "arn:aws:lambda:us-east-1:123456789012:function:bench-send_reminder")
os.environ.setdefault("SCHEDULER_ROLE_ARN", "arn:aws:iam::123456789012:role/bench-scheduler")
os.environ.setdefault("SES_FROM_EMAIL", "no-reply@bench.test")

from bench._harness import bench_app, measure

TARGETS = {"GET /appointment/slots/:doctorId/:date": 2, "POST /appointment/new": 5,
           "POST /appointment/new (Idempotency-Key: 201)": 6, "GET /appointment/my": 3,
           "GET /appointment/:id (patient)": 2, "PUT /appointment/:id/cancel": 3, "PUT /appointment/:id/confirm": 3}
BATCH = 5_000
GROWTH_BUDGET = 1.5


def _user(role: str, n: int, **extra: Any) -> dict[str, Any]:
    from functions.core import clock
    from functions.core.db import get_db

    doc = {"name": f"Bench {role} {n}", "contact": f"bench-{role}-{n}@example.test", "contactType": "email",
           "role": role, "approvalStatus": "approved", "active": True, "sessionVersion": 0, "revokedTokens": [],
           "createdAt": clock.now(), "updatedAt": clock.now(), **extra}
    if role == "doctor":
        doc.setdefault("timezone", "Asia/Kolkata")
        doc.setdefault("speciality", "general")
    doc["_id"] = get_db()["users"].insert_one(doc).inserted_id
    return doc


def _auth(user: dict[str, Any]) -> dict[str, str]:
    from functions.core.security import issue_token

    return {"Authorization": f"Bearer {issue_token(user)[0]}"}


def _filler(count: int, offset: int, doctors: list[Any], base: datetime) -> list[dict[str, Any]]:
    """Appointments of other doctors, spread over two years, none on the measured doctor."""
    from bson import ObjectId

    docs = []
    for i in range(offset, offset + count):
        doctor = doctors[i % len(doctors)]
        start = base + timedelta(minutes=30 * (i // len(doctors)))
        patient = ObjectId()
        docs.append({
            "patient": patient, "doctor": doctor, "description": "bench", "symptoms": "bench",
            "day": start.date().isoformat(), "time": f"{start:%H:%M}", "timezone": "UTC", "start": start,
            "end": start + timedelta(minutes=30), "durationMinutes": 30,
            "status": ("pending", "confirmed", "completed", "cancelled")[i % 4],
            "statusHistory": [], "roomId": f"bench-room-{i}", "slotKey": f"{doctor}|{i}",
            "patientSlotKey": f"{patient}|{i}", "parties": {}, "reminderOffsets": [], "remindersSent": {},
            "createdAt": base, "updatedAt": base,
        })
    return docs


def _fill_to(total: int, doctors: list[Any], base: datetime) -> float:
    from functions.core.db import get_db

    coll = get_db()["appointments"]
    have = coll.count_documents({})
    started = time.perf_counter()
    while have < total:
        n = min(BATCH, total - have)
        coll.insert_many(_filler(n, have, doctors, base), ordered=False)
        have += n
    return time.perf_counter() - started


def _time_slots(client: Any, counter: Any, path: str, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response, _ = measure(client, counter, "GET", path)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, response.body
    return statistics.median(samples) * 1000, min(samples) * 1000


def round_trips(client: Any, counter: Any, doctor: dict[str, Any], day: str) -> None:
    import json

    patient, other = _user("patient", 1), _user("patient", 2)
    print("\nDatabase round trips per request (pymongo command listener; auth read included)")
    rows: list[tuple[str, list[str]]] = []
    _, cmds = measure(client, counter, "GET", f"/api/v1/appointment/slots/{doctor['_id']}/{day}")
    rows.append(("GET /appointment/slots/:doctorId/:date", cmds))
    booking = {"doctor": str(doctor["_id"]), "description": "d", "symptoms": "s", "day": day, "time": "10:00"}
    response, cmds = measure(client, counter, "POST", "/api/v1/appointment/new", booking, _auth(patient))
    assert response.status_code == 201, response.body
    appt_id = json.loads(response.body)["appointment"]["_id"]
    rows.append(("POST /appointment/new", cmds))
    response, cmds = measure(client, counter, "POST", "/api/v1/appointment/new", booking, _auth(other))
    rows.append((f"POST /appointment/new (slot taken: {response.status_code})", cmds))
    keyed = {**booking, "time": "12:00"}
    response, cmds = measure(client, counter, "POST", "/api/v1/appointment/new", keyed,
                             {**_auth(other), "Idempotency-Key": "bench-1"})
    rows.append((f"POST /appointment/new (Idempotency-Key: {response.status_code})", cmds))
    response, cmds = measure(client, counter, "POST", "/api/v1/appointment/new", keyed,
                             {**_auth(other), "Idempotency-Key": "bench-1"})
    rows.append((f"POST /appointment/new (retry, same key: {response.status_code})", cmds))
    rows.append(("GET /appointment/my", measure(client, counter, "GET", "/api/v1/appointment/my", None,
                                                _auth(patient))[1]))
    rows.append(("GET /appointment/:id (patient)", measure(client, counter, "GET", f"/api/v1/appointment/{appt_id}",
                                                           None, _auth(patient))[1]))
    rows.append(("GET /appointment/:id (doctor, audited)", measure(
        client, counter, "GET", f"/api/v1/appointment/{appt_id}", None, _auth(doctor))[1]))
    rows.append(("PUT /appointment/:id/confirm", measure(client, counter, "PUT",
                                                         f"/api/v1/appointment/{appt_id}/confirm", None,
                                                         _auth(doctor))[1]))
    rows.append(("PUT /appointment/:id/reschedule", measure(client, counter, "PUT",
                                                            f"/api/v1/appointment/{appt_id}/reschedule",
                                                            {"day": day, "time": "11:00"}, _auth(patient))[1]))
    rows.append(("PUT /appointment/:id/cancel", measure(client, counter, "PUT", f"/api/v1/appointment/{appt_id}/cancel",
                                                        {"reason": "bench"}, _auth(patient))[1]))
    rows.append(("GET /doctor/availability", measure(client, counter, "GET", "/api/v1/doctor/availability", None,
                                                     _auth(doctor))[1]))
    rows.append(("PUT /doctor/availability", measure(client, counter, "PUT", "/api/v1/doctor/availability",
                                                     {"slotMinutes": 30}, _auth(doctor))[1]))
    for label, cmds in rows:
        target = TARGETS.get(label)
        verdict = "" if target is None else f"   budget {target}: {'ok' if len(cmds) <= target else 'OVER'}"
        print(f"  {label:46} {len(cmds):2d}{verdict}")
        print(f"  {'':46}    {', '.join(cmds)}")


def _fill_claims(total: int, base: datetime) -> float:
    """`total` claim documents of other doctors and patients (5-minute cells over weeks)."""
    from bson import ObjectId

    from functions.core.db import get_db

    coll, started, have = get_db()["appointment_claims"], time.perf_counter(), 0
    owners = [ObjectId() for _ in range(100)]
    while have < total:
        n = min(BATCH, total - have)
        docs = []
        for i in range(have, have + n):
            cell = base + timedelta(minutes=5 * (i // len(owners)))
            docs.append({"_id": f"{owners[i % len(owners)]}|{cell:%Y-%m-%dT%H:%MZ}", "appt": ObjectId(),
                         "hold": "bench", "day": f"{cell:%Y-%m-%d}"})
        coll.insert_many(docs, ordered=False)
        have += n
    return time.perf_counter() - started


def booking_latency(client: Any, counter: Any, day: str, runs: int, claims: int) -> None:
    """POST /appointment/new with `claims` claim documents already in the database: each run a
    new patient books another free slot of one doctor (and then cancels, timed too)."""
    import json

    from functions.core import clock

    doctor = _user("doctor", 10_000)
    filled = _fill_claims(claims, clock.now().astimezone(UTC))
    books, cancels = [], []
    for i in range(min(runs, 16)):
        patient = _user("patient", 10_000 + i)
        booking = {"doctor": str(doctor["_id"]), "description": "d", "symptoms": "s", "day": day,
                   "time": f"{9 + i // 2:02d}:{30 * (i % 2):02d}"}
        started = time.perf_counter()
        response, _ = measure(client, counter, "POST", "/api/v1/appointment/new", booking, _auth(patient))
        books.append(time.perf_counter() - started)
        assert response.status_code == 201, response.body
        appt_id = json.loads(response.body)["appointment"]["_id"]
        started = time.perf_counter()
        response, _ = measure(client, counter, "PUT", f"/api/v1/appointment/{appt_id}/cancel", {"reason": "bench"},
                              _auth(patient))
        cancels.append(time.perf_counter() - started)
        assert response.status_code == 200, response.body
    print(f"\nBooking with {claims:,} claim documents in the database (filled in {filled:.1f} s), "
          f"{len(books)} runs")
    print(f"  POST /appointment/new        median {statistics.median(books) * 1000:8.1f} ms"
          f"   best {min(books) * 1000:8.1f} ms")
    print(f"  PUT /appointment/:id/cancel  median {statistics.median(cancels) * 1000:8.1f} ms"
          f"   best {min(cancels) * 1000:8.1f} ms")


def _own(field: str, owner: Any, count: int, starts: list[datetime]) -> None:
    """`count` appointments of one doctor or patient (`field`), at `starts` (30 minutes each)."""
    from bson import ObjectId

    from functions.core.db import get_db

    docs = []
    for i, start in enumerate(starts[:count]):
        other = ObjectId()
        doctor, patient = (owner, other) if field == "doctor" else (other, owner)
        tag = f"{field}-{owner}-{i}"
        docs.append({
            "patient": patient, "doctor": doctor, "description": "bench", "symptoms": "bench",
            "day": start.date().isoformat(), "time": f"{start:%H:%M}", "timezone": "UTC", "start": start,
            "end": start + timedelta(minutes=30), "durationMinutes": 30,
            "status": ("pending", "confirmed", "completed", "cancelled")[i % 4], "statusHistory": [],
            "roomId": f"bench-{tag}", "slotKey": f"{doctor}|{tag}", "patientSlotKey": f"{patient}|{tag}",
            "parties": {}, "reminderOffsets": [], "remindersSent": {}, "createdAt": start, "updatedAt": start,
        })
    for n in range(0, len(docs), BATCH):
        get_db()["appointments"].insert_many(docs[n:n + BATCH], ordered=False)


def _spread(day: str, count: int) -> list[datetime]:
    """`count` half-hour starts on days other than `day` and its neighbours: half before, half after."""
    measured = datetime.fromisoformat(day).replace(tzinfo=UTC)
    half = count // 2
    before = [measured - timedelta(days=2) - timedelta(minutes=30 * (i + 1)) for i in range(half)]
    after = [measured + timedelta(days=2) + timedelta(minutes=30 * i) for i in range(count - half)]
    return before + after


def _median_ms(client: Any, counter: Any, path: str, runs: int, headers: dict[str, str] | None = None) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response, _ = measure(client, counter, "GET", path, None, headers)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, response.body
    return statistics.median(samples) * 1000


def growth(client: Any, counter: Any, day: str, runs: int, many: int = 10_000) -> None:
    """Issue 20 goal 2 (flat growth): a doctor's slots and a user's list measured on a small
    owner and on one with `many` appointments, the large within GROWTH_BUDGET of the small."""
    lone, busy = _user("doctor", 20_000), _user("doctor", 20_001)
    _own("doctor", busy["_id"], many, _spread(day, many))
    page, heavy = _user("patient", 20_000), _user("patient", 20_001)
    _own("patient", page["_id"], 100, _spread(day, 100))
    _own("patient", heavy["_id"], many, _spread(day, many))
    rows = [(f"slots, doctor with {many:,} other appointments vs none",
             _median_ms(client, counter, f"/api/v1/appointment/slots/{lone['_id']}/{day}", runs),
             _median_ms(client, counter, f"/api/v1/appointment/slots/{busy['_id']}/{day}", runs)),
            (f"my appointments, {many:,} vs one full page (100)",
             _median_ms(client, counter, "/api/v1/appointment/my", runs, _auth(page)),
             _median_ms(client, counter, "/api/v1/appointment/my", runs, _auth(heavy))),
            (f"my appointments ?page=1&limit=20, {many:,} vs 100",
             _median_ms(client, counter, "/api/v1/appointment/my?page=1&limit=20", runs, _auth(page)),
             _median_ms(client, counter, "/api/v1/appointment/my?page=1&limit=20", runs, _auth(heavy)))]
    print(f"\nFlat growth (issue 20 goal 2), median of {runs}: large / small within {GROWTH_BUDGET}x")
    for label, small, large in rows:
        ratio = large / small
        print(f"  {label:52} small {small:7.1f} ms   large {large:7.1f} ms   {ratio:4.2f}x"
              f"   budget {GROWTH_BUDGET}x: {'ok' if ratio <= GROWTH_BUDGET else 'OVER'}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--only-growth", action="store_true", help="only the flat-growth rows (issue 20)")
    args = parser.parse_args()
    with bench_app() as (client, counter):
        import boto3
        from bson import ObjectId

        from functions.core import clock

        boto3.client("ses").verify_email_identity(EmailAddress=os.environ["SES_FROM_EMAIL"])
        # A doctor who confirms bookings, so that the confirm route is measured on a pending appointment
        doctor = _user("doctor", 0, availability={"requiresConfirmation": True})
        day = (clock.now().astimezone(UTC) + timedelta(days=3)).date().isoformat()
        growth(client, counter, day, args.runs)
        if args.only_growth:
            return
        round_trips(client, counter, doctor, day)
        booking_latency(client, counter, day, args.runs, args.claims)

        # The measured doctor keeps a few bookings that day; the rest of the collection is others'.
        others = [ObjectId() for _ in range(200)]
        path = f"/api/v1/appointment/slots/{doctor['_id']}/{day}"
        base = datetime(2026, 1, 1, tzinfo=UTC)
        print(f"\nGET /appointment/slots (public, computed on request), median of {args.runs}")
        for total in (1_000, args.big):
            filled = _fill_to(total, others, base)
            median, best = _time_slots(client, counter, path, args.runs)
            print(f"  {total:>7,} appointments in the collection: median {median:8.1f} ms   best {best:8.1f} ms"
                  f"   (filled in {filled:.1f} s)")
        from functions.core.db import get_client

        info = get_client().admin.command("buildInfo")
        ferret = info.get("ferretdbVersion")
        print(f"  server: {'FerretDB ' + ferret if ferret else 'MongoDB ' + str(info.get('version'))}")
        if ferret:
            print("  The query narrows by equality (doctor, day: {$in: [the day before, the day]}), which the patched\n"
                  "  server pushes into SQL on PostgreSQL (GIN indexes); on SQLite every filter reads the whole\n"
                  "  collection. On MongoDB the doctor_start index serves it (MONGODB_URI=... to measure).")


if __name__ == "__main__":
    main()
