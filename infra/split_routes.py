"""One Lambda per REST route: post-process the CloudFormation (SAM) output of `chalice package`.

Chalice puts every REST route in one function (`APIHandler`, handler `app.app`), so each cold
start imports every domain and every route shares one role. This step rewrites the template:

- every route (path + method) of `app.routes` gets its own function: a copy of `APIHandler` (same
  code zip, runtime and environment) whose handler is the route's domain entry point,
  `functions/<domain>/handler.app` (only that domain's blueprint, same prefix, middleware, CORS
  and binary types as app.py), with memory and timeout from `infra/functions.json`, its own
  invoke permission (limited to that method and path) and the route's swagger integration URI
  pointing at it;
- every `OPTIONS` route goes to one small preflight function (`functions/core/preflight.py`);
- a `binary` route (core.edge; the prescription PDF) answers bytes whatever the client's Accept:
  its function base64-encodes every answer (`isBase64Encoded`), and the API's binary media types
  gain `application/json`, the first Accept type of the existing frontend. With a Lambda proxy
  integration API Gateway decodes an answer only when its function marked it base64 AND the
  client's first Accept type is a binary media type; it passes every other answer on as it is.
  So no other route's answer changes: their functions never mark one base64 (the app's own
  binary types stay Chalice's, without JSON). JSON request bodies now reach every function
  base64-encoded, which Chalice's Request decodes (`raw_body`); an integration response's
  `contentHandling` is not used, as API Gateway applies it to non-proxy integrations only;
- every function (the routes, and the WebSocket, reminder and sweeper functions Chalice already
  makes) gets the role of its kind (see infra/iam.py), the common dependencies layer, and the SDK
  layers (layers/) whose packages its code imports;
- `APIHandler`, its permission and Chalice's catch-all `DefaultRole` are removed.

A route that cannot be placed (its view is not in `functions/<domain>/`, the domain has no
`handler.py`, or that handler does not serve the route) stops the build: CI packages the stack,
so a route that is not deployable fails CI.

    python -m infra.split_routes build/prod/cfn/sam.json
"""

from __future__ import annotations

import argparse
import copy
import fnmatch
import hashlib
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra import iam

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = Path(__file__).with_name("functions.json")
URI = "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${%s.Arn}/invocations"
PREFLIGHT = "PreflightHandler"
PREFLIGHT_HANDLER = "functions.core.preflight.handler"
LAYER = "DependenciesLayer"
LIMIT = 500  # CloudFormation's resources per stack
# Resources each SAM type becomes once the transform has run (what CloudFormation counts).
SAM_EXPANSION = {"AWS::Serverless::Api": 3, "AWS::Serverless::LayerVersion": 1}
# Lambdas that EventBridge Scheduler schedules invoke, by the setting that names them.
SCHEDULE_TARGETS = {"REMINDER_FUNCTION_ARN": "SendReminder", "EMERGENCY_FUNCTION_ARN": "EmergencyTimeout"}
SCHEDULER_ENV = ("SCHEDULER_ROLE_ARN", "SCHEDULER_GROUP", *SCHEDULE_TARGETS)
WS_API, WS_STAGE = "WebsocketAPI", "WebsocketAPIStage"
WS_ENDPOINT = "WS_MANAGEMENT_ENDPOINT"


class NotDeployable(Exception):
    """A route of app.routes that no function can serve."""


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    domain: str | None  # None: the shared preflight function
    view: tuple[str, str] | None = None  # (module, function) of the view
    binary: bool = False  # answers bytes whatever the Accept (core.edge `binary` routes)

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def handler(self) -> str:
        return f"functions.{self.domain}.handler.app" if self.domain else PREFLIGHT_HANDLER

    @property
    def handler_module(self) -> str:
        return self.handler.rpartition(".")[0]


def routes(app: Any) -> list[Route]:
    """Every (path, method) of `app.routes`, with the domain whose entry point serves it."""
    found = []
    for path, methods in sorted(app.routes.items()):
        for method, entry in sorted(methods.items()):
            module = entry.view_function.__module__
            if method == "OPTIONS" and entry.view_name == "cors_preflight":
                found.append(Route(method, path, None))
                continue
            parts = module.split(".")
            if len(parts) < 3 or parts[0] != "functions":
                raise NotDeployable(f"{method} {path}: view {module}.{entry.view_name} is not in functions/<domain>/")
            rules = getattr(entry.view_function, "edge_rules", None)
            found.append(Route(method, path, parts[1], (module, entry.view_function.__name__),
                               binary=bool(getattr(rules, "binary", False))))
    return found


