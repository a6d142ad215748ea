"""Failure-atomic use cases over several documents: each write is a named step with the
compensation that undoes it, and any exception after the first write runs the compensations of
the steps begun so far, newest first, then lets the exception go on.

MongoDB is atomic per document only. A use case that writes several (claims, then the
appointment; stock takes, then the order) names its steps:

    with Compensations("book") as undo:
        undo.step("claim cells", lambda: claims.release(token))
        claims.take(cells, token)
        undo.step("insert appointment", lambda: appointments.delete_if_unlisted(appt_id))
        appointments.insert(doc)
    effects.after_booking(doc)  # what may fail without undoing the booking goes after the block

A step is declared *before* its write, because a write whose reply was lost may have applied:
each compensation is idempotent and harmless when its write never happened (delete by the id
the use case chose, release by the token it chose). A compensation that fails itself (the
database is still away) is logged and left to the repair sweep, which finds what no live
document accounts for (`REPAIR_AFTER_SECONDS`); the original exception is what the caller sees.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

from functions.core.observability import logger


class Compensations:
    """The compensations of one run of a use case (see the module's docstring)."""

    __slots__ = ("_steps", "use_case")

    def __init__(self, use_case: str) -> None:
        self.use_case = use_case
        self._steps: list[tuple[str, Callable[[], Any]]] = []

    def step(self, name: str, undo: Callable[[], Any]) -> None:
        """The next write is `name`; `undo` reverses it (idempotent, safe if it never applied)."""
        self._steps.append((name, undo))

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self._steps]

    def __enter__(self) -> Compensations:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is None or not self._steps:
            return
        self.run(exc)

    def run(self, cause: BaseException) -> None:
        """Undo every step begun, newest first; each failure is logged, none hides `cause`."""
        undone, failed = [], []
        for name, undo in reversed(self._steps):
            try:
                undo()
                undone.append(name)
            except Exception as exc:  # the repair sweep is the backstop for what is left
                failed.append(name)
                logger.warning("Compensation failed", extra={"useCase": self.use_case, "step": name,
                                                             "error": type(exc).__name__})
        self._steps.clear()
        logger.info("Use case undone", extra={"useCase": self.use_case, "cause": type(cause).__name__,
                                              "undone": undone, "leftToRepair": failed})
