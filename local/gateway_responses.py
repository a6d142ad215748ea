"""Local twin of the API Gateway "gateway responses" that infra/ configures in AWS.

In AWS, a path no route matches is answered by API Gateway itself (MISSING_AUTHENTICATION_TOKEN);
`infra/merge-template.json` turns that into our JSON 404 envelope. `chalice local` and
`chalice.test.Client` answer with their own 403 instead, so `install()` makes them answer the
same 404 as production. Never shipped to Lambda.
"""

from __future__ import annotations

import json
from typing import Any

from chalice import local

NOT_FOUND_BODY = {"success": False, "message": "Route not found", "code": "ROUTE_NOT_FOUND", "errors": []}


class RouteNotFound(local.LocalGatewayException):
    CODE = 404


_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    original = local.LocalGateway.handle_request

    def handle_request(self: Any, method: str, path: str, headers: Any, body: Any) -> Any:
        try:
            self.event_converter.create_lambda_event(method=method, path=path, headers=headers, body=body)
        except ValueError:
            raise RouteNotFound({"Content-Type": "application/json"}, json.dumps(NOT_FOUND_BODY).encode()) from None
        return original(self, method, path, headers, body)

    local.LocalGateway.handle_request = handle_request  # type: ignore[method-assign]
    _installed = True
