"""Cold start: ReportLab (and HarfBuzz) load only when a PDF is rendered."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("entry", ["app", "functions.prescriptions.handler"])
def test_entry_points_do_not_import_reportlab(entry):
    # Given a fresh interpreter
    # When the entry point is imported
    code = (f"import sys, {entry}; "
            "print(sorted(m for m in ('reportlab', 'uharfbuzz', 'functions.prescriptions.pdf') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"})
    # Then neither ReportLab nor the PDF module is loaded
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
