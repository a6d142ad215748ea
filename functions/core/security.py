"""Authentication and the one guard every route uses.

Tokens: HS256 JWT with `sub, role, jti, sv, iat, exp, iss, aud`; the algorithm is pinned and
`exp/iss/aud` are required. `sv` is the user's session version: changing the password bumps it,
so every older token dies. A single token is revoked (logout) by setting `revokedJtis.<jti>`
(its expiry) on the user; the guard's one user read loads that map and checks it in Python, so
"who is this?" and "is this token revoked?" cost one database round trip together. (The first
version filtered with a `$ne` on the jti inside an array of revoked tokens, a shape the embedded
FerretDB evaluates wrongly once two tokens are revoked: every revoked token worked again; see
tests/db/test_known_differences.py.)
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from http.cookies import CookieError, SimpleCookie
from typing import Any

from bson import ObjectId

from functions.core import clock, users
from functions.core.config import get_settings
from functions.core.db import maybe_object_id
from functions.core.errors import Code, Forbidden, InvalidToken, Unauthorized

PATIENT, DOCTOR, PHARMACIST, ADMIN = "patient", "doctor", "pharmacist", "admin"
ROLES = (PATIENT, DOCTOR, PHARMACIST, ADMIN)
APPROVED, PENDING, REJECTED = "approved", "pending", "rejected"

COOKIE_NAME = "token"
_JTI = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # safe as a field name: no dots, no `$`

# argon2id, RFC 9106 "second recommended" profile scaled to Lambda (OWASP minimum is m=19 MiB, t=2).
ARGON2_PARAMS: dict[str, Any] = {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1}


# ---------------------------------------------------------------- passwords

@functools.cache
def _password_hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher(**ARGON2_PARAMS)


def hash_password(password: str) -> str:
    return str(_password_hasher().hash(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    if not password_hash:
        # Spend the same time as a real check so unknown accounts are not revealed by timing.
        _password_hasher().hash(password)
        return False
    try:
        return _password_hasher().verify(password_hash, password) is True
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# ---------------------------------------------------------------- tokens


def issue_token(user: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    import jwt

    settings = get_settings()
    issued = clock.now().replace(microsecond=0)
    claims = {
        "sub": str(user["_id"]),
        "role": user["role"],
        "sv": int(user.get("sessionVersion", 0)),
        "jti": secrets.token_urlsafe(16),
        "iat": issued,
        "exp": issued + timedelta(seconds=settings.jwt_ttl_seconds),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256"), claims


def issue_step_token(user: dict[str, Any], purpose: str, ttl_seconds: int) -> str:
    """A short-lived token of one purpose (the second sign-in step: `purpose="mfa"`), never a
    session: its audience is `<JWT_AUDIENCE>:<purpose>`, which `decode_token` refuses."""
    import jwt

    settings = get_settings()
    issued = clock.now().replace(microsecond=0)
    claims = {"sub": str(user["_id"]), "sv": int(user.get("sessionVersion", 0)), "jti": secrets.token_urlsafe(16),
              "iat": issued, "exp": issued + timedelta(seconds=ttl_seconds), "iss": settings.jwt_issuer,
              "aud": f"{settings.jwt_audience}:{purpose}"}
    return str(jwt.encode(claims, settings.jwt_secret, algorithm="HS256"))


def decode_token(token: str, purpose: str | None = None) -> dict[str, Any]:
    """The claims of a session token (or, with `purpose`, of a step token of that purpose)."""
    import jwt

    settings = get_settings()
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=["HS256"],
            audience=settings.jwt_audience if purpose is None else f"{settings.jwt_audience}:{purpose}",
            issuer=settings.jwt_issuer,
            # Time claims are checked below against core.clock (PyJWT would use the wall clock).
            options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"],
                     "verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.InvalidTokenError:
        raise InvalidToken() from None
    now = clock.now().timestamp()
    skew = 5  # seconds a token may seem to come from the future (clocks of other containers)
    times_ok = all(isinstance(claims.get(k, 0), int | float) for k in ("exp", "iat", "nbf"))
    if not times_ok or claims["exp"] <= now or claims["iat"] > now + skew or claims.get("nbf", now) > now + skew:
        raise InvalidToken()
    return claims


def bearer_sent(headers: Any) -> bool:
    """Does the request authenticate with `Authorization: Bearer` (never the cookie then)?"""
    return str(headers.get("authorization") or "")[:7].lower() == "bearer "


def session_cookie_sent(headers: Any) -> bool:
    """Is the session cookie the request's credential (sent, and no bearer token)? Two of them
    count as sent (the same-site check applies, and their 401 removes ours)."""
    return not bearer_sent(headers) and len(_cookie_tokens(headers)) > 0


def _cookie_tokens(headers: Any) -> list[str]:
    """Every non-empty `token` cookie of the Cookie header, in order (a browser sends two when a
    sibling domain or another path set one beside ours: cookie tossing)."""
    raw_cookie = str(headers.get("cookie") or "")
    found: list[str] = []
    for pair in raw_cookie.split(";"):
        name, sep, value = pair.partition("=")
        if sep and name.strip() == COOKIE_NAME and value.strip().strip('"'):
            found.append(value.strip())
    return found


def token_from_headers(headers: Any) -> str | None:
    """The bearer token, else the one `token` cookie. More than one `token` cookie is ambiguous
    (which one did we set?): refused with 401 INVALID_TOKEN, whose answer removes ours, never
    "the last one wins"."""
    auth = headers.get("authorization") or ""
    if bearer_sent(headers):
        return auth[7:].strip() or None
    tokens = _cookie_tokens(headers)
    if len(tokens) > 1:
        raise InvalidToken("Two session cookies were sent; sign in again")
    if tokens:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(str(headers.get("cookie")))
        except CookieError:
            return None
        if COOKIE_NAME in jar:
            return jar[COOKIE_NAME].value or None
    return None


def _cookie(value: str, max_age: int) -> str:
    settings = get_settings()
    parts = [f"{COOKIE_NAME}={value}", "Path=/", "HttpOnly", f"SameSite={settings.cookie_samesite}",
             f"Max-Age={max_age}"]
    if settings.cookie_secure or settings.cookie_samesite == "None":
        parts.append("Secure")
    if max_age == 0:
        parts.append("Expires=Thu, 01 Jan 1970 00:00:00 GMT")
    return "; ".join(parts)


def session_cookie(token: str) -> str:
    """Set-Cookie value; the cookie lives exactly as long as the token (D-30)."""
    return _cookie(token, get_settings().jwt_ttl_seconds)


def clear_cookie() -> str:
    """Set-Cookie value that removes the session cookie, with the same attributes it was set with."""
    return _cookie("", 0)


# ---------------------------------------------------------------- the guard


@dataclass(frozen=True)
class Principal:
    user: dict[str, Any]
    claims: dict[str, Any]
    revoked: dict[str, Any] = field(default_factory=dict)  # jti -> expiry of the user's revoked tokens
    # Other users the request named, read with the guard's (`require_user(also=...)`): id -> doc or None
    others: dict[ObjectId, dict[str, Any] | None] = field(default_factory=dict)

    @property
    def id(self) -> ObjectId:
        return ObjectId(self.user["_id"])

    @property
    def role(self) -> str:
        return str(self.user["role"])

    @property
    def approved(self) -> bool:
        return bool(self.user.get("approvalStatus", APPROVED) == APPROVED)


def _session_version(claims: dict[str, Any]) -> int:
    value = claims.get("sv")
    if not isinstance(value, int) or isinstance(value, bool):  # a malformed `sv` is a bad token, not a 500
        raise InvalidToken()
    return value


def is_revoked(user: dict[str, Any], jti: str) -> bool:
    """Is `jti` on the user's deny-list (the `revokedJtis` map, or the array of the first version)?"""
    if jti in (user.get("revokedJtis") or {}):
        return True
    legacy = user.get("revokedTokens") or []
    return any(isinstance(e, dict) and e.get("jti") == jti for e in legacy)


