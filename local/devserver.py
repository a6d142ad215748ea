"""`chalice local` with the same JSON 404 for unknown routes that API Gateway gives in AWS, and
the environment winning over the stage's `environment_variables` in .chalice/config.json (so
`ALLOWED_ORIGINS=... COOKIE_SECURE=... make run` does what it says), the notifier hooked into
the local inbox (`local/inbox.py`) when `make run` names one, and an HTTP server fit for a
browser and a load test (`serve_concurrently`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

from chalice import local

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


class RequestHandler(local.ChaliceRequestHandler):
    """Chalice's handler, answering in one write without Nagle's delay: its headers and body
    left in two writes, so on a kept-alive connection the body waited for the client's delayed
    ACK (~40 ms per request; 5 ms on a new connection)."""

    disable_nagle_algorithm = True  # TCP_NODELAY
    wbufsize = 64 * 1024  # buffered: headers and body go together when the request is done


class ThreadedServer(local.ThreadedHTTPServer):
    """Chalice's thread-per-connection server with a listen backlog for a burst of clients:
    socketserver's 5 reset up to 33 of 50 sign-ups sent at once."""

    request_queue_size = 1024  # the kernel caps it at net.core.somaxconn


class DevServer(local.LocalDevServer):
    def __init__(self, app_object: Any, config: Any, host: str, port: int,
                 handler_cls: Any = RequestHandler, server_cls: Any = ThreadedServer) -> None:
        super().__init__(app_object, config, host, port, handler_cls, server_cls)


def serve_concurrently() -> None:
    """`chalice local` builds its server in `chalice.local.create_local_server`, which names
    `LocalDevServer` at call time: ours has the handler and the server above."""
    local.LocalDevServer = DevServer  # type: ignore[misc]


def main(argv: list[str]) -> int:
    from local import inbox

    install()
    inbox.install()  # under make run: SMS and e-mails the API sends go to the local inbox
    environment_wins(dict(os.environ))
    serve_concurrently()
    from chalice.cli import main as chalice_main

    sys.argv = ["chalice", "local", "--no-autoreload", *argv]
    return int(chalice_main() or 0)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
