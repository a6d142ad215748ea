"""Contacts: an e-mail address or a phone number, normalized as sign-up stores it and as login
looks accounts up; and the answer when another account holds one (claimable or not)."""

from __future__ import annotations

import re

from functions.core import users
from functions.core.config import get_settings
from functions.core.errors import Code, Conflict, Unprocessable

_PHONE_CHARS = re.compile(r"\+?[\d\s().-]{6,30}")


def normalize_contact(raw: str, region: str) -> tuple[str, str]:
    """(contact, contactType): an e-mail normalized and lower-cased, or a phone number in E.164
    (a number without a country code is read in `region`). ValueError if it is neither."""
    value = raw.strip()
    if "@" in value:
        from email_validator import EmailNotValidError, validate_email

        try:
            return validate_email(value, check_deliverability=False).normalized.lower(), "email"
        except EmailNotValidError:
            raise ValueError("must be a valid e-mail address") from None
    if not _PHONE_CHARS.fullmatch(value):
        raise ValueError("must be an e-mail address or a phone number")
    import phonenumbers

    try:
        number = phonenumbers.parse(value, None if value.startswith("+") else region)
    except phonenumbers.NumberParseException:
        raise ValueError("must be a valid phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("must be a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), "phone"


def contact_or_422(raw: str) -> tuple[str, str]:
    """`normalize_contact` in the deployment's default region, or the 422 naming the field."""
    try:
        return normalize_contact(raw, get_settings().default_phone_region)
    except ValueError as exc:
        raise Unprocessable(f"contact: {exc}", code=Code.INVALID_CONTACT,
                            errors=[{"field": "contact", "message": str(exc)}]) from None


def login_key(raw: str) -> str:
    """The contact an account is looked up (and failures counted) under: the normalized form when
    it parses, else the trimmed lower-cased text (accounts not made by sign-up, e.g. imported)."""
    try:
        return normalize_contact(raw, get_settings().default_phone_region)[0]
    except ValueError:
        return raw.strip().lower()


TAKEN = "An account with this contact already exists"
CLAIMABLE = ("An account that never proved this contact holds it. If the contact is yours, claim it: "
             "we send a code to it (POST /contact/claim), and with that code you sign up (POST /contact/claim/confirm)")


def refuse_taken(contact: str) -> None:
    """The 409 for a contact another account holds: CONTACT_CLAIMABLE (pointing to the claim) when
    that account never proved it (`users.claimable`), else CONTACT_TAKEN. Says no more than a
    sign-up with that contact does."""
    holder = users.contact_holder(contact)
    if holder is not None and users.claimable(holder):
        raise Conflict(CLAIMABLE, code=Code.CONTACT_CLAIMABLE,
                       errors=[{"field": "contact", "message": "held by an unverified account: claim it"}])
    raise Conflict(TAKEN, code=Code.CONTACT_TAKEN, errors=[{"field": "contact", "message": "is taken"}])