# A Chalice Blueprint registers on one app per process (Chalice consumes its route options), so
# the domain entry points are imported in a fresh interpreter, as Lambda would, not beside app.py.
_SERVED = """
import importlib, json, sys
out = {}
for domain in sys.argv[1:]:
    app = importlib.import_module(f"functions.{domain}.handler").app
    out[domain] = {path: sorted(methods) for path, methods in app.routes.items()}
print(json.dumps(out))
"""


def served_routes(domains: set[str]) -> dict[str, dict[str, list[str]]]:
    """Path -> methods that each domain's `handler.app` registers (missing handler.py: no entry)."""
    present = sorted(d for d in domains if iam.module_file(f"functions.{d}.handler"))
    if not present:
        return {}
    result = _import_handlers(present)
    if result.returncode != 0:  # one interpreter per domain: two handlers may share a blueprint
        served: dict[str, dict[str, list[str]]] = {}
        for domain in present:
            alone = _import_handlers([domain])
            if alone.returncode != 0:
                raise NotDeployable(f"functions/{domain}/handler.py does not import:\n{alone.stderr[-2000:]}")
            served.update(json.loads(alone.stdout.splitlines()[-1]))
        return served
    found: dict[str, dict[str, list[str]]] = json.loads(result.stdout.splitlines()[-1])
    return found


def _import_handlers(domains: list[str]) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", _SERVED, *domains]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603 - no shell


def check_served(route: Route, served: dict[str, dict[str, list[str]]]) -> None:
    """The domain's entry point exists and registers this exact route."""
    if route.domain is None:
        return
    if route.domain not in served:
        raise NotDeployable(f"{route.key}: functions/{route.domain}/handler.py is missing "
                            f"(app = create_app(name, [bp]) with the domain's blueprints)")
    if route.method not in served[route.domain].get(route.path, []):
        raise NotDeployable(f"{route.key}: {route.handler_module} does not register this route "
                            f"(add its blueprint to the domain's handler.py)")


def logical_id(route: Route, taken: set[str]) -> str:
    words = re.findall(r"[A-Za-z0-9]+", route.path.removeprefix("/api/v1"))
    name = "Route" + route.method.title() + "".join(w[:1].upper() + w[1:] for w in words)
    if name in taken:  # `/a-b` and `/ab` spell the same words
        name += hashlib.sha1(route.key.encode()).hexdigest()[:8]  # noqa: S324 - a name, not a secret
    taken.add(name)
    return name


def route_settings(settings: dict[str, Any], route: Route) -> dict[str, Any]:
    """MemorySize/Timeout for a route: every matching pattern of `routes`, in file order."""
    chosen: dict[str, Any] = {}
    for pattern, values in settings.get("routes", {}).items():
        if fnmatch.fnmatchcase(route.key, pattern):
            chosen.update(values)
    return chosen


# The first Accept type of the existing frontend's every request (the PDF download included).
FRONTEND_ACCEPT = "application/json"


def decode_binary_answers_for(api: dict[str, Any], accept: str = FRONTEND_ACCEPT) -> None:
    """Make API Gateway decode a `binary` route's base64 answers for clients whose first Accept
    type is `accept` (see the module docstring: answers not marked base64 pass unchanged)."""
    types = api.setdefault("x-amazon-apigateway-binary-media-types", [])
    if accept not in types:
        types.append(accept)


def source_arn(route: Route) -> dict[str, Any]:
    resource = re.sub(r"\{[^}]+\}", "*", route.path)
    return {"Fn::Sub": ["arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${RestAPIId}/*/"
                        + route.method + resource, {"RestAPIId": {"Ref": "RestAPI"}}]}


