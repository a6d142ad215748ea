"""The second factor's mechanics: TOTP (RFC 6238, 30-second steps, 6 digits, via `pyotp`), the
secret encrypted at rest (Fernet, key MFA_ENCRYPTION_KEY, via `cryptography`), and recovery
codes (random, shown once, stored as keyed hashes).

`pyotp` and `cryptography` are imported inside the functions: the login Lambda's cold start
never loads them for a user without a second factor.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from datetime import datetime
from typing import Any

from functions.auth.codes import code_hash
from functions.core.config import get_settings

STEP_SECONDS = 30
SKEW_STEPS = 1  # a code of the step before or after is accepted (clocks of phones drift)
ISSUER = "CureConnect"
RECOVERY_CODES = 10
RECOVERY_PURPOSE = "mfa-recovery"
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper


@functools.cache
def _fernet(key: str) -> Any:
    from cryptography.fernet import Fernet

    return Fernet(key.encode())


def encrypt(secret: str) -> str:
    return str(_fernet(get_settings().mfa_encryption_key).encrypt(secret.encode()).decode())


def decrypt(token: str) -> str:
    return str(_fernet(get_settings().mfa_encryption_key).decrypt(token.encode()).decode())


def new_secret() -> str:
    import pyotp

    return str(pyotp.random_base32())


def uri(secret: str, account: str) -> str:
    """The `otpauth://totp/...` URI an authenticator app reads (the frontend renders it as a QR code)."""
    import pyotp

    return str(pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER))


def step_of(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (now ± SKEW_STEPS) whose code `code` is, or None. Every candidate is
    compared in constant time; the caller accepts a step once (`mfa.lastStep`)."""
    import pyotp

    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp, current = pyotp.TOTP(secret), step_of(now)
    found = None
    for step in range(current - SKEW_STEPS, current + SKEW_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            found = step
    return found


def new_recovery_codes() -> list[str]:
    """Ten codes of 10 characters (about 49 bits each), shown as `xxxxx-xxxxx`."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def recovery_hash(user_id: Any, code: str) -> str:
    """How a recovery code is stored and looked up: the keyed hash of `codes` (HMAC-SHA256 bound
    to its purpose and user), over the code without dashes, spaces or case."""
    normal = "".join(ch for ch in code.lower() if ch.isalnum())
    return code_hash(RECOVERY_PURPOSE, user_id, normal)
