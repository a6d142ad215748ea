"""Contact verification by a link, for clients without a code screen (the existing web frontend
has none, so its users could not verify anything; the six-digit codes of `recovery` keep working).

Sign-up sends a `verification` message (the message caps and the SMS rule treat it as a code)
with a link to this API's page `verify/contact/link/<user id>.<secret>` (`Settings.api_url`).
Opening the link changes nothing (mail scanners open links to inspect them): the page shows a
button, whose POST verifies the contact. The secret is 192 random bits, stored only as an HMAC
(`codes`), valid LINK_TTL, and used up by the one conditional write that verifies.

Pure Python, no Chalice: the page itself is `pages.py`, the routes `routes.py`.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId

from functions.auth import sms_codes
from functions.auth.codes import code_hash
from functions.core import clock, notify, users
from functions.core.config import get_settings
from functions.core.errors import NotFound
from functions.core.observability import logger

PURPOSE = "verificationLink"
LINK_TTL = timedelta(hours=24)
# SMS cost money and sign-up needs no account: a link by SMS spends the code-SMS budgets of
# `sms_codes` (per number, per source address, global; D-36: the reference let anyone make it text
# arbitrary numbers). An e-mail link is not limited here.
_TOKEN = re.compile(r"([0-9a-f]{24})\.([A-Za-z0-9_-]{32})")
INVALID = ("This verification link is not valid: it was already used, it expired, or it was copied "
           "incompletely. If your contact is verified already, there is nothing more to do.")


def link_path(user_id: Any, secret: str) -> str:
    return f"verify/contact/link/{user_id}.{secret}"


def send(user: dict[str, Any], source_ip: str, now: datetime) -> None:
    """Send a new account its verification link (a new link replaces an unused earlier one).
    Never raises: an undelivered message is queued by the notifier, and a sign-up over the
    SMS limit gets no link (the account is made; a code can still be asked for)."""
    contact = str(user["contact"])
    channel = str(user.get("contactType") or ("email" if "@" in contact else "phone"))
    if channel == "phone" and not sms_codes.try_take(contact, source_ip, now):
        logger.info("Verification link not sent: over a code-SMS limit")
        return
    secret = secrets.token_urlsafe(24)  # 32 characters
    users.set_code(user["_id"], PURPOSE, code_hash(PURPOSE, user["_id"], secret), now + LINK_TTL)
    url = get_settings().api_url(link_path(user["_id"], secret))
    hours = LINK_TTL // timedelta(hours=1)
    notify.send(channel, contact, "CureConnect: confirm your contact",
                f"CureConnect: confirm that this contact is yours by opening {url} and pressing the button "
                f"(valid {hours} hours). If you did not sign up, ignore this message.",
                kind="verification", ref=user["_id"])


def _parse(token: str) -> tuple[ObjectId, str]:
    """(user id, HMAC of the secret) of a link's token, or the 404 every bad link gets."""
    match = _TOKEN.fullmatch(token or "")
    if match is None:
        raise NotFound(INVALID)
    return ObjectId(match[1]), code_hash(PURPOSE, match[1], match[2])


def check(token: str) -> None:
    """GET of the link: 404 unless it is live. Reads only (so whether an account is verified
    is never told to someone holding a wrong link)."""
    user_id, digest = _parse(token)
    if not users.link_is_live(user_id, digest, clock.now()):
        raise NotFound(INVALID)


def use(token: str) -> None:
    """The page's POST: verify the contact and use the link up, once."""
    user_id, digest = _parse(token)
    if not users.verify_by_link(user_id, digest, clock.now()):
        raise NotFound(INVALID)
    logger.info("Contact verified by link", extra={"userId": str(user_id)})
