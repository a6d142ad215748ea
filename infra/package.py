"""`make package STAGE=prod`: the CloudFormation stack of one function per route, ready to deploy.

1. stage the code: app.py, `.chalice/config.json` and `vendor/functions/` (our code only) in
   `build/<stage>/src/`, with no requirements.txt, so Chalice's `deployment.zip` holds only our
   code (it needs no PyPI and no credentials; a region is enough), plus the OpenAPI document
   (`functions/docs/openapi.json`, generated from the app);
2. `chalice package --stage <stage> --merge-template infra/merge-template.json build/<stage>/cfn`;
3. add compiled bytecode to deployment.zip (Lambda's code directory is read-only) and build the
   dependencies layer (`layers/build.py`, manylinux wheels for the runtime) into
   `build/<stage>/cfn/layer.zip`;
4. split the template per route (`infra/split_routes.py`), attach the layer and the roles, and
   check the resource count.

Then `make deploy STAGE=prod` runs `aws cloudformation package` + `deploy` on `build/<stage>/cfn/sam.json`.

    python -m infra.package --stage prod [--out build/prod] [--skip-layer]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache")


def stage_source(src: Path) -> None:
    if src.exists():
        shutil.rmtree(src)
    (src / ".chalice").mkdir(parents=True)
    shutil.copy2(ROOT / "app.py", src / "app.py")
    for config in (ROOT / ".chalice").glob("*.json"):  # config.json and the stages' policy files
        shutil.copy2(config, src / ".chalice" / config.name)
    shutil.copytree(ROOT / "functions", src / "vendor" / "functions", ignore=IGNORE)


def write_spec(src: Path, stage: str) -> None:
    """The OpenAPI document of `stage`, generated now so the docs Lambda never imports the other
    domains (dev-only routes are in the dev stage's alone)."""
    from app import app
    from functions.core import openapi

    spec = src / "vendor" / "functions" / "docs" / "openapi.json"
    if spec.parent.is_dir():
        spec.write_text(json.dumps(openapi.build(app, stage=stage), separators=(",", ":")))


def chalice_package(src: Path, stage: str, cfn: Path) -> None:
    if cfn.exists():
        shutil.rmtree(cfn)
    env = {**os.environ}
    env.setdefault("AWS_DEFAULT_REGION", env.get("AWS_REGION", "us-east-1"))
    chalice = Path(sys.executable).with_name("chalice")
    argv = [str(chalice), "package", "--stage", stage, "--merge-template",
            str(ROOT / "infra" / "merge-template.json"), str(cfn)]
    subprocess.run(argv, cwd=src, env=env, check=True)  # noqa: S603 - our own argv, no shell


def compile_code(cfn: Path, python: str) -> None:
    """Add `.pyc` files to Chalice's deployment.zip (Lambda cannot write them at run time)."""
    layer_build = _layer_build()
    code = cfn / "deployment.zip"
    with tempfile.TemporaryDirectory(prefix="code-") as tmp:
        zipfile.ZipFile(code).extractall(tmp)
        if layer_build.compile_bytecode(Path(tmp), python, "/var/task"):
            layer_build.write_zip(Path(tmp), code)


def _layer_build() -> Any:
    """layers/build.py (a script folder, not a package)."""
    spec = importlib.util.spec_from_file_location("layers_build", ROOT / "layers" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_layer(cfn: Path, python: str) -> Path:
    argv = [sys.executable, str(ROOT / "layers" / "build.py"), "--out", str(cfn / "layer.zip"), "--python", python]
    subprocess.run(argv, check=True)  # noqa: S603 - our own argv, no shell
    return cfn / "layer.zip"


def package(stage: str, out: Path, with_layer: bool = True) -> Path:
    from infra.split_routes import LIMIT, count_resources, split

    sys.path.insert(0, str(ROOT))
    # Resolved once, here: `chalice package` runs in the staged source folder, so a relative
    # `--out build/prod` (the Makefile's) would land inside it and sam.json would not be found.
    out = out.resolve()
    src, cfn = out / "src", out / "cfn"
    stage_source(src)
    write_spec(src, stage)
    chalice_package(src, stage, cfn)
    template_path = cfn / "sam.json"
    template = json.loads(template_path.read_text())
    runtime = next(r["Properties"]["Runtime"] for r in template["Resources"].values()
                   if r["Type"] == "AWS::Serverless::Function")
    compile_code(cfn, runtime.removeprefix("python"))
    if with_layer:
        build_layer(cfn, runtime.removeprefix("python"))
    from app import app

    manifest = cfn / "layers.json"
    sdk_layers = json.loads(manifest.read_text())["sdk"] if manifest.is_file() else []
    placed = split(template, app, sdk_layers=sdk_layers)
    template_path.write_text(json.dumps(template, indent=2))
    total = count_resources(template)
    print(f"{template_path}: {len(placed)} routes -> {len(set(placed.values()))} functions, "
          f"{total} resources of {LIMIT}")
    if total >= LIMIT:
        raise SystemExit(f"the stack has {total} resources; CloudFormation allows {LIMIT}")
    return template_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.package")
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--out", type=Path, help="default: build/<stage>")
    parser.add_argument("--skip-layer", action="store_true", help="do not build layer.zip (no PyPI needed)")
    args = parser.parse_args(argv)
    package(args.stage, args.out or ROOT / "build" / args.stage, with_layer=not args.skip_layer)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
