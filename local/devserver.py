"""`chalice local` with the same JSON 404 for unknown routes that API Gateway gives in AWS, and
the environment winning over the stage's `environment_variables` in .chalice/config.json (so
`ALLOWED_ORIGINS=... COOKIE_SECURE=... make run` does what it says), and the notifier hooked into
the local inbox (`local/inbox.py`) when `make run` names one."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

from local.gateway_responses import install


def environment_wins(given: Mapping[str, str]) -> None:
    """Chalice applies the stage's variables over the process environment; keep the ones the
    developer set (`given`, the environment before Chalice started)."""
    from chalice.cli import factory

    original = factory.CLIFactory.load_chalice_app
    if getattr(original, "environment_wins", False):
        return

    def load_chalice_app(self: Any, environment_variables: Any = None, **kwargs: Any) -> Any:
        stage = {k: v for k, v in (environment_variables or {}).items() if k not in given}
        return original(self, stage, **kwargs)

    load_chalice_app.environment_wins = True  # type: ignore[attr-defined]
    factory.CLIFactory.load_chalice_app = load_chalice_app  # type: ignore[method-assign,assignment]


def main(argv: list[str]) -> int:
    from local import inbox

    install()
    inbox.install()  # under make run: SMS and e-mails the API sends go to the local inbox
    environment_wins(dict(os.environ))
    from chalice.cli import main as chalice_main

    sys.argv = ["chalice", "local", "--no-autoreload", *argv]
    return int(chalice_main() or 0)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
