"""User administration: the operator CLI and the admin routes, every change audited."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from functions.auth import admin as admin_cli
from tests.auth_support import body, field_paths, login
from tests.factories import bearer, make_user
from tests.http import call

ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ the CLI


def test_cli_creates_an_admin_who_can_log_in(client, db, monkeypatch, capsys):
    monkeypatch.setenv("ADMIN_PASSWORD", "operator-chosen-pass")
    assert admin_cli.main(["create-admin", "--contact", "Root@Example.com", "--name", "Site Admin"]) == 0
    out = capsys.readouterr().out
    assert "Created admin" in out and "operator-chosen-pass" not in out
    stored = db.users.find_one({"contact": "root@example.com"})
    assert (stored["role"], stored["approvalStatus"], stored["active"]) == ("admin", "approved", True)
    response = login(client, "root@example.com", "operator-chosen-pass")
    assert response.status_code == 200
    assert call(client, "GET", "/admin/users", headers={"Authorization": f"Bearer {body(response)['token']}"}
                ).status_code == 200


def test_cli_refuses_duplicates_bad_input_and_no_password(db, monkeypatch, capsys):
    monkeypatch.setenv("ADMIN_PASSWORD", "operator-chosen-pass")
    assert admin_cli.main(["create-admin", "--contact", "root@example.com", "--name", "Site Admin"]) == 0
    assert admin_cli.main(["create-admin", "--contact", "root@example.com", "--name", "Other Admin"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert admin_cli.main(["create-admin", "--contact", "not-a-contact", "--name", "Site Admin"]) == 1
    monkeypatch.setenv("ADMIN_PASSWORD", "short")
    assert admin_cli.main(["create-admin", "--contact", "new@example.com", "--name", "Site Admin"]) == 1
    assert "password" in capsys.readouterr().err
    monkeypatch.delenv("ADMIN_PASSWORD")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert admin_cli.main(["create-admin", "--contact", "new@example.com", "--name", "Site Admin"]) == 2
    assert db.users.count_documents({}) == 1


def test_cli_finds_the_database_of_make_run_from_the_project_root(db, mongo_uri, tmp_path):
    # Given a checkout where `make run` recorded its database address and dev secret in .data/
    (tmp_path / ".data").mkdir()
    (tmp_path / ".data" / "mongodb-uri").write_text(mongo_uri)
    (tmp_path / ".data" / "dev-jwt-secret").write_text("dev-secret-written-by-make-run-0123456789")
    env = {k: v for k, v in os.environ.items() if k not in ("MONGODB_URI", "JWT_SECRET")}
    env.update({"ADMIN_PASSWORD": "operator-chosen-pass", "PYTHONPATH": str(ROOT), "MONGODB_DB": db.name})
    # When the CLI runs there with no database settings in its environment
    result = subprocess.run(
        [sys.executable, "-m", "functions.auth.admin", "create-admin", "--contact", "ops@example.com",
         "--name", "Ops Admin"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False)
    # Then the admin is in that database
    assert result.returncode == 0, result.stderr
    assert db.users.find_one({"contact": "ops@example.com"})["role"] == "admin"


# ------------------------------------------------------------------ listing and reading


def test_admin_lists_users_with_filters_and_pages(client):
    admin = make_user("admin")
    pending = [make_user("doctor", approved=False) for _ in range(3)]
    make_user("doctor")
    make_user("patient")
    make_user("pharmacist", approved=False)
    response = call(client, "GET", "/admin/users?role=doctor&approvalStatus=pending&limit=2", headers=bearer(admin))
    assert response.status_code == 200
    payload = body(response)
    assert payload["pagination"] == {"total": 3, "page": 1, "pages": 2, "limit": 2}
    assert {u["_id"] for u in payload["users"]} <= {str(u["_id"]) for u in pending}
    assert all("contact" in u for u in payload["users"])  # admins do see contacts
    everyone = body(call(client, "GET", "/admin/users", headers=bearer(admin)))
    assert everyone["pagination"]["total"] == 7
    bad = call(client, "GET", "/admin/users?role=superuser", headers=bearer(admin))
    assert bad.status_code == 400 and field_paths(bad) == ["role"]


def test_admin_reads_one_user_and_the_read_is_audited(client, db):
    admin = make_user("admin")
    patient = make_user("patient")
    response = call(client, "GET", f"/admin/user/{patient['_id']}", headers=bearer(admin))
    assert response.status_code == 200 and body(response)["user"]["contact"] == patient["contact"]
    entry = db.audit_log.find_one({"action": "read", "resourceType": "user"})
    assert (entry["actorId"], entry["subjectId"]) == (admin["_id"], patient["_id"])
    for missing in ("0123456789abcdef01234567", "nope"):
        assert call(client, "GET", f"/admin/user/{missing}", headers=bearer(admin)).status_code == 404


# ------------------------------------------------------------------ approval


def test_approval_lets_a_doctor_in_at_once_and_is_audited(client, db):
    admin = make_user("admin")
    doctor = make_user("doctor", approved=False)
    patient = make_user("patient")
    db.appointments.insert_one({"doctor": doctor["_id"], "patient": patient["_id"], "status": "pending"})
    history = f"/medical-history/{patient['_id']}"
    assert call(client, "GET", history, headers=bearer(doctor)).status_code == 404
    assert call(client, "GET", "/doctors").body.count(str(doctor["_id"]).encode()) == 0
    token = bearer(doctor)  # minted before the approval: the guard reads the user on every request
    response = call(client, "PUT", f"/admin/user/{doctor['_id']}/approval", json={"status": "approved"},
                    headers=bearer(admin))
    assert response.status_code == 200 and body(response)["user"]["approvalStatus"] == "approved"
    assert call(client, "GET", history, headers=token).status_code == 200
    assert str(doctor["_id"]) in call(client, "GET", "/doctors").body.decode()
    entry = db.audit_log.find_one({"action": "approval.approved"})
    assert (entry["actorId"], entry["resourceId"], entry["subjectId"]) == (admin["_id"], doctor["_id"], doctor["_id"])


def test_rejection_needs_a_reason_and_the_user_sees_it(client, db):
    admin = make_user("admin")
    pharmacist = make_user("pharmacist", approved=False)
    no_reason = call(client, "PUT", f"/admin/user/{pharmacist['_id']}/approval", json={"status": "rejected"},
                     headers=bearer(admin))
    assert no_reason.status_code == 400
    response = call(client, "PUT", f"/admin/user/{pharmacist['_id']}/approval",
                    json={"status": "rejected", "reason": "Licence number does not match"}, headers=bearer(admin))
    assert response.status_code == 200
    me = body(call(client, "GET", "/me", headers=bearer(pharmacist)))["user"]
    assert (me["approvalStatus"], me["approvalReason"]) == ("rejected", "Licence number does not match")
    assert db.audit_log.find_one({"action": "approval.rejected"})["reason"] == "Licence number does not match"


@pytest.mark.parametrize(("payload", "status"), [({"status": "pending"}, 400), ({"status": "approved", "x": 1}, 400)])
def test_approval_body_is_validated(client, payload, status):
    admin = make_user("admin")
    doctor = make_user("doctor", approved=False)
    assert call(client, "PUT", f"/admin/user/{doctor['_id']}/approval", json=payload,
                headers=bearer(admin)).status_code == status


def test_only_doctors_and_pharmacists_are_approved(client, db):
    admin = make_user("admin")
    patient = make_user("patient")
    response = call(client, "PUT", f"/admin/user/{patient['_id']}/approval", json={"status": "rejected", "reason": "x"},
                    headers=bearer(admin))
    assert response.status_code == 422
    assert db.users.find_one({"_id": patient["_id"]})["approvalStatus"] == "approved"
    assert call(client, "PUT", "/admin/user/0123456789abcdef01234567/approval", json={"status": "approved"},
                headers=bearer(admin)).status_code == 404


# ------------------------------------------------------------------ activation


def test_deactivation_ends_sessions_and_login_and_is_audited(client, db):
    admin = make_user("admin")
    patient = make_user("patient")
    token = bearer(patient)
    response = call(client, "PUT", f"/admin/user/{patient['_id']}/active", json={"active": False, "reason": "abuse"},
                    headers=bearer(admin))
    assert response.status_code == 200 and body(response)["user"]["active"] is False
    assert call(client, "GET", "/me", headers=token).status_code == 401
    assert login(client, patient["contact"]).status_code == 401
    assert db.audit_log.find_one({"action": "account.deactivated"})["subjectId"] == patient["_id"]
    # Reactivation lets them log in again, but the old token stays dead
    call(client, "PUT", f"/admin/user/{patient['_id']}/active", json={"active": True}, headers=bearer(admin))
    assert login(client, patient["contact"]).status_code == 200
    assert call(client, "GET", "/me", headers=token).status_code == 401


def test_an_admin_cannot_deactivate_themself(client):
    admin = make_user("admin")
    response = call(client, "PUT", f"/admin/user/{admin['_id']}/active", json={"active": False}, headers=bearer(admin))
    assert response.status_code == 422 and field_paths(response) == ["active"]


def test_active_must_be_a_boolean(client):
    admin = make_user("admin")
    patient = make_user("patient")
    response = call(client, "PUT", f"/admin/user/{patient['_id']}/active", json={"active": "false"},
                    headers=bearer(admin))
    assert response.status_code == 400 and field_paths(response) == ["active"]