def must_enrol(user: dict[str, Any]) -> bool:
    """Is this a user of a role MFA_REQUIRED_ROLES names who has not enrolled a second factor
    (their session is limited to enrolment)? Decided from the user document already read."""
    return user.get("role") in get_settings().mfa_required_roles and not user.get("mfaEnabled")


def authenticate(headers: Any, also: Sequence[ObjectId] = (), enrolment: bool = False) -> Principal:
    """The caller a valid token names; `also`: other users the request will need, read in the same
    round trip (`users.for_guard_with`) and handed over in `Principal.others`. A user who must
    enrol a second factor first is refused (403 MFA_ENROLMENT_REQUIRED) unless `enrolment` (the
    routes that enrol, log out)."""
    token = token_from_headers(headers)
    if not token:
        raise Unauthorized("Please login to access this resource")
    claims = decode_token(token)
    user_id = maybe_object_id(claims["sub"])
    jti = claims.get("jti")
    if user_id is None or not isinstance(jti, str) or not _JTI.fullmatch(jti):
        raise InvalidToken()
    version = _session_version(claims)
    user, others = users.for_guard_with(user_id, also)
    if user is None or is_revoked(user, jti) or int(user.get("sessionVersion", 0)) != version:
        raise InvalidToken()
    user.pop("revokedTokens", None)
    revoked = user.pop("revokedJtis", None)
    if not user.get("active", True):
        raise Unauthorized("This account is deactivated", code=Code.ACCOUNT_INACTIVE)
    if not enrolment and must_enrol(user):
        raise Forbidden("Set up two-factor sign-in first: POST /mfa/totp/setup, then /mfa/totp/confirm",
                        code=Code.MFA_ENROLMENT_REQUIRED)
    return Principal(user=user, claims=claims, revoked=dict(revoked or {}), others=others)


def require_user(headers: Any, roles: tuple[str, ...] | None = None, approved: bool = True,
                 also: Sequence[ObjectId] = (), enrolment: bool = False) -> Principal:
    """Authenticate, then check the role and (for doctors and pharmacists) admin approval.

    `headers` is the request's header mapping (`bp.current_request.headers`); `also`: other users
    the request names, read with the caller (`authenticate`). `enrolment`: the route is one a
    session limited to MFA enrolment may call.
    """
    principal = authenticate(headers, also, enrolment)
    if roles is not None and principal.role not in roles:
        raise Forbidden(f"Role {principal.role} is not allowed to access this resource")
    if approved and not principal.approved:
        raise Forbidden("Your account is awaiting approval", code=Code.APPROVAL_REQUIRED)
    return principal


def optional_user(headers: Any) -> Principal | None:
    """The caller if a valid token came with the request, else None (public routes)."""
    try:
        if not token_from_headers(headers):
            return None
        return authenticate(headers, enrolment=True)  # logging out works in a limited session too
    except Unauthorized:
        return None
