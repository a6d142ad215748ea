"""What a running `make run` tells the local tools started beside it.

`make run` writes `run.json` into its data directory (LOCAL_DATA_DIR, default `.data/`; mode
0600, removed on exit): its URLs and the secrets it made for this run (the Stripe webhook secret,
the Twilio auth token). The local commands (`python -m local.stripe_webhooks`, `python -m
local.ivr_phone`) read it, so they talk to that instance whatever its ports. Secrets are never
printed in full: `shown()` keeps their first characters.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT / ".data"
FILE = "run.json"


class NotRunning(RuntimeError):
    """No `make run` has written its run.json into that data directory."""


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("LOCAL_DATA_DIR") or DEFAULT_DATA).resolve()


def write(data: Path, info: Mapping[str, Any]) -> Path:
    path = data / FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(dict(info), out, indent=2)
    return path


def read(data: Path | None = None) -> dict[str, Any]:
    path = (data or data_dir()) / FILE
    try:
        found: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise NotRunning(f"no `make run` is running with its data in {path.parent} (no {FILE}); start it, "
                         "or set LOCAL_DATA_DIR to the one it uses") from None
    return found


def remove(data: Path) -> None:
    (data / FILE).unlink(missing_ok=True)


def shown(secret: str, keep: int = 10) -> str:
    """Enough of a secret to tell two apart, never the whole of it."""
    return secret[:keep] + "…" if len(secret) > keep else "…"


def command(argv: list[str], env: Mapping[str, str], defaults: Mapping[str, str]) -> str:
    """A shell line that runs `argv` from the repository root with the variables of `env` that
    differ from `defaults` (so it reaches this instance whatever LOCAL_DATA_DIR or MONGODB_DB
    it was started with)."""
    assignments = [f"{name}={shlex.quote(value)}" for name, value in env.items() if defaults.get(name) != value]
    return " ".join([*assignments, *(shlex.quote(arg) for arg in argv)])
