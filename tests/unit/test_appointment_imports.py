"""Cold start: the Twilio SDK and boto3 load only when a message or a schedule goes out."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("entry", ["app", "functions.appointments.handler"])
def test_entry_points_do_not_import_heavy_sdks_at_module_top(entry):
    code = (f"import sys, {entry}; "
            "print(sorted(m for m in ('twilio', 'twilio.rest', 'boto3', 'phonenumbers') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
