"""Cold start: importing the handlers of payments, media, IVR and analysis (and app.py) loads
none of the heavy SDKs; each is imported only on the code path that calls it."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("stripe", "twilio.rest", "cloudinary", "google.genai")
HANDLERS = [m for m in ("functions.payments.handler", "functions.media.handler", "functions.emergency.handler",
                        "functions.analysis.handler") if (ROOT / (m.replace(".", "/") + ".py")).exists()]


def test_handlers_import_no_heavy_sdk():
    # Given a fresh interpreter
    code = ("import sys\n" + "".join(f"import {m}\n" for m in HANDLERS) + "import app\n"
            f"print(','.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    # When only the handlers and the composition root are imported
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "MONGODB_URI": "mongodb://127.0.0.1:1/",
                               "JWT_SECRET": "x" * 40, "AWS_DEFAULT_REGION": "us-east-1"}, check=False)
    # Then none of the SDKs was loaded
    assert done.returncode == 0, done.stderr
    assert HANDLERS and done.stdout.strip() == ""
