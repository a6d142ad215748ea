"""The password rules a new password must meet (NIST SP 800-63B, and zxcvbn's strength
estimate); hashing and checking a password are `core.security`'s."""

from __future__ import annotations

import functools
import re
import threading

from functions.core.errors import Code, Unprocessable


@functools.cache
def _common_passwords() -> frozenset[str]:
    """zxcvbn's list of the 30 000 most common passwords (a maintained package; loaded on first
    use, only by the routes that set a password)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def _is_common(password: str) -> bool:
    return password.casefold() in _common_passwords()


MIN_SCORE = 3  # zxcvbn's "safely unguessable: moderate protection from offline slow-hash scenario"
PRODUCT_WORDS = ("cureconnect", "cure connect", "cure", "connect")
# zxcvbn keeps `user_inputs` in a module-level dictionary while it scores: one call at a time, or
# one thread's name and contact would be scored against another's password.
_ZXCVBN = threading.Lock()


def strength(password: str, contact: str | None, name: str | None) -> int:
    """zxcvbn's score (0-4) with the account's name, contact (and an e-mail's local part) and the
    product's name as words an attacker would try first. `max_length=128` (the schemas' maximum;
    zxcvbn's default of 72 raises on longer passwords)."""
    from zxcvbn import zxcvbn

    words = [w for w in (name, contact, "".join((name or "").split()), *(name or "").split(), *PRODUCT_WORDS) if w]
    if contact and "@" in contact:
        words.append(contact.split("@", 1)[0])
    with _ZXCVBN:
        return int(zxcvbn(password, user_inputs=words, max_length=128)["score"])


def check_password_rules(password: str, contact: str | None, name: str | None, field: str = "newPassword") -> None:
    """NIST SP 800-63B: at least 8 characters (the schemas), not a commonly used password, not
    the account's own contact or name, and a zxcvbn score of at least MIN_SCORE (`strength`)."""
    folded = re.sub(r"\s+", "", password.casefold())
    own = {re.sub(r"\s+", "", v.casefold()) for v in (contact, name) if v}
    if contact and "@" in contact:
        own.add(contact.casefold().split("@", 1)[0])
    problem = ("is too common: choose one that is not on lists of leaked passwords" if _is_common(password)
               else "must not be your contact or your name" if folded in own
               else "is too easy to guess: use a few uncommon words, not your name, contact or the product's name"
               if strength(password, contact, name) < MIN_SCORE else None)
    if problem:
        raise Unprocessable("Choose a stronger password", code=Code.WEAK_PASSWORD,
                            errors=[{"field": field, "message": problem}])
