"""Issue 21 item 4, a claim under database faults: confirming a claim writes three documents
(the holder releases the contact, the claimer's account, the audit entry; `auth.claims`). For
every command of a confirmation and both faults (refused before it applies; applied with its
reply lost) the claimer never sees a 500, and either the claim applied whole (one account with the
contact verified, the holder on its placeholder and deactivated, one audit entry) or nothing of
it did (the holder keeps the contact, active, and the claim code, so the claimer's retry works)."""

from datetime import timedelta

from functions.auth.claims import PURPOSE
from functions.auth.codes import code_hash
from functions.core import clock as core_clock
from functions.core import users
from tests.factories import make_user
from tests.faults import Fault, FaultPlan, count_steps, inject
from tests.http import body, call

CODE = "424242"


def _squatted(n):
    """An account holding a contact it never proved, with a live claim code for it."""
    contact = f"owner{n}@example.com"
    holder = make_user("patient", contact=contact, contactVerified=False)
    assert users.set_claim_code(holder["_id"], contact, code_hash(PURPOSE, holder["_id"], CODE),
                                core_clock.now() + timedelta(minutes=10))
    return holder


def _confirm(client, contact):
    return call(client, "POST", "/contact/claim/confirm",
                json={"contact": contact, "code": CODE, "name": "Rightful Owner", "password": "owner-keeps-this-one-7"})


def _applied(db, holder):
    """True when the claim applied whole, False when nothing of it did (else the test fails)."""
    stored = db.users.find_one({"_id": holder["_id"]})
    claimers = list(db.users.find({"contact": holder["contact"], "_id": {"$ne": holder["_id"]}}))
    if stored["contact"] == holder["contact"]:
        assert stored["active"] is True and "contactReleased" not in stored and claimers == []
        assert stored[PURPOSE]["codeHash"] == code_hash(PURPOSE, holder["_id"], CODE)  # the claimer may retry
        return False
    assert stored["contact"] == users.placeholder_contact(holder["_id"]) and stored["active"] is False
    assert [c["_id"] for c in claimers] == [stored["contactReleased"]["by"]]
    assert claimers[0]["contactVerified"] is True
    return True


def test_a_claim_that_fails_at_any_step_applies_whole_or_not_at_all(client, db, clock):
    # Given the commands a clean confirmation sends
    first = _squatted(0)
    steps = count_steps(lambda: _confirm(client, first["contact"]))
    assert steps[:4] == ["users.find_one_and_update", "users.update_one", "users.insert_one",
                         "audit_log.insert_one"], steps  # the guess, then the three steps of the claim
    assert _applied(db, first)
    n = 0
    for k in range(1, len(steps) + 1):
        for fault in Fault:
            n += 1
            holder = _squatted(n)
            # When the k-th command of its confirmation fails
            with inject(FaultPlan(fail_at=k, fault=fault)) as plan:
                response = _confirm(client, holder["contact"])
            assert plan.fired
            # Then the claimer is told (never a 500), and the claim applied whole or not at all
            assert response.status_code in (201, 503), (k, fault, steps[k - 1], response.body)
            applied = _applied(db, holder)
            assert applied == (response.status_code == 201), (k, fault, steps[k - 1])
            audited = db.audit_log.count_documents({"action": "contact.claimed", "subjectId": holder["_id"]})
            lost_audit_reply = steps[k - 1] == "audit_log.insert_one" and fault is Fault.REPLY_LOST
            assert audited == (1 if applied or lost_audit_reply else 0), (k, fault, steps[k - 1])
            # And the claimer's retry with the same code completes the claim
            if not applied:
                retry = _confirm(client, holder["contact"])
                assert retry.status_code == 201, (k, fault, steps[k - 1], retry.body)
                assert _applied(db, holder)
            assert body(response)["success"] is (response.status_code == 201)
