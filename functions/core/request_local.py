"""What belongs to the request being served: `app.current_request` per thread, the request id
the logs and a 500's body name, and the caller's address as API Gateway saw it."""

from __future__ import annotations

import threading
from typing import Any

import chalice.app


def request_id(request: chalice.app.Request | None) -> str | None:
    """API Gateway's request id; the Lambda request id where there is none (chalice local)."""
    if request is None:
        return None
    from_gateway = (request.context or {}).get("requestId")
    if from_gateway:
        return str(from_gateway)
    lambda_context = getattr(request, "lambda_context", None)
    return getattr(lambda_context, "aws_request_id", None)


def source_ip(request: chalice.app.Request) -> str:
    """The caller's address as API Gateway saw it (`requestContext.identity.sourceIp`); never a
    client-supplied header such as X-Forwarded-For, which anyone can set."""
    identity = (request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")


class _RequestSlot(threading.local):
    request: chalice.app.Request | None = None


def per_thread_requests(app: chalice.app.Chalice,
                        rest_handler: type[chalice.app.RestAPIEventHandler] = chalice.app.RestAPIEventHandler,
                        ) -> None:
    """Make `app.current_request` (and so `bp.current_request`) per thread. Lambda serves one
    request at a time, but a threaded server (`chalice local`, the race tests' concurrent
    clients) would otherwise let one request's view read another's headers. Between requests
    there is none. REST events go through `rest_handler` (the edge's: `core.edge`)."""
    slot = _RequestSlot()

    class PerThreadApp(type(app)):  # type: ignore[misc]
        @property
        def current_request(self) -> chalice.app.Request | None:
            return slot.request

        @current_request.setter
        def current_request(self, value: chalice.app.Request | None) -> None:
            slot.request = value

        def __call__(self, event: Any, context: Any) -> Any:
            # Chalice.__call__ (chalice 1.34) with our REST handler.
            self.lambda_context = context
            handler = rest_handler(self.routes, self.api, self.log, self.debug,
                                   middleware_handlers=self._get_middleware_handlers("http"))
            self.current_request = handler.create_request_object(event, context)
            try:
                return handler(event, context)
            finally:
                slot.request = None  # no request is being served: nothing may read this one's

    app.__class__ = PerThreadApp
