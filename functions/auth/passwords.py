"""The password rules a new password must meet (NIST SP 800-63B); hashing and checking a
password are `core.security`'s."""

from __future__ import annotations

import functools
import re

from functions.core.errors import Code, Unprocessable


@functools.cache
def _common_passwords() -> frozenset[str]:
    """zxcvbn's list of the 30 000 most common passwords (a maintained package; loaded on first
    use, only by the routes that set a password)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def _is_common(password: str) -> bool:
    return password.casefold() in _common_passwords()


def check_password_rules(password: str, contact: str | None, name: str | None, field: str = "newPassword") -> None:
    """NIST SP 800-63B: at least 8 characters (the schemas), not a commonly used password, and
    not the account's own contact or name."""
    folded = re.sub(r"\s+", "", password.casefold())
    own = {re.sub(r"\s+", "", v.casefold()) for v in (contact, name) if v}
    if contact and "@" in contact:
        own.add(contact.casefold().split("@", 1)[0])
    problem = ("is too common: choose one that is not on lists of leaked passwords" if _is_common(password)
               else "must not be your contact or your name" if folded in own else None)
    if problem:
        raise Unprocessable("Choose a stronger password", code=Code.WEAK_PASSWORD,
                            errors=[{"field": field, "message": problem}])
