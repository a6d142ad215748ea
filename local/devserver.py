"""`chalice local` with the same JSON 404 for unknown routes that API Gateway gives in AWS."""

from __future__ import annotations

import sys

from local.gateway_responses import install


def main(argv: list[str]) -> int:
    install()
    from chalice.cli import main as chalice_main

    sys.argv = ["chalice", "local", "--no-autoreload", *argv]
    return int(chalice_main() or 0)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
