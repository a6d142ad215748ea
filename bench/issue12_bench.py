"""Payments, uploads, the emergency line and analysis: cold-start import cost and the database
round trips and time of each route's request.

Prints
- the import time of each domain's handler in a fresh interpreter, and what importing its SDK
  would add (stripe, twilio.rest, cloudinary, google.genai are imported only on the paths that
  use them), minus a bare interpreter;
- per route: database commands per request and the median wall time over --runs requests
  (Stripe through stripe-mock, Twilio's and Cloudinary's signers for real, the analysis provider
  stubbed at its interface).

    .venv/bin/python bench/issue12_bench.py [--runs 20] [--imports 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ENV = {"MONGODB_URI": "mongodb://127.0.0.1:1/", "JWT_SECRET": "bench-secret-that-is-long-enough-0123456789",
       "AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"}
HANDLERS = {"payments": "stripe", "media": "cloudinary.uploader", "emergency": "twilio.rest",
            "analysis": "google.genai"}


def _import_ms(handler: str, sdk: str, repeats: int) -> tuple[float, float]:
    """(handler, then the SDK on top of it) in one fresh interpreter each run; medians."""
    code = (f"import time; t = time.perf_counter(); import {handler}; u = time.perf_counter(); import {sdk}; "
            "v = time.perf_counter(); print((u - t) * 1000, (v - u) * 1000)")
    runs = [tuple(map(float, subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=ENV, capture_output=True,
                                            text=True, check=True).stdout.split())) for _ in range(repeats)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def imports(repeats: int) -> None:
    print("cold imports (median ms, fresh interpreter; the SDK measured on top of the handler):")
    for domain, sdk in HANDLERS.items():
        handler, extra = _import_ms(f"functions.{domain}.handler", sdk, repeats)
        print(f"  functions.{domain}.handler {handler:7.1f}   + {sdk:<20} {extra:7.1f}")


def _median_ms(fn: Any, runs: int) -> tuple[float, list[str]]:
    times, commands = [], []
    for _ in range(runs):
        t = time.perf_counter()
        commands = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), commands


def routes(runs: int) -> None:
    import cloudinary.utils
    import stripe
    from twilio.request_validator import RequestValidator

    from bench._harness import bench_app, measure
    from local.stripe_mock import StripeMock

    secrets = {"STRIPE_SECRET_KEY": "sk_test_bench", "STRIPE_WEBHOOK_SECRET": "whsec_bench",
               "CLOUDINARY_URL": "cloudinary://111:cloud-secret@bench", "PUBLIC_BASE_URL": "https://api.bench",
               "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "twilio-bench",
               "TWILIO_FROM_NUMBER": "+15005550006"}
    with StripeMock() as mock:
        os.environ.update({**secrets, "STRIPE_API_BASE": mock.url, "ANALYSIS_PER_HOUR": "100000"})
        with bench_app() as (client, counter):
            from bench.issue12_fixtures import seed
            from functions.analysis import provider as providers
            from functions.core import notify

            people = seed(providers, notify)
            rows: list[tuple[str, float, list[str]]] = []

            def call(label: str, method: str, path: str, payload: Any, who: str | None) -> None:
                headers = people["auth"][who] if who else {}

                def once() -> list[str]:
                    response, commands = measure(client, counter, method, path, payload, headers)
                    assert response.status_code < 300, (label, response.status_code, response.body)
                    return commands

                rows.append((label, *_median_ms(once, runs)))

            appt = str(people["appointment"])
            call("POST /payments/intent", "POST", "/api/v1/payments/intent", {"kind": "appointment", "id": appt},
                 "patient")
            call("POST /uploads/sign", "POST", "/api/v1/uploads/sign", {"purpose": "avatar"}, "patient")
            call("POST /analyze (stub provider)", "POST", "/api/v1/analyze",
                 {"mediaUrl": "https://res.cloudinary.com/bench/image/upload/x.png"}, "patient")

            def webhook() -> list[str]:
                evt = {"id": f"evt_{time.perf_counter_ns()}", "type": "payment_intent.processing",
                       "data": {"object": {"id": "pi_x", "metadata": {}}}}
                raw = json.dumps(evt)
                header = stripe.WebhookSignature.generate_signature_header(raw, "whsec_bench")
                counter.reset()
                response = client.http.post("/api/v1/payments/webhook", body=raw.encode(),
                                            headers={"Content-Type": "application/json", "Stripe-Signature": header})
                assert response.status_code == 200
                return list(counter.commands)

            rows.append(("POST /payments/webhook (new event id)", *_median_ms(webhook, runs)))

            def notify_upload() -> list[str]:
                payload = json.dumps({"notification_type": "upload", "format": "png", "bytes": 1000,
                                      "public_id": f"cureconnect/avatar/{people['patient']}/b{time.perf_counter_ns()}",
                                      "secure_url": "https://res.cloudinary.com/bench/x.png"})
                ts = str(int(time.time()))
                sig = cloudinary.utils.compute_hex_hash(payload + ts + "cloud-secret", "sha1")
                counter.reset()
                response = client.http.post("/api/v1/uploads/notify", body=payload.encode(), headers={
                    "Content-Type": "application/json", "X-Cld-Timestamp": ts, "X-Cld-Signature": sig})
                assert response.status_code == 200
                return list(counter.commands)

            rows.append(("POST /uploads/notify", *_median_ms(notify_upload, runs)))

            def ivr(step: str, digits: str) -> Any:
                def once() -> list[str]:
                    params = {"CallSid": "CA1", "From": people["caller"], "Digits": digits}
                    url = f"https://api.bench/api/v1/ivr/{step}?lang=en"
                    sig = RequestValidator("twilio-bench").compute_signature(url, params)
                    counter.reset()
                    response = client.http.post(f"/api/v1/ivr/{step}?lang=en", body=urlencode(params).encode(),
                                                headers={"Content-Type": "application/x-www-form-urlencoded",
                                                         "X-Twilio-Signature": sig})
                    assert response.status_code == 200, response.body
                    return list(counter.commands)
                return once

            rows.append(("POST /ivr/menu 2 (hospitals)", *_median_ms(ivr("menu", "2"), runs)))
            rows.append(("POST /ivr/dial (next doctor)", *_median_ms(ivr("dial", ""), runs)))
    print(f"routes (median of {runs}; database commands per request):")
    for label, ms, commands in rows:
        print(f"  {label:<40} {ms:7.1f} ms  {len(commands)} commands: {', '.join(commands)}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--imports", type=int, default=5)
    args = parser.parse_args()
    imports(args.imports)
    routes(args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
