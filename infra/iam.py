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
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SDK_CALL = re.compile(r"""\b(?:client|resource)\(\s*["']([a-z0-9-]+)["']""")
WS_SEND = re.compile(r"websocket_api\.send\(")

# Services whose use needs a grant; anything else a function's code names fails packaging
# (see `unknown_services`), so a new SDK call cannot deploy without a deliberate policy.
KNOWN = ("apigatewaymanagementapi", "scheduler", "ses", "secretsmanager", "sqs", "ssm")
# Granted by what triggers a function rather than by its code: the outbox worker's SQS event source.
SQS_WORKER = "sqs-worker"


def module_file(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def import_statements(nodes: Iterable[ast.AST], package: str) -> Iterator[tuple[str, list[str]]]:
    """Each import among `nodes` of a module of `package` as (the absolute module it reads, the
    names it takes from it): `import a.b` is ("a.b", []), `from ..x import y` ("<parent>.x", ["y"])."""
    for node in nodes:
        if isinstance(node, ast.Import):
            yield from ((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            yield base, [alias.name for alias in node.names]


def _imported(tree: ast.AST, module: str) -> set[str]:
    found: set[str] = set()
    path = module_file(module)
    package = module if path is not None and path.name == "__init__.py" else module.rpartition(".")[0]
    for base, names in import_statements(ast.walk(tree), package):
        found.add(base)
        found.update(f"{base}.{name}" for name in names)  # `from pkg import module`
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
    return set(_closure(frozenset(roots), stop))


@cache
def _closure(roots: frozenset[str], stop: frozenset[str]) -> frozenset[str]:
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
    return frozenset(seen)


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
KERNEL = frozenset({"functions.core.app_factory", "functions.core.edge",
                    "functions.core.samesite", "functions.core.envelope", "functions.core.validation",
                    "functions.core.bodies", "functions.core.request_local"})


def reaches_database(module: str) -> bool:
    """Whether the code of an entry point (beyond the shared HTTP kernel) uses the database."""
    return any(m == "functions.core.db" or m.endswith(".store") for m in closure({module}, stop=KERNEL))


def capabilities_of(roots: set[str]) -> frozenset[str]:
    return frozenset(services(closure(roots)))


def unknown_services(caps: frozenset[str]) -> set[str]:
    return set(caps) - set(KNOWN) - {SQS_WORKER}


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
    "sqs": [  # the outbox's kick (core.outbox): one message to the stack's own queue
        {"Sid": "OutboxKick", "Effect": "Allow", "Action": "sqs:SendMessage",
         "Resource": {"Fn::GetAtt": ["OutboxQueue", "Arn"]}},
    ],
    SQS_WORKER: [  # the outbox worker's event source mapping reads and deletes the kicks
        {"Sid": "OutboxWorker", "Effect": "Allow",
         "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
         "Resource": {"Fn::GetAtt": ["OutboxQueue", "Arn"]}},
    ],
    "ssm": [
        {"Sid": "Parameters", "Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:GetParametersByPath"],
         "Resource": _arn("ssm", "parameter/cureconnect/*")},
    ],
}


def role_name(caps: frozenset[str]) -> str:
    short = {"apigatewaymanagementapi": "WebSocket", "scheduler": "Scheduler", "ses": "Email", "ssm": "Parameters",
             "sqs": "Outbox", SQS_WORKER: "OutboxWorker"}
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


# ---------------------------------------------------------------- per-route reach
#
# Module-level reachability over-grants: a domain's handler imports every module of the domain, and
# importing a module is not calling it (signaling.frames imports signaling.emergencies, which imports
# the Scheduler module, but only an emergency request schedules anything). So a route function's capabilities
# are read from the code that can *run* for it, at the level of top-level functions, classes and
# module variables:
#
# - roots: the route's view function, and the import-time code of its handler and of every module
#   imported at module level from there, transitively (decorators, default values, calls at module
#   level: whatever a module registers while it is imported is reachable, so registries and
#   callbacks are followed); an import inside a reached function reaches the import-time code of
#   what it imports;
# - a reached definition reaches every name its body mentions that resolves to one of ours: a
#   function, a class (all of its methods: a method call on an instance is dynamic), a module
#   variable (the references in its value), or a whole module when the module itself is used as a
#   value (`getattr(module, name)`) or named by a string constant (`importlib.import_module(...)`:
#   core.jobs' sweepers, payments' seams);
# - functions defined in app.py (WebSocket, reminder, sweeper) keep the module-level closure.
#
# - `import_module("x")` runs the import-time code of x's closure; an import by a computed name
#   reaches every module its own module names in a string (core.db's INDEX_MODULES, core.jobs'
#   SWEEPERS, payments' seams). What this cannot follow it refuses: a computed import in a module
#   that names no module falls back to the module closure of the whole handler.

Node = tuple[str, str | None]  # (module, top-level name); None: the module's import-time code


def _resolve_import(module: str, node: ast.Import | ast.ImportFrom) -> dict[str, set[str]]:
    path = module_file(module)
    package = module if path is not None and path.name == "__init__.py" else module.rpartition(".")[0]
    bound: dict[str, set[str]] = {}
    if isinstance(node, ast.Import):
        for alias in node.names:
            local = alias.asname or alias.name.split(".")[0]
            bound.setdefault(local, set()).add(alias.name if alias.asname else alias.name.split(".")[0])
        return bound
    base = node.module or ""
    if node.level:
        parts = package.split(".")
        base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
    for alias in node.names:
        bound.setdefault(alias.asname or alias.name, set()).add(f"{base}.{alias.name}")
    return bound


def _ours(dotted: str) -> bool:
    return dotted == "app" or dotted == "functions" or dotted.startswith(("functions.", "app."))


def _is_main_guard(stmt: ast.stmt) -> bool:
    """`if __name__ == "__main__":` (never runs in a Lambda)."""
    test = getattr(stmt, "test", None)
    return (isinstance(stmt, ast.If) and isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__" and len(test.comparators) == 1
            and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value == "__main__")


@cache
def _index(module: str) -> tuple[dict[str, list[ast.AST]], dict[str, set[str]], list[ast.AST], list[ast.AST]]:
    """Top-level definitions and variables (name -> AST parts), import aliases anywhere in the
    module (name -> dotted targets), the parts that run at import time, and the decorators of the
    top-level definitions (applied at import time, see `_references`)."""
    tree = _parse(module)[0]
    defs: dict[str, list[ast.AST]] = {}
    aliases: dict[str, set[str]] = {}
    import_time: list[ast.AST] = []
    decorators: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for name, targets in _resolve_import(module, node).items():
                kept = {t for t in targets if _ours(t)}
                if kept:
                    aliases.setdefault(name, set()).update(kept)
    for stmt in tree.body:
        if isinstance(stmt, ast.Assert) or _is_main_guard(stmt):
            continue  # a consistency check of the module's own tables; the command-line entry point
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defs.setdefault(stmt.name, []).append(stmt)
            decorators.extend(stmt.decorator_list)
            if isinstance(stmt, ast.ClassDef):
                import_time.extend([*stmt.bases, *stmt.keywords])
                import_time.extend(s for s in stmt.body if not isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef))
            else:
                import_time.extend([*stmt.args.defaults, *(d for d in stmt.args.kw_defaults if d is not None)])
            continue
        assigned: list[ast.expr] = list(stmt.targets) if isinstance(stmt, ast.Assign) else (
            [stmt.target] if isinstance(stmt, ast.AnnAssign | ast.AugAssign) else [])
        names = [n.id for t in assigned for n in ast.walk(t) if isinstance(n, ast.Name)]
        for name in names:
            defs.setdefault(name, []).append(stmt)
        if not names or any(isinstance(n, ast.Call) for n in ast.walk(stmt)):
            import_time.append(stmt)  # runs something at import (or is not a plain variable)
    return defs, aliases, import_time, decorators


