"""Give each domain its own Lambda: post-process `chalice package` (CloudFormation) output.

Chalice puts every REST route in one function (`APIHandler`, handler `app.app`), so each cold
start imports every domain. This step clones `APIHandler` once per domain, points the clone at
that domain's slim entry point (`functions/<domain>/handler.py`, which registers only its own
blueprint with the same middleware), rewrites the swagger integration URI of every path the
domain owns, and adds the API Gateway invoke permission. Code zip, role, layers and environment
are shared. `chalice deploy` is unaffected (it keeps the single function).

    chalice package --stage prod out/ && python -m infra.split_routes out/sam.json
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

URI = "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${%s.Arn}/invocations"


def route_domains(app: Any) -> dict[str, str]:
    """Map each API path to the domain package whose blueprint serves it."""
    owners: dict[str, str] = {}
    for path, methods in app.routes.items():
        modules = {entry.view_function.__module__ for entry in methods.values()}
        domains = {m.split(".")[1] for m in modules if m.startswith("functions.") and m.endswith(".routes")}
        if len(domains) == 1:
            owners[path] = domains.pop()
    return owners


def split(template: dict[str, Any], owners: dict[str, str]) -> dict[str, str]:
    """Rewrite `template` in place; returns path -> function logical id."""
    resources = template["Resources"]
    base_fn, base_perm = resources["APIHandler"], resources["APIHandlerInvokePermission"]
    paths = resources["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    placed: dict[str, str] = {}
    for path, domain in sorted(owners.items()):
        if path not in paths:
            continue
        logical = "".join(part.title() for part in domain.split("_")) + "Handler"
        if logical not in resources:
            fn = copy.deepcopy(base_fn)
            fn["Properties"]["Handler"] = f"functions.{domain}.handler.app"
            resources[logical] = fn
            perm = copy.deepcopy(base_perm)
            perm["Properties"]["FunctionName"] = {"Ref": logical}
            resources[f"{logical}InvokePermission"] = perm
        for operation in paths[path].values():
            operation["x-amazon-apigateway-integration"]["uri"] = {"Fn::Sub": URI % logical}
        placed[path] = logical
    return placed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.split_routes")
    parser.add_argument("template", type=Path, help="sam.json written by `chalice package`")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path.cwd()))
    from app import app

    template = json.loads(args.template.read_text())
    placed = split(template, route_domains(app))
    args.template.write_text(json.dumps(template, indent=2))
    for path, logical in sorted(placed.items()):
        print(f"{path:55} -> {logical}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
