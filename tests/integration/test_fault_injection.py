"""The fault injector itself: the failures it claims to make are the failures the server sees."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.errors import AutoReconnect, NetworkTimeout

from functions.core.db import get_db
from tests.faults import Fault, FaultPlan, count_steps, inject


def _two_writes() -> None:
    get_db()["things"].insert_one({"_id": 1})
    get_db()["things"].update_one({"_id": 1}, {"$set": {"done": True}})


def test_a_clean_run_lists_every_command_in_order(db: Any) -> None:
    # Given two writes, When they run through the injector without a fault
    seen = count_steps(_two_writes)
    # Then both are listed and both applied
    assert seen == ["things.insert_one", "things.update_one"]
    assert db["things"].find_one({"_id": 1}) == {"_id": 1, "done": True}


def test_a_refused_command_never_applies(db: Any) -> None:
    # When the second command is refused
    with inject(FaultPlan(fail_at=2, fault=Fault.REFUSED)) as plan, pytest.raises(AutoReconnect):
        _two_writes()
    # Then the first applied and the second did not
    assert plan.fired
    assert db["things"].find_one({"_id": 1}) == {"_id": 1}


def test_a_lost_reply_still_applies(db: Any) -> None:
    # When the second command's reply is lost
    with inject(FaultPlan(fail_at=2, fault=Fault.REPLY_LOST)), pytest.raises(NetworkTimeout):
        _two_writes()
    # Then the server applied it although the caller saw an error
    assert db["things"].find_one({"_id": 1}) == {"_id": 1, "done": True}


def test_the_injector_leaves_no_trace_after_its_block(db: Any) -> None:
    with inject(FaultPlan(fail_at=1)), pytest.raises(AutoReconnect):
        get_db()["things"].find_one({})
    # After the block the real client answers again
    assert get_db()["things"].find_one({}) is None
