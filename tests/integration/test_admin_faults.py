"""Issue 19 §1, admin decisions under database faults: for every command of a deactivation, and
for both faults (refused before it applies, applied with its reply lost), the answer is never a
500, every applied deactivation has its audit entry (written first), and the user's socket is
closed by the request or by the next sweep."""

from __future__ import annotations

from typing import Any

import pytest

from functions.auth import sweep as auth_sweep
from functions.core.security import issue_token
from tests.factories import bearer, make_user
from tests.faults import Fault, FaultPlan, count_steps, inject
from tests.http import call
from tests.signaling_support import fresh_sockets


@pytest.fixture
def sockets(client, chalice_app, clock):
    with fresh_sockets(chalice_app) as driver:
        yield driver


def _connected_patient(sockets: Any) -> tuple[dict[str, Any], str]:
    patient = make_user("patient")
    cid, status = sockets.connect(token=issue_token(patient)[0])
    assert status == 200
    sockets.send(cid, {"action": "ping"})
    assert sockets.types(cid) == ["pong"]
    return patient, cid


def _deactivate(client: Any, admin: dict[str, Any], patient: dict[str, Any]) -> Any:
    return call(client, "PUT", f"/admin/user/{patient['_id']}/active", json={"active": False, "reason": "abuse"},
                headers=bearer(admin))


def test_a_deactivation_that_fails_at_any_step_is_audited_and_its_socket_closed(sockets, client, db):
    # Given an admin, and the commands a clean deactivation of a connected patient sends
    admin = make_user("admin")
    patient, _ = _connected_patient(sockets)
    steps = count_steps(lambda: _deactivate(client, admin, patient))
    assert "audit_log.insert_one" in steps and "users.find_one_and_update" in steps
    assert steps.index("audit_log.insert_one") < steps.index("users.find_one_and_update")
    for k in range(1, len(steps) + 1):
        for fault in Fault:
            # Given a connected patient
            patient, cid = _connected_patient(sockets)
            # When the k-th command of their deactivation fails
            with inject(FaultPlan(fail_at=k, fault=fault)) as plan:
                response = _deactivate(client, admin, patient)
            assert plan.fired
            # Then the admin sees the decision or "try again", never a 500
            assert response.status_code in (200, 503), (k, fault, steps[k - 1], response.body)
            stored = db.users.find_one({"_id": patient["_id"]})
            if response.status_code == 200:
                assert stored["active"] is False
            audited = db.audit_log.count_documents({"action": "account.deactivated", "subjectId": patient["_id"]})
            # And a deactivation that applied has its audit entry
            if stored["active"] is False:
                assert audited == 1, (k, fault, steps[k - 1])
            # And after the next sweep its socket is closed (by the request, or by the sweep)
            auth_sweep.sweep()
            if stored["active"] is False:
                assert sockets.frames(cid) == [], (k, fault, steps[k - 1])
                assert db.connections.count_documents({"userId": patient["_id"]}) == 0
                assert db.users.count_documents({"_id": patient["_id"], "closeSockets": True}) == 0
            else:  # nothing applied: the patient keeps their socket
                sockets.send(cid, {"action": "ping"})
                assert sockets.types(cid) == ["pong"]
            # And the admin's retry completes the decision
            assert _deactivate(client, admin, patient).status_code == 200
            assert db.users.find_one({"_id": patient["_id"]})["active"] is False
