"""Cold start of every route function of the per-route stack, next to app.py all-in.

For each REST route (path + method) of `app.routes`, the function that serves it in the split
stack (infra/split_routes.py) imports one handler module: its domain's `handler.py`, or the
preflight handler for OPTIONS. Each distinct handler is imported in fresh interpreters (one
warm-up, then the median of N runs) and the median of a bare interpreter is subtracted. The
table prints, per route, that figure, whether the route uses the database, and the goal it is
held to on this machine (CPU ms, see `wall`): <= 250 ms with the database (pydantic + pymongo are the floor), <= 120 ms
without. Then the sizes of the code package (deployment.zip) and the dependencies layer.

    .venv/bin/python bench/cold_start.py [--runs 7] [--no-package]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GOAL_DB_MS, GOAL_NO_DB_MS = 250.0, 120.0
ENV = {**os.environ, "AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_DEFAULT_REGION": "us-east-1",
       "POWERTOOLS_TRACE_DISABLED": "0", "PYTHONDONTWRITEBYTECODE": "1"}  # Lambda's code is read-only
PROBE = ("import importlib, json, sys; importlib.import_module(sys.argv[1]); "
         "print(json.dumps(sorted(m for m in ('pymongo', 'pydantic', 'boto3', 'stripe', 'twilio.rest', 'cloudinary',"
         " 'reportlab', 'aws_xray_sdk', 'google.genai', 'cryptography') if m in sys.modules)))")


def prefix(paths: list[Path] | None) -> tuple[list[str], str]:
    """Interpreter flags and code that show it only `paths` (the unpacked code and layers) and the
    standard library, as in Lambda; nothing (the venv) without paths."""
    if not paths:
        return [], ""
    return ["-S"], f"import sys; sys.path[:0] = {[str(p) for p in paths]!r}; "


def wall(code: str, runs: int, *args: str, paths: list[Path] | None = None) -> float:
    """Median CPU time (user + system) of a fresh interpreter running `code`, in ms.

    CPU time rather than wall time: on a shared machine the wall clock mostly measures the
    neighbours, while the CPU an import burns is what a Lambda's (one) vCPU will spend."""
    flags, setup = prefix(paths)
    samples = []
    for i in range(runs + 1):
        process = subprocess.Popen([sys.executable, *flags, "-c", setup + code, *args], cwd=ROOT, env=ENV,
                                   stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            raise SystemExit(f"{code} {args} failed")
        if i:  # the first run warms the OS file cache
            samples.append(usage.ru_utime + usage.ru_stime)
    return statistics.median(samples) * 1000


def loaded(module: str, paths: list[Path] | None) -> list[str]:
    flags, setup = prefix(paths)
    out = subprocess.run([sys.executable, *flags, "-c", setup + PROBE, module], cwd=ROOT, env=ENV, check=True,
                         capture_output=True, text=True).stdout
    result: list[str] = json.loads(out.strip().splitlines()[-1])
    return result


def uses_database(handler_module: str) -> bool:
    from infra import iam

    return iam.reaches_database(handler_module)


def build(stage: str, tmp: Path) -> tuple[Path, dict[str, list[Path]]]:
    """`make package`'s output, and per handler the directories its function sees: the unpacked
    deployment.zip, then each of its layers (Lambda's /var/task and /opt)."""
    from infra.package import package

    with open(os.devnull, "w") as quiet:
        stdout, sys.stdout = sys.stdout, quiet
        try:
            template_path = package(stage, tmp / "build")
        finally:
            sys.stdout = stdout
    cfn = template_path.parent
    resources = json.loads(template_path.read_text())["Resources"]
    zipfile.ZipFile(cfn / "deployment.zip").extractall(tmp / "task")
    sites = {}
    for logical, resource in resources.items():
        if resource["Type"] == "AWS::Serverless::LayerVersion":
            zipfile.ZipFile(cfn / resource["Properties"]["ContentUri"]).extractall(tmp / logical)
            sites[logical] = next((tmp / logical / "python" / "lib").glob("python3.*/site-packages"))
    paths = {fn["Properties"]["Handler"].rpartition(".")[0]: [tmp / "task", *(sites[layer["Ref"]] for layer in
                                                                          fn["Properties"].get("Layers", []))]
             for fn in resources.values() if fn["Type"] == "AWS::Serverless::Function"}
    return cfn, paths


def sizes(cfn: Path) -> None:
    print()
    for archive in sorted(cfn.glob("*.zip")):
        unzipped = sum(i.file_size for i in zipfile.ZipFile(archive).infolist())
        role = "code package, every function" if archive.name == "deployment.zip" else "layer"
        print(f"{archive.name:16} {role:30} {archive.stat().st_size / 1e6:7.1f} MB zipped, "
              f"{unzipped / 1e6:7.1f} MB unzipped")
    print("(Lambda allows 250 MB unzipped per function, its code and layers together)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--stage", default="prod")
    parser.add_argument("--no-package", action="store_true",
                        help="import from the venv instead of building the package (no PyPI needed)")
    args = parser.parse_args()
    runs = max(3, args.runs)

    from app import app
    from infra.split_routes import routes

    table = routes(app)
    tmp = Path(tempfile.mkdtemp(prefix="bench-cold-"))
    cfn, paths = None, {}
    if not args.no_package:
        # Measure what Lambda runs: our zip and each function's layers of manylinux wheels, no venv.
        cfn, paths = build(args.stage, tmp)
        ENV.pop("PYTHONPATH", None)
    where = "the packaged artifacts (deployment.zip + each function's layers)" if cfn else "the development venv"
    handlers = sorted({r.handler_module for r in table})
    bare = wall("pass", runs, paths=[tmp] if cfn else None)
    all_layers = sorted({p for ps in paths.values() for p in ps}, key=lambda p: p.name != "task")
    all_in = wall("import app", runs, paths=all_layers or None) - bare
    cost = {h: wall("import importlib, sys; importlib.import_module(sys.argv[1])", runs, h, paths=paths.get(h)) - bare
            for h in handlers}
    database = {h: uses_database(h) for h in handlers}
    sdks = {h: loaded(h, paths.get(h)) for h in handlers}

    print(f"CPU ms, median of {runs} fresh interpreters minus a bare one ({bare:.1f} ms); "
          f"Python {sys.version.split()[0]}")
    print(f"imports from {where}")
    print(f"app.py all-in (every domain, one function): {all_in:.1f} ms\n")
    print(f"{'handler module':34} {'import ms':>9} {'% app':>6} {'db':>3} {'goal':>5}  loaded at import")
    for h in handlers:
        goal = GOAL_DB_MS if database[h] else GOAL_NO_DB_MS
        flag = "" if cost[h] <= goal else "  <-- over the goal"
        print(f"{h:34} {cost[h]:9.1f} {100 * cost[h] / all_in:5.0f}% {'yes' if database[h] else 'no':>3} "
              f"{goal:5.0f}  {', '.join(sdks[h])}{flag}")
    print(f"\nper route function ({len(table)} routes):")
    for r in table:
        print(f"  {r.method:7} {r.path:58} {cost[r.handler_module]:7.1f} ms  {r.handler}")
    if cfn:
        sizes(cfn)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
