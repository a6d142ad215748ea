"""End to end: `make run` heals itself and keeps its data (issue 19 §4).

One `make run`; before each of its processes is killed (SIGKILL, by PID) a new patient books an
appointment, and once make run says the process is up again, every booking acknowledged so far
(each answered 201) is there: its patient logs in and reads it. Then a second system gets Ctrl-C
while patients are signing up and booking, and is started again on the same data directory:
every acknowledged sign-up and booking is there.

Nothing sleeps: every wait is on a line make run prints or on an answer; polls have a generous
deadline that only guards against hangs (the times are figures of bench/make_run_heal_bench.py).
"""
# ruff: noqa: S310  (every URL here is the loopback system the test started)

from __future__ import annotations

import os
import shutil
import signal
import stat
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.make_run import RunningSystem, approved_doctor

pytestmark = pytest.mark.slow
PASSWORD = "a-long-enough-pass"
WITHIN = 180.0  # seconds: only a guard against a hang
# Each process make run starts, by the name its restart lines use; moto runs inside make run.
CHILDREN = ("postgresql", "ferretdb", "api", "gateway", "sweeper", "outbox", "stripe-mock")


def until(check: Callable[[], Any], what: str, within: float = WITHIN) -> Any:
    """`check()`'s first answer that is not None, asked again at once while it is None or the
    system is not reachable (each try waits on an answer); fails after `within` seconds."""
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        try:
            found = check()
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            found, last = None, exc
        if found is not None:
            return found
    pytest.fail(f"{what} not within {within:.0f} s (last: {last!r})")


@dataclass
class Booked:
    contact: str
    appointment: str


@dataclass
class Clinic:
    """An approved doctor, and the sign-ups and bookings acknowledged so far (each booking by a
    new patient)."""

    system: RunningSystem
    doctor: str
    accounts: list[str] = field(default_factory=list)
    booked: list[Booked] = field(default_factory=list)

    def book(self, day: str, tag: str) -> Booked | None:
        """A new patient signs up and books the first free slot of `day`: what was acknowledged."""
        contact = f"patient-{tag}@example.com"
        status, patient = self.system.call("POST", "/register", {"name": f"Patient {tag}", "contact": contact,
                                                                "password": PASSWORD})
        if status != 201:
            return None
        self.accounts.append(contact)
        status, slots = self.system.call("GET", f"/appointment/slots/{self.doctor}/{day}")
        if status != 200 or not slots["availableSlots"]:
            return None
        status, booked = self.system.call("POST", "/appointment/new", {
            "doctor": self.doctor, "description": "check-up", "symptoms": "none", "day": day,
            "time": slots["availableSlots"][0]}, token=patient["token"])
        if status != 201:
            return None
        done = Booked(contact, booked["appointment"]["_id"])
        self.booked.append(done)
        return done

    def missing(self, system: RunningSystem) -> list[str] | None:
        """What of the acknowledged sign-ups and bookings `system` does not have (None while it
        answers 5xx)."""
        lost = []
        for contact in self.accounts:
            status, _ = system.call("POST", "/login", {"contact": contact, "password": PASSWORD})
            if status >= 500:
                return None
            if status != 200:
                lost.append(f"{contact}: login {status}")
        for booking in self.booked:
            status, session = system.call("POST", "/login", {"contact": booking.contact, "password": PASSWORD})
            if status >= 500:
                return None
            if status != 200:
                lost.append(f"{booking.contact}: login {status}")
                continue
            status, read = system.call("GET", f"/appointment/{booking.appointment}", token=session["token"])
            if status >= 500:
                return None
            if status != 200 or read["appointment"]["status"] != "confirmed":
                lost.append(f"{booking.appointment}: {status}")
        return lost


def _day(ahead: int) -> str:
    return (datetime.now(UTC) + timedelta(days=ahead)).date().isoformat()


def _healthy(system: RunningSystem) -> bool | None:
    status, body = system.call("GET", "/health")
    return True if status == 200 and body["db"] == "ok" else None


