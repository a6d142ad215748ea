"""Claiming a contact (issue 21 item 4, contact squatting): a contact held only by an account
that never proved it (no code, no link) can be taken over by whoever proves it, without
deactivating the many unverified accounts the existing frontend makes (it has no verification
screen). A contact an account proved, or an admin's (made by the operator), cannot be claimed.

- `POST /contact/claim {contact}` (`ask`): a 6-digit code to that contact, stored on the
  holder's document as an HMAC bound to the holder (`contactClaim`, 10 minutes, 5 guesses, like
  every code of `recovery`). Budgets, all taken or none: per contact from one client address (3
  an hour), per contact (10: one client cannot exhaust it for the owner), per client address (20),
  from everywhere (500);
  a code by SMS also spends `sms_codes`' (per number, per address, global) and goes only to a
  number `SMS_ALLOWED_REGIONS` accepts.
- `POST /contact/claim/confirm {contact, code, name, password, role, ...}` (`confirm`): the
  fields and rules of `/register`, and the code. The claimer's account is made with the
  contact verified; the holder loses it (a placeholder contact, deactivated, its sessions ended
  and sockets closed like an admin's deactivation), audited (`contact.claimed`).

Failure-atomic (`core.compensation`), three writes, each undone on any later failure:
1. "release contact" — the deciding conditional write on the holder (live claim code, contact
   still unproven): of concurrent confirms exactly one passes. Undo: `users.restore_contact`,
   only the release this run made (`contactReleased.by` = the id of the account it makes), the
   claim code back so the claimer can retry with it.
2. "insert account" — the claimer's account, with the id chosen before. Undo: delete it by that
   id. (A sign-up that takes the freed contact between 1 and 2 makes this insert fail: the
   holder is not given the contact back then, `restore_contact` refuses, and the claimer gets
   the 409 of a taken contact.)
3. "audit" — the entry last, so an undone claim leaves none (append-only: an entry whose write
   applied with its reply lost stays, recording the attempt).
After the block, what may fail without undoing the claim: closing the holder's sockets (the
release marked them, the auth sweep closes what this request could not).
A crash between 1 and 2 leaves the contact free and the holder deactivated with the
placeholder; the claimer then signs up with the contact (nothing for a repair sweep to give back).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from bson import ObjectId

from functions.auth import sms_codes
from functions.auth.accounts import account_doc, public_role
from functions.auth.codes import code_hash
from functions.auth.contacts import TAKEN, contact_or_422
from functions.auth.recovery import CODE_TTL, check_code
from functions.auth.schemas import ClaimConfirmIn, ClaimIn
from functions.auth.sessions import end_sockets
from functions.auth.views import self_view
from functions.core import audit, clock, notify, throttle, users
from functions.core.compensation import Compensations
from functions.core.errors import Code, Conflict, NotFound, RateLimited, Unprocessable
from functions.core.observability import logger
from functions.core.security import issue_token
from functions.core.throttle import Limit

PURPOSE = "contactClaim"
PER_ADDRESS_CONTACT_HOUR = 3  # claim codes for one contact asked from one client address
PER_CONTACT_HOUR = 10  # ... from everywhere: larger, so that no one client (the squatter) exhausts it
PER_ADDRESS_HOUR = 20  # ... for any contacts from one client address
ALL_PER_HOUR = 500  # ... from everywhere (e-mail too; a code SMS also spends SMS_CODES_PER_HOUR)
_MESSAGE = "Too many codes asked for; try again later"
NOTHING = "No account holds this contact: sign up with it"
SENT = "A code was sent to the contact"


def limits() -> list[Limit]:
    hour = timedelta(hours=1)
    return [Limit("claim-ip-contact", PER_ADDRESS_CONTACT_HOUR, hour, Code.TOO_MANY_CODES, _MESSAGE),
            Limit("claim-contact", PER_CONTACT_HOUR, hour, Code.TOO_MANY_CODES, _MESSAGE),
            Limit("claim-ip", PER_ADDRESS_HOUR, hour, Code.TOO_MANY_CODES, _MESSAGE),
            Limit("claim-all", ALL_PER_HOUR, hour, Code.TOO_MANY_CODES, _MESSAGE)]


def _taken() -> Conflict:
    return Conflict(TAKEN, code=Code.CONTACT_TAKEN, errors=[{"field": "contact", "message": "is taken"}])


def ask(body: ClaimIn, source_ip: str) -> dict[str, Any]:
    """POST /contact/claim: a code to a contact an unverified account holds. 404 NOTHING_TO_CLAIM
    when no account holds it and 409 CONTACT_TAKEN when its holder proved it (what /register
    tells anyway); 429 TOO_MANY_CODES over a budget (taken before the holder is read, so
    probing costs the same)."""
    contact, channel = contact_or_422(body.contact)
    sms_codes.refuse_untextable(contact, channel)
    now = clock.now()
    here, anywhere, address, everyone = limits()
    claims = [(here, f"{source_ip}|{contact}"), (anywhere, contact), (address, source_ip), (everyone, "all")]
    try:
        throttle.take_all(claims + (sms_codes.claims(contact, source_ip) if channel == "phone" else []), now)
    except RateLimited:
        logger.info("Claim code refused: over a limit")
        raise
    holder = users.contact_holder(contact)
    if holder is None:
        raise NotFound(NOTHING, code=Code.NOTHING_TO_CLAIM)
    if not users.claimable(holder):
        raise _taken()
    code = f"{secrets.randbelow(10**6):06d}"
    if not users.set_claim_code(holder["_id"], contact, code_hash(PURPOSE, holder["_id"], code), now + CODE_TTL):
        raise _taken()  # proved (or changed) since the read
    minutes = int(CODE_TTL.total_seconds() // 60)
    notify.send(channel, contact, "CureConnect: claim this contact",
                f"CureConnect: someone is signing up with this contact, which another account registered "
                f"without proving it. If that is you, your code is {code} (valid {minutes} minutes). "
                f"If not, ignore this message.", kind="claim", ref=holder["_id"])
    logger.info("Claim code sent", extra={"holderId": str(holder["_id"])})
    return {"message": SENT, "expiresInSeconds": int(CODE_TTL.total_seconds())}


def confirm(body: ClaimConfirmIn) -> tuple[dict[str, Any], str]:
    """POST /contact/claim/confirm: the claimer's account (the rules of /register), with the
    contact verified; the holder loses it. Answers like /register (the view and a token)."""
    account = account_doc(body, public_role(body))
    contact, now = str(account["contact"]), clock.now()
    holder = check_code({"contact": contact}, PURPOSE, body.code, now)
    claim = dict(holder[PURPOSE])
    if not users.claimable(holder):
        raise _taken()
    account.update({"_id": ObjectId(), "contactVerified": True, "contactVerifiedAt": now})
    before = {"contact": contact, "contactType": holder.get("contactType") or account["contactType"],
              "active": holder.get("active", True), PURPOSE: claim}
    with Compensations("claim contact") as undo:
        undo.step("release contact", lambda: users.restore_contact(holder["_id"], account["_id"], before, clock.now()))
        if not users.release_contact(holder["_id"], contact, str(claim["codeHash"]), account["_id"], now):
            raise Unprocessable("This contact was claimed meanwhile, or its code replaced; ask for a new code",
                                code=Code.INVALID_CODE, errors=[{"field": "code", "message": "is not valid any more"}])
        undo.step("insert account", lambda: users.delete_account(account["_id"]))
        users.insert_user(account)
        undo.step("audit", lambda: None)  # append-only: an entry that applied stays, recording the attempt
        audit.record(account, "contact.claimed", "user", holder["_id"], "contact held by an unverified account",
                     subject_id=holder["_id"])
    end_sockets(holder["_id"])  # the release marked them: the auth sweep closes what this cannot
    token, _ = issue_token(account)
    logger.info("Contact claimed", extra={"userId": str(account["_id"]), "holderId": str(holder["_id"])})
    return self_view(account), token
