"""Cold start: the signaling Lambdas load boto3 only when a frame is sent or a timeout is armed,
and never the SDKs of other domains."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("boto3", "twilio", "twilio.rest", "stripe", "cloudinary", "reportlab", "websockets")


@pytest.mark.parametrize("entry", ["functions.signaling.handler", "functions.signaling.connections",
                                   "functions.signaling.frames", "functions.signaling.emergencies"])
def test_signaling_entry_points_do_not_import_heavy_sdks_at_module_top(entry):
    code = f"import sys, {entry}; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