def _serves(system: RunningSystem, name: str, token: str) -> bool:
    """What the process `name` does for a user, done once more."""
    if name == "gateway":
        return system.websocket_ping(token) == {"type": "pong"}
    if name == "stripe-mock":
        request = urllib.request.Request(f"{system.stripe_mock}/v1/balance",
                                         headers={"Authorization": "Bearer sk_test_123"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status == 200
    return bool(_healthy(system))


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    running = RunningSystem(tmp_path_factory.mktemp("make-run-heals"))
    try:
        yield Clinic(running, approved_doctor(running, "Dr Leela Menon", "leela@clinic.example"))
    finally:
        running.stop()


@pytest.mark.parametrize("name", CHILDREN)
def test_a_killed_process_is_started_again_and_every_acknowledged_booking_is_there(clinic, name):
    system = clinic.system
    # Given a patient who booked (acknowledged) just before
    assert clinic.book(_day(3), name) is not None
    pid = system.pid_of(name)
    others = {other: system.pid_of(other) for other in CHILDREN if other != name}
    # When make run's process `name` is killed
    os.kill(pid, signal.SIGKILL)
    # Then make run says so, starts it again and says when it is up
    assert system.output.wait_for(f"• restart    {name} (pid {pid}) was killed by SIGKILL", timeout=WITHIN)
    assert system.output.wait_for(f"• restart    {name} up again", timeout=WITHIN), system.output.text()[-3000:]
    assert system.pid_of(name) != pid
    # And the API answers healthy again, and every booking acknowledged so far is there
    until(lambda: _healthy(system), "GET /health 200 with the database")
    assert until(lambda: clinic.missing(system), "the bookings readable") == []
    # And what the process does works again, as does a new booking
    status, session = system.call("POST", "/login", {"contact": clinic.booked[-1].contact, "password": PASSWORD})
    assert status == 200 and until(lambda: _serves(system, name, session["token"]) or None, f"{name} serving")
    assert until(lambda: clinic.book(_day(4), f"after-{name}"), "a booking after the restart")
    # And nothing else was started again: the API (and FerretDB) lived through the database's
    # death and reconnected on their own
    assert {other: system.pid_of(other) for other in others} == others


@pytest.fixture
def reachable_dir() -> Iterator[Path]:
    """A data directory that survives a stop: make run's PostgreSQL runs as `postgres` under
    root and keeps its cluster in the data directory only if it can reach it (pytest's are 0700)."""
    path = Path(tempfile.mkdtemp(prefix="cureconnect-e2e-"))
    path.chmod(path.stat().st_mode | stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_ctrl_c_under_load_then_a_new_start_keeps_every_acknowledged_sign_up_and_booking(reachable_dir):
    # Given a system with an approved doctor, and patients signing up and booking from 6 threads
    first = RunningSystem(reachable_dir)
    clinic = Clinic(first, approved_doctor(first, "Dr Arjun Nair", "arjun@clinic.example"))
    enough = threading.Semaphore(0)
    stopped = threading.Event()

    def load(worker: int) -> None:
        for i in range(16):
            if stopped.is_set():
                return
            try:
                if clinic.book(_day(3 + worker), f"load-{worker}-{i}") is not None:
                    enough.release()
            except (OSError, ValueError):  # the system went away mid-request: not acknowledged
                return

    workers = [threading.Thread(target=load, args=(n,)) for n in range(6)]
    for worker in workers:
        worker.start()
    # When it gets Ctrl-C once 12 bookings were acknowledged, while the others are in flight
    for _ in range(12):
        assert enough.acquire(timeout=WITHIN), "the load did not get going"
    code = first.stop()
    stopped.set()
    for worker in workers:
        worker.join(timeout=WITHIN)
    # Then it stopped cleanly
    assert code == 0
    assert len(clinic.booked) >= 12
    # And once started again on the same data, every acknowledged sign-up and booking is there
    second = RunningSystem(reachable_dir)
    try:
        assert until(lambda: clinic.missing(second), "the bookings readable") == []
    finally:
        second.stop()
