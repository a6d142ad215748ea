"""`make client`: the API's TypeScript types, generated from its OpenAPI document.

    python -m local.client_types            # writes clients/openapi.json, api.d.ts and asyncapi.json
    python -m local.client_types --check    # exits 1 when the committed files differ from them

The document is the prod stage's (`functions.core.openapi.build`: no dev-only route); the types
come from `openapi-typescript` (clients/package.json, pinned with its `typescript` peer in
clients/package-lock.json and installed with `npm ci`). Both files are committed, so a frontend
takes them without running Python, and `make test` runs the check: a change to a route, a model or
a code that is not regenerated fails CI. clients/asyncapi.json is the WebSocket protocol's
AsyncAPI document (`functions.signaling.asyncapi`), checked the same way.
"""

from __future__ import annotations

import argparse
import difflib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = ROOT / "clients"
DOCUMENT = "openapi.json"
TYPES = "api.d.ts"
ASYNCAPI = "asyncapi.json"
STAGE = "prod"


def document_text() -> str:
    """The prod stage's OpenAPI document, as committed (sorted nowhere: the build's order is stable)."""
    from app import app
    from functions.core import openapi

    return json.dumps(openapi.build(app, stage=STAGE), indent=2, ensure_ascii=False) + "\n"


def asyncapi_text() -> str:
    """The WebSocket protocol's AsyncAPI document, as committed."""
    from functions.signaling import asyncapi

    return json.dumps(asyncapi.build(), indent=2, ensure_ascii=False) + "\n"


def install_generator() -> Path:
    """`npm ci` in clients/ when its node_modules is missing or older than the lockfile."""
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm is not installed (Debian: apt-get install nodejs npm; .ci/run installs them)")
    marker = CLIENTS / "node_modules" / ".package-lock.json"
    lock = CLIENTS / "package-lock.json"
    if not marker.exists() or marker.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=CLIENTS, check=True)
    return CLIENTS / "node_modules" / ".bin" / "openapi-typescript"


def generate(out: Path) -> None:
    """Write the document and its types into `out`."""
    generator = install_generator()
    out.mkdir(parents=True, exist_ok=True)
    (out / DOCUMENT).write_text(document_text(), encoding="utf-8")
    (out / ASYNCAPI).write_text(asyncapi_text(), encoding="utf-8")
    subprocess.run([str(generator), str(out / DOCUMENT), "--output", str(out / TYPES)],
                   cwd=CLIENTS, check=True, capture_output=True, text=True)


def differences() -> list[str]:
    """The unified diff between the committed files and freshly generated ones (empty: current)."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        generate(fresh)
        lines: list[str] = []
        for name in (DOCUMENT, TYPES, ASYNCAPI):
            committed = CLIENTS / name
            old = committed.read_text(encoding="utf-8").splitlines() if committed.exists() else []
            new = (fresh / name).read_text(encoding="utf-8").splitlines()
            lines += difflib.unified_diff(old, new, f"clients/{name} (committed)", f"clients/{name} (generated)",
                                          lineterm="", n=1)
        return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail when clients/ differs from the document")
    args = parser.parse_args(argv)
    if args.check:
        diff = differences()
        if diff:
            print("\n".join(diff[:200]))
            print("clients/ is out of date with the API's document: run `make client` and commit clients/",
                  file=sys.stderr)
            return 1
        print("clients/ matches the API's document")
        return 0
    generate(CLIENTS)
    print(f"wrote clients/{DOCUMENT}, clients/{TYPES} and clients/{ASYNCAPI}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
