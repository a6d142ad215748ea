"""How one-time secrets sent to a contact (verification and recovery codes, verification
links) are stored: only as an HMAC keyed with the server secret and bound to their purpose and
user, so a database read reveals none of them and one cannot stand in for another."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from functions.core.config import get_settings


def code_hash(purpose: str, user_id: Any, code: str) -> str:
    message = f"{purpose}|{user_id}|{code}".encode()
    return hmac.new(get_settings().jwt_secret.encode(), message, hashlib.sha256).hexdigest()
