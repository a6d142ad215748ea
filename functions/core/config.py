"""Typed settings, read from the environment once per container.

In deployed stages secrets come from Secrets Manager: when `CONFIG_SECRET_ID` is set, that
secret (a JSON object of VARIABLE -> value) is fetched once through Powertools `parameters`
and fills in any variable the environment does not set. Each setting is declared once, in
`Settings` (`setting(...)`); the README's configuration table lists them.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(RuntimeError):
    """A setting is missing or invalid; the message names the variable."""


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected true/false")


def _csv(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _int_csv(raw: str) -> tuple[int, ...]:
    return tuple(int(part) for part in _csv(raw))


def _timezone(raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("not an IANA time zone") from exc
    return raw


def _currency(raw: str) -> str:
    value = raw.strip().upper()
    if len(value) != 3 or not value.isascii() or not value.isalpha():
        raise ValueError("expected an ISO 4217 code such as INR")
    return value


def _monitoring_mode(raw: str) -> str:
    mode = raw.strip().lower()
    if mode not in ("auto", "stream", "poll"):
        raise ValueError("use auto, stream or poll")
    return mode


def _outbox_delivery(raw: str) -> str:
    mode = raw.strip().lower()
    if mode not in ("sqs", "poll", "inline"):
        raise ValueError("use sqs, poll or inline")
    return mode


def _samesite(raw: str) -> str:
    value = raw.strip().capitalize()
    if value not in {"Lax", "Strict", "None"}:
        raise ValueError("expected Lax, Strict or None")
    return value


def _roles(raw: str) -> tuple[str, ...]:
    roles = _csv(raw.lower())
    unknown = sorted(set(roles) - {"patient", "doctor", "pharmacist", "admin"})
    if unknown:
        raise ValueError(f"unknown roles {unknown}: use patient, doctor, pharmacist, admin")
    return roles


def _fernet_key(raw: str) -> str:
    """A Fernet key: 32 bytes in URL-safe base64 (`Fernet.generate_key()`), or empty."""
    import base64
    import binascii

    value = raw.strip()
    if not value:
        return ""
    try:
        if len(base64.urlsafe_b64decode(value.encode())) != 32:
            raise ValueError("must be 32 bytes in URL-safe base64 (Fernet.generate_key())")
    except (binascii.Error, ValueError):
        raise ValueError("must be 32 bytes in URL-safe base64 (Fernet.generate_key())") from None
    return value


# The dev stage's MFA_ENCRYPTION_KEY when none is set (a public value: never outside STAGE=dev).
DEV_MFA_ENCRYPTION_KEY = "ZGV2LW9ubHktbWZhLWtleS1ub3QtYS1zZWNyZXQtMDA="


def _secret(raw: str) -> str:
    if len(raw.encode()) < 32:
        raise ValueError("must be at least 32 bytes")
    return raw


LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


def _base_url(raw: str) -> str:
    """A service's base URL without a trailing slash: https://, or plain http:// to this machine
    (a local stand-in; accepted in the dev stage only, see `load_settings`)."""
    value = raw.strip().rstrip("/")
    parts = urlsplit(value)
    local = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
    if not (parts.scheme == "https" or local) or not parts.hostname or parts.query or parts.fragment:
        raise ValueError("expected an https:// URL (or http://127.0.0.1:<port> in the dev stage)")
    return value


def setting(var: str, default: str | None = None, *, parse: Callable[[str], Any] | None = None,
            dev_http: bool = False) -> Any:
    """Declare a setting: its environment variable, its default as the variable would spell it
    (None: required), and its parser when the field's type does not say it (`_PARSERS`).
    `dev_http`: a base URL that may name a plain-http stand-in on this machine, only where STAGE
    is dev."""
    return field(metadata={"var": var, "default": default, "parse": parse, "dev_http": dev_http})


# The parser of each field type (annotations are strings under `from __future__ import annotations`).
_PARSERS: dict[str, Callable[[str], Any]] = {"str": str, "int": int, "bool": _bool, "tuple[str, ...]": _csv,
                                              "tuple[int, ...]": _int_csv}


@dataclass(frozen=True)
class Settings:
    """Every setting, declared once: the attribute, its type, its variable and its default.
    The README's configuration table lists them."""

    stage: str = setting("STAGE", "dev")
    version: str = setting("APP_VERSION", "0.1.0")
    mongodb_uri: str = setting("MONGODB_URI")
    mongodb_db: str = setting("MONGODB_DB", "cureconnect")
    mongodb_timeout_ms: int = setting("MONGODB_TIMEOUT_MS", "2000")
    mongodb_socket_timeout_ms: int = setting("MONGODB_SOCKET_TIMEOUT_MS", "10000")
    # Connections per container (README "Capacity"): a container serves one request at a time.
    mongodb_max_pool_size: int = setting("MONGODB_MAX_POOL_SIZE", "1")
    mongodb_min_pool_size: int = setting("MONGODB_MIN_POOL_SIZE", "0")
    mongodb_max_idle_time_ms: int = setting("MONGODB_MAX_IDLE_TIME_MS", "60000")
    mongodb_server_monitoring_mode: str = setting("MONGODB_SERVER_MONITORING_MODE", "poll", parse=_monitoring_mode)
    # Past API Gateway's 29 s: a half-done write this old has no request left that may finish it.
    repair_after_seconds: int = setting("REPAIR_AFTER_SECONDS", "120")
    health_db_timeout_ms: int = setting("HEALTH_DB_TIMEOUT_MS", "2000")
    jwt_secret: str = setting("JWT_SECRET", parse=_secret)
    jwt_issuer: str = setting("JWT_ISSUER", "cureconnect")
    jwt_audience: str = setting("JWT_AUDIENCE", "cureconnect-web")
    jwt_ttl_seconds: int = setting("JWT_TTL_SECONDS", "3600")
    cookie_secure: bool = setting("COOKIE_SECURE", "true")
    cookie_samesite: str = setting("COOKIE_SAMESITE", "Lax", parse=_samesite)
    allowed_origins: tuple[str, ...] = setting("ALLOWED_ORIGINS", "")
    default_phone_region: str = setting("DEFAULT_PHONE_REGION", "IN")
    default_timezone: str = setting("DEFAULT_TIMEZONE", "Asia/Kolkata", parse=_timezone)
    default_currency: str = setting("DEFAULT_CURRENCY", "INR", parse=_currency)
    app_base_url: str = setting("APP_BASE_URL", "http://localhost:5173")
    login_max_failures: int = setting("LOGIN_MAX_FAILURES", "5")
    login_window_minutes: int = setting("LOGIN_WINDOW_MINUTES", "15")
    login_max_failures_per_contact: int = setting("LOGIN_MAX_FAILURES_PER_CONTACT", "50")
    # two-factor sign-in (issue 24 §2): roles that must enrol, the key TOTP secrets are encrypted
    # with (required outside the dev stage), the code guesses per user and address, per user, per
    # address, in one window, and how long the second step may wait after the password
    mfa_required_roles: tuple[str, ...] = setting("MFA_REQUIRED_ROLES", "", parse=_roles)
    mfa_encryption_key: str = setting("MFA_ENCRYPTION_KEY", "", parse=_fernet_key)
    mfa_max_failures: int = setting("MFA_MAX_FAILURES", "5")
    mfa_max_failures_per_user: int = setting("MFA_MAX_FAILURES_PER_USER", "20")
    mfa_max_failures_per_ip: int = setting("MFA_MAX_FAILURES_PER_IP", "50")
    mfa_window_minutes: int = setting("MFA_WINDOW_MINUTES", "15")
    mfa_token_ttl_seconds: int = setting("MFA_TOKEN_TTL_SECONDS", "300")
    max_active_per_doctor: int = setting("MAX_ACTIVE_PER_DOCTOR", "2")
    max_active_per_patient: int = setting("MAX_ACTIVE_PER_PATIENT", "6")
    waitlist_max_entries: int = setting("WAITLIST_MAX_ENTRIES", "3")  # a patient's live waitlist entries
    waitlist_offer_minutes: int = setting("WAITLIST_OFFER_MINUTES", "15")  # how long a freed slot is offered
    max_messages_per_recipient_per_day: int = setting("MAX_MESSAGES_PER_RECIPIENT_PER_DAY", "20")
    max_unverified_emails_per_day: int = setting("MAX_UNVERIFIED_EMAILS_PER_DAY", "3")
    # Notices others cause to one recipient, all senders together; above it they wait for the hourly digest
    max_notices_per_recipient_per_day: int = setting("MAX_NOTICES_PER_RECIPIENT_PER_DAY", "100")
    # The outbox (core.outbox): how its worker learns of new entries, and the queue it is kicked through
    outbox_delivery: str = setting("OUTBOX_DELIVERY", "sqs", parse=_outbox_delivery)
    outbox_queue_url: str = setting("OUTBOX_QUEUE_URL", "")
    # `chalice deploy --stage dev` (no packaged template): the queue by name, its URL looked up once
    outbox_queue_name: str = setting("OUTBOX_QUEUE_NAME", "")
    # SMS pumping (issue 21): SMS go only to mobile numbers of these regions (ISO 3166 codes);
    # one-time-code SMS per hour from everywhere
    sms_allowed_regions: tuple[str, ...] = setting("SMS_ALLOWED_REGIONS", "IN")
    sms_codes_per_hour: int = setting("SMS_CODES_PER_HOUR", "500")
    cancel_cutoff_minutes: int = setting("CANCEL_CUTOFF_MINUTES", "120")
    reminder_offsets_minutes: tuple[int, ...] = setting("REMINDER_OFFSETS_MINUTES", "1440,15")
    scheduler_group: str = setting("SCHEDULER_GROUP", "default")
    scheduler_role_arn: str = setting("SCHEDULER_ROLE_ARN", "")
    reminder_function_arn: str = setting("REMINDER_FUNCTION_ARN", "")
    twilio_account_sid: str = setting("TWILIO_ACCOUNT_SID", "")
    twilio_auth_token: str = setting("TWILIO_AUTH_TOKEN", "")
    twilio_from_number: str = setting("TWILIO_FROM_NUMBER", "")
    ses_from_email: str = setting("SES_FROM_EMAIL", "no-reply@cureconnect.example")
    tracing_enabled: bool = setting("TRACING_ENABLED", "false")
    # payments, media, analysis, emergency IVR (issue 12); empty = that integration is off
    stripe_secret_key: str = setting("STRIPE_SECRET_KEY", "")
    stripe_webhook_secret: str = setting("STRIPE_WEBHOOK_SECRET", "")
    stripe_api_base: str = setting("STRIPE_API_BASE", "")
    require_appointment_payment: bool = setting("REQUIRE_APPOINTMENT_PAYMENT", "false")
    payment_hold_minutes: int = setting("PAYMENT_HOLD_MINUTES", "15")
    # Stock hoarding (issue 21): open orders per customer at one pharmacy, units of one medicine
    # across them, and how long a pharmacy has to confirm an order before the sweep cancels it.
    max_open_orders_per_customer: int = setting("MAX_OPEN_ORDERS_PER_CUSTOMER", "3")
    max_units_per_medicine_per_customer: int = setting("MAX_UNITS_PER_MEDICINE_PER_CUSTOMER", "20")
    order_confirm_hours: int = setting("ORDER_CONFIRM_HOURS", "24")
    cloudinary_url: str = setting("CLOUDINARY_URL", "")
    cloudinary_api_base: str = setting("CLOUDINARY_API_BASE", "https://api.cloudinary.com", parse=_base_url,
                                       dev_http=True)
    cloudinary_delivery_base: str = setting("CLOUDINARY_DELIVERY_BASE", "https://res.cloudinary.com", parse=_base_url,
                                            dev_http=True)
    public_base_url: str = setting("PUBLIC_BASE_URL", "")
    google_api_key: str = setting("GOOGLE_API_KEY", "")
    analysis_model: str = setting("ANALYSIS_MODEL", "gemini-2.5-flash")
    analysis_per_hour: int = setting("ANALYSIS_PER_HOUR", "20")
    emergency_alert_level: int = setting("EMERGENCY_ALERT_LEVEL", "4")
    # prescriptions (issue 10)
    prescription_valid_days: int = setting("PRESCRIPTION_VALID_DAYS", "30")
    clinic_name: str = setting("CLINIC_NAME", "CureConnect Telehealth")
    clinic_address: str = setting("CLINIC_ADDRESS", "")
    pdf_font_dir: str = setting("PDF_FONT_DIR", "/usr/share/fonts/truetype/noto")
    verify_per_minute: int = setting("VERIFY_PER_MINUTE", "30")
    # a patient's own data: export and deletion (issue 24 §3)
    data_exports_per_hour: int = setting("DATA_EXPORTS_PER_HOUR", "3")
    deletion_grace_days: int = setting("DELETION_GRACE_DAYS", "30")
    record_retention_years: int = setting("RECORD_RETENTION_YEARS", "10")
    # signaling: WebSocket API, emergencies, ICE servers (issue 9)
    ws_management_endpoint: str = setting("WS_MANAGEMENT_ENDPOINT", "")
    ws_max_frames_per_second: int = setting("WS_MAX_FRAMES_PER_SECOND", "20")
    ws_connection_ttl_seconds: int = setting("WS_CONNECTION_TTL_SECONDS", "7200")
    # issue 21: per-user WebSocket limits, and the local gateway's management-API secret
    ws_max_connections_per_user: int = setting("WS_MAX_CONNECTIONS_PER_USER", "3")
    ws_max_frames_per_user_per_second: int = setting("WS_MAX_FRAMES_PER_USER_PER_SECOND", "40")
    # new WebSocket connections (`$connect`) a minute per client address, and from everywhere
    ws_connects_per_ip_per_minute: int = setting("WS_CONNECTS_PER_IP_PER_MINUTE", "60")
    ws_connects_per_minute: int = setting("WS_CONNECTS_PER_MINUTE", "3000")
    ws_management_secret: str = setting("WS_MANAGEMENT_SECRET", "")
    join_early_minutes: int = setting("JOIN_EARLY_MINUTES", "15")
    emergency_timeout_seconds: int = setting("EMERGENCY_TIMEOUT_SECONDS", "120")
    emergency_function_arn: str = setting("EMERGENCY_FUNCTION_ARN", "")
    emergencies_per_ip_per_hour: int = setting("EMERGENCIES_PER_IP_PER_HOUR", "5")
    emergencies_per_minute: int = setting("EMERGENCIES_PER_MINUTE", "30")
    stun_urls: tuple[str, ...] = setting("STUN_URLS", "stun:stun.l.google.com:19302")
    turn_urls: tuple[str, ...] = setting("TURN_URLS", "")
    turn_secret: str = setting("TURN_SECRET", "")
    turn_ttl_seconds: int = setting("TURN_TTL_SECONDS", "3600")

    def __repr__(self) -> str:  # never print secrets
        return f"Settings(stage={self.stage!r}, db={self.mongodb_db!r})"

    def app_url(self, path: str) -> str:
        """A page of the web frontend, for links in messages (`APP_BASE_URL/<path>`)."""
        return f"{self.app_base_url.rstrip('/')}/{path.lstrip('/')}"

    def api_url(self, path: str) -> str:
        """One of this API's own routes, for a link a person opens (a verification page, a
        prescription's QR code): `PUBLIC_BASE_URL/api/v1/<path>`, or, while PUBLIC_BASE_URL is
        empty, `APP_BASE_URL/api/v1/<path>`, which the frontend's proxy forwards to the API."""
        base = (self.public_base_url or self.app_base_url).rstrip("/")
        return f"{base}/api/v1/{path.lstrip('/')}"


