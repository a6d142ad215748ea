"""Store behaviour on the real server (FerretDB gaps included)."""

from functions.registry import ensure_indexes


def test_indexes_can_be_ensured_again_and_the_ttl_index_is_declared(db):
    # The fixture created them once; `make run` does it again on every start
    again = ensure_indexes(db)
    assert again["users"] == ["contact_unique", "directory", "admin_list", "created", "sockets_to_close",
                              "deletion"]  # issue 24 §3: accounts closing, erasing, erased
    # Login attempt windows live with every other limit's (core.throttle)
    assert again["rate_limits"] == ["expires_ttl", "by_bucket"]
    assert "expires_ttl" in db.rate_limits.index_information()
