"""The second factor's mechanics without a database (functions/auth/totp.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp

from functions.auth import totp

NOW = datetime(2026, 3, 2, 10, 0, 10, tzinfo=UTC)


def test_a_code_matches_its_own_step_and_one_either_side_only():
    # Given a secret and the codes of five neighbouring steps
    secret = totp.new_secret()
    step = totp.step_of(NOW)
    found = {k: totp.matching_step(secret, pyotp.TOTP(secret).at(NOW + timedelta(seconds=30 * k)), NOW)
             for k in (-2, -1, 0, 1, 2)}
    # Then ±1 step is found (as that step), ±2 is not
    assert found[-1] == step - 1 and found[0] == step and found[1] == step + 1
    assert found[-2] is None and found[2] is None


def test_malformed_codes_are_never_compared():
    secret = totp.new_secret()
    assert [totp.matching_step(secret, c, NOW) for c in ("", "12345", "1234567", "12a456", "١٢٣٤٥٦")] == [None] * 5


def test_recovery_codes_are_distinct_and_their_hash_ignores_case_dashes_and_spaces():
    codes = totp.new_recovery_codes()
    assert len(set(codes)) == 10 and all(len(c) == 11 and c[5] == "-" for c in codes)
    user = "65f000000000000000000024"
    assert totp.recovery_hash(user, codes[0]) == totp.recovery_hash(user, codes[0].upper().replace("-", " "))
    assert totp.recovery_hash(user, codes[0]) != totp.recovery_hash("65f000000000000000000025", codes[0])
    assert codes[0] not in totp.recovery_hash(user, codes[0])


def test_the_secret_is_stored_encrypted_and_read_back():
    secret = totp.new_secret()
    stored = totp.encrypt(secret)
    assert secret not in stored and totp.decrypt(stored) == secret
    assert totp.uri(secret, "dr@example.com").startswith("otpauth://totp/CureConnect:dr%40example.com?secret=")
