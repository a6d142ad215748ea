"""Conformance of the shapes two-factor sign-in sends to `users` (functions/auth/mfa.py through
core.users): a pending secret set unless the factor is on (`$ne` on a bool), the factor turned
on only while that pending secret is the one stored, a TOTP step accepted once (`$lt` on a
nested int), a recovery code used up once (`$exists` on a map entry, `$unset` of it), the factor
removed. Every write is a findAndModify returning the document after (core.users.update_account)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
USER = ObjectId("65f000000000000000000024")
AFTER = ReturnDocument.AFTER


def _write(coll: Any, condition: dict[str, Any], update: dict[str, Any]) -> Any:
    return coll.find_one_and_update({"_id": USER, **condition}, update, return_document=AFTER)


def test_a_pending_secret_is_set_only_while_the_factor_is_not_on(coll: Any) -> None:
    # Given a user who never enrolled (no mfaEnabled field) and one with the factor on
    other = ObjectId()
    coll.insert_many([{"_id": USER, "role": "doctor"}, {"_id": other, "mfaEnabled": True}])
    pending = {"$set": {"mfa.pendingSecret": "enc-1", "mfa.pendingAt": NOW, "updatedAt": NOW}}
    # When setup writes the pending secret unless the factor is on
    first = _write(coll, {"mfaEnabled": {"$ne": True}}, pending)
    refused = coll.find_one_and_update({"_id": other, "mfaEnabled": {"$ne": True}}, pending, return_document=AFTER)
    # Then the missing field counts as "not on", true refuses, false is "not on" too
    assert first["mfa"] == {"pendingSecret": "enc-1", "pendingAt": NOW} and refused is None
    coll.update_one({"_id": other}, {"$set": {"mfaEnabled": False}})
    assert coll.find_one_and_update({"_id": other, "mfaEnabled": {"$ne": True}}, pending,
                                    return_document=AFTER)["mfa"]["pendingSecret"] == "enc-1"


def test_the_factor_is_turned_on_only_with_the_pending_secret_still_stored(coll: Any) -> None:
    coll.insert_one({"_id": USER, "mfa": {"pendingSecret": "enc-2", "pendingAt": NOW}})
    factor = {"secret": "enc-2", "lastStep": 100, "enabledAt": NOW, "recovery": {"h1": True, "h2": True}}
    on = {"$set": {"mfaEnabled": True, "mfa": factor, "updatedAt": NOW}}
    assert _write(coll, {"mfa.pendingSecret": "enc-1"}, on) is None  # replaced by a later setup
    after = _write(coll, {"mfa.pendingSecret": "enc-2"}, on)
    assert after["mfaEnabled"] is True and after["mfa"] == factor  # the pending fields are gone
    assert _write(coll, {"mfa.pendingSecret": "enc-2"}, on) is None  # a second confirm finds none


def test_a_totp_step_is_accepted_once_and_only_forward(coll: Any) -> None:
    coll.insert_one({"_id": USER, "mfaEnabled": True, "mfa": {"secret": "s", "lastStep": 100}})

    def accept(step: int) -> bool:
        return _write(coll, {"mfa.lastStep": {"$lt": step}}, {"$set": {"mfa.lastStep": step}}) is not None

    assert accept(101) is True
    assert accept(101) is False  # the same step again (a replayed code)
    assert accept(100) is False  # an older step
    assert accept(103) is True
    assert coll.find_one({"_id": USER})["mfa"] == {"secret": "s", "lastStep": 103}


def test_a_recovery_code_is_used_up_once(coll: Any) -> None:
    coll.insert_one({"_id": USER, "mfaEnabled": True, "mfa": {"secret": "s", "recovery": {"h1": True, "h2": True}}})

    def use(digest: str) -> Any:
        key = f"mfa.recovery.{digest}"
        return _write(coll, {key: {"$exists": True}}, {"$set": {"mfa.recoveryUsedAt": NOW}, "$unset": {key: ""}})

    assert use("h1")["mfa"]["recovery"] == {"h2": True}
    assert use("h1") is None  # used already
    assert use("nope") is None  # never issued
    assert use("h2")["mfa"]["recovery"] == {}


def test_the_factor_is_removed_in_one_write(coll: Any) -> None:
    coll.insert_one({"_id": USER, "name": "A", "mfaEnabled": True, "mfa": {"secret": "s", "lastStep": 1}})
    after = _write(coll, {}, {"$set": {"mfaEnabled": False, "updatedAt": NOW}, "$unset": {"mfa": ""}})
    assert after == {"_id": USER, "name": "A", "mfaEnabled": False, "updatedAt": NOW}
    assert coll.find_one_and_update({"_id": ObjectId()}, {"$set": {"mfaEnabled": False}, "$unset": {"mfa": ""}},
                                    return_document=AFTER) is None
