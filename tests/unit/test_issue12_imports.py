"""Cold start: importing the handlers of payments, media, IVR and analysis (or app.py) loads
none of the heavy SDKs; each is imported only on the code path that calls it.

One interpreter per entry point: Chalice pops a blueprint's route options when it registers it,
so a blueprint can be registered into one app per process (as in Lambda)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("stripe", "twilio.rest", "twilio.request_validator", "cloudinary", "google.genai")
ENTRY_POINTS = ["app", *(m for m in ("functions.payments.handler", "functions.media.handler",
                                     "functions.emergency.handler", "functions.analysis.handler")
                         if (ROOT / (m.replace(".", "/") + ".py")).exists())]


@pytest.mark.parametrize("module", ENTRY_POINTS)
def test_an_entry_point_imports_no_heavy_sdk(module):
    # Given a fresh interpreter
    code = f"import sys\nimport {module}\nprint(','.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    # When only the entry point is imported
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "MONGODB_URI": "mongodb://127.0.0.1:1/",
                               "JWT_SECRET": "x" * 40, "AWS_DEFAULT_REGION": "us-east-1"}, check=False)
    # Then none of the SDKs was loaded
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
