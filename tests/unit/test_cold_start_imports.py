"""Cold start: importing an entry point (app.py, a domain's handler, a signaling Lambda's module)
loads none of the heavy SDKs; each is imported only on the code path that calls it.

- Twilio, boto3 and phonenumbers: only when a message or a schedule goes out.
- ReportLab, HarfBuzz and the prescriptions' PDF module: only when a PDF is rendered.
- Stripe, the Twilio request validator, Cloudinary and Google GenAI: only in the payments,
  media, IVR and analysis paths that call them.
- The signaling Lambdas: boto3 only when a frame is sent or a timeout is armed, and never the SDKs of
  other domains (nor the local gateway's `websockets`).

One interpreter per entry point: Chalice pops a blueprint's route options when it registers it,
so a blueprint can be registered into one app per process (as in Lambda)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = ("twilio", "twilio.rest", "boto3", "phonenumbers")
PDF = ("reportlab", "uharfbuzz", "functions.prescriptions.pdf")
INTEGRATIONS = ("stripe", "twilio.rest", "twilio.request_validator", "cloudinary", "google.genai")
SIGNALING = ("boto3", "twilio", "twilio.rest", "stripe", "cloudinary", "reportlab", "websockets")

NOT_LOADED = {
    "app": MESSAGES + PDF + INTEGRATIONS,
    "functions.appointments.handler": MESSAGES,
    "functions.prescriptions.handler": PDF,
    "functions.payments.handler": INTEGRATIONS,
    "functions.media.handler": INTEGRATIONS,
    "functions.emergency.handler": INTEGRATIONS,
    "functions.analysis.handler": INTEGRATIONS,
    "functions.signaling.handler": SIGNALING,
    "functions.signaling.connections": SIGNALING,
    "functions.signaling.frames": SIGNALING,
    "functions.signaling.emergencies": SIGNALING,
}


@pytest.mark.parametrize(("entry", "heavy"), NOT_LOADED.items(), ids=list(NOT_LOADED))
def test_an_entry_point_imports_no_heavy_sdk(entry, heavy):
    # Given a fresh interpreter
    code = f"import sys\nimport {entry}\nprint(sorted(m for m in {sorted(set(heavy))!r} if m in sys.modules))"
    # When only the entry point is imported
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "MONGODB_URI": "mongodb://127.0.0.1:1/",
                               "JWT_SECRET": "x" * 40, "AWS_DEFAULT_REGION": "us-east-1"}, check=False)
    # Then none of those SDKs was loaded
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
