"""Cold-start import cost of each Lambda entry point.

For `app` and each `functions/<domain>/handler`, prints the median wall time of importing it in
a fresh interpreter (N runs, after one warm-up) minus the median of a bare interpreter, next to
an "all-in" import of every SDK of the stack. Goal: every domain handler <= 25 % of all-in.

    .venv/bin/python bench/cold_start.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = sorted(p.parent.name for p in (ROOT / "functions").glob("*/handler.py"))
ALL_IN = ("import chalice, pymongo, jwt, boto3, stripe, twilio.rest, cloudinary.uploader, reportlab.pdfgen.canvas, "
          "pydantic, argon2, phonenumbers, email_validator; "
          "from aws_lambda_powertools import Logger, Metrics, Tracer; Logger(); Metrics(); Tracer()")


def wall(code: str, runs: int) -> float:
    env = {**os.environ, "AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_DEFAULT_REGION": "us-east-1",
           "POWERTOOLS_TRACE_DISABLED": "0"}
    samples = []
    for i in range(runs + 1):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
        if i:  # the first run warms the OS file cache
            samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    runs = max(5, parser.parse_args().runs)
    bare = wall("pass", runs)
    all_in = wall(ALL_IN, runs) - bare
    print(f"median of {runs} fresh interpreters, minus a bare interpreter ({bare:.1f} ms)")
    print(f"{'entry point':38} {'import ms':>10} {'% of all-in':>12}")
    print(f"{'all-in (every SDK of the stack)':38} {all_in:10.1f} {100.0:11.0f}%")
    rows = [("app", "import app")] + [(f"functions/{d}/handler", f"import functions.{d}.handler") for d in DOMAINS]
    for name, code in rows:
        cost = wall(code, runs) - bare
        flag = "" if name == "app" or cost <= 0.25 * all_in else "  <-- over the 25 % goal"
        print(f"{name:38} {cost:10.1f} {100 * cost / all_in:11.0f}%{flag}")


if __name__ == "__main__":
    main()
