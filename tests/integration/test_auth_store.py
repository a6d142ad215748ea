"""Store behaviour on the real server (FerretDB gaps included)."""

from datetime import timedelta

from functions.auth import store
from functions.core import clock as core_clock
from functions.core.db import ensure_indexes


def test_indexes_can_be_ensured_again_and_the_ttl_index_is_declared(db):
    # The fixture created them once; `make run` does it again on every start
    again = ensure_indexes(db)
    assert again["users"] == ["contact_unique", "directory", "admin_list", "created"]
    assert again["login_failures"] == ["expires_ttl"]
    assert "expires_ttl" in db.login_failures.index_information()


def test_contact_failure_windows_restart_after_expiry_and_are_purged(db, clock):
    window = timedelta(minutes=15)
    now = core_clock.now()
    assert store.record_contact_failure("x@example.com", now, window)["count"] == 1
    assert store.record_contact_failure("x@example.com", now, window)["count"] == 2
    # An expired window restarts even where the TTL index did not remove it
    later = now + window + timedelta(seconds=1)
    restarted = store.record_contact_failure("x@example.com", later, window)
    assert (restarted["count"], restarted["since"]) == (1, later)
    store.record_contact_failure("y@example.com", now, window)
    assert store.purge_expired_contact_failures(later) == 1
    assert [d["_id"] for d in db.login_failures.find()] == ["x@example.com"]
