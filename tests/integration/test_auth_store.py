"""Store behaviour on the real server (FerretDB gaps included)."""

from datetime import timedelta

from functions.auth import store
from functions.core import clock as core_clock
from functions.registry import ensure_indexes


def test_indexes_can_be_ensured_again_and_the_ttl_index_is_declared(db):
    # The fixture created them once; `make run` does it again on every start
    again = ensure_indexes(db)
    assert again["users"] == ["contact_unique", "directory", "admin_list", "created"]
    assert again["login_failures"] == ["expires_ttl", "by_bucket"]
    assert "expires_ttl" in db.login_failures.index_information()


def test_attempt_windows_fill_restart_after_expiry_and_are_purged_by_the_sweeper(db, clock):
    # Given a window of 15 minutes and room for 2 attempts
    window = timedelta(minutes=15)
    now = core_clock.now()
    # When three attempts are claimed
    claims = [store.claim_attempt("c|x@example.com", now, window, 2) for _ in range(3)]
    # Then two are counted and the third is refused with the window's start
    assert claims == [None, None, now]
    # And an expired window restarts even where the TTL index did not remove it
    later = now + window + timedelta(seconds=1)
    assert store.claim_attempt("c|x@example.com", later, window, 2) is None
    assert db.login_failures.find_one({"_id": "c|x@example.com"})["count"] == 1
    # And the platform sweeper purges windows that expired in past hours
    store.claim_attempt("c|y@example.com", now, window, 2)
    from functions.registry import sweep

    assert sweep(now + timedelta(hours=2))["loginWindowsPurged"] == 2
    assert db.login_failures.count_documents({}) == 0
