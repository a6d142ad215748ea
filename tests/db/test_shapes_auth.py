"""Conformance of the shapes the auth domain and the notifier send: login attempt windows
claimed by conditional `$inc` (keyed by `_id`), purged by hour bucket; the token deny-list as a
map; per-recipient message counters; the outbox's per-status retry. Each test runs the shape on
a small collection and asserts MongoDB's answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)
USER = ObjectId("65f000000000000000000001")


def test_an_attempt_is_counted_only_while_the_window_has_room(coll: Any) -> None:
    coll.insert_one({"_id": "ip|1.2.3.4|a@x", "count": 1, "since": NOW, "expiresAt": NOW + WINDOW,
                     "bucket": "2026-03-02T10"})
    room = {"_id": "ip|1.2.3.4|a@x", "since": {"$gt": NOW - WINDOW}, "count": {"$lt": 2}}
    assert coll.update_one(room, {"$inc": {"count": 1}}).matched_count == 1
    assert coll.update_one(room, {"$inc": {"count": 1}}).matched_count == 0  # full
    # an expired window restarts; a full, current one does not
    later = NOW + WINDOW
    fresh = {"count": 1, "since": later, "expiresAt": later + WINDOW, "bucket": "2026-03-02T10"}
    expired = {"_id": "ip|1.2.3.4|a@x", "since": {"$lte": NOW - WINDOW}}
    assert coll.update_one(expired, {"$set": fresh}).matched_count == 0
    assert coll.update_one({"_id": "ip|1.2.3.4|a@x", "since": {"$lte": later - WINDOW}},
                           {"$set": fresh}).matched_count == 1
    assert coll.find_one({"_id": "ip|1.2.3.4|a@x"}, {"since": 1, "count": 1}) == {
        "_id": "ip|1.2.3.4|a@x", "since": later, "count": 1}
    # a success gives its attempt back, never below zero
    give_back = {"_id": "ip|1.2.3.4|a@x", "count": {"$gt": 0}}
    assert coll.update_one(give_back, {"$inc": {"count": -1}}).modified_count == 1
    assert coll.update_one(give_back, {"$inc": {"count": -1}}).matched_count == 0
    assert coll.delete_one({"_id": "ip|1.2.3.4|a@x"}).deleted_count == 1


def test_windows_are_purged_by_their_expiry_hour(coll: Any) -> None:
    coll.insert_many([{"_id": "a", "bucket": "2026-03-02T08"}, {"_id": "b", "bucket": "2026-03-02T09"},
                      {"_id": "c", "bucket": "2026-03-02T10"}])
    assert coll.delete_many({"bucket": "2026-03-02T09"}).deleted_count == 1
    assert sorted(d["_id"] for d in coll.find({}, {"_id": 1})) == ["a", "c"]


def test_the_deny_list_is_a_map_set_and_pruned_in_one_write(coll: Any) -> None:
    coll.insert_one({"_id": USER, "revokedJtis": {"old": NOW - timedelta(hours=1)}})
    coll.update_one({"_id": USER}, {"$set": {"revokedJtis.j2": NOW + timedelta(hours=1)},
                                    "$unset": {"revokedJtis.old": ""}})
    coll.update_one({"_id": USER}, {"$set": {"revokedJtis.j3": NOW + timedelta(hours=1)}})
    assert sorted(coll.find_one({"_id": USER})["revokedJtis"]) == ["j2", "j3"]
    guard = coll.find_one({"_id": USER}, {"passwordHash": 0, "loginFailures": 0, "medicalHistory": 0,
                                          "verification": 0})
    assert "j2" in guard["revokedJtis"]


def test_message_counters_per_recipient_and_day(coll: Any) -> None:
    def count(key: str) -> Any:
        return coll.find_one_and_update({"_id": key}, {"$inc": {"n": 1}, "$setOnInsert": {"day": key[-10:]}},
                                        upsert=True, return_document=ReturnDocument.AFTER)

    assert [count("a@x|2026-03-02")["n"] for _ in range(3)] == [1, 2, 3]
    assert count("a@x|2026-03-03") == {"_id": "a@x|2026-03-03", "n": 1, "day": "2026-03-03"}
    assert coll.delete_many({"day": "2026-03-02"}).deleted_count == 1


def test_the_outbox_leases_one_due_message_per_status(coll: Any) -> None:
    coll.insert_many([{"_id": 1, "status": "pending", "nextAttemptAt": NOW - timedelta(minutes=1), "attempts": 1},
                      {"_id": 2, "status": "sending", "nextAttemptAt": NOW + timedelta(minutes=1), "attempts": 2}])
    leased = coll.find_one_and_update({"status": "pending", "nextAttemptAt": {"$lte": NOW}},
                                      {"$set": {"status": "sending", "nextAttemptAt": NOW + timedelta(minutes=10)},
                                       "$inc": {"attempts": 1}},
                                      return_document=ReturnDocument.AFTER)
    assert (leased["_id"], leased["attempts"]) == (1, 2)
    assert coll.find_one_and_update({"status": "sending", "nextAttemptAt": {"$lte": NOW}},
                                    {"$set": {"status": "x"}}) is None


def test_a_code_guess_is_claimed_only_while_the_code_is_live_and_has_guesses_left(coll: Any) -> None:
    coll.insert_one({"_id": USER, "contact": "a@x", "verification": {"codeHash": "h", "expiresAt": NOW + WINDOW,
                                                                     "attempts": 0}})

    def guess(now: datetime) -> Any:
        return coll.find_one_and_update(
            {"_id": USER, "verification.expiresAt": {"$gt": now}, "verification.attempts": {"$lt": 2}},
            {"$inc": {"verification.attempts": 1}}, return_document=ReturnDocument.AFTER)

    assert guess(NOW)["verification"]["attempts"] == 1
    assert guess(NOW + WINDOW) is None  # expired
    assert guess(NOW)["verification"]["attempts"] == 2
    assert guess(NOW) is None  # used up
    by_contact = coll.find_one_and_update({"contact": "a@x", "verification.attempts": {"$lt": 3}},
                                          {"$inc": {"verification.attempts": 1}}, return_document=ReturnDocument.AFTER)
    assert by_contact["verification"]["attempts"] == 3
    done = coll.update_one({"_id": USER, "verification.codeHash": "h"},
                           {"$set": {"contactVerified": True}, "$unset": {"verification": ""}})
    assert done.modified_count == 1 and coll.find_one({"_id": USER}) == {"_id": USER, "contact": "a@x",
                                                                         "contactVerified": True}


def test_a_verification_link_is_read_and_used_up_only_while_live(coll: Any) -> None:
    # the contact verification link (functions/auth/contact_link.py): a read that changes nothing,
    # then one conditional write that verifies and removes the link and any code
    coll.insert_one({"_id": USER, "contact": "a@x", "verification": {"codeHash": "c"},
                     "verificationLink": {"codeHash": "h", "expiresAt": NOW + WINDOW, "attempts": 0}})

    def live(digest: str, now: datetime) -> dict[str, Any]:
        return {"_id": USER, "verificationLink.codeHash": digest, "verificationLink.expiresAt": {"$gt": now}}

    assert coll.find_one(live("h", NOW), {"_id": 1}) == {"_id": USER}
    assert coll.find_one(live("other", NOW), {"_id": 1}) is None
    assert coll.find_one(live("h", NOW + WINDOW), {"_id": 1}) is None  # expired
    use = {"$set": {"contactVerified": True, "contactVerifiedAt": NOW, "updatedAt": NOW},
           "$unset": {"verification": "", "verificationLink": ""}}
    assert coll.update_one(live("h", NOW + WINDOW), use).modified_count == 0
    assert coll.update_one(live("h", NOW), use).modified_count == 1
    assert coll.update_one(live("h", NOW), use).modified_count == 0  # used up
    assert coll.find_one({"_id": USER}, {"contactVerified": 1}) == {"_id": USER, "contactVerified": True}
    assert set(coll.find_one({"_id": USER})) == {"_id", "contact", "contactVerified", "contactVerifiedAt", "updatedAt"}


def test_an_attempt_upsert_creates_the_window_counts_while_it_has_room_and_refuses_by_id(coll: Any) -> None:
    from pymongo import UpdateOne
    from pymongo.errors import DuplicateKeyError

    fresh = {"since": NOW, "expiresAt": NOW + WINDOW, "bucket": "2026-03-02T10"}

    def claim() -> None:
        coll.update_one({"_id": "c|a@x", "since": {"$gt": NOW - WINDOW}, "count": {"$lt": 2}},
                        {"$inc": {"count": 1}, "$setOnInsert": fresh}, upsert=True)

    claim()
    claim()
    assert coll.find_one({"_id": "c|a@x"}) == {"_id": "c|a@x", "count": 2, **fresh}
    try:
        claim()
        refused = False
    except DuplicateKeyError:
        refused = True
    assert refused and coll.find_one({"_id": "c|a@x"})["count"] == 2
    # a success: the address's failures forgotten, the contact's attempt given back (one command)
    coll.insert_one({"_id": "ip|1|a@x", "count": 3})
    coll.bulk_write([UpdateOne({"_id": "ip|1|a@x"}, {"$set": {"count": 0}}),
                     UpdateOne({"_id": "c|a@x", "count": {"$gt": 0}}, {"$inc": {"count": -1}})], ordered=False)
    assert [d["count"] for d in coll.find({}, {"count": 1}).sort("_id", 1)] == [1, 0]


def test_an_admin_decision_marks_the_user_and_the_sweep_clears_only_that_decision(coll: Any) -> None:
    # The decision sets the mark in the same write as the state; the sweep reads the marked users
    # (equality on a bool, an exclusion-free projection, a limit) and clears the mark of the
    # decision it saw (a newer decision's time keeps the mark).
    other = ObjectId()
    coll.insert_many([{"_id": USER, "active": True, "sessionVersion": 0}, {"_id": other, "active": True}])
    decided = coll.find_one_and_update(
        {"_id": USER}, {"$set": {"active": False, "updatedAt": NOW, "closeSockets": True, "closeSocketsBefore": NOW},
                        "$inc": {"sessionVersion": 1}}, return_document=ReturnDocument.AFTER)
    assert decided["closeSockets"] is True and decided["sessionVersion"] == 1
    marked = list(coll.find({"closeSockets": True}, {"closeSocketsBefore": 1}).limit(100))
    assert marked == [{"_id": USER, "closeSocketsBefore": NOW}]
    later = NOW + timedelta(seconds=5)
    coll.update_one({"_id": USER}, {"$set": {"closeSocketsBefore": later}})
    stale = coll.update_one({"_id": USER, "closeSocketsBefore": NOW},
                            {"$unset": {"closeSockets": "", "closeSocketsBefore": ""}})
    assert stale.modified_count == 0
    cleared = coll.update_one({"_id": USER, "closeSocketsBefore": later},
                              {"$unset": {"closeSockets": "", "closeSocketsBefore": ""}})
    assert cleared.modified_count == 1
    assert coll.find_one({"_id": USER}) == {"_id": USER, "active": False, "sessionVersion": 1, "updatedAt":
                                            NOW}
    assert list(coll.find({"closeSockets": True})) == []


def test_a_claim_code_is_set_and_the_contact_released_only_while_unproven(coll: Any) -> None:
    # Issue 21 item 4 (`users.set_claim_code`, `release_contact`, `restore_contact`): a filter with
    # `$ne` on a bool and on a string beside equalities on the contact and a dotted code hash; the
    # release's `$set` + `$inc` + `$unset`; the undo by a dotted ObjectId; a unique index refusing
    # the undo when the contact was taken meanwhile.
    from functions.core.db import unless_duplicate

    coll.create_index("contact", unique=True)
    proved, admin = ObjectId(), ObjectId()
    coll.insert_many([{"_id": USER, "contact": "a@x", "role": "patient", "active": True, "sessionVersion": 0,
                       "verification": {"codeHash": "v"}},
                      {"_id": proved, "contact": "b@x", "role": "patient", "contactVerified": True},
                      {"_id": admin, "contact": "c@x", "role": "admin"}])
    claimable = {"contactVerified": {"$ne": True}, "role": {"$ne": "admin"}}
    code = {"$set": {"contactClaim": {"codeHash": "h", "expiresAt": NOW, "attempts": 0}}}
    assert [coll.update_one({"_id": who, "contact": contact, **claimable}, code).matched_count
            for who, contact in ((USER, "a@x"), (proved, "b@x"), (admin, "c@x"), (USER, "other@x"))] == [1, 0, 0, 0]
    claimer = ObjectId()

    def release(code_hash: str) -> int:
        return int(coll.update_one(
            {"_id": USER, "contact": "a@x", "contactClaim.codeHash": code_hash, **claimable},
            {"$set": {"contact": "released@contact.invalid", "active": False,
                      "contactReleased": {"by": claimer, "at": NOW}, "closeSockets": True, "updatedAt": NOW},
             "$inc": {"sessionVersion": 1},
             "$unset": {"contactClaim": "", "verification": "", "recovery": ""}}).modified_count)

    assert release("wrong") == 0
    assert release("h") == 1 and release("h") == 0  # once
    stored = coll.find_one({"_id": USER})
    assert stored["contact"] == "released@contact.invalid" and stored["sessionVersion"] == 1
    assert "contactClaim" not in stored and "verification" not in stored and stored["contactReleased"]["by"] == claimer
    assert coll.find_one({"contact": "released@contact.invalid"}, {"role": 1, "contactVerified": 1, "active": 1,
                                                                  "contactType": 1}) == \
        {"_id": USER, "role": "patient", "active": False}
    undo = {"$set": {"contact": "a@x", "active": True, "contactClaim": {"codeHash": "h"}, "updatedAt": NOW},
            "$unset": {"contactReleased": "", "closeSockets": ""}}
    assert coll.update_one({"_id": USER, "contactReleased.by": ObjectId()}, undo).matched_count == 0  # another run's
    coll.insert_one({"_id": ObjectId(), "contact": "a@x"})  # a sign-up took the freed contact meanwhile
    with unless_duplicate() as taken:
        coll.update_one({"_id": USER, "contactReleased.by": claimer}, undo)
    assert taken and coll.find_one({"_id": USER})["contact"] == "released@contact.invalid"
    coll.delete_one({"contact": "a@x"})
    assert coll.update_one({"_id": USER, "contactReleased.by": claimer}, undo).modified_count == 1
    assert "contactReleased" not in coll.find_one({"_id": USER})
    assert coll.delete_one({"_id": claimer}).deleted_count == 0


def test_an_admin_changes_a_contact_unless_another_account_holds_it(coll: Any) -> None:
    # `users.change_contact`: find_one_and_update by `_id` with `$set` + `$unset`, the document
    # after; the unique index refuses another account's contact (the update form of the refusal).
    from functions.core.db import unless_duplicate

    coll.create_index("contact", unique=True)
    other = ObjectId()
    coll.insert_many([{"_id": USER, "contact": "a@x", "recovery": {"codeHash": "r"}}, {"_id": other, "contact": "b@x"}])
    change = {"$set": {"contact": "new@x", "contactVerified": False, "updatedAt": NOW},
              "$unset": {"recovery": "", "contactClaim": ""}}
    after = coll.find_one_and_update({"_id": USER}, change, return_document=ReturnDocument.AFTER)
    assert after == {"_id": USER, "contact": "new@x", "contactVerified": False, "updatedAt": NOW}
    with unless_duplicate() as taken:
        coll.find_one_and_update({"_id": USER}, {"$set": {"contact": "b@x"}}, return_document=ReturnDocument.AFTER)
    assert taken and coll.find_one({"_id": USER})["contact"] == "new@x"
    assert coll.find_one_and_update({"_id": ObjectId()}, change, return_document=ReturnDocument.AFTER) is None
