"""`chalice package` works offline (only a region set) and ships functions/ at the zip root."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.packaging
def test_chalice_package_offline_contains_functions(tmp_path):
    # Given no AWS credentials at all, only a region
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_DEFAULT_REGION": "us-east-1", "HOME": str(tmp_path / "home")})
    chalice = Path(sys.executable).with_name("chalice")
    # When the project is packaged
    result = subprocess.run([str(chalice), "package", "--stage", "dev", str(tmp_path / "out")],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    # Then the code of every domain is in the zip, next to app.py
    names = set(zipfile.ZipFile(tmp_path / "out" / "deployment.zip").namelist())
    assert "app.py" in names
    for module in ("functions/core/http.py", "functions/core/db.py", "functions/health/routes.py",
                   "functions/auth/handler.py", "functions/appointments/handler.py"):
        assert module in names
    assert not any(n.startswith(("tests/", "local/", "bench/")) for n in names)
    template = json.loads((tmp_path / "out" / "sam.json").read_text())
    assert template["Resources"]["APIHandler"]["Properties"]["Handler"] == "app.app"
