"""Least-privilege IAM for the split stack: what each function may call, found from its code.

A function's *capabilities* are the AWS services its code can reach. They are read from the
source, not declared by hand, so a route that starts sending e-mail gets SES in its role the next
time the stack is packaged, and no route keeps a permission its code lost:

1. the import closure of the function's entry point: every `functions.*` module it imports,
   transitively, including imports inside function bodies (the lazy SDK imports of the cold-start
   rules);
2. in that closure, every `boto3.client("<service>")` / `resource("<service>")` call and every
   Chalice `websocket_api.send(...)` (which pushes through `apigatewaymanagementapi`).

Functions with the same capabilities share one role (one role per kind of function, which keeps
the stack far below CloudFormation's resource limit). Every role may write its logs and read the
configuration secret (`CONFIG_SECRET_ID`); the rest is granted per capability (`STATEMENTS`).
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SDK_CALL = re.compile(r"""\b(?:client|resource)\(\s*["']([a-z0-9-]+)["']""")
WS_SEND = re.compile(r"websocket_api\.send\(")

# Services whose use needs a grant; anything else a function's code names fails packaging
# (see `unknown_services`), so a new SDK call cannot deploy without a deliberate policy.
KNOWN = ("apigatewaymanagementapi", "scheduler", "ses", "secretsmanager", "ssm")


def module_file(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported(tree: ast.AST, module: str) -> set[str]:
    found: set[str] = set()
    path = module_file(module)
    package = module if path is not None and path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return {name for name in found if (name == "app" or name.startswith("functions.")) and module_file(name)}


@cache
def _parse(module: str) -> tuple[ast.Module, str]:
    path = module_file(module)
    assert path is not None, module
    source = path.read_text()
    return ast.parse(source), source


def closure(roots: set[str], stop: frozenset[str] = frozenset()) -> set[str]:
    """Every project module reachable by imports from `roots` (modules named as dotted paths),
    not following the imports of the modules in `stop`."""
    seen: set[str] = set()
    todo = [r for r in roots if module_file(r)]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        if module in stop:
            continue
        parts = module.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)) if module_file(".".join(parts[:i])))
        todo.extend(_imported(_parse(module)[0], module) - seen)
    return seen


def services(modules: set[str]) -> set[str]:
    """AWS services the code of `modules` creates clients for."""
    found: set[str] = set()
    for module in modules:
        source = _parse(module)[1]
        found.update(SDK_CALL.findall(source))
        if WS_SEND.search(source):
            found.add("apigatewaymanagementapi")
    # The configuration secret is read by every function through core.config (see BASE).
    return found - {"secretsmanager"}


def imported_packages(modules: set[str]) -> set[str]:
    """Top-level names of the third-party (and standard) packages `modules` import, lazily or not."""
    found: set[str] = set()
    for module in modules:
        for node in ast.walk(_parse(module)[0]):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - {"functions", "app"}


def app_function_roots(function_name: str, app_file: Path = ROOT / "app.py") -> set[str]:
    """Modules a function defined in app.py uses: the imports its body names."""
    tree = ast.parse(app_file.read_text())
    aliases: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("functions."):
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                aliases[alias.asname or alias.name] = name if module_file(name) else node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("functions."):
                    aliases[alias.asname or alias.name] = alias.name
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == function_name:
            names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            return {aliases[n] for n in names if n in aliases}
    # Registered elsewhere (a blueprint's lambda_function): assume it may use anything app.py imports.
    return {"app"}


# The HTTP kernel every handler goes through; what it imports lazily serves authenticated requests.
KERNEL = frozenset({"functions.core.app_factory", "functions.core.http"})


def reaches_database(module: str) -> bool:
    """Whether the code of an entry point (beyond the shared HTTP kernel) uses the database."""
    return any(m == "functions.core.db" or m.endswith(".store") for m in closure({module}, stop=KERNEL))


def capabilities_of(roots: set[str]) -> frozenset[str]:
    return frozenset(services(closure(roots)))


def unknown_services(caps: frozenset[str]) -> set[str]:
    return set(caps) - set(KNOWN)


# ---------------------------------------------------------------- policies


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def _arn(service: str, resource: str) -> dict[str, str]:
    return _sub(f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}")


LOGS = {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": _arn("logs", "*")}


def config_secret(secret_id: str) -> dict[str, Any]:
    # Secrets Manager appends six random characters to a secret's ARN.
    return {"Sid": "ConfigSecret", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
            "Resource": _arn("secretsmanager", f"secret:{secret_id}-*")}


STATEMENTS: dict[str, list[dict[str, Any]]] = {
    "scheduler": [
        {"Sid": "Schedules", "Effect": "Allow",
         "Action": ["scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule",
                    "scheduler:GetSchedule"],
         "Resource": _arn("scheduler", "schedule/${ReminderScheduleGroup}/*")},
        {"Sid": "PassSchedulerRole", "Effect": "Allow", "Action": "iam:PassRole",
         "Resource": {"Fn::GetAtt": ["ReminderSchedulerRole", "Arn"]}},
    ],
    "ses": [
        {"Sid": "Email", "Effect": "Allow", "Action": ["ses:SendEmail", "ses:SendRawEmail"],
         "Resource": _arn("ses", "identity/*")},
    ],
    "apigatewaymanagementapi": [
        {"Sid": "WebSocketPush", "Effect": "Allow", "Action": "execute-api:ManageConnections",
         "Resource": _arn("execute-api", "*/*/POST/@connections/*")},
        {"Sid": "WebSocketInspect", "Effect": "Allow", "Action": "execute-api:ManageConnections",
         "Resource": [_arn("execute-api", "*/*/GET/@connections/*"),
                      _arn("execute-api", "*/*/DELETE/@connections/*")]},
    ],
    "ssm": [
        {"Sid": "Parameters", "Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:GetParametersByPath"],
         "Resource": _arn("ssm", "parameter/cureconnect/*")},
    ],
}


def role_name(caps: frozenset[str]) -> str:
    short = {"apigatewaymanagementapi": "WebSocket", "scheduler": "Scheduler", "ses": "Email", "ssm": "Parameters"}
    return "Role" + ("".join(short.get(c, c.title()) for c in sorted(caps)) or "Base")


def role(caps: frozenset[str], secret_id: str) -> dict[str, Any]:
    statements: list[dict[str, Any]] = [LOGS, config_secret(secret_id)]
    for cap in sorted(caps):
        statements.extend(STATEMENTS[cap])
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "Policies": [{"PolicyName": "least-privilege",
                          "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}],
        },
    }
