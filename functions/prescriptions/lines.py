"""Pharmacy order lines against a prescription's medicines: which medicine a line is, how much
may still be dispensed, and what an order takes or gives back. Pure: no I/O.

The quantities left live in the document's `remaining` map, one key per medication by position
(`med_key`); `stores.prescriptions.consume` re-checks them in its one conditional write, these
rules only plan and explain.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from functions.core.errors import Code, Unprocessable
from functions.prescriptions.status import ACTIVE, effective_status

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class RxLine:
    """One order line a pharmacy wants to fill against a prescription."""

    name: str
    generic_name: str | None
    strength: str | None
    quantity: int


def med_key(index: int) -> str:
    return f"m{index}"


def allowance(med: Mapping[str, Any]) -> int:
    """Units a pharmacy may dispense in total: the quantity (1 when the doctor gave none) for
    the first fill and for each refill."""
    return int(med.get("quantity") or 1) * (1 + int(med.get("refills") or 0))


def _norm(text: str | None) -> str:
    return _SPACES.sub(" ", (text or "").strip()).casefold()


def _norm_strength(text: str | None) -> str:
    return _SPACES.sub("", (text or "")).casefold()


def line_matches(med: Mapping[str, Any], line: RxLine) -> bool:
    """Same medicine (name or generic name, ignoring case and spacing) and, when both state a
    strength, the same strength."""
    prescribed = {n for n in (_norm(med.get("name")), _norm(med.get("genericName"))) if n}
    ordered = {n for n in (_norm(line.name), _norm(line.generic_name)) if n}
    if not prescribed & ordered:
        return False
    a, b = _norm_strength(med.get("strength")), _norm_strength(line.strength)
    return not (a and b) or a == b


def invalid(message: str) -> Unprocessable:
    """The refusal of an order line against a prescription (PRESCRIPTION_INVALID)."""
    return Unprocessable(message, code=Code.PRESCRIPTION_INVALID)


def check_dispensable(rx: Mapping[str, Any] | None, patient_id: Any, now: datetime) -> Mapping[str, Any]:
    if rx is None or rx.get("patient") != patient_id:
        raise invalid("The prescription was not found for this patient")
    status = effective_status(rx, now)
    if status != ACTIVE:
        raise invalid(f"The prescription is {status}")
    return rx


def plan_takes(rx: Mapping[str, Any], lines: Sequence[RxLine]) -> dict[str, int]:
    """Units to take per medication key for these lines, or PRESCRIPTION_INVALID naming the
    first line that is not prescribed or exceeds what is left. The write re-checks the amounts
    atomically; this only explains."""
    meds: list[Mapping[str, Any]] = list(rx.get("medications") or [])
    remaining: Mapping[str, int] = rx.get("remaining") or {}
    takes: dict[str, int] = {}
    for line in lines:
        if line.quantity < 1:
            raise invalid(f"{line.name}: the quantity must be at least 1")
        index = next((i for i, med in enumerate(meds) if line_matches(med, line)), None)
        if index is None:
            raise invalid(f"{line.name} is not on this prescription")
        key = med_key(index)
        takes[key] = takes.get(key, 0) + line.quantity
        if takes[key] > int(remaining.get(key, 0)):
            raise invalid(f"{line.name}: only {int(remaining.get(key, 0))} left on this prescription")
    if not takes:
        raise invalid("No medicines to dispense")
    return takes


def plan_gives(rx: Mapping[str, Any], lines: Sequence[RxLine]) -> dict[str, tuple[int, int]]:
    """Units to give back per medication key, with each medication's allowance as the cap."""
    meds: list[Mapping[str, Any]] = list(rx.get("medications") or [])
    gives: dict[str, tuple[int, int]] = {}
    for line in lines:
        index = next((i for i, med in enumerate(meds) if line_matches(med, line)), None)
        if index is None or line.quantity < 1:
            continue
        key = med_key(index)
        given = gives.get(key, (0, 0))[0] + line.quantity
        gives[key] = (given, allowance(meds[index]))
    return gives
