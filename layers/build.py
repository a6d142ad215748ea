"""Build the Lambda layer of third-party dependencies (requirements.txt) for the Lambda runtime.

Every function of the stack shares this layer, so each function's own package (deployment.zip)
holds only our code. Wheels are resolved for the runtime, not for this machine: CPython of the
runtime's version, `manylinux2014_x86_64` (glibc 2.17, which the python3.11 runtime's Amazon
Linux 2 satisfies) and binary wheels only, so a missing wheel fails the build instead of
compiling something for the wrong platform. The layout is the one Lambda adds to `sys.path`:
`python/lib/python3.X/site-packages/`.

    python layers/build.py --out build/prod/cfn/layer.zip [--python 3.11]
"""

from __future__ import annotations

import argparse
import compileall
import os
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLATFORMS = {  # the glibc baseline of each runtime's Amazon Linux
    "3.11": ["manylinux2014_x86_64"],
    "3.12": ["manylinux_2_28_x86_64", "manylinux2014_x86_64"],
    "3.13": ["manylinux_2_28_x86_64", "manylinux2014_x86_64"],
}
# Never needed at run time: tests, caches (rebuilt below), type stubs of the SDKs.
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


def build(out: Path, python: str = "3.11", requirements: Path = ROOT / "requirements.txt") -> Path:
    with tempfile.TemporaryDirectory(prefix="layer-") as tmp:
        site = Path(tmp) / "python" / "lib" / f"python{python}" / "site-packages"
        install(requirements, site, python)
        prune(site)
        compile_bytecode(site, python, f"/opt/python/lib/python{python}/site-packages")
        write_zip(Path(tmp), out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python layers/build.py")
    parser.add_argument("--out", type=Path, required=True, help="layer zip to write")
    parser.add_argument("--python", default=f"{sys.version_info[0]}.{sys.version_info[1]}", choices=sorted(PLATFORMS))
    args = parser.parse_args(argv)
    out = build(args.out, args.python)
    print(f"layer {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
