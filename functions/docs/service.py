"""The API's own description: the OpenAPI document and the Swagger UI files that render it.

In the packaged stack the document is generated at build time (`infra/package.py` writes
`openapi.json` beside this module), so the docs Lambda never imports the other domains. Where
that file is absent (`make run`, tests, `chalice deploy`) it is generated once per process from
the running app. Swagger UI comes from the `swagger-ui-bundle-v2` package's own files: no CDN.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import sys
from pathlib import Path

from functions.core.errors import NotFound, ServiceUnavailable

PACKAGED_SPEC = Path(__file__).with_name("openapi.json")
# File -> Content-Type of the Swagger UI files the docs page loads.
ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "application/javascript; charset=utf-8",
}
INIT_JS = """window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout"
  });
};
"""
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>CureConnect API</title>
  <link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script src="docs/swagger-ui-standalone-preset.js"></script>
  <script src="docs/init.js"></script>
</body>
</html>
"""
# The page runs only our own files (no inline script, no other origin).
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; frame-ancestors 'none'")

@functools.cache
def spec_json() -> str:
    """The OpenAPI 3.1 document as JSON text (read or built once per process)."""
    if PACKAGED_SPEC.is_file():
        return PACKAGED_SPEC.read_text()
    from functions.core import openapi
    from functions.core.config import get_settings

    return json.dumps(openapi.build(_running_app(), stage=get_settings().stage), separators=(",", ":"))


def _running_app() -> object:
    """The running app: app.py is loaded wherever no document was packaged (`make run`, tests,
    `chalice deploy`). Never imported from here: its import-time code plugs the ports (the
    outbox's handlers), which the docs function must not reach (infra/iam.py reads what can run)."""
    loaded = sys.modules.get("app")
    if loaded is None:
        raise ServiceUnavailable("The API description is built when the stack is packaged (make package)")
    return loaded.app


def _swagger_dir() -> Path:
    spec = importlib.util.find_spec("swagger_ui_bundle")  # locate without importing the package
    if spec is None or not spec.submodule_search_locations:
        raise NotFound("API docs are not installed")
    vendor = Path(next(iter(spec.submodule_search_locations))) / "vendor"
    return max(vendor.glob("swagger-ui-*"))


def asset(name: str) -> tuple[str, str]:
    """(text, content type) of one file of the docs page; anything else is a 404."""
    if name == "init.js":
        return INIT_JS, "application/javascript; charset=utf-8"
    if name not in ASSETS:
        raise NotFound("No such file")
    return (_swagger_dir() / name).read_text(encoding="utf-8"), ASSETS[name]