# Written by `make run` (into LOCAL_DATA_DIR, default .data/) so local tools (the admin CLI)
# find its database and secret.
LOCAL_URI_FILE = Path("mongodb-uri")
LOCAL_SECRET_FILE = Path("dev-jwt-secret")


def local_data_dir(env: Mapping[str, str]) -> Path:
    return Path(env.get("LOCAL_DATA_DIR") or ".data")


def _secret_values() -> Mapping[str, str]:
    secret_id = os.environ.get("CONFIG_SECRET_ID")
    if not secret_id:
        return {}
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(secret_id, transform="json", max_age=300)
    if not isinstance(value, dict):
        raise ConfigError(f"CONFIG_SECRET_ID {secret_id!r} must hold a JSON object")
    return {str(k): str(v) for k, v in value.items()}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    if environ is None:
        for key, value in _secret_values().items():
            env.setdefault(key, value)
        if "AWS_LAMBDA_FUNCTION_NAME" not in env:  # a developer's machine, never Lambda
            for var, name in (("MONGODB_URI", LOCAL_URI_FILE), ("JWT_SECRET", LOCAL_SECRET_FILE)):
                path = local_data_dir(env) / name
                if var not in env and path.is_file():
                    env[var] = path.read_text().strip()
    values: dict[str, Any] = {}
    for spec in fields(Settings):
        var, default = spec.metadata["var"], spec.metadata["default"]
        raw = env.get(var)
        if raw is None or (raw == "" and default is None):
            if default is None:
                raise ConfigError(f"Missing required setting {var} (see the configuration table in README.md)")
            raw = default
        parse = spec.metadata["parse"] or _PARSERS[str(spec.type)]
        try:
            values[spec.name] = parse(raw)
        except ValueError as exc:
            raise ConfigError(f"Invalid setting {var}: {exc}") from None
        if spec.metadata["dev_http"] and values[spec.name].startswith("http://") and values["stage"] != "dev":
            raise ConfigError(f"Invalid setting {var}: plain http:// is accepted only in the dev stage")
    if not values["mfa_encryption_key"]:
        if values["stage"] != "dev":
            raise ConfigError("Missing required setting MFA_ENCRYPTION_KEY (required outside the dev stage; "
                              "see the configuration table in README.md)")
        values["mfa_encryption_key"] = DEV_MFA_ENCRYPTION_KEY
    return Settings(**values)


@functools.cache
def get_settings() -> Settings:
    """The settings of this container, read on first use."""
    return load_settings()


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()
