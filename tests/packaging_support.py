"""Run a Lambda handler the way the runtime does: a fresh interpreter imports the module named in
the template's `Handler`, then receives API Gateway (REST, proxy) events. Used by the packaging
tests to prove each route function answers its routes and imports only what it needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

# SDKs a function may load only on the code path that calls them (never at import time).
HEAVY_SDKS = ("stripe", "twilio.rest", "cloudinary", "reportlab", "aws_xray_sdk", "google.genai", "boto3")

_SCRIPT = r"""
import base64, importlib, json, sys, types
modname, attr = sys.argv[1].rsplit(".", 1)
handler = getattr(importlib.import_module(modname), attr)
modules = sorted(sys.modules)
context = types.SimpleNamespace(function_name="route", function_version="$LATEST", memory_limit_in_mb=512,
                                invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:route",
                                aws_request_id="req-1", log_group_name="g", log_stream_name="s",
                                get_remaining_time_in_millis=lambda: 29000)
answers, heads = {}, {}
for method, path in json.loads(sys.argv[2]):
    concrete = path
    params = {}
    while "{" in concrete:
        name = concrete.split("{", 1)[1].split("}", 1)[0]
        params[name] = json.loads(sys.argv[4]).get(name, "507f1f77bcf86cd799439011")
        concrete = concrete.replace("{" + name + "}", params[name])
    headers = {"Host": "api.example", "Content-Type": "application/json",
               "Origin": "https://app.cureconnect.test", "Access-Control-Request-Method": "GET",
               **json.loads(sys.argv[3])}
    event = {"resource": path, "path": concrete, "httpMethod": method, "headers": headers,
             "multiValueHeaders": {k: [v] for k, v in headers.items()},
             "queryStringParameters": json.loads(sys.argv[5]) or None,
             "multiValueQueryStringParameters": {k: [v] for k, v in json.loads(sys.argv[5]).items()} or None,
             "pathParameters": params or None, "stageVariables": None,
             "requestContext": {"resourcePath": path, "httpMethod": method, "requestId": "req-" + method,
                                "stage": "api", "path": "/api" + concrete,
                                "identity": {"sourceIp": "127.0.0.1"}},
             "body": "{}" if method in ("POST", "PUT", "PATCH") else None, "isBase64Encoded": False}
    try:
        response = handler(event, context)
        body = response.get("body") or ""
        text = body
        if response.get("isBase64Encoded"):  # a binary route encodes its JSON errors too
            try:
                text = base64.b64decode(body).decode("utf-8")
            except ValueError:
                text = ""
        try:
            code = json.loads(text).get("code") if text.startswith("{") else None
        except ValueError:
            code = None
        answers[f"{method} {path}"] = [response["statusCode"], code]
        heads[f"{method} {path}"] = [response.get("isBase64Encoded", False), body[:64],
                                     (response.get("headers") or {}).get("Content-Type")]
    except Exception as exc:
        answers[f"{method} {path}"] = [599, "UNHANDLED:" + type(exc).__name__ + ":" + str(exc)[:200]]
print(json.dumps({"modules": modules, "answers": answers, "heads": heads}))
"""


def invoke_routes(handler: str, routes: list[tuple[str, str]], mongo_uri: str,
                  paths: list[Path] | None = None, *, headers: dict[str, str] | None = None,
                  params: dict[str, str] | None = None, env: dict[str, str] | None = None,
                  query: dict[str, str] | None = None) -> dict[str, Any]:
    """Import `handler` in a fresh interpreter and send it a proxy event per route. With `paths`
    (the unpacked code zip and layers) the interpreter sees only those and the standard library,
    as in Lambda; without, the development venv. `headers` are added to every event, `params`
    fill path parameters (default: a valid id no document has), `query` is every event's query
    string (default: none), `env` overrides the function's
    environment (e.g. the test's own database). The result's `heads` hold, per route, whether the
    body is base64, its first 64 characters and its Content-Type."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT", "CONFIG_SECRET"))}
    environ.update({"MONGODB_URI": mongo_uri, "MONGODB_DB": f"t_{uuid.uuid4().hex[:12]}",
                    "JWT_SECRET": "test-secret-that-is-long-enough-0123456789",
                    "ALLOWED_ORIGINS": "https://app.cureconnect.test", "STAGE": "test",
                    "AWS_LAMBDA_FUNCTION_NAME": "route", "AWS_DEFAULT_REGION": "us-east-1",
                    "POWERTOOLS_TRACE_DISABLED": "1", "POWERTOOLS_METRICS_NAMESPACE": "CureConnectTest"})
    environ.update(env or {})
    extra = [json.dumps(headers or {}), json.dumps(params or {}), json.dumps(query or {})]
    argv = [sys.executable, "-c", _SCRIPT, handler, json.dumps(routes), *extra]
    cwd = ROOT
    if paths:
        prefix = f"import sys; sys.path[:0] = {[str(p) for p in paths]!r}\n"
        argv = [sys.executable, "-S", "-c", prefix + _SCRIPT, handler, json.dumps(routes), *extra]
        cwd = paths[0]
        environ["PYTHONDONTWRITEBYTECODE"] = "1"
        environ.pop("PYTHONPATH", None)
    result = subprocess.run(argv, cwd=cwd, env=environ, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    out: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return out


def forbidden_imports(handler: str, modules: list[str]) -> list[str]:
    """Heavy SDKs, and other domains' routes (their services are seams a domain may call), that
    importing `handler` loaded."""
    loaded = set(modules)
    own = handler.split(".")[1] if handler.startswith("functions.") else None
    bad = [sdk for sdk in HEAVY_SDKS if sdk in loaded]
    bad += [m for m in loaded if m.startswith("functions.") and m.count(".") >= 2
            and m.split(".")[1] not in {own, "core"} and m.split(".")[2].startswith(("routes", "handler"))]
    return sorted(bad)
