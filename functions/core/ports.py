"""Ports: a function a domain needs from a domain that depends on it, plugged in at start.

A domain reaches another only through that domain's `api`, and no two domains reach each other
(an import inside a function to dodge a cycle is still a cycle). Where work really goes both
ways, the domain the other one imports declares a `Port` in its `api`, and the composition root
(`app.py`, the domain's own `handler.py`, `functions.registry`) plugs the other domain's function
into it when the Lambda starts. Payments, for one, asks appointments and the pharmacy what a
target costs and tells them its outcome, so a cancelled appointment or order reaches the refund
through a port. Calling a port nobody plugged raises `NotPlugged`: a wiring defect is loud.

Per-route IAM (infra/iam.py) reads a plug in a handler as import-time code, so every route of
that handler may run the plugged function: plug only functions that call no AWS service (a
refund calls Stripe and writes the database; it tells its owner through a function the owner
passes, never through a plugged one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class NotPlugged(RuntimeError):
    """The composition root did not plug this port in (see `functions.registry.plug_ports`)."""


class Port(Generic[P, R]):
    def __init__(self, name: str) -> None:
        self.name = name
        self._fn: Callable[P, R] | None = None

    def plug(self, fn: Callable[P, R]) -> None:
        self._fn = fn

    @property
    def plugged(self) -> bool:
        return self._fn is not None

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if self._fn is None:
            raise NotPlugged(f"port {self.name} is not plugged in")
        return self._fn(*args, **kwargs)
