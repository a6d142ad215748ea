"""`chalice package` works offline (only a region set), ships functions/ at the zip root, and the
per-domain split gives each domain its own Lambda that passes cfn-lint."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    out = tmp_path_factory.mktemp("package")
    # Given no AWS credentials at all, only a region
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_DEFAULT_REGION": "us-east-1", "HOME": str(out / "home")})
    # When the project is packaged
    result = subprocess.run([str(BIN / "chalice"), "package", "--stage", "dev",
                             "--merge-template", "infra/merge-template.json", str(out / "cfn")],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return out / "cfn"


@pytest.mark.packaging
def test_chalice_package_offline_contains_functions(package):
    names = set(zipfile.ZipFile(package / "deployment.zip").namelist())
    assert "app.py" in names
    for module in ("functions/core/http.py", "functions/core/db.py", "functions/health/routes.py",
                   "functions/auth/handler.py", "functions/appointments/handler.py"):
        assert module in names
    assert not any(n.startswith(("tests/", "local/", "bench/")) for n in names)
    template = json.loads((package / "sam.json").read_text())
    assert template["Resources"]["APIHandler"]["Properties"]["Handler"] == "app.app"


@pytest.mark.packaging
def test_edge_answers_unknown_routes_in_the_envelope_and_rate_limits_sign_in(package):
    resources = json.loads((package / "sam.json").read_text())["Resources"]
    responses = resources["RestAPI"]["Properties"]["DefinitionBody"]["x-amazon-apigateway-gateway-responses"]
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["statusCode"] == 404
    assert json.loads(missing["responseTemplates"]["application/json"])["code"] == "ROUTE_NOT_FOUND"
    rules = {r["Name"]: r for r in resources["ApiWebACL"]["Properties"]["Rules"]}
    sign_in = rules["sign-in"]["Statement"]["RateBasedStatement"]
    matches = sign_in["ScopeDownStatement"]["OrStatement"]["Statements"]
    paths = {s["ByteMatchStatement"]["SearchString"] for s in matches}
    assert paths == {"/api/v1/login", "/api/v1/register"}
    assert rules["sign-in"]["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429


@pytest.mark.packaging
def test_split_gives_each_domain_its_own_function_and_lints(package, tmp_path):
    from app import app
    from infra.split_routes import route_domains, split

    template = json.loads((package / "sam.json").read_text())
    placed = split(template, route_domains(app))
    resources = template["Resources"]
    assert placed["/api/v1/health"] == "HealthHandler"
    assert resources["HealthHandler"]["Properties"]["Handler"] == "functions.health.handler.app"
    assert resources["HealthHandlerInvokePermission"]["Properties"]["FunctionName"] == {"Ref": "HealthHandler"}
    paths = resources["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    for path, logical in placed.items():
        for operation in paths[path].values():
            assert f"${{{logical}.Arn}}" in operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
    split_file = tmp_path / "sam.json"
    split_file.write_text(json.dumps(template))
    lint = subprocess.run([str(BIN / "cfn-lint"), str(split_file)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_a_domain_handler_serves_its_routes_and_only_those(client):
    from chalice.test import Client

    from functions.health.handler import app as health_app

    with Client(health_app, project_dir=str(ROOT / "tests")) as slim:
        assert slim.http.get("/api/v1/health").status_code == 200
        assert slim.http.get("/api/v1/me").status_code == 404