def _set_env(fn: dict[str, Any], caps: frozenset[str], scheduler_env: dict[str, Any],
             ws_endpoint: dict[str, Any] | None) -> None:
    """The Scheduler's names where reminders are scheduled; the WebSocket API's management endpoint
    where the code pushes frames (a REST route has no WebSocket event to learn it from), unless the
    stage's configuration names one (a custom domain)."""
    variables = fn["Properties"].setdefault("Environment", {}).setdefault("Variables", {})
    for name in SCHEDULER_ENV:
        variables.pop(name, None)
    if "scheduler" in caps:
        variables.update(scheduler_env)
    variables.pop("OUTBOX_QUEUE_NAME", None)  # the dev stage's queue by name: the stack has its own
    if "sqs" in caps:  # the outbox's kick (core.outbox): the stack's own queue
        variables["OUTBOX_QUEUE_URL"] = {"Ref": "OutboxQueue"}
    else:
        variables.pop("OUTBOX_QUEUE_URL", None)
    if "apigatewaymanagementapi" in caps and ws_endpoint is not None:
        variables.setdefault(WS_ENDPOINT, ws_endpoint)
    elif isinstance(variables.get(WS_ENDPOINT), dict):  # ours, on a function that does not push
        variables.pop(WS_ENDPOINT)


# Modules that read font files, and the setting that tells them where the layer put them.
FONT_USERS = {"functions.prescriptions.pdf": "PDF_FONT_DIR"}


def _set_fonts(fn: dict[str, Any], reached: set[str], layers: list[str], sdk_layers: list[dict[str, Any]]) -> None:
    """`PDF_FONT_DIR` = the folder of an attached layer that carries the fonts (layers/build.py
    FONTS), on functions whose code renders PDFs."""
    dirs = [g["font_dir"] for g in sdk_layers if g.get("font_dir") and layer_id(g["name"]) in layers]
    variables = fn["Properties"].setdefault("Environment", {}).setdefault("Variables", {})
    for module, setting in FONT_USERS.items():
        if module in reached and dirs:
            variables[setting] = dirs[0]


def websocket(resources: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any] | None:
    """Throttle the WebSocket stage's routes (`websocket` of infra/functions.json) and return its
    management endpoint, `https://{api}.execute-api.{region}.amazonaws.com/{stage}` (None: no
    WebSocket API in the stack)."""
    stage = resources.get(WS_STAGE)
    if WS_API not in resources or stage is None:
        return None
    throttle = settings.get("websocket", {})
    if throttle:
        stage["Properties"]["DefaultRouteSettings"] = {
            "ThrottlingBurstLimit": int(throttle["ThrottlingBurstLimit"]),
            "ThrottlingRateLimit": float(throttle["ThrottlingRateLimit"])}
    name = stage["Properties"]["StageName"]
    return {"Fn::Sub": "https://${" + WS_API + "}.execute-api.${AWS::Region}.amazonaws.com/" + name}


def reserve_concurrency(resources: dict[str, Any], placed: dict[str, str], settings: dict[str, Any]) -> int:
    """`ReservedConcurrentExecutions` on the functions a burst reaches first (`reserved` of
    infra/functions.json): the REST routes its patterns name and Chalice's functions its handlers
    name. Refuses a total that leaves less than `keepUnreserved` of the account's concurrency.
    Returns the total reserved."""
    reserved = settings.get("reserved")
    if not reserved:
        return 0
    per_function = int(os.environ.get("BURST_RESERVED_CONCURRENCY") or reserved["perFunction"])
    chosen = {logical for key, logical in placed.items()
              if any(fnmatch.fnmatchcase(key, pattern) for pattern in reserved.get("routes", []))}
    chosen |= {name for name, resource in resources.items() if resource["Type"] == "AWS::Serverless::Function"
               and resource.get("Properties", {}).get("Handler") in reserved.get("handlers", [])}
    total = per_function * len(chosen)
    left = int(reserved["accountConcurrency"]) - total
    if left < int(reserved["keepUnreserved"]):
        raise NotDeployable(f"{len(chosen)} functions x {per_function} reserved leaves {left} of the account's "
                            f"{reserved['accountConcurrency']} unreserved (at least {reserved['keepUnreserved']})")
    for logical in chosen:
        resources[logical]["Properties"]["ReservedConcurrentExecutions"] = per_function
    return total


def layer_id(group: str) -> str:
    return group.title().replace("-", "") + "Layer"


