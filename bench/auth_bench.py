"""Auth benchmark: login latency (argon2id dominates) and database round trips per route.

Round trips are counted with a pymongo command listener (bench/_harness.py) on the real
embedded database; targets: GET /me 1, register 1, login 2 (issue 20: both attempt windows, per
contact+IP and per contact, claimed in one ordered update before the password check, then the
user read; a success's settlement is deferred to the outbox's worker without a database write,
`core.outbox.defer`: under the bench's poll setting it runs on the process's off-path thread,
whose writes are not counted), a failed login 2.

    .venv/bin/python bench/auth_bench.py [--logins 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # before the app's logger exists

from bench._harness import bench_app, measure

PASSWORD = "correct-horse-battery"
TARGETS = {"POST /register": 1, "POST /login": 2, "POST /login (wrong password)": 2,
           "POST /login (unknown contact)": 2, "GET /me": 1}


def _token(response: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {json.loads(response.body)['token']}"}


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered) * 1000:6.1f} ms   p95 {p95 * 1000:6.1f} ms   n={len(ordered)}"


def latency(client: Any, counter: Any, logins: int) -> None:
    from functions.core.security import ARGON2_PARAMS, hash_password, verify_password

    print(f"argon2id parameters: {ARGON2_PARAMS} (memory_cost in KiB)")
    hashed = hash_password(PASSWORD)
    samples = []
    for _ in range(logins):
        start = time.perf_counter()
        verify_password(hashed, PASSWORD)
        samples.append(time.perf_counter() - start)
    print(f"  argon2 verify alone          {_ms(samples)}")
    measure(client, counter, "POST", "/api/v1/register",
            {"name": "Latency User", "contact": "latency@example.com", "password": PASSWORD})
    for label, password in (("POST /login (success)", PASSWORD), ("POST /login (wrong password)", "nope-nope")):
        samples = []
        for i in range(logins):
            if password != PASSWORD and i and i % 4 == 0:  # stay under the lockout
                measure(client, counter, "POST", "/api/v1/login", {"contact": "latency@example.com",
                                                                   "password": PASSWORD})
            start = time.perf_counter()
            response, _ = measure(client, counter, "POST", "/api/v1/login",
                                  {"contact": "latency@example.com", "password": password})
            samples.append(time.perf_counter() - start)
            assert response.status_code in (200, 401), response.body
        print(f"  {label:28} {_ms(samples)}")


def round_trips(client: Any, counter: Any) -> None:
    from functions.auth import accounts
    from functions.auth.schemas import RegisterIn
    from functions.core.db import get_db

    admin = accounts.create_admin(RegisterIn(name="Bench Admin", contact="admin@example.com", password=PASSWORD))
    rows: list[tuple[str, int, list[str]]] = []

    def run(label: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        response, commands = measure(client, counter, method, "/api/v1" + path, body, headers)
        rows.append((f"{label}  [{response.status_code}]", len(commands), commands))
        return response

    patient = run("POST /register", "POST", "/register",
                  {"name": "Bench Patient", "contact": "patient@example.com", "password": PASSWORD})
    doctor = run("POST /register (doctor)", "POST", "/register",
                 {"name": "Dr Bench", "contact": "doctor@example.com", "password": PASSWORD, "role": "doctor",
                  "speciality": "Cardiology"})
    p_auth = _token(run("POST /login", "POST", "/login", {"contact": "patient@example.com", "password": PASSWORD}))
    run("POST /login (wrong password)", "POST", "/login", {"contact": "patient@example.com", "password": "x" * 9})
    run("POST /login (after a failure)", "POST", "/login", {"contact": "patient@example.com", "password": PASSWORD})
    run("POST /login (unknown contact)", "POST", "/login", {"contact": "ghost@example.com", "password": "x" * 9})
    a_auth = _token(run("POST /login (admin)", "POST", "/login",
                        {"contact": "admin@example.com", "password": PASSWORD}))
    run("GET /me", "GET", "/me", headers=p_auth)
    run("PUT /me", "PUT", "/me", {"name": "Bench Patient Renamed"}, headers=p_auth)
    run("GET /me/access-log", "GET", "/me/access-log", headers=p_auth)
    doctor_id = json.loads(doctor.body)["user"]["_id"]
    patient_id = json.loads(patient.body)["user"]["_id"]
    run("GET /admin/users", "GET", "/admin/users?role=doctor&approvalStatus=pending", headers=a_auth)
    run("GET /admin/user/:id", "GET", f"/admin/user/{patient_id}", headers=a_auth)
    run("PUT /admin/user/:id/approval", "PUT", f"/admin/user/{doctor_id}/approval", {"status": "approved"},
        headers=a_auth)
    run("GET /doctors", "GET", "/doctors?speciality=cardiology")
    run("GET /doctors?q=", "GET", "/doctors?q=bench&page=1&limit=20")
    run("GET /doctor/:id", "GET", f"/doctor/{doctor_id}")
    run("POST /medical-history", "POST", "/medical-history",
        {"analysis": "bench", "url": "https://res.cloudinary.com/cc/b.png"}, headers=p_auth)
    run("GET /medical-history/:self", "GET", f"/medical-history/{patient_id}", headers=p_auth)
    from bson import ObjectId

    get_db()["appointments"].insert_one({"doctor": ObjectId(doctor_id), "patient": ObjectId(patient_id),
                                         "status": "confirmed"})
    d_auth = _token(run("POST /login (doctor)", "POST", "/login",
                        {"contact": "doctor@example.com", "password": PASSWORD}))
    run("GET /medical-history/:patient (doctor)", "GET", f"/medical-history/{patient_id}", headers=d_auth)
    run("PUT /admin/user/:id/active", "PUT", f"/admin/user/{patient_id}/active", {"active": True}, headers=a_auth)
    run("PUT /password/update", "PUT", "/password/update",
        {"oldPassword": PASSWORD, "newPassword": "another-long-password"}, headers=p_auth)
    run("POST /logout", "POST", "/logout", headers=d_auth)
    assert admin["role"] == "admin"

    print(f"\n{'route  [status]':52} {'round trips':>11}  {'target':>6}  commands")
    for label, count, commands in rows:
        name = label.rsplit("  [", 1)[0]
        target = TARGETS.get(name)
        flag = "" if target is None or count <= target else "  <-- over target"
        print(f"{label:52} {count:11d}  {target if target is not None else '':>6}  {', '.join(commands)}{flag}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--logins", type=int, default=20)
    logins = max(5, parser.parse_args().logins)
    with bench_app() as (client, counter):
        print("Login latency through chalice.test.Client on the embedded database")
        latency(client, counter, logins)
        round_trips(client, counter)


if __name__ == "__main__":
    main()
