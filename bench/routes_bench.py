"""Issue 20 §4, one benchmark for every route of the issue's table: database round trips per
request (auth read included, messages and every other effect the code runs inline included),
median and p95 latency, and growth where the issue asks for it, each printed beside its budget
and beside the original Node/Express backend's figure from the issue's table (measured once
there, side by side on a shared 2-core machine; printed as context, not re-measured here).

    .venv/bin/python bench/routes_bench.py [--runs 20] [--sizes 1000,10000,100000] [--quick]
    make bench

Round trips are counted by the pymongo command listener of bench/_harness.py; requests go
through chalice.test.Client, except the 20-client rows, which go through the local API server
(`python -m local.devserver`, i.e. `chalice local`) over keep-alive connections. The database
is the embedded FerretDB (PostgreSQL backend) unless MONGODB_URI points at a server. Figures
depend on the machine and its load: nothing here passes or fails; "OVER" marks a budget missed.
`--quick` is a smoke run (small sizes, a few runs) whose figures mean nothing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # before the app's logger exists

from bench import appointments_bench as appts  # noqa: E402  (sets the reminder/e-mail settings it needs)
from bench import pharmacy_bench as pharmacy  # noqa: E402
from bench._harness import bench_app, dev_server, median_p95, timed  # noqa: E402

PASSWORD = "correct-horse-battery"
appts.BATCH = 500  # inserts small enough for a loaded machine's 10 s socket timeout
GROWTH_BUDGET = 1.5  # large within 1.5x of small (issue 20 goal 2)
PAGE_BUDGET_MS = 100.0  # the catalogue's first page at 100 000 medicines, embedded default
CLIENTS = 20


@dataclass
class Row:
    """One printed line: a route, what we measured, its budget and the original's figure."""

    route: str
    trips: int | None = None
    median: float | None = None
    p95: float | None = None
    budget: str = ""
    original: str = ""
    verdict: str = ""


ROWS: list[Row] = []


def _row(route: str, trips: list[int] | None, samples: list[float] | None, budget: str, original: str,
         trip_budget: int | None = None, latency_budget_ms: float | None = None) -> Row:
    median, p95 = median_p95(samples) if samples else (None, None)
    most = max(trips) if trips else None
    verdict = ""
    if trip_budget is not None and most is not None:
        verdict = "ok" if most <= trip_budget else "OVER"
    if latency_budget_ms is not None and median is not None:
        verdict = "ok" if median <= latency_budget_ms else "OVER"
    row = Row(route, most, median, p95, budget, original, verdict)
    ROWS.append(row)
    print(_format(row), flush=True)
    return row


def _format(row: Row) -> str:
    trips = "" if row.trips is None else str(row.trips)
    median = "" if row.median is None else f"{row.median:7.1f}"
    p95 = "" if row.p95 is None else f"{row.p95:7.1f}"
    return f"  {row.route:50} {trips:>5} {median:>8} {p95:>8}   {row.budget:30} {row.verdict:4}  {row.original}"


def _header(title: str) -> None:
    columns = f"{'route':50} {'trips':>5} {'median':>8} {'p95':>8}   {'budget':30} {'':4}  original (issue's table)"
    print(f"\n{title}\n  {columns}", flush=True)


def _patient(n: int) -> dict[str, Any]:
    return appts._user("patient", 30_000 + n)


# ---------------------------------------------------------------- writes


