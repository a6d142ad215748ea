"""Auth rules that must hold under concurrency and against a stranger: many real clients at
once, each its own request through the app (threads released by one barrier)."""

import threading

from tests.appointments_support import concurrently
from tests.auth_support import auth, body, login, register
from tests.factories import PASSWORD, bearer, make_user
from tests.http import call


def _count_password_checks(monkeypatch):
    from functions.auth import sessions

    checks, lock, real = [], threading.Lock(), sessions.verify_password

    def counting(password_hash, password):
        with lock:
            checks.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(sessions, "verify_password", counting)
    return checks


def _from_ip(client, monkeypatch, address):
    monkeypatch.setattr(client.http._local_gateway.event_converter, "LOCAL_SOURCE_IP", address)


def test_twenty_concurrent_wrong_logins_get_exactly_five_password_checks(client, monkeypatch):
    # Given an account, and a counter of the password checks the server makes
    register(client)
    checks = _count_password_checks(monkeypatch)
    # When 20 wrong guesses arrive at once from one address
    guesses = [f"wrong-guess-{i:02d}" for i in range(20)]
    responses = concurrently(*[lambda g=g: login(client, "asha@example.com", g) for g in guesses])
    # Then only five passwords were ever checked, everyone else was told to wait
    assert len(checks) == 5
    assert sorted(r.status_code for r in responses) == [401] * 5 + [429] * 15
    # and the right password does not get in from that address until the window ends
    assert login(client, "asha@example.com").status_code == 429 and len(checks) == 5


def test_a_stranger_locks_out_one_address_not_the_owner_everywhere(client, monkeypatch):
    # Given a stranger who fails five times from their address
    register(client)
    _from_ip(client, monkeypatch, "198.51.100.7")
    assert [login(client, "asha@example.com", "wrong-guess-1").status_code for _ in range(5)] == [401] * 5
    assert login(client, "asha@example.com").status_code == 429
    # When the owner logs in from their own address
    _from_ip(client, monkeypatch, "203.0.113.20")
    # Then it works
    assert login(client, "asha@example.com").status_code == 200


def test_fifty_failures_from_many_addresses_lock_the_contact_everywhere(client, monkeypatch):
    # Given 50 failures spread over ten addresses (five each)
    register(client)
    for n in range(10):
        _from_ip(client, monkeypatch, f"198.51.100.{n}")
        assert [login(client, "asha@example.com", "wrong-guess-1").status_code for _ in range(5)] == [401] * 5
    # Then the contact is locked from a new address too (the owner recovers the account instead)
    _from_ip(client, monkeypatch, "203.0.113.99")
    locked = login(client, "asha@example.com")
    assert locked.status_code == 429 and body(locked)["code"] == "LOGIN_LOCKED"


def test_concurrent_password_changes_with_one_old_password_exactly_one_wins(client):
    # Given a user logged in
    token = body(register(client))["token"]
    new_passwords = [f"brand-new-secret-{i}" for i in range(4)]
    # When four password changes with the right old password arrive at once
    responses = concurrently(*[lambda p=p: call(client, "PUT", "/password/update",
                                                json={"oldPassword": PASSWORD, "newPassword": p}, headers=auth(token))
                               for p in new_passwords])
    # Then exactly one succeeds, and only its new password logs in
    codes = [r.status_code for r in responses]
    assert codes.count(200) == 1
    winner = new_passwords[codes.index(200)]
    assert login(client, "asha@example.com", winner).status_code == 200
    assert all(login(client, "asha@example.com", p).status_code == 401 for p in new_passwords if p != winner)


def test_a_profile_update_never_undoes_a_concurrent_deactivation_or_approval(client, db):
    # Given a pending doctor editing their profile while an admin approves and then deactivates them
    doctor, admin = make_user("doctor", approved=False), make_user("admin")
    path = f"/admin/user/{doctor['_id']}"
    for _ in range(5):
        concurrently(
            lambda: call(client, "PUT", "/me", json={"bio": "Twenty years of practice"}, headers=bearer(doctor)),
            lambda: call(client, "PUT", f"{path}/approval", json={"status": "approved"}, headers=bearer(admin)),
        )
        # Then the admin's decision stands whatever the order
        assert db.users.find_one({"_id": doctor["_id"]})["approvalStatus"] == "approved"
        db.users.update_one({"_id": doctor["_id"]}, {"$set": {"approvalStatus": "pending"}})
    responses = concurrently(
        lambda: call(client, "PUT", "/me", json={"bio": "Back soon"}, headers=bearer(doctor)),
        lambda: call(client, "PUT", f"{path}/active", json={"active": False}, headers=bearer(admin)),
    )
    assert responses[1].status_code == 200
    stored = db.users.find_one({"_id": doctor["_id"]})
    assert stored["active"] is False
