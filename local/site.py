"""The local pages of `make run`, on the WebSocket gateway's HTTP port (127.0.0.1 only):

    /inbox/                 SMS and e-mails the API sent (local/inbox.py)
    /stripe/                pay through stripe-mock, deliver signed webhook events (local/stripe_webhooks.py)
    /ivr/                   the emergency line without a phone (local/ivr_phone.py)
    /cloudinary/api/...     the Cloudinary stand-in's Upload API (local/cloudinary_standin.py)
    /cloudinary/res/...     the files it serves back

None of them is an API route: they exist only under `make run`. Every request must name this
server in its `Host` header (`127.0.0.1:<port>` or `localhost:<port>`), so a page elsewhere
whose DNS name is rebound to 127.0.0.1 gets 403 (DNS rebinding); the pages' forms are also
refused when another origin posts them (`Origin`, `Sec-Fetch-Site`). The stand-in's upload
answers carry CORS headers, as Cloudinary's do, since the browser uploads from the frontend.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

LOOPBACK_NAMES = ("127.0.0.1", "localhost")
PREFIXES = ("/inbox", "/stripe", "/ivr", "/cloudinary")


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # path and query, as received
    headers: Mapping[str, str]
    body: bytes = b""

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.target).query))

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), "")

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    @property
    def wants_json(self) -> bool:
        return "application/json" in self.header("Accept")


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def text(status: int, message: str) -> Reply:
    return Reply(status, (message + "\n").encode(), {"Content-Type": "text/plain; charset=utf-8"})


def as_json(status: int, data: Any) -> Reply:
    return Reply(status, json.dumps(data, indent=1, default=str).encode(), {"Content-Type": "application/json"})


NAV = (("/inbox/", "Inbox"), ("/stripe/", "Stripe events"), ("/ivr/", "Emergency line"), ("/call/", "Call page"))
STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:70rem;padding:0 1rem 3rem;color:#1b1f24}
nav{display:flex;gap:1rem;padding:.8rem 0;border-bottom:1px solid #ddd;margin-bottom:1rem}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;padding:.35rem .5rem;
text-align:left;vertical-align:top}th{background:#f6f8fa}.code{font:700 1.6rem ui-monospace,monospace;
letter-spacing:.15em;background:#fff4c2;padding:0 .3em}.muted{color:#667}.dropped{background:#fff0f0}
pre{background:#f6f8fa;padding:.6rem;overflow:auto;white-space:pre-wrap}form.inline{display:inline}
button{margin:.1rem}input,select{margin:.1rem .3rem .1rem 0}
"""


def page(title: str, body: str, *, refresh: int | None = None) -> Reply:
    """A whole HTML page; `body` is already escaped HTML."""
    nav = "".join(f'<a href="{href}">{label}</a>' for href, label in NAV)
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    document = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">{meta}<title>{esc(title)} · '
                f"CureConnect local</title><style>{STYLE}</style></head><body><nav>{nav}</nav>"
                f"<h1>{esc(title)}</h1>{body}</body></html>")
    return Reply(200, document.encode(), {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"})


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


Handler = Callable[[Request], Reply]


class LocalSite:
    """Routes the local pages; `routes` maps a path prefix to its handler (longest first)."""

    def __init__(self, http_port: int, routes: Mapping[str, Handler]) -> None:
        self.http_port = http_port
        self.routes = dict(sorted(routes.items(), key=lambda item: -len(item[0])))
        self.origins = {f"http://{name}:{http_port}" for name in LOOPBACK_NAMES}

    @staticmethod
    def handles(path: str) -> bool:
        return any(path == prefix or path.startswith(prefix + "/") for prefix in PREFIXES)

    def host_is_ours(self, request: Request) -> bool:
        return request.header("Host").lower() in {f"{name}:{self.http_port}" for name in LOOPBACK_NAMES}

    def same_origin(self, request: Request) -> bool:
        origin, fetch_site = request.header("Origin"), request.header("Sec-Fetch-Site")
        return (not origin or origin in self.origins) and fetch_site in ("", "same-origin", "none")

    def handle(self, request: Request) -> Reply:
        if not self.host_is_ours(request):
            return text(403, "Refused: the Host header must name this server (127.0.0.1 or localhost).")
        for prefix, handler in self.routes.items():
            if request.path == prefix or request.path.startswith(prefix.rstrip("/") + "/"):
                uploads = prefix.startswith("/cloudinary")
                if request.method == "POST" and not uploads and not self.same_origin(request):
                    return text(403, "Refused: this form can only be posted from its own page.")
                return handler(request)
        return text(404, "Not found")