def appointment_rows(client: Any, counter: Any, runs: int) -> None:
    """Booking and cancel: each run a new patient books a free slot of one doctor, then cancels it."""
    from functions.core import clock

    doctor = appts._user("doctor", 30_000)
    first_day = clock.now().astimezone(UTC).date() + timedelta(days=3)
    books: list[float] = []
    cancels: list[float] = []
    book_trips: list[int] = []
    cancel_trips: list[int] = []
    for i in range(runs):
        patient = _patient(i)
        day = (first_day + timedelta(days=i // 16)).isoformat()
        body = {"doctor": str(doctor["_id"]), "description": "bench", "symptoms": "bench", "day": day,
                "time": f"{9 + (i % 16) // 2:02d}:{30 * (i % 2):02d}"}
        response, commands, took = timed(client, counter, "POST", "/api/v1/appointment/new", body, appts._auth(patient))
        assert response.status_code == 201, response.body
        books.append(took)
        book_trips.append(len(commands))
        appt_id = json.loads(response.body)["appointment"]["_id"]
        response, commands, took = timed(client, counter, "PUT", f"/api/v1/appointment/{appt_id}/cancel",
                                         {"reason": "bench"}, appts._auth(patient))
        assert response.status_code == 200, response.body
        cancels.append(took)
        cancel_trips.append(len(commands))
    _row("PUT /appointment/:id/cancel", cancel_trips, cancels, "<= 3 trips", "3 trips; ours 7, 3.1x its median",
         trip_budget=3)
    _row("POST /appointment/new (booking)", book_trips, books, "<= 5 trips", "4 trips; ours 9, 0.45x its median",
         trip_budget=5)


def order_rows(client: Any, counter: Any, shops: list[dict[str, Any]], runs: int) -> None:
    """Placing (1 and 3 items, cash on delivery), the pharmacy confirming, the customer cancelling."""
    from functions.pharmacy.stores import medicines

    shop = shops[0]
    owner = appts._auth(shop["ownerUser"])
    items = medicines.all_of_pharmacy(shop["_id"], {"isActive": True}, {"_id": 1}, 3)
    samples: dict[str, list[float]] = {k: [] for k in ("one", "three", "status", "cancel")}
    trips: dict[str, list[int]] = {k: [] for k in samples}

    def body(count: int) -> dict[str, Any]:
        return {"pharmacyId": str(shop["_id"]), "items": [{"medicine": str(m["_id"]), "quantity": 1}
                                                          for m in items[:count]],
                "paymentInfo": {"method": "cod"}, "deliveryInfo": {"type": "pickup"}}

    def run(key: str, method: str, path: str, payload: Any, who: dict[str, str]) -> Any:
        response, commands, took = timed(client, counter, method, path, payload, who)
        assert response.status_code in (200, 201), response.body[:300]
        samples[key].append(took)
        trips[key].append(len(commands))
        return json.loads(response.body)

    for i in range(runs):
        customer = appts._auth(_patient(1_000 + i))
        order = run("one", "POST", "/api/v1/orders", body(1), customer)["order"]["_id"]
        run("status", "PUT", f"/api/v1/order/{order}/status", {"status": "confirmed"}, owner)
        run("cancel", "PUT", f"/api/v1/order/{order}/cancel", {}, customer)
        order = run("three", "POST", "/api/v1/orders", body(3), customer)["order"]["_id"]
        response, _, _ = timed(client, counter, "PUT", f"/api/v1/order/{order}/cancel", {}, customer)
        assert response.status_code == 200, response.body[:300]
    _row("POST /orders, 1 item", trips["one"], samples["one"], "<= n + 6 = 7 trips",
         "9 trips; ours 12, 0.89x its median", trip_budget=7)
    _row("POST /orders, 3 items", trips["three"], samples["three"], "<= n + 6 = 9 trips",
         "13 trips; ours 14, 0.89x its median", trip_budget=9)
    _row("PUT /order/:id/status", trips["status"], samples["status"], "<= 4 trips",
         "4 trips; ours 8, 1.5x its median", trip_budget=4)
    _row("PUT /order/:id/cancel, 1 item", trips["cancel"], samples["cancel"], "<= 4 trips",
         "4 trips; ours 10, 1.3x its median", trip_budget=4)


def login_row(client: Any, counter: Any, runs: int) -> None:
    response, _, _ = timed(client, counter, "POST", "/api/v1/register",
                           {"name": "Bench Login", "contact": "bench-login@example.com", "password": PASSWORD})
    assert response.status_code == 201, response.body
    samples, trips = [], []
    for _ in range(runs):
        response, commands, took = timed(client, counter, "POST", "/api/v1/login",
                                         {"contact": "bench-login@example.com", "password": PASSWORD})
        assert response.status_code == 200, response.body
        samples.append(took)
        trips.append(len(commands))
    _row("POST /login (success)", trips, samples, "<= 2 trips", "1 trip; ours 4, 0.56x its median",
         trip_budget=2)


# ---------------------------------------------------------------- reads and growth


def _get_samples(client: Any, counter: Any, path: str, runs: int, headers: dict[str, str] | None = None
                 ) -> tuple[list[float], list[int]]:
    samples, trips = [], []
    for _ in range(runs):
        response, commands, took = timed(client, counter, "GET", path, None, headers)
        assert response.status_code == 200, response.body[:300]
        samples.append(took)
        trips.append(len(commands))
    return samples, trips


def _growth(label: str, small: list[float], large: list[float], trips: list[int], original: str) -> None:
    ratio = median_p95(large)[0] / median_p95(small)[0]
    row = _row(label, trips, large, f"<= {GROWTH_BUDGET}x of small: {ratio:4.2f}x", original)
    row.verdict = "ok" if ratio <= GROWTH_BUDGET else "OVER"
    print(f"  {'':50} {'':5} {median_p95(small)[0]:8.1f} {median_p95(small)[1]:8.1f}   (the small twin)", flush=True)


def slots_rows(client: Any, counter: Any, runs: int, past: int) -> None:
    """A doctor with `past` past appointments beside one with none (the busy read narrows by day)."""
    from functions.core import clock

    day = (clock.now().astimezone(UTC) + timedelta(days=3)).date().isoformat()
    lone, busy = appts._user("doctor", 30_001), appts._user("doctor", 30_002)
    today = clock.now().astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    appts._own("doctor", busy["_id"], past, [today - timedelta(days=1 + i // 8, hours=i % 8) for i in range(past)])
    small, _ = _get_samples(client, counter, f"/api/v1/appointment/slots/{lone['_id']}/{day}", runs)
    large, trips = _get_samples(client, counter, f"/api/v1/appointment/slots/{busy['_id']}/{day}", runs)
    _growth(f"GET /appointment/slots, {past} past appointments", small, large, trips,
            "2 trips, 8 ms; ours 2, 40 ms (5.2x)")


def my_appointments_rows(client: Any, counter: Any, runs: int, many: int) -> None:
    """"My appointments" of a user with `many` beside one with one full page (100)."""
    from functions.core import clock

    day = (clock.now().astimezone(UTC) + timedelta(days=3)).date().isoformat()
    page, heavy = _patient(2_000), _patient(2_001)
    appts._own("patient", page["_id"], 100, appts._spread(day, 100))
    appts._own("patient", heavy["_id"], many, appts._spread(day, many))
    small, _ = _get_samples(client, counter, "/api/v1/appointment/my", runs, appts._auth(page))
    large, trips = _get_samples(client, counter, "/api/v1/appointment/my", runs, appts._auth(heavy))
    _growth(f"GET /appointment/my, {many:,} vs one page (100)", small, large, trips, "(not in the table)")


def catalogue_rows(client: Any, counter: Any, shops: list[dict[str, Any]], sizes: list[int], runs: int,
                   big_runs: int, filled: int) -> int:
    """The catalogue's first page (default order) at each size; the row at 10 000 is the table's."""
    for size in sizes:
        _fill(shops, filled, size)
        filled = size
        samples, trips = _get_samples(client, counter, "/api/v1/medicines", runs if size <= 10_000 else big_runs)
        budget, original, limit = "", "", None
        if size == 10_000:
            original = "3 trips; ours 3, 1.5x its median"
        if size >= 100_000:
            budget, limit = f"<= {PAGE_BUDGET_MS:.0f} ms (embedded default)", PAGE_BUDGET_MS
        _row(f"GET /medicines, first page, {size:,} medicines", trips, samples, budget or "(growth)", original,
             latency_budget_ms=limit)
    return filled


def _fill(shops: list[dict[str, Any]], start: int, total: int) -> None:
    """Medicines up to `total`, in batches small enough for a loaded machine's 10 s socket timeout."""
    step = 500
    for begin in range(start, total, step):
        pharmacy._fill(shops, begin, min(total, begin + step))


# ---------------------------------------------------------------- 20 clients


def concurrent_rows(uri: str, db_name: str, per_client: int) -> None:
    """GET /doctors and GET /medicines from 20 clients at once through the local API server."""
    env = {**os.environ, "MONGODB_URI": uri, "MONGODB_DB": db_name, "STAGE": "dev", "PYTHONPATH": str(ROOT)}
    with ExitStack() as stack:
        port = dev_server([sys.executable, "-m", "local.devserver"], env, stack, ROOT)
        keep_alive_row(port, max(20, per_client * 2))
        for path, original in (("/api/v1/doctors", "ours 0.73x the original's throughput"),
                               ("/api/v1/medicines", "ours 0.77x the original's throughput")):
            samples, seconds = _hammer(port, path, per_client)
            rate = len(samples) / seconds
            row = _row(f"GET {path.removeprefix('/api/v1')}, {CLIENTS} clients", None, samples,
                       f">= original's throughput: {rate:6.1f} req/s", original)
            row.verdict = ""


def keep_alive_row(port: int, runs: int) -> None:
    """Issue 20 §3: `GET /doctors` from one client, one keep-alive connection (the Nagle stall's
    signature was ~40 ms more on a reused connection than on a new one)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    samples: list[float] = []
    for _ in range(runs + 1):  # the first opens the connection: not counted
        began = time.perf_counter()
        conn.request("GET", "/api/v1/doctors", headers={"Accept": "application/json"})
        response = conn.getresponse()
        response.read()
        samples.append(time.perf_counter() - began)
        if response.status != 200:
            raise SystemExit(f"GET /doctors keep-alive answered {response.status}")
    conn.close()
    _row("GET /doctors, keep-alive, 1 client", None, samples[1:], "<= 10 ms (chalice local)",
         "48 ms keep-alive vs 5 ms new connection (Nagle + delayed ACK)", latency_budget_ms=10.0)


def _hammer(port: int, path: str, per_client: int) -> tuple[list[float], float]:
    samples: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS + 1)
    failures: list[str] = []

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine: list[float] = []
        barrier.wait()
        for _ in range(per_client):
            began = time.perf_counter()
            conn.request("GET", path, headers={"Accept": "application/json"})
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - began)
            if response.status != 200:
                failures.append(str(response.status))
        conn.close()
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"GET {path} under {CLIENTS} clients answered {sorted(set(failures))}")
    return samples, time.perf_counter() - began


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="requests per figure (p95 needs 20 or more)")
    parser.add_argument("--big-runs", type=int, default=10, help="requests per figure above 10 000 medicines")
    parser.add_argument("--sizes", default="1000,10000,100000", help="catalogue sizes for the first-page growth")
    parser.add_argument("--many", type=int, default=10_000, help="appointments of the heavy user")
    parser.add_argument("--past", type=int, default=200, help="past appointments of the busy doctor")
    parser.add_argument("--per-client", type=int, default=25, help="requests per client in the 20-client rows")
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny sizes, 2 runs (figures mean nothing)")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.big_runs, args.sizes, args.many, args.past, args.per_client = 2, 2, "200,1000", 300, 20, 2
    sizes = [int(s) for s in args.sizes.split(",")]
    with bench_app() as (client, counter):
        import boto3

        from functions.core.db import get_client, get_db

        boto3.client("ses").verify_email_identity(EmailAddress=os.environ["SES_FROM_EMAIL"])
        info = get_client().admin.command("buildInfo")
        ferret = info.get("ferretdbVersion")
        server = f"FerretDB {ferret}" if ferret else f"MongoDB {info.get('version')}"
        print(f"Issue 20 routes benchmark on {server}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
              f"{'quick (smoke run)' if args.quick else f'{args.runs} runs per figure'}")
        shops = pharmacy._shops(5)
        filled = 0
        _fill(shops, 0, 200)
        filled = 200
        _header("Writes (round trips: the most any run sent; latency in ms)")
        sections: list[Callable[[], Any]] = [
            lambda: appointment_rows(client, counter, args.runs),
            lambda: order_rows(client, counter, shops, args.runs),
            lambda: login_row(client, counter, args.runs),
        ]
        for section in sections:
            section()
        _header("Reads and growth (the large figure; the small twin below it)")
        slots_rows(client, counter, args.runs, args.past)
        my_appointments_rows(client, counter, args.runs, args.many)
        # the 20-client rows run on the catalogue of the table's row (10 000), before it grows further
        filled = catalogue_rows(client, counter, shops, [s for s in sizes if filled <= s <= 10_000], args.runs,
                                args.big_runs, filled)
        _header(f"Local API server (keep-alive; one client, then {CLIENTS} at once; latency per request; "
                f"{filled:,} medicines)")
        concurrent_rows(os.environ["MONGODB_URI"], get_db().name, args.per_client)
        if any(s > filled for s in sizes):
            _header("The catalogue's first page, growing on")
            filled = catalogue_rows(client, counter, shops, [s for s in sizes if s > filled], args.runs,
                                    args.big_runs, filled)
        over = [r.route for r in ROWS if r.verdict == "OVER"]
        print(f"\n{len(ROWS)} rows; budgets missed: {', '.join(over) if over else 'none'}")
        if ferret:
            print("On MongoDB (reasoned from the indexes): the first page walks listed_name_id (listed, name, _id)\n"
                  "and stops after a page of unexpired medicines (IXSCAN + FETCH of ~20 documents); its total is a\n"
                  "COUNT_SCAN of listed_expiry (listed, expiryDate), index keys only, linear in the listed medicines.\n"
                  "'My appointments' walks patient_start_id from `now` both ways; its total (patient, status $in)\n"
                  "counts patient_status's keys (IXSCAN, no FETCH). On this server both totals are index-only\n"
                  "scans of the 'index-order' companions (generated columns, no document read).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
