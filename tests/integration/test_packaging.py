"""`make package`: the per-route stack (infra/package.py) lints, places every route of app.routes
in exactly one function that answers it, grants each kind of function only what its code calls,
stays far below CloudFormation's resource limit, and ships our code and the dependencies apart.

The stack is packaged once per module by `make package STAGE=prod` itself (`chalice package`
offline + the layer from PyPI, ~30 s).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest

from infra.split_routes import WS_ENDPOINT
from tests.packaging_support import forbidden_imports, invoke_routes

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.packaging


@pytest.fixture(scope="module")
def built():
    # Given no AWS credentials at all, only a region
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    # When the prod stack is packaged by the README's command, `make package STAGE=prod`, into a
    # folder given relative to the checkout as the Makefile's own `build` is (a folder of its own,
    # so a developer's build/prod is left alone; -o: the venv is this test's, not to reinstall)
    build = f"build/pytest-{uuid.uuid4().hex[:8]}"
    result = subprocess.run(["make", "--no-print-directory", "-o", ".venv/.installed", "package", "STAGE=prod",
                             f"BUILD={build}", f"PY={sys.executable}"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    try:
        assert result.returncode == 0, result.stdout + result.stderr
        yield ROOT / build / "prod" / "cfn"
    finally:
        shutil.rmtree(ROOT / build, ignore_errors=True)


@pytest.fixture(scope="module")
def template(built):
    return json.loads((built / "sam.json").read_text())


@pytest.fixture(scope="module")
def unpacked(built, template, tmp_path_factory):
    """Handler -> the directories Lambda would give its function: the code, then its layers."""
    root = tmp_path_factory.mktemp("unpacked")
    zipfile.ZipFile(built / "deployment.zip").extractall(root / "task")
    resources = template["Resources"]
    sites = {}
    for logical, resource in resources.items():
        if resource["Type"] == "AWS::Serverless::LayerVersion":
            zipfile.ZipFile(built / resource["Properties"]["ContentUri"]).extractall(root / logical)
            sites[logical] = next((root / logical / "python" / "lib").glob("python3.*/site-packages"))
    return {fn["Properties"]["Handler"]: [root / "task", *(sites[layer["Ref"]] for layer in fn["Properties"]["Layers"])]
            for fn in functions_of(template).values()}


def functions_of(template):
    return {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}


def route_targets(template):
    """(METHOD, path) -> logical id of the function its integration invokes."""
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    targets = {}
    for path, operations in paths.items():
        for method, operation in operations.items():
            uri = operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
            targets[(method.upper(), path)] = uri.split("${", 3)[-1].split(".Arn}")[0]
    return targets


def test_the_split_template_passes_cfn_lint(built):
    lint = subprocess.run([str(BIN / "cfn-lint"), str(built / "sam.json")], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_every_route_of_the_app_maps_to_exactly_one_function_of_its_domain(template):
    from app import app

    # Given the routes the application serves
    expected = {(m, p): e for p, methods in app.routes.items() for m, e in methods.items()}
    # When the template's integrations are read
    targets = route_targets(template)
    functions = functions_of(template)
    # Then every route, and only those, is wired to one function whose handler serves its domain
    assert set(targets) == set(expected)
    assert "APIHandler" not in template["Resources"]
    route_functions = {}
    for (method, path), logical in targets.items():
        handler = functions[logical]["Properties"]["Handler"]
        if method == "OPTIONS":
            assert handler == "functions.core.preflight.handler"
            continue
        domain = expected[(method, path)].view_function.__module__.split(".")[1]
        assert handler == f"functions.{domain}.handler.app", (method, path)
        assert logical not in route_functions, f"{logical} serves two routes"
        route_functions[logical] = (method, path)
        permission = template["Resources"][f"{logical}InvokePermission"]["Properties"]
        assert permission["FunctionName"] == {"Ref": logical}
        assert permission["SourceArn"]["Fn::Sub"][0].endswith(f"/*/{method}" + re.sub(r"\{[^}]+\}", "*", path))
    # And the one preflight function answers every OPTIONS route
    preflights = {logical for (m, _), logical in targets.items() if m == "OPTIONS"}
    assert preflights == {"PreflightHandler"}


def test_each_route_function_answers_a_proxy_event_for_its_route(template, unpacked, mongo_uri):
    # Given each route function's handler, imported the way Lambda does: a fresh interpreter per
    # function that sees only the code zip and that function's layers, and a live database
    targets = route_targets(template)
    functions = functions_of(template)
    by_handler: dict[str, list[tuple[str, str]]] = {}
    for (method, path), logical in sorted(targets.items()):
        by_handler.setdefault(functions[logical]["Properties"]["Handler"], []).append((method, path))
    # When each is invoked in-process with an API Gateway proxy event for each of its routes
    answers = {}
    for handler, routes in by_handler.items():
        answers.update(invoke_routes(handler, routes, mongo_uri, unpacked[handler])["answers"])
    # Then no function answers "unknown route", "method not allowed" or crashes for a route it was
    # given (a 503 saying a provider is not configured is an answer of the route itself)
    assert len(answers) == len(targets)
    for route, (status, code) in answers.items():
        assert code not in {"ROUTE_NOT_FOUND", "METHOD_NOT_ALLOWED", "INTERNAL"}, (route, status, code)
        assert not str(code).startswith("UNHANDLED"), (route, status, code)
        assert status not in {405, 500} and (status != 404 or code == "NOT_FOUND"), (route, status, code)
    assert all(status == 204 for route, (status, _) in answers.items() if route.startswith("OPTIONS "))


def test_domain_handlers_import_no_heavy_sdk_and_no_other_domains_routes(template, unpacked, mongo_uri):
    from infra.iam import reaches_database

    handlers = sorted({f["Properties"]["Handler"] for f in functions_of(template).values()
                       if f["Properties"]["Handler"].startswith("functions.")})
    assert "functions.docs.handler.app" in handlers
    for handler in handlers:
        # Given a fresh interpreter, When only that function's handler is imported
        modules = invoke_routes(handler, [], mongo_uri, unpacked[handler])["modules"]
        # Then it has loaded no heavy SDK and no other domain's routes
        assert forbidden_imports(handler, modules) == [], handler
        # And a function whose code never reaches the database has not loaded the driver
        if not reaches_database(handler.rpartition(".")[0]):
            assert "pymongo" not in modules, handler


def test_roles_grant_each_kind_of_function_only_what_its_code_calls(template):
    resources = template["Resources"]
    functions = functions_of(template)

    def actions(logical):
        role = functions[logical]["Properties"]["Role"]["Fn::GetAtt"][0]
        statements = resources[role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        found = set()
        for statement in statements:
            assert statement["Effect"] == "Allow"
            listed = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert "*" not in listed and statement["Resource"] != "*"
            found.update(listed)
        return found

    by_handler = {}
    for logical, fn in functions.items():
        by_handler.setdefault(fn["Properties"]["Handler"], set()).add(frozenset(actions(logical)))
    # Every function reads the configuration secret and nothing in its environment is a secret
    for logical, fn in functions.items():
        assert "secretsmanager:GetSecretValue" in actions(logical)
        variables = fn["Properties"]["Environment"]["Variables"]
        assert not [v for v in variables if any(w in v for w in ("PASSWORD", "TOKEN", "_KEY", "JWT_SECRET"))]
        assert variables.get("CONFIG_SECRET_ID")
    # Reminders are scheduled (Scheduler + PassRole of the Scheduler's role) by the outbox's worker (a
    # booking's effects leave the request path) and the sweeper, never by the appointment routes
    schedulers = {h for h, kinds in by_handler.items() if any("scheduler:CreateSchedule" in k for k in kinds)}
    assert {"app.outbox_worker", "app.reminder_sweep"} <= schedulers
    assert "functions.appointments.handler.app" not in schedulers
    assert all(any("iam:PassRole" in k for k in by_handler[h]) for h in schedulers)
    assert "app.send_reminder" not in schedulers  # the reminder itself only sends
    # The health check, preflight and the docs can neither send e-mail, schedule nor push; sign-in
    # may e-mail (verification codes) but never schedule; only the routes that end sessions may
    # reach the WebSocket API (to close the sockets opened with the ended tokens), never login
    for handler in ("functions.health.handler.app", "functions.core.preflight.handler", "functions.docs.handler.app"):
        for kind in by_handler[handler]:
            assert not {a for a in kind if a.startswith(("ses:", "scheduler:", "iam:", "execute-api:"))}, handler
    for kind in by_handler["functions.auth.handler.app"]:
        assert not {a for a in kind if a.startswith(("scheduler:", "iam:"))}
    targets = route_targets(template)
    assert "execute-api:ManageConnections" in actions(targets[("GET", "/api/v1/logout")])
    assert WS_ENDPOINT in functions[targets[("GET", "/api/v1/logout")]]["Properties"]["Environment"]["Variables"]
    assert not {a for a in actions(targets[("POST", "/api/v1/login")]) if a.startswith("execute-api:")}
    # One role per kind of function; the Scheduler's own role and group are in the stack
    roles = {fn["Properties"]["Role"]["Fn::GetAtt"][0] for fn in functions.values()}
    assert len(roles) == len({frozenset(actions(logical)) for logical in functions})
    scheduler_role = resources["ReminderSchedulerRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert scheduler_role["Principal"] == {"Service": "scheduler.amazonaws.com"}
    invoke = resources["ReminderSchedulerInvoke"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert invoke["Action"] == "lambda:InvokeFunction"
    assert {"Fn::GetAtt": ["SendReminder", "Arn"]} in invoke["Resource"]
    assert resources["ReminderScheduleGroup"]["Type"] == "AWS::Scheduler::ScheduleGroup"


def test_the_outbox_worker_reads_the_stacks_queue_and_the_functions_that_record_may_kick_it(template):
    resources, functions = template["Resources"], functions_of(template)

    def statements(logical):
        role = functions[logical]["Properties"]["Role"]["Fn::GetAtt"][0]
        return resources[role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]

    # Given the stack's queue, with its dead-letter queue
    queue = resources["OutboxQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["OutboxDeadLetterQueue", "Arn"]}
    # Then the worker Lambda is triggered by that queue (created before it) and may only read and delete from it
    worker = functions["OutboxWorker"]["Properties"]
    [event] = worker["Events"].values()
    assert event["Type"] == "SQS" and event["Properties"]["Queue"] == {"Fn::GetAtt": ["OutboxQueue", "Arn"]}
    consume = [st for st in statements("OutboxWorker") if "sqs:ReceiveMessage" in st["Action"]]
    assert consume and all(st["Resource"] == {"Fn::GetAtt": ["OutboxQueue", "Arn"]} for st in consume)
    assert queue["VisibilityTimeout"] >= 6 * worker.get("Timeout", template.get("Globals", {}).get(
        "Function", {}).get("Timeout", 60))
    # And a route that records messages (booking) may send to that one queue, and knows its URL
    booking = route_targets(template)[("POST", "/api/v1/appointment/new")]
    kick = [st for st in statements(booking) if st["Action"] == "sqs:SendMessage"]
    assert [st["Resource"] for st in kick] == [{"Fn::GetAtt": ["OutboxQueue", "Arn"]}]
    assert functions[booking]["Properties"]["Environment"]["Variables"]["OUTBOX_QUEUE_URL"] == {"Ref": "OutboxQueue"}
    # And the health check has nothing to do with it
    health = route_targets(template)[("GET", "/api/v1/health")]
    assert not [st for st in statements(health) if str(st["Action"]).startswith("sqs:")]
    assert "OUTBOX_QUEUE_URL" not in functions[health]["Properties"]["Environment"]["Variables"]


def test_the_stack_stays_far_below_the_resource_limit(template):
    from infra.split_routes import LIMIT, count_resources

    total = count_resources(template)
    routes = sum(1 for (m, _) in route_targets(template) if m != "OPTIONS")
    print(f"{routes} routes -> {total} resources of {LIMIT}")
    # Each new route costs two resources (function + permission): room for 99 more (issue 24 §3's
    # two deletion routes took the stack from 297 to 301)
    assert total + 2 * 99 < LIMIT


def test_functions_ship_only_our_code_and_the_layers_the_dependencies(built, template):
    code = set(zipfile.ZipFile(built / "deployment.zip").namelist())
    assert "app.py" in code and "functions/core/preflight.py" in code
    for handler in {f["Properties"]["Handler"] for f in functions_of(template).values()}:
        module = handler.rpartition(".")[0]
        assert module.replace(".", "/") + ".py" in code, handler
    assert not any(n.startswith(("tests/", "local/", "bench/", "infra/", "pymongo/", "pydantic/")) for n in code)
    # The API description is built in, so the docs function never imports the other domains
    from app import app
    from functions.core.openapi import build

    packaged = json.loads(zipfile.ZipFile(built / "deployment.zip").read("functions/docs/openapi.json"))
    assert packaged == json.loads(json.dumps(build(app, stage="prod")))
    site = "python/lib/python3.11/site-packages/"
    common = set(zipfile.ZipFile(built / "layer.zip").namelist())
    sdk = set(zipfile.ZipFile(built / "layer-sdk.zip").namelist())
    genai = set(zipfile.ZipFile(built / "layer-genai.zip").namelist())
    # Every function's dependencies in the common layer; the SDKs in layers of their own
    for package in ("pymongo", "bson", "pydantic", "jwt", "aws_lambda_powertools", "argon2", "phonenumbers"):
        assert f"{site}{package}/__init__.py" in common, package
    for package in ("stripe", "twilio", "cloudinary", "reportlab"):
        assert f"{site}{package}/__init__.py" in sdk and f"{site}{package}/__init__.py" not in common, package
    assert f"{site}google/genai/__init__.py" in genai
    # The prescription PDF's fonts travel with ReportLab (/opt/fonts/noto)
    for face in ("NotoSans-Regular", "NotoSans-Bold", "NotoSansDevanagari-Regular", "NotoSansDevanagari-Bold"):
        assert f"fonts/noto/{face}.ttf" in sdk, face
    # PyJWT imports cryptography whenever it can: only Google's auth library brings it, in its layer
    assert not any(n.startswith(f"{site}cryptography/") for n in common | sdk)
    native = [n for n in common if n.startswith(site + "pydantic_core/") and n.endswith(".so")]
    assert native and all("x86_64-linux-gnu" in n for n in native)  # built for Lambda, not this machine
    # Both carry bytecode Lambda can use as is (its code directories are read-only): hash-based
    # pycs that are never checked against the sources' dates
    tag = f"cpython-{sys.version_info[0]}{sys.version_info[1]}"
    for archive, pyc in ((built / "layer.zip", f"{site}pydantic/__pycache__/main.{tag}.pyc"),
                         (built / "deployment.zip", f"functions/core/__pycache__/edge.{tag}.pyc")):
        header = zipfile.ZipFile(archive).read(pyc)[:16]
        assert int.from_bytes(header[4:8], "little") == 0b01, pyc  # hash-based, unchecked
    # Each function gets the common layer, and an SDK layer only if its code imports that SDK
    resources = template["Resources"]
    layers_of = {fn["Properties"]["Handler"]: [ref["Ref"] for ref in fn["Properties"]["Layers"]]
                 for fn in functions_of(template).values()}
    assert all(layers[0] == "DependenciesLayer" for layers in layers_of.values())
    for handler in ("functions.health.handler.app", "functions.docs.handler.app", "functions.core.preflight.handler"):
        assert layers_of[handler] == ["DependenciesLayer"], handler
    assert "SdkLayer" in layers_of["functions.payments.handler.app"]
    assert "GenaiLayer" not in layers_of["functions.auth.handler.app"]
    # Two-factor sign-in's pyotp and cryptography travel in a layer of their own (PyJWT imports
    # cryptography whenever it is there: no function that never reaches the second factor pays for it)
    mfa = set(zipfile.ZipFile(built / "layer-mfa.zip").namelist())
    assert f"{site}pyotp/__init__.py" in mfa and f"{site}cryptography/__init__.py" in mfa
    assert "MfaLayer" in layers_of["functions.auth.handler.app"]
    assert "MfaLayer" not in layers_of["functions.pharmacy.handler.app"]
    # And stays within Lambda's 250 MB unzipped, code and layers together
    sizes = {name: sum(i.file_size for i in zipfile.ZipFile(built / name).infolist())
             for name in ("deployment.zip", "layer.zip", "layer-sdk.zip", "layer-mfa.zip", "layer-genai.zip")}
    for handler, layers in layers_of.items():
        total = sizes["deployment.zip"] + sum(
            sizes[resources[layer]["Properties"]["ContentUri"].removeprefix("./")] for layer in layers)
        assert total < 230e6, (handler, total)


def test_the_split_stack_keeps_the_edge_rules(template):
    resources = template["Resources"]
    responses = resources["RestAPI"]["Properties"]["DefinitionBody"]["x-amazon-apigateway-gateway-responses"]
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["statusCode"] == 404
    assert json.loads(missing["responseTemplates"]["application/json"])["code"] == "ROUTE_NOT_FOUND"
    rules = {r["Name"]: r for r in resources["ApiWebACL"]["Properties"]["Rules"]}
    sign_in = rules["sign-in"]["Statement"]["RateBasedStatement"]
    matches = sign_in["ScopeDownStatement"]["OrStatement"]["Statements"]
    assert {s["ByteMatchStatement"]["SearchString"] for s in matches} == {"/api/v1/login", "/api/v1/register"}
    assert rules["sign-in"]["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429


def route_function(template, method, path):
    return functions_of(template)[route_targets(template)[(method, f"/api/v1{path}")]]


def role_actions(template, fn):
    role = template["Resources"][fn["Properties"]["Role"]["Fn::GetAtt"][0]]
    statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    return {a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}


def test_functions_that_push_over_the_websocket_know_its_management_endpoint(template):
    settings = json.loads((ROOT / "infra" / "functions.json").read_text())["websocket"]
    stage = template["Resources"]["WebsocketAPIStage"]["Properties"]
    endpoint = {"Fn::Sub": "https://${WebsocketAPI}.execute-api.${AWS::Region}.amazonaws.com/" + stage["StageName"]}
    # Given the REST routes whose code pushes frames (the doctor-joined notice, the IVR's emergency
    # alert) and the outbox's worker (an order's status change, pushed after the answer)
    worker = next(fn for fn in functions_of(template).values() if fn["Properties"]["Handler"] == "app.outbox_worker")
    pushers = [route_function(template, method, path) for method, path in
               (("POST", "/notify-doctor-joined"), ("POST", "/ivr/menu"))] + [worker]
    for fn in pushers:
        # Then each may post to connections and is told where (it has no WebSocket event to learn it from)
        assert "execute-api:ManageConnections" in role_actions(template, fn), fn["Properties"]["Handler"]
        assert fn["Properties"]["Environment"]["Variables"]["WS_MANAGEMENT_ENDPOINT"] == endpoint
    # And no function that cannot push carries it
    for logical, fn in functions_of(template).items():
        if "execute-api:ManageConnections" not in role_actions(template, fn):
            assert "WS_MANAGEMENT_ENDPOINT" not in fn["Properties"]["Environment"]["Variables"], logical
    # And every route of the WebSocket stage is throttled as configured
    assert stage["DefaultRouteSettings"] == {"ThrottlingBurstLimit": settings["ThrottlingBurstLimit"],
                                             "ThrottlingRateLimit": settings["ThrottlingRateLimit"]}


def test_a_route_is_granted_what_its_own_code_calls_not_what_its_domain_imports(template):
    # Given routes whose domains import modules that send e-mail, schedule or push (the emergency
    # domain's IVR alerts, appointments' reminders, the admin's approval e-mails) but which themselves
    # only read and write the database
    for method, path in (("GET", "/admin/hospitals"), ("GET", "/appointment/my"), ("GET", "/admin/users"),
                         ("GET", "/medicines")):
        actions = role_actions(template, route_function(template, method, path))
        # Then their roles cannot send e-mail, schedule or push
        assert not {a for a in actions if a.startswith(("ses:", "scheduler:", "iam:", "execute-api:"))}, path
    # While the routes that do keep exactly what they use
    assert "ses:SendEmail" in role_actions(template, route_function(template, "POST", "/password/forgot"))
    # A booking and a payment's webhook (which confirms what it paid for) record their reminders and
    # notices in the outbox and kick its queue; the worker schedules and sends
    for method, path in (("POST", "/appointment/new"), ("POST", "/payments/webhook")):
        actions = role_actions(template, route_function(template, method, path))
        assert "sqs:SendMessage" in actions and not {a for a in actions if a.startswith("scheduler:")}, path
    worker = next(fn for fn in functions_of(template).values() if fn["Properties"]["Handler"] == "app.outbox_worker")
    assert {"ses:SendEmail", "scheduler:CreateSchedule", "iam:PassRole"} <= role_actions(template, worker)


def test_the_pdf_route_function_renders_with_the_fonts_of_its_layer(template, unpacked, client, mongo_uri):
    from tests.factories import bearer
    from tests.prescriptions_support import doctor, issue, patient

    # Given a prescription in the database, and the PDF route's function as Lambda would run it:
    # its code, its layers (not this machine's fonts) and its configured PDF_FONT_DIR
    owner = patient()
    rx = issue(client, doctor(), owner)
    fn = route_function(template, "GET", "/prescription/{prescription_id}/pdf")
    handler = fn["Properties"]["Handler"]
    local = font_layer_dir(fn, unpacked[handler])
    # When the patient asks it for the PDF, with the Accept of the existing frontend's download
    result = invoke_routes(handler, [("GET", "/api/v1/prescription/{prescription_id}/pdf")], mongo_uri,
                           unpacked[handler], headers={**bearer(owner), "Accept": "application/json"},
                           params={"prescription_id": rx["_id"]},
                           env={"MONGODB_DB": os.environ["MONGODB_DB"], "PDF_FONT_DIR": str(local)})
    # Then it answers a PDF, not 503 PDF_FONTS_MISSING
    route = "GET /api/v1/prescription/{prescription_id}/pdf"
    assert result["answers"][route][0] == 200, result["answers"][route]
    is_base64, head, content_type = result["heads"][route]
    assert content_type == "application/pdf" and is_base64
    assert base64.b64decode(head[:48]).startswith(b"%PDF-")
    # And no functions but those that render PDFs (this domain's, the data export's) have PDF_FONT_DIR of ours
    export = route_function(template, "GET", "/me/export")["Properties"]["Handler"]
    assert [f for f in functions_of(template).values() if "PDF_FONT_DIR" in f["Properties"]["Environment"]["Variables"]
            and f["Properties"]["Handler"] not in {handler, export}] == []


def font_layer_dir(fn, dirs):
    """The folder, in the unpacked layers `dirs` of function `fn`, that its PDF_FONT_DIR (/opt/...) names."""
    font_dir = fn["Properties"]["Environment"]["Variables"]["PDF_FONT_DIR"]
    assert font_dir.startswith("/opt/")
    layer_dirs = [p.parents[3] for p in dirs[1:]]  # .../<layer>/python/lib/python3.x/site-packages
    local = [d / font_dir.removeprefix("/opt/") for d in layer_dirs if (d / font_dir.removeprefix("/opt/")).is_dir()]
    assert local, f"no layer of {fn['Properties']['Handler']} has {font_dir}"
    return local[0]


def test_the_export_function_zips_pdfs_rendered_with_the_fonts_of_its_layer(template, unpacked, client, mongo_uri):
    from tests.factories import bearer
    from tests.prescriptions_support import doctor, issue, patient

    # Given a patient with a prescription, and the data export's function as Lambda would run it:
    # its code, its layers (ReportLab and the fonts, as the PDF route's) and its PDF_FONT_DIR, with
    # the memory and time the PDF route has
    owner = patient()
    issue(client, doctor(), owner)
    fn = route_function(template, "GET", "/me/export")
    assert fn["Properties"]["MemorySize"] == 2048 and fn["Properties"]["Timeout"] == 29
    handler = fn["Properties"]["Handler"]
    local = font_layer_dir(fn, unpacked[handler])
    # When the patient asks it for the zip, with the existing frontend's Accept
    route = ("GET", "/api/v1/me/export")
    result = invoke_routes(handler, [route], mongo_uri, unpacked[handler], query={"format": "zip"},
                           headers={**bearer(owner), "Accept": "application/json"},
                           env={"MONGODB_DB": os.environ["MONGODB_DB"], "PDF_FONT_DIR": str(local)})
    # Then it answers the zip (not 503 PDF_FONTS_MISSING), base64-encoded for API Gateway to decode
    assert result["answers"]["GET /api/v1/me/export"][0] == 200, result["answers"]
    is_base64, head, content_type = result["heads"]["GET /api/v1/me/export"]
    assert content_type == "application/zip" and is_base64
    assert base64.b64decode(head[:48]).startswith(b"PK\x03\x04")


def test_the_pdf_reaches_the_frontends_accept_as_a_file_and_only_its_function_encodes_answers(template, unpacked,
                                                                                             client, mongo_uri):
    from tests.factories import bearer, make_user

    api = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    pdf_route = ("GET", "/api/v1/prescription/{prescription_id}/pdf")
    # Given the packaged API: API Gateway decodes a proxy answer its function marked base64 when
    # the client's first Accept type is a binary media type; the frontend's is application/json
    binary_types = api["x-amazon-apigateway-binary-media-types"]
    assert {"application/pdf", "application/zip", "application/json"} <= set(binary_types)
    assert "*/*" not in binary_types
    # And no integration relies on converting to binary (API Gateway applies contentHandling to
    # non-proxy integrations only)
    assert not [path for path, operations in api["paths"].items() for operation in operations.values()
                if "CONVERT_TO_BINARY" in json.dumps(operation.get("x-amazon-apigateway-integration", {}))]
    # And that route's function, asked with the frontend's Accept by someone who may not read the
    # prescription, answers its JSON refusal base64-encoded (the integration decodes every answer),
    # while a JSON route of the same domain handler answers plain text
    fn = route_function(template, "GET", "/prescription/{prescription_id}/pdf")
    handler = fn["Properties"]["Handler"]
    stranger = make_user("patient")
    result = invoke_routes(handler, [pdf_route, ("GET", "/api/v1/prescriptions")], mongo_uri, unpacked[handler],
                           headers={**bearer(stranger), "Accept": "application/json"},
                           env={"MONGODB_DB": os.environ["MONGODB_DB"]})
    assert result["answers"]["GET /api/v1/prescription/{prescription_id}/pdf"] == [404, "NOT_FOUND"]
    is_base64, head, content_type = result["heads"]["GET /api/v1/prescription/{prescription_id}/pdf"]
    assert is_base64 and content_type == "application/json"
    assert base64.b64decode(head[:60]).startswith(b'{"success":false')
    assert result["answers"]["GET /api/v1/prescriptions"][0] == 200
    listed_base64, listed_head, _ = result["heads"]["GET /api/v1/prescriptions"]
    assert listed_base64 is False and listed_head.startswith('{"success":true')


def test_the_functions_a_burst_reaches_first_have_reserved_concurrency(template):
    # Given the split stack, When its functions are read
    functions = {name: r["Properties"] for name, r in template["Resources"].items()
                 if r["Type"] == "AWS::Serverless::Function"}
    reserved = {name: props["ReservedConcurrentExecutions"] for name, props in functions.items()
                if "ReservedConcurrentExecutions" in props}
    handlers = {functions[name]["Handler"] for name in reserved}
    # Then sign-in, booking, orders and the WebSocket frames are capped (a burst is throttled instead of
    # opening database connections) and at least 100 of the account's 1 000 stay unreserved
    assert {"RoutePostLogin", "RoutePostAppointmentNew", "RoutePostOrders"} <= set(reserved)
    assert {"app.ws_connect", "app.ws_message"} <= handlers
    assert sum(reserved.values()) <= 900
