"""Prescription PDFs: generation time and the import cost of the PDF path.

Prints
- the time to render a 5-medication prescription (goal <= 50 ms warm), with a Latin and with a
  Devanagari patient name (the latter shaped by HarfBuzz and carrying its invisible text copy),
  and the first render in a container (font registration included);
- the import time of `functions.prescriptions.handler` in a fresh interpreter, without and
  with the PDF path (ReportLab, HarfBuzz), minus a bare interpreter.
No database is needed: the renderer takes documents.

    .venv/bin/python bench/prescriptions_bench.py [--runs 30] [--imports 7]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ENV = {"MONGODB_URI": "mongodb://127.0.0.1:1/", "JWT_SECRET": "bench-secret-that-is-long-enough-0123456789",
       "AWS_DEFAULT_REGION": "us-east-1", "AWS_LAMBDA_FUNCTION_NAME": "bench"}
os.environ.update({k: v for k, v in ENV.items() if k not in os.environ})

MEDICINES = [
    {"name": "Amoxicillin", "genericName": "amoxicillin", "strength": "500 mg", "dosage": "1 capsule",
     "frequency": "three times a day", "route": "oral", "duration": "7 days", "quantity": 21, "refills": 0,
     "instructions": "Finish the course"},
    {"name": "Paracetamol", "strength": "650 mg", "dosage": "1 tablet", "frequency": "every 6 hours if fever",
     "quantity": 10, "refills": 0},
    {"name": "Cetirizine", "strength": "10 mg", "dosage": "1 tablet", "frequency": "at night", "duration": "5 days"},
    {"name": "Omeprazole", "genericName": "omeprazole", "strength": "20 mg", "dosage": "1 capsule",
     "frequency": "before breakfast", "quantity": 14, "refills": 1},
    {"name": "Salbutamol Inhaler", "strength": "100 mcg", "dosage": "2 puffs", "frequency": "when breathless",
     "route": "inhaled", "quantity": 1, "refills": 2},
]
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
RX = {"_id": "bench", "prescriptionNumber": "RX2603020001", "verificationCode": "ABCDEFGHJKMN",
      "medications": MEDICINES, "diagnosis": "Acute bronchitis", "symptoms": "Cough for a week, mild fever",
      "notes": "Drink plenty of fluids", "followUpInstructions": "Come back in 7 days if not better",
      "issuedAt": NOW, "validUntil": NOW + timedelta(days=30), "status": "active"}
DOCTOR = {"name": "Anita Desai", "speciality": "Pulmonology", "registrationNumber": "MMC-2011-04417"}
FIRST_RENDER = ("import time; t = time.perf_counter(); from bench.prescriptions_bench import render_once; "
                "render_once('Zofia Łukasiewicz'); print((time.perf_counter() - t) * 1000)")


def render_once(patient_name: str) -> int:
    from functions.prescriptions import pdf

    return len(pdf.render(RX, DOCTOR, {"name": patient_name, "dateOfBirth": "1990-05-17"}, NOW))


def render_ms(patient_name: str, runs: int) -> tuple[float, float, float, int]:
    """Median and p90 wall time, and median CPU time of this process (less sensitive to a
    machine shared with other work), in ms."""
    size = render_once(patient_name)  # warm: fonts registered, modules imported
    walls, cpus = [], []
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        render_once(patient_name)
        walls.append((time.perf_counter() - start) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    walls.sort()
    return statistics.median(walls), walls[int(len(walls) * 0.9) - 1], statistics.median(cpus), size


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


def fresh(code: str, runs: int) -> tuple[float, float]:
    """Median wall and CPU ms of a fresh interpreter running `code`."""
    env = {**os.environ, **ENV}
    walls, cpus = [], []
    for i in range(runs + 1):
        start, cpu = time.perf_counter(), _children_cpu()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
        if i:  # the first run warms the OS file cache
            walls.append((time.perf_counter() - start) * 1000)
            cpus.append(_children_cpu() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--imports", type=int, default=7)
    args = parser.parse_args()

    from functions.prescriptions import pdf

    print(f"PDF of a 5-medication prescription (A4, QR, Noto fonts; HarfBuzz shaping: {pdf.SHAPING}), "
          f"{args.runs} warm renders each (goal <= 50 ms)")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'patient name':34} {'median ms':>10} {'p90 ms':>8} {'CPU ms':>8} {'bytes':>8}")
    for name in ("Zofia Łukasiewicz", "प्रिया शर्मा"):
        median, p90, cpu, size = render_ms(name, args.runs)
        print(f"{name:34} {median:10.1f} {p90:8.1f} {cpu:8.1f} {size:8d}")
    out = subprocess.run([sys.executable, "-c", FIRST_RENDER], cwd=ROOT, env={**os.environ, **ENV},
                         capture_output=True, text=True, check=True)
    print(f"first render in a fresh container (imports + font registration + render): "
          f"{float(out.stdout.strip().splitlines()[-1]):.1f} ms")

    bare, bare_cpu = fresh("pass", args.imports)
    rows = [
        ("handler (no PDF path)", "import functions.prescriptions.handler"),
        ("handler + PDF path (ReportLab, HarfBuzz)", "import functions.prescriptions.handler, "
                                                      "functions.prescriptions.pdf"),
        ("app (every blueprint)", "import app"),
    ]
    print(f"\nimport time, median of {args.imports} fresh interpreters minus a bare one "
          f"({bare:.1f} ms wall, {bare_cpu:.1f} ms CPU)")
    print(f"{'entry point':44} {'wall ms':>10} {'CPU ms':>8}")
    for label, code in rows:
        wall, cpu = fresh(code, args.imports)
        print(f"{label:44} {wall - bare:10.1f} {cpu - bare_cpu:8.1f}")


if __name__ == "__main__":
    main()
