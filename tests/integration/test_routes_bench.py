"""`bench/routes_bench.py --quick` (issue 20 §4, `make bench`): the benchmark runs end to end on
the embedded database and prints a row for every route of the issue's table, each with its
budget and the original's figure. No figure is judged here (the machine's load decides them)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

ROWS = {  # the route's row: what it must show beside the figures
    "PUT /appointment/:id/cancel": ("<= 3 trips", "3 trips"),
    "POST /appointment/new (booking)": ("<= 5 trips", "4 trips"),
    "POST /orders, 1 item": ("<= n + 6 = 7 trips", "9 trips"),
    "POST /orders, 3 items": ("<= n + 6 = 9 trips", "13 trips"),
    "PUT /order/:id/status": ("<= 4 trips", "4 trips"),
    "PUT /order/:id/cancel, 1 item": ("<= 4 trips", "4 trips"),
    "POST /login (success)": ("<= 2 trips", "1 trip"),
    "GET /appointment/slots, 20 past appointments": ("<= 1.5x of small", "8 ms"),
    "GET /appointment/my, 300 vs one page (100)": ("<= 1.5x of small", ""),
    "GET /medicines, first page, 200 medicines": ("(growth)", ""),
    "GET /medicines, first page, 1,000 medicines": ("(growth)", ""),
    "GET /doctors, keep-alive, 1 client": ("<= 10 ms", "48 ms keep-alive"),
    "GET /doctors, 20 clients": (">= original's throughput", "0.73x"),
    "GET /medicines, 20 clients": (">= original's throughput", "0.77x"),
}


def test_the_quick_run_prints_every_route_of_the_issues_table_beside_its_budget_and_the_original(
        mongo_uri: str) -> None:
    # Given the benchmark's smoke mode, on the test run's server (a database of its own)
    env = {k: v for k, v in os.environ.items() if k not in ("MONGODB_DB", "STAGE")} | {"MONGODB_URI": mongo_uri}
    # When it runs
    done = subprocess.run([sys.executable, "bench/routes_bench.py", "--quick"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    # Then it ends well and every route's row shows a median, its budget and the original's figure
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    for route, (budget, original) in ROWS.items():
        row = [line for line in lines if line.strip().startswith(route + " ")]
        assert len(row) == 1, f"no row for {route!r} in:\n{done.stdout}"
        cells = row[0][len("  " + route):].split()
        assert any(cell.replace(".", "", 1).isdigit() for cell in cells), row[0]  # a median in ms
        assert budget in row[0] and original in row[0], row[0]
    assert "budgets missed:" in done.stdout