def layers_for(roots: set[str], sdk_layers: list[dict[str, Any]]) -> list[str]:
    """The common layer, and each SDK layer (with those it needs) whose modules the code imports."""
    imported = iam.imported_packages(iam.closure(roots))
    wanted: set[str] = set()
    for group in sdk_layers:
        if imported & set(group["modules"]):
            wanted |= {group["name"], *group["needs"]}
    return [LAYER] + [layer_id(g["name"]) for g in sdk_layers if g["name"] in wanted]


def _attach(fn: dict[str, Any], caps: frozenset[str], roles: dict[frozenset[str], str], layers: list[str]) -> None:
    unknown = iam.unknown_services(caps)
    if unknown:
        raise NotDeployable(f"no IAM policy for {sorted(unknown)}: add it to infra/iam.py STATEMENTS")
    roles.setdefault(caps, iam.role_name(caps))
    fn["Properties"]["Role"] = {"Fn::GetAtt": [roles[caps], "Arn"]}
    ours = [{"Ref": name} for name in layers]
    others = [layer for layer in fn["Properties"].get("Layers", []) if layer not in ours]  # from .chalice/config.json
    fn["Properties"]["Layers"] = ours + others


def split(template: dict[str, Any], app: Any, settings: dict[str, Any] | None = None,
          layer_uri: str = "./layer.zip", sdk_layers: list[dict[str, Any]] | None = None) -> dict[str, str]:
    """Rewrite `template` in place; returns "METHOD path" -> function logical id. `sdk_layers` is
    the `sdk` list of the layers.json written by layers/build.py."""
    settings = settings if settings is not None else json.loads(SETTINGS.read_text())
    sdk_layers = sdk_layers or []
    domain_layers: dict[str, list[str]] = {}
    resources: dict[str, Any] = template["Resources"]
    base_fn, base_perm = resources.pop("APIHandler"), resources.pop("APIHandlerInvokePermission")
    for output in ("APIHandlerName", "APIHandlerArn"):
        template.get("Outputs", {}).pop(output, None)
    env = base_fn["Properties"].get("Environment", {}).get("Variables", {})
    secret_id = env.get("CONFIG_SECRET_ID") or "cureconnect/*"
    targets = {var: logical for var, logical in SCHEDULE_TARGETS.items() if logical in resources}
    scheduler_env: dict[str, Any] = {"SCHEDULER_ROLE_ARN": {"Fn::GetAtt": ["ReminderSchedulerRole", "Arn"]},
                                     "SCHEDULER_GROUP": {"Ref": "ReminderScheduleGroup"}}
    scheduler_env.update({var: {"Fn::GetAtt": [logical, "Arn"]} for var, logical in targets.items()})
    invoke = resources["ReminderSchedulerInvoke"]["Properties"]["PolicyDocument"]["Statement"][0]
    invoke["Resource"] = [{"Fn::GetAtt": [logical, "Arn"]} for logical in targets.values()]
    paths = resources["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    roles: dict[frozenset[str], str] = {}
    placed: dict[str, str] = {}
    taken = set(resources)
    taken.add(PREFLIGHT)
    ws_endpoint = websocket(resources, settings)

    table = routes(app)
    served = served_routes({r.domain for r in table if r.domain})
    for route in table:
        check_served(route, served)
        operation = paths.get(route.path, {}).get(route.method.lower())
        if operation is None:
            raise NotDeployable(f"{route.key}: not in the packaged API (was `chalice package` run on this app?)")
        logical = PREFLIGHT if route.domain is None else logical_id(route, taken)
        if logical not in resources:
            fn = copy.deepcopy(base_fn)
            props = fn["Properties"]
            props["Handler"] = route.handler
            if route.handler_module not in domain_layers:
                domain_layers[route.handler_module] = layers_for({route.handler_module}, sdk_layers)
            if route.view is None:
                caps = iam.capabilities_of({route.handler_module})
                reached = iam.closure({route.handler_module})
            else:  # what can run for this route, not everything its domain imports (infra/iam.py)
                caps = iam.route_capabilities(route.handler_module, *route.view)
                reached = iam.reached_modules(route.handler_module, route.view)
            props.update(settings.get("preflight", {}) if route.domain is None else route_settings(settings, route))
            _set_env(fn, caps, scheduler_env, ws_endpoint)
            _set_fonts(fn, reached, domain_layers[route.handler_module], sdk_layers)
            _attach(fn, caps, roles, domain_layers[route.handler_module])
            resources[logical] = fn
            perm = copy.deepcopy(base_perm)
            perm["Properties"]["FunctionName"] = {"Ref": logical}
            if route.domain is not None:
                perm["Properties"]["SourceArn"] = source_arn(route)
            resources[f"{logical}InvokePermission"] = perm
        operation["x-amazon-apigateway-integration"]["uri"] = {"Fn::Sub": URI % logical}
        if route.binary:
            decode_binary_answers_for(resources["RestAPI"]["Properties"]["DefinitionBody"])
        placed[route.key] = logical

    for _name, resource in resources.items():  # Chalice's own functions: WebSocket, reminder, sweeper
        props = resource.get("Properties", {})
        if resource["Type"] != "AWS::Serverless::Function" or props.get("Handler", "").startswith("functions."):
            continue
        module, _, function = props["Handler"].rpartition(".")
        roots = iam.app_function_roots(function)
        # what can run for that function (core.jobs imports the sweepers by name: a module closure
        # would miss them); the module closure when app.py does not define it
        caps = iam.route_capabilities(module, module, function) if roots != {"app"} else iam.capabilities_of(roots)
        if _name in targets.values():  # a schedule's target: naming the targets would be a cycle
            caps = caps - {"scheduler"}
        for event in props.get("Events", {}).values():  # the outbox worker: its queue, created before it
            if event.get("Type") == "SQS":
                event["Properties"]["Queue"] = {"Fn::GetAtt": ["OutboxQueue", "Arn"]}
                caps = caps | {iam.SQS_WORKER}
        _set_env(resource, caps, scheduler_env, ws_endpoint)
        _attach(resource, caps, roles, layers_for(roots, sdk_layers))

    reserve_concurrency(resources, placed, settings)
    resources.pop("DefaultRole", None)
    for caps, name in roles.items():
        resources[name] = iam.role(caps, secret_id)
    uris = {LAYER: ("dependencies", layer_uri)}
    uris.update({layer_id(g["name"]): (g["name"], str(Path(layer_uri).with_name(g["zip"]))) for g in sdk_layers})
    for logical, (name, uri) in uris.items():
        resources[logical] = {
            "Type": "AWS::Serverless::LayerVersion",
            "Properties": {"LayerName": {"Fn::Sub": "${AWS::StackName}-" + name},
                           "ContentUri": uri if uri.startswith(("./", "/", "s3:")) else f"./{uri}",
                           "CompatibleRuntimes": [base_fn["Properties"]["Runtime"]],
                           "CompatibleArchitectures": base_fn["Properties"].get("Architectures", ["x86_64"]),
                           "RetentionPolicy": "Delete"},
        }
    return placed


def count_resources(template: dict[str, Any]) -> int:
    """Resources CloudFormation will count once the SAM transform has expanded the template."""
    total = 0
    for resource in template["Resources"].values():
        kind = resource["Type"]
        if kind == "AWS::Serverless::Function":
            props = resource.get("Properties", {})
            total += 1 + (0 if "Role" in props else 1)
            total += 2 * len(props.get("Events", {}))  # each event: a rule (or mapping) and a permission
            total += 2 if "AutoPublishAlias" in props else 0  # version + alias
        else:
            total += SAM_EXPANSION.get(kind, 1)
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.split_routes")
    parser.add_argument("template", type=Path, help="sam.json written by `chalice package` (rewritten in place)")
    parser.add_argument("--layer", default="./layer.zip", help="the layer zip, relative to the template")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path.cwd()))
    from app import app

    template = json.loads(args.template.read_text())
    manifest = args.template.parent / "layers.json"
    sdk_layers = json.loads(manifest.read_text())["sdk"] if manifest.is_file() else []
    try:
        placed = split(template, app, layer_uri=args.layer, sdk_layers=sdk_layers)
    except NotDeployable as exc:
        print(f"not deployable: {exc}", file=sys.stderr)
        return 1
    args.template.write_text(json.dumps(template, indent=2))
    functions = len(set(placed.values()))
    total = count_resources(template)
    print(f"{len(placed)} routes -> {functions} functions; {total} resources of {LIMIT}")
    return 0 if total < LIMIT else 1


if __name__ == "__main__":
    raise SystemExit(main())
