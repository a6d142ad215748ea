"""Many Lambda containers at the same moment: each request runs in its own forked process (as
concurrent invocations do in AWS, one container each) through the real REST entry point
`app(event, context)` with an API Gateway proxy event, against the same real database, released
together by a barrier. The database alone must decide the race. `race_calls` does the same for a
function of the code (a core mechanism) called in each container."""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable
from typing import Any

from tests.factories import bearer

API = "/api/v1"


def _invoke(app: Any, barrier: Any, results: Any, index: int, method: str, path: str, headers: dict[str, str],
            raw: bytes) -> None:
    from chalice.local import LambdaContext, LambdaEventConverter, RouteMatcher

    import functions.core.db as core_db

    core_db._client = None  # a container opens its own connection (never reuse the parent's sockets)
    core_db._client_uri = None
    converter = LambdaEventConverter(RouteMatcher(list(app.routes)), app.api.binary_types)
    event = converter.create_lambda_event(method, API + path, headers, raw)
    event["requestContext"]["requestId"] = f"race-{index}"
    barrier.wait(timeout=120)
    response = app(event, LambdaContext("api_handler", 512))
    results.put((index, response["statusCode"], json.loads(response["body"])))


def race(app: Any, requests: list[tuple[str, str, dict[str, Any] | None, Any, dict[str, str] | None]]
         ) -> list[tuple[int, dict[str, Any]]]:
    """Send every `(method, path, who, payload, headers)` at the same moment, each from its own
    process. Returns (status, body) in request order."""
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(len(requests)), ctx.Queue()
    workers = []
    for i, (method, path, who, payload, extra) in enumerate(requests):
        hdrs = {"content-type": "application/json", **{k.lower(): v for k, v in (bearer(who) if who else {}).items()},
                **{k.lower(): v for k, v in (extra or {}).items()}}
        raw = b"" if payload is None else json.dumps(payload).encode()
        workers.append(ctx.Process(target=_invoke, args=(app, barrier, results, i, method, path, hdrs, raw)))
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=180) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    return [(status, payload) for _, status, payload in sorted(outcomes, key=lambda o: o[0])]


def _call(target: Callable[[int], Any], barrier: Any, results: Any, index: int) -> None:
    import functions.core.db as core_db

    core_db._client = None  # a container opens its own connection (never reuse the parent's sockets)
    core_db._client_uri = None
    barrier.wait(timeout=120)
    try:
        results.put((index, target(index)))
    except Exception as exc:  # the race's loser: its error travels back by class and code
        results.put((index, (type(exc).__name__, str(getattr(exc, "code", "")))))


def race_calls(target: Callable[[int], Any], count: int) -> list[Any]:
    """Call `target(i)` for i in 0..count-1, each in its own forked process (a container with its
    own connection), all released together. Returns what each returned (or, for one that raised,
    `(error class name, code)`), in index order. `target` must return something picklable."""
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(count), ctx.Queue()
    workers = [ctx.Process(target=_call, args=(target, barrier, results, i)) for i in range(count)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=180) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    return [value for _, value in sorted(outcomes, key=lambda o: o[0])]
