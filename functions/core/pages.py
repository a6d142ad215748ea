"""The few server-rendered HTML pages of the API (a printed prescription's verification, the
contact verification link): one small layout, every value HTML-escaped, no script at all, and a
strict Content-Security-Policy (nothing may load; the one inline style is allowed by its hash;
forms may post only where the page says). Also the content negotiation that picks a page or JSON.
"""

from __future__ import annotations

import base64
import hashlib
import html
from typing import Any

from chalice.app import Response

STYLE = (
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#1a1a1a;background:#f6f7f9;margin:0}"
    "main{max-width:40rem;margin:2rem auto;background:#fff;border:1px solid #dde1e6;border-radius:8px;"
    "padding:1.5rem 2rem}"
    "h1{font-size:1.4rem;margin:0 0 1rem}"
    ".ok{color:#11703a}.bad{color:#b00020}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:1rem 0}dt{color:#555}dd{margin:0}"
    "table{border-collapse:collapse;width:100%;margin:.5rem 0}"
    "th,td{text-align:left;border-bottom:1px solid #e3e6ea;padding:.35rem .4rem;vertical-align:top}"
    "button{font-size:1rem;padding:.6rem 1.2rem;border:0;border-radius:6px;background:#1f5fbf;color:#fff;"
    "cursor:pointer}"
    "small{color:#555}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
HTML = "text/html; charset=utf-8"
_HTML_TYPES = ("text/html", "application/xhtml+xml")


def esc(value: Any) -> str:
    """Text for HTML (element content and quoted attribute values); None prints as nothing."""
    return html.escape("" if value is None else str(value), quote=True)


def content_security_policy(form_targets: tuple[str, ...] = ()) -> str:
    """Nothing loads, nothing runs; forms post to the page's own origin and `form_targets` only
    (a redirect after a form post is checked against `form-action` too), or nowhere."""
    forms = " ".join(("'self'", *form_targets)) if form_targets else "'none'"
    return (f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; img-src 'none'; form-action {forms}; "
            "base-uri 'none'; frame-ancestors 'none'")


def page(title: str, body_html: str, *, status: int = 200, form_targets: tuple[str, ...] = (),
         headers: dict[str, str] | None = None) -> Response:
    """A whole HTML document. `body_html` must already be escaped (build it with `esc`)."""
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="robots" content="noindex"><title>{esc(title)}</title><style>{STYLE}</style></head>'
        f"<body><main>{body_html}</main></body></html>"
    )
    all_headers: dict[str, Any] = {**(headers or {}), "Content-Type": HTML,
                                   "Content-Security-Policy": content_security_policy(form_targets)}
    return Response(body=document, status_code=status, headers=all_headers)


def error_page(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """An error of a page route, for a browser (the JSON envelope goes to other clients)."""
    title = "Too many requests" if status == 429 else "Not found" if status == 404 else "Something is wrong"
    return page(title, f'<h1 class="bad">{esc(title)}</h1><p>{esc(message)}</p>', status=status, headers=headers)


def _quality(accept: str, media: str) -> float:
    """The q-value `accept` gives `media`, from its most specific matching range (0: none matches)."""
    kind = media.split("/", 1)[0]
    best, best_rank = 0.0, 0
    for item in accept.split(","):
        name, *params = (p.strip() for p in item.split(";"))
        name = name.lower()
        rank = 3 if name == media else 2 if name == f"{kind}/*" else 1 if name == "*/*" else 0
        if rank <= best_rank:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best, best_rank = q, rank
    return best


def prefers_html(accept: str | None) -> bool:
    """Does this `Accept` prefer an HTML page to JSON? A browser's navigation does
    (`text/html,…,*/*;q=0.8`); `*/*`, `application/json`, axios' `application/json, text/plain,
    */*` and no Accept at all get JSON (a tie goes to JSON)."""
    if not accept:
        return False
    page_q = max(_quality(accept, media) for media in _HTML_TYPES)
    return page_q > 0 and page_q > _quality(accept, "application/json")