@cache
def _eager_imports(module: str) -> frozenset[str]:
    """Our modules that importing `module` imports (its module-level imports, not those inside
    functions), with their parent packages."""
    tree = _parse(module)[0]
    todo: list[ast.AST] = list(tree.body)
    found: set[str] = set()
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found |= _imported_modules(module, node)
        todo.extend(ast.iter_child_nodes(node))
    return frozenset(found)


def _imported_modules(module: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    found: set[str] = set()
    for targets in _resolve_import(module, node).values():
        for target in targets:
            split = _split_module(target)
            if split is not None:
                found.add(split[0])
    if isinstance(node, ast.Import):  # `import a.b` imports a.b, not only binds `a`
        found |= {a.name for a in node.names if module_file(a.name)}
    for name in list(found):
        parts = name.split(".")
        found |= {".".join(parts[:i]) for i in range(1, len(parts)) if module_file(".".join(parts[:i]))}
    return found


def _split_module(dotted: str) -> tuple[str, list[str]] | None:
    """The longest prefix of `dotted` that is one of our modules, and the attributes after it."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        if module_file(".".join(parts[:i])):
            return ".".join(parts[:i]), parts[i:]
    return None


def _targets(dotted: str, depth: int = 0) -> set[Node]:
    """Nodes a dotted reference (`functions.x.service.pdf`, `functions.x.store`) can run."""
    found = _split_module(dotted)
    if found is None or depth > 8:
        return set()
    module, attrs = found
    defs, aliases, _, _ = _index(module)
    if not attrs:  # the module itself, used as a value: anything in it
        return {(module, None), *((module, name) for name in defs)}
    name = attrs[0]
    if name in defs:
        return {(module, name)}
    if name in aliases:  # re-exported
        return set().union(*(_targets(".".join([t, *attrs[1:]]), depth + 1) for t in aliases[name]))
    return {(module, None)}


class _Dynamic(Exception):
    """Reached code imports a module whose name it computes."""


@cache
def _module_strings(module: str) -> frozenset[str]:
    """Our modules that `module` names in string constants (candidates of its computed imports)."""
    tree = _parse(module)[0]
    return frozenset(n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
                     and n.value.startswith("functions.") and module_file(n.value))


@cache
def _is_wrapper(node: Node) -> bool:
    """A decorator of ours that only wraps (`functools.wraps` around an inner function): applying
    it at import runs nothing of what the wrapper calls; the decorated definition reaches it."""
    parts = _parts(node) if node[1] is not None else []
    return len(parts) == 1 and isinstance(parts[0], ast.FunctionDef) and "wraps(" in _segment(node[0], parts[0])


@cache
def _references(node: Node) -> frozenset[Node]:
    found = set(_refs(node[0], _parts(node)))
    if node[1] is None:  # decorators are applied at import; a wrapping one runs when its function does
        found |= {n for n in _refs(node[0], _index(node[0])[3]) if not _is_wrapper(n)}
    return frozenset(found)


def _refs(module: str, parts: list[ast.AST]) -> set[Node]:
    defs, aliases, _, _ = _index(module)
    if any(name == "*" for name in aliases):
        raise _Dynamic(module)  # `from functions.x import *`: its names cannot be told apart
    found: set[Node] = set()
    inner: set[int] = set()  # the `a` and `a.b` of `a.b.c`: resolved with the whole chain
    for part in parts:
        for sub in ast.walk(part):  # breadth first: a chain comes before its parts
            if id(sub) in inner:
                continue
            if isinstance(sub, ast.Attribute | ast.Name) and not isinstance(getattr(sub, "ctx", None), ast.Store):
                chain: list[str] = []
                base: ast.AST = sub
                while isinstance(base, ast.Attribute):
                    chain.insert(0, base.attr)
                    base = base.value
                    inner.add(id(base))
                if not isinstance(base, ast.Name):
                    continue
                if base.id in aliases:
                    for target in aliases[base.id]:
                        found |= _targets(".".join([target, *chain]))
                elif base.id in defs:
                    found.add((module, base.id))
            elif isinstance(sub, ast.Import | ast.ImportFrom):  # an import inside a function runs it
                found |= {(m, None) for m in _imported_modules(module, sub)}
            elif isinstance(sub, ast.Constant) and isinstance(sub.value, str) and sub.value in _module_strings(module):
                found |= _targets(sub.value)  # a module named to be imported and used: anything in it
            elif isinstance(sub, ast.Call):
                func = sub.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called not in {"import_module", "__import__"}:
                    continue
                if sub.args and isinstance(sub.args[0], ast.Constant) and isinstance(sub.args[0].value, str):
                    # importing a module by its name runs the import-time code of what it loads
                    found |= {(sub.args[0].value, None)} if module_file(sub.args[0].value) else set()
                elif _module_strings(module):  # computed from names this module spells out
                    for name in _module_strings(module):
                        found |= _targets(name)
                else:
                    raise _Dynamic(module)
    return found


def _parts(node: Node) -> list[ast.AST]:
    defs, _, import_time, _ = _index(node[0])
    return import_time if node[1] is None else defs.get(node[1], [])


@cache
def reach(handler_module: str, view: Node) -> frozenset[Node] | None:
    """Every node that can run when `view` answers a request in the function of `handler_module`;
    None when it cannot be known (see `_Dynamic`)."""
    todo: list[Node] = [(handler_module, None), view]
    seen: set[Node] = set()
    try:
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            todo.append((node[0], None))  # running a module's code means it was imported
            if node[1] is None:  # importing it imports its module-level imports
                todo.extend((m, None) for m in _eager_imports(node[0]))
            todo.extend(_references(node) - seen)
    except _Dynamic:
        return None
    return frozenset(seen)


@cache
def _lines(module: str) -> list[str]:
    return _parse(module)[1].splitlines()


def _segment(module: str, part: ast.AST) -> str:
    """The source lines of an AST part (whole lines: enough for the patterns searched)."""
    start, end = getattr(part, "lineno", None), getattr(part, "end_lineno", None)
    return "\n".join(_lines(module)[start - 1:end]) if start and end else ""


@cache
def _node_services(node: Node) -> frozenset[str]:
    found: set[str] = set()
    for part in _parts(node):
        segment = _segment(node[0], part)
        found.update(SDK_CALL.findall(segment))
        if WS_SEND.search(segment):
            found.add("apigatewaymanagementapi")
    return frozenset(found)


def node_services(nodes: frozenset[Node] | set[Node]) -> set[str]:
    found: set[str] = set().union(*(_node_services(n) for n in nodes)) if nodes else set()
    return found - {"secretsmanager"}


def reached_modules(handler_module: str, view: Node) -> set[str]:
    """Modules whose functions or classes can be used for the route (not merely imported, which
    runs only their module-level code); the handler's closure when unknown."""
    nodes = reach(handler_module, view)
    if nodes is None:
        return closure({handler_module})
    defs = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return {node[0] for node in nodes if node[1] is not None and any(isinstance(p, defs) for p in _parts(node))}


def route_capabilities(handler_module: str, view_module: str, view_name: str) -> frozenset[str]:
    """The AWS services a route's function can call: from the code that can run for that route, or
    (when that cannot be known) from the module closure of its handler."""
    nodes = reach(handler_module, (view_module, view_name))
    if nodes is None:
        return capabilities_of({handler_module})
    return frozenset(node_services(nodes))
