"""Requests exactly as the existing React frontend's Vite proxy delivers them to the API
(`../shared/frontend-contract.md`): the page's `Origin` without a scheme, the API's own `Host`
(the proxy's `changeOrigin`), the browser's `Sec-Fetch-Site`, the axios instance's
`Accept: application/json` and `X-Forwarded-Proto: https`, and the `token` cookie as the only
credential. Bodies are JSON or multipart with every number as a string, as its forms send them.

Every contract test sends through `send`; a foreign page is the same request with
`Sec-Fetch-Site: cross-site` (what it looks like after the proxy).
"""

from __future__ import annotations

import json
from typing import Any

from functions.core.security import issue_token

API = "/api/v1"
PAGE_ORIGIN = "localhost:5173"  # what the proxy puts in Origin: the Host the browser sent it
API_HOST = "127.0.0.1:8000"  # what the API receives as Host (changeOrigin)
BOUNDARY = "----WebKitFormBoundaryCureConnect01"


def cookie_of(user: dict[str, Any]) -> str:
    token, _ = issue_token(user)
    return f"token={token}"


def proxy_headers(user: dict[str, Any] | None = None, *, cookie: str | None = None, site: str = "same-origin",
                  content_type: str | None = "application/json") -> dict[str, str]:
    headers = {"Origin": PAGE_ORIGIN, "Host": API_HOST, "Sec-Fetch-Site": site, "Sec-Fetch-Mode": "cors",
               "X-Forwarded-Proto": "https", "Accept": "application/json"}
    if content_type:
        headers["Content-Type"] = content_type
    if user is not None:
        cookie = cookie_of(user)
    if cookie:
        headers["Cookie"] = cookie
    return headers


def multipart(fields: dict[str, Any], files: dict[str, tuple[str, bytes, str]] | None = None) -> tuple[bytes, str]:
    """A browser's FormData body: every field a string (objects as JSON strings, as the forms do)."""
    parts: list[bytes] = []
    for name, value in fields.items():
        text = value if isinstance(value, str) else json.dumps(value)
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{text}\r\n'.encode())
    for name, (filename, data, media) in (files or {}).items():
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: {media}\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode(), f"multipart/form-data; boundary={BOUNDARY}"


def send(client: Any, method: str, path: str, user: dict[str, Any] | None = None, *, json_body: Any = None,
         form: dict[str, Any] | None = None, files: dict[str, tuple[str, bytes, str]] | None = None,
         cookie: str | None = None, site: str = "same-origin", headers: dict[str, str] | None = None) -> Any:
    """One request as the frontend's proxy delivers it."""
    if form is not None or files:
        raw, content_type = multipart(form or {}, files)
    else:
        raw = b"" if json_body is None else json.dumps(json_body).encode()
        content_type = "application/json"
    all_headers = {**proxy_headers(user, cookie=cookie, site=site, content_type=content_type), **(headers or {})}
    return client.http.request(method, API + path, headers=all_headers, body=raw)


def read(response: Any) -> Any:
    return json.loads(response.body)


def renders_as_text(value: Any) -> bool:
    """A value React can render as a child: a string or a number (an object unmounts the app)."""
    return isinstance(value, str | int | float) and not isinstance(value, bool)
