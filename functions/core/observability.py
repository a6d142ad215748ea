"""Structured logging and metrics (Powertools), wired into Chalice as middleware.

Tracer (X-Ray) costs ~300 ms of cold start, so it is only loaded when TRACING_ENABLED is true.
Never log tokens, passwords, secrets or PHI: log ids and outcomes only.
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths

if TYPE_CHECKING:
    from chalice.app import Chalice

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "cureconnect"))
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "CureConnect"))
# Most invocations publish only the cold-start metric; that is expected, not worth a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish")


def configure(app: Chalice) -> None:
    from chalice.app import ConvertToMiddleware

    app.register_middleware(ConvertToMiddleware(
        logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    ))
    app.register_middleware(ConvertToMiddleware(metrics.log_metrics(capture_cold_start_metric=True)))
    if os.environ.get("TRACING_ENABLED", "").lower() in {"1", "true", "yes"}:
        from aws_lambda_powertools import Tracer

        tracer = Tracer()
        app.register_middleware(ConvertToMiddleware(tracer.capture_lambda_handler(capture_response=False)))
