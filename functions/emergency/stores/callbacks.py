"""`ivr_callbacks`: one call-back request per caller per 10 minutes, keyed by number and window
so a repeated key press cannot queue a second one; the only module issuing commands to it."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, IndexModel

from functions.core.db import get_db, insert_unless_duplicate

CALLBACKS = "ivr_callbacks"

INDEXES = {CALLBACKS: [IndexModel([("status", ASCENDING), ("createdAt", ASCENDING)], name="open"),
                       IndexModel([("caller", ASCENDING)], name="caller")]}  # the erase of an account


def insert_callback(doc: dict[str, Any]) -> bool:
    """False when this number already asked in this window (the `_id` refuses a second)."""
    return insert_unless_duplicate(get_db()[CALLBACKS], doc)


def delete_of_caller(number: str) -> int:
    """Every request from this calling number (the erase of the account holding it)."""
    return int(get_db()[CALLBACKS].delete_many({"caller": number}).deleted_count)
