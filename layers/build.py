"""Build the Lambda layers of third-party dependencies (requirements.txt) for the Lambda runtime.

Several layers, so each function's own package (deployment.zip) holds only our code and no
function carries an SDK it never calls:

- `layer.zip`: what every function needs (pydantic, pymongo, PyJWT, Powertools, ...);
- one layer per group of `SDK_LAYERS` (`layer-sdk.zip`: Stripe, Twilio, Cloudinary, ReportLab and
  the PDF's Noto fonts under `fonts/noto/`, i.e. /opt/fonts/noto;
  `layer-mfa.zip`: pyotp and cryptography for two-factor sign-in; `layer-genai.zip`: Google GenAI)
  with what only those SDKs need, attached only to functions whose code imports a module it
  provides (infra/split_routes.py reads `layers.json`). This matters beyond size: PyJWT imports
  `cryptography` at import time whenever it is installed, so only the functions that reach the
  second factor (and the analysis function, whose Google auth library needs it) pay for it.
 Wheels are resolved for the runtime, not for this machine: CPython of the
runtime's version, `manylinux2014_x86_64` (glibc 2.17, which the python3.11 runtime's Amazon
Linux 2 satisfies) and binary wheels only, so a missing wheel fails the build instead of
compiling something for the wrong platform. The layout is the one Lambda adds to `sys.path`:
`python/lib/python3.X/site-packages/`.

    python layers/build.py --out build/prod/cfn/layer.zip [--python 3.11]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PLATFORMS = {  # the glibc baseline of each runtime's Amazon Linux
    "3.11": ["manylinux2014_x86_64"],
    "3.12": ["manylinux_2_28_x86_64", "manylinux2014_x86_64"],
    "3.13": ["manylinux_2_28_x86_64", "manylinux2014_x86_64"],
}
# Never needed at run time: tests, caches (rebuilt below), type stubs of the SDKs.
SDK_LAYERS = {  # layer name -> the requirements it is built for (anything else is in the common layer)
    "sdk": {"twilio", "stripe", "cloudinary", "reportlab", "uharfbuzz", "rl-accel"},
    # Two-factor sign-in (pyotp, and cryptography for the secrets at rest): only the functions whose
    # code reaches functions/auth/mfa.py; before genai, which needs its cryptography too.
    "mfa": {"pyotp", "cryptography"},
    "genai": {"google-genai"},
}
# Files that are not Python packages, shipped in a layer beside `python/` (Lambda unpacks layers in
# /opt): the prescription PDF's Noto faces (functions/prescriptions/pdf.py, `PDF_FONT_DIR`) go with
# ReportLab in the SDK layer, at /opt/fonts/noto. From Debian's fonts-noto-core (.ci/run installs it);
# `NOTO_FONT_SOURCE` names another folder holding the same files.
FONTS = {"sdk": {"dir": "fonts/noto", "files": ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf",
                                                "NotoSansDevanagari-Regular.ttf", "NotoSansDevanagari-Bold.ttf")}}
FONT_SOURCE = Path(os.environ.get("NOTO_FONT_SOURCE", "/usr/share/fonts/truetype/noto"))
PRUNE_DIRS = {"__pycache__", "tests"}
PRUNE_SUFFIXES = (".pyc", ".pyi", ".js.map", ".css.map", "-es-bundle.js", "-es-bundle-core.js")
# Not compiled (the layer must stay well under Lambda's 250 MB unzipped): hundreds of modules that
# are each loaded only by one rare call (Twilio's REST resources other than the client itself,
# phone-number geocoding/carrier data, Stripe's typing-only parameter and event classes).
NO_BYTECODE = re.compile(r"/(twilio/rest/[^/]+/|phonenumbers/(geodata|carrierdata|tzdata)/|stripe/(_?params|events)/)")


def install(requirements: Path, target: Path, python: str) -> None:
    platforms = [arg for p in PLATFORMS[python] for arg in ("--platform", p)]
    argv = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
            "--target", str(target), "--implementation", "cp", "--python-version", python,
            "--only-binary=:all:", *platforms, "-r", str(requirements)]
    subprocess.run(argv, check=True)  # noqa: S603 - our own argv, no shell


def prune(site: Path) -> None:
    for path in sorted(site.rglob("*"), reverse=True):
        if path.is_dir() and path.name in PRUNE_DIRS:
            shutil.rmtree(path, ignore_errors=True)
        elif path.is_file() and path.name.endswith(PRUNE_SUFFIXES):
            path.unlink()
    shutil.rmtree(site / "bin", ignore_errors=True)


def compile_bytecode(root: Path, python: str, ddir: str) -> bool:
    """Ship `.pyc` files: Lambda's /opt and /var/task are read-only, so without them every cold
    start compiles every module it imports. `unchecked-hash` pycs are used without comparing the
    source's mtime (the zips carry a fixed date). Only possible with the runtime's own version."""
    if python != f"{sys.version_info[0]}.{sys.version_info[1]}":
        print(f"warning: not compiling bytecode (this is Python {sys.version_info[0]}.{sys.version_info[1]}, "
              f"the runtime is {python}): cold starts will compile every import", file=sys.stderr)
        return False
    return bool(compileall.compile_dir(root, ddir=ddir, quiet=2, workers=0, rx=NO_BYTECODE,
                                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH))


def write_zip(root: Path, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo.from_file(path, path.relative_to(root).as_posix())
                info.date_time = (1980, 1, 1, 0, 0, 0)  # reproducible: same inputs, same bytes
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
                archive.writestr(info, path.read_bytes())


def _name(raw: str) -> str:
    return re.sub(r"[-_.]+", "-", raw).lower()


def split_sdk(site: Path, requirements: Path, root: Path, python: str) -> list[dict[str, Any]]:
    """Move each SDK group's distributions, and what only it needs, from `site` to a tree of its own
    under `root/<group>`; returns, per group, the import names it provides and the earlier groups
    holding some of its dependencies (a function that needs the group needs those too)."""
    from importlib.metadata import distributions

    from pip._vendor.packaging.requirements import Requirement

    dists = {_name(d.metadata["Name"]): d for d in distributions(path=[str(site)])}
    roots = [Requirement(line.split("#")[0]) for line in requirements.read_text().splitlines()
             if line.split("#")[0].strip()]

    def closure(names: list[tuple[str, set[str]]]) -> set[str]:
        seen: set[str] = set()
        todo = list(names)
        while todo:
            name, extras = todo.pop()
            if name in seen or name not in dists:
                continue
            seen.add(name)
            for raw in dists[name].requires or []:
                req = Requirement(raw)
                envs = [{"extra": e} for e in extras] or [{"extra": ""}]
                if req.marker is None or any(req.marker.evaluate(env) for env in envs):
                    todo.append((_name(req.name), set(req.extras)))
        return seen

    sdk_names = set().union(*SDK_LAYERS.values())
    placed = closure([(_name(r.name), set(r.extras)) for r in roots if _name(r.name) not in sdk_names])
    relative = site.relative_to(site.parents[3])
    groups: list[dict[str, Any]] = []
    owner: dict[str, str] = {}
    for group, names in SDK_LAYERS.items():
        wanted = closure([(_name(r.name), set(r.extras)) for r in roots if _name(r.name) in names])
        needs = sorted({owner[d] for d in wanted if d in owner})
        modules: set[str] = set()
        for name in sorted(wanted - placed):
            owner[name] = group
            for file in dists[name].files or []:
                source = site / file
                if not source.exists():
                    continue
                top = file.parts[0]
                if not top.endswith((".dist-info", ".data", ".libs")) and top != "bin":
                    modules.add(top.removesuffix(".py").split(".")[0])
                target = root / group / relative / file
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(source, target)
        placed |= wanted
        (root / group / relative).mkdir(parents=True, exist_ok=True)
        groups.append({"name": group, "zip": f"layer-{group}.zip", "modules": sorted(modules), "needs": needs})
    for path in sorted(site.rglob("*"), reverse=True):  # folders the moves emptied
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return groups


def add_fonts(group: dict[str, Any], tree: Path) -> None:
    """Copy the group's font files into its layer tree; records the folder Lambda will see
    (`/opt/...`) in the group's manifest entry as `font_dir`. A missing file fails the build: a
    stack whose PDF route can only answer 503 is not deployable."""
    fonts = FONTS.get(group["name"])
    if not fonts:
        return
    missing = [f for f in fonts["files"] if not (FONT_SOURCE / f).is_file()]
    if missing:
        raise SystemExit(f"fonts missing in {FONT_SOURCE}: {', '.join(missing)} "
                         "(apt-get install fonts-noto-core, or set NOTO_FONT_SOURCE)")
    target = tree / fonts["dir"]
    target.mkdir(parents=True, exist_ok=True)
    for name in fonts["files"]:
        shutil.copyfile(FONT_SOURCE / name, target / name)
    group["font_dir"] = f"/opt/{fonts['dir']}"


def build(out: Path, python: str = "3.11", requirements: Path = ROOT / "requirements.txt") -> Path:
    """Writes `out` (the common layer), the SDK layers and `layers.json` (what each provides) beside it."""
    relative = Path("python") / "lib" / f"python{python}" / "site-packages"
    with tempfile.TemporaryDirectory(prefix="layer-") as tmp:
        common = Path(tmp) / "common"
        install(requirements, common / relative, python)
        groups = split_sdk(common / relative, requirements, Path(tmp), python)
        for group in groups:
            add_fonts(group, Path(tmp) / group["name"])
        for tree, zip_name in [(common, out.name)] + [(Path(tmp) / g["name"], g["zip"]) for g in groups]:
            prune(tree / relative)
            compile_bytecode(tree / relative, python, f"/opt/{relative}")
            write_zip(tree, out.with_name(zip_name))
    out.with_name("layers.json").write_text(json.dumps({"common": out.name, "sdk": groups}, indent=1))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python layers/build.py")
    parser.add_argument("--out", type=Path, required=True, help="layer zip to write")
    parser.add_argument("--python", default=f"{sys.version_info[0]}.{sys.version_info[1]}", choices=sorted(PLATFORMS))
    args = parser.parse_args(argv)
    out = build(args.out, args.python)
    manifest = json.loads(out.with_name("layers.json").read_text())
    for name in [manifest["common"], *(g["zip"] for g in manifest["sdk"])]:
        print(f"layer {out.with_name(name)} ({out.with_name(name).stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
