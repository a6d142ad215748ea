"""Typed settings, read from the environment once per container.

In deployed stages secrets come from Secrets Manager: when `CONFIG_SECRET_ID` is set, that
secret (a JSON object of VARIABLE -> value) is fetched once through Powertools `parameters`
and fills in any variable the environment does not set. Every variable is listed in the README.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
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


def _samesite(raw: str) -> str:
    value = raw.strip().capitalize()
    if value not in {"Lax", "Strict", "None"}:
        raise ValueError("expected Lax, Strict or None")
    return value


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


# Settings that may name a plain-http stand-in on this machine, only where STAGE is dev.
_DEV_ONLY_HTTP = (("cloudinary_api_base", "CLOUDINARY_API_BASE"),
                  ("cloudinary_delivery_base", "CLOUDINARY_DELIVERY_BASE"))


# (attribute, variable, parser, default; None = required)
_SPEC: tuple[tuple[str, str, Callable[[str], Any], str | None], ...] = (
    ("stage", "STAGE", str, "dev"),
    ("version", "APP_VERSION", str, "0.1.0"),
    ("mongodb_uri", "MONGODB_URI", str, None),
    ("mongodb_db", "MONGODB_DB", str, "cureconnect"),
    ("mongodb_timeout_ms", "MONGODB_TIMEOUT_MS", int, "5000"),
    ("health_db_timeout_ms", "HEALTH_DB_TIMEOUT_MS", int, "2000"),
    ("jwt_secret", "JWT_SECRET", _secret, None),
    ("jwt_issuer", "JWT_ISSUER", str, "cureconnect"),
    ("jwt_audience", "JWT_AUDIENCE", str, "cureconnect-web"),
    ("jwt_ttl_seconds", "JWT_TTL_SECONDS", int, "3600"),
    ("cookie_secure", "COOKIE_SECURE", _bool, "true"),
    ("cookie_samesite", "COOKIE_SAMESITE", _samesite, "Lax"),
    ("allowed_origins", "ALLOWED_ORIGINS", _csv, ""),
    ("default_phone_region", "DEFAULT_PHONE_REGION", str, "IN"),
    ("default_timezone", "DEFAULT_TIMEZONE", _timezone, "Asia/Kolkata"),
    ("default_currency", "DEFAULT_CURRENCY", _currency, "INR"),
    ("app_base_url", "APP_BASE_URL", str, "http://localhost:5173"),
    ("login_max_failures", "LOGIN_MAX_FAILURES", int, "5"),
    ("login_window_minutes", "LOGIN_WINDOW_MINUTES", int, "15"),
    ("login_max_failures_per_contact", "LOGIN_MAX_FAILURES_PER_CONTACT", int, "50"),
    ("max_active_per_doctor", "MAX_ACTIVE_PER_DOCTOR", int, "2"),
    ("max_active_per_patient", "MAX_ACTIVE_PER_PATIENT", int, "6"),
    ("max_messages_per_recipient_per_day", "MAX_MESSAGES_PER_RECIPIENT_PER_DAY", int, "20"),
    ("max_unverified_emails_per_day", "MAX_UNVERIFIED_EMAILS_PER_DAY", int, "3"),
    ("cancel_cutoff_minutes", "CANCEL_CUTOFF_MINUTES", int, "120"),
    ("reminder_offsets_minutes", "REMINDER_OFFSETS_MINUTES", _int_csv, "1440,15"),
    ("scheduler_group", "SCHEDULER_GROUP", str, "default"),
    ("scheduler_role_arn", "SCHEDULER_ROLE_ARN", str, ""),
    ("reminder_function_arn", "REMINDER_FUNCTION_ARN", str, ""),
    ("twilio_account_sid", "TWILIO_ACCOUNT_SID", str, ""),
    ("twilio_auth_token", "TWILIO_AUTH_TOKEN", str, ""),
    ("twilio_from_number", "TWILIO_FROM_NUMBER", str, ""),
    ("ses_from_email", "SES_FROM_EMAIL", str, "no-reply@cureconnect.example"),
    ("tracing_enabled", "TRACING_ENABLED", _bool, "false"),
    # payments, media, analysis, emergency IVR (issue 12); empty = that integration is off
    ("stripe_secret_key", "STRIPE_SECRET_KEY", str, ""),
    ("stripe_webhook_secret", "STRIPE_WEBHOOK_SECRET", str, ""),
    ("stripe_api_base", "STRIPE_API_BASE", str, ""),
    ("require_appointment_payment", "REQUIRE_APPOINTMENT_PAYMENT", _bool, "false"),
    ("payment_hold_minutes", "PAYMENT_HOLD_MINUTES", int, "15"),
    ("cloudinary_url", "CLOUDINARY_URL", str, ""),
    ("cloudinary_api_base", "CLOUDINARY_API_BASE", _base_url, "https://api.cloudinary.com"),
    ("cloudinary_delivery_base", "CLOUDINARY_DELIVERY_BASE", _base_url, "https://res.cloudinary.com"),
    ("public_base_url", "PUBLIC_BASE_URL", str, ""),
    ("google_api_key", "GOOGLE_API_KEY", str, ""),
    ("analysis_model", "ANALYSIS_MODEL", str, "gemini-2.5-flash"),
    ("analysis_per_hour", "ANALYSIS_PER_HOUR", int, "20"),
    ("emergency_alert_level", "EMERGENCY_ALERT_LEVEL", int, "4"),
    # prescriptions (issue 10)
    ("prescription_valid_days", "PRESCRIPTION_VALID_DAYS", int, "30"),
    ("clinic_name", "CLINIC_NAME", str, "CureConnect Telehealth"),
    ("clinic_address", "CLINIC_ADDRESS", str, ""),
    ("pdf_font_dir", "PDF_FONT_DIR", str, "/usr/share/fonts/truetype/noto"),
    ("verify_per_minute", "VERIFY_PER_MINUTE", int, "30"),
    # signaling: WebSocket API, emergencies, ICE servers (issue 9)
    ("ws_management_endpoint", "WS_MANAGEMENT_ENDPOINT", str, ""),
    ("ws_max_frames_per_second", "WS_MAX_FRAMES_PER_SECOND", int, "20"),
    ("ws_connection_ttl_seconds", "WS_CONNECTION_TTL_SECONDS", int, "7200"),
    ("join_early_minutes", "JOIN_EARLY_MINUTES", int, "15"),
    ("emergency_timeout_seconds", "EMERGENCY_TIMEOUT_SECONDS", int, "120"),
    ("emergency_function_arn", "EMERGENCY_FUNCTION_ARN", str, ""),
    ("stun_urls", "STUN_URLS", _csv, "stun:stun.l.google.com:19302"),
    ("turn_urls", "TURN_URLS", _csv, ""),
    ("turn_secret", "TURN_SECRET", str, ""),
    ("turn_ttl_seconds", "TURN_TTL_SECONDS", int, "3600"),
)


@dataclass(frozen=True)
class Settings:
    stage: str
    version: str
    mongodb_uri: str
    mongodb_db: str
    mongodb_timeout_ms: int
    health_db_timeout_ms: int
    jwt_secret: str
    jwt_issuer: str
    jwt_audience: str
    jwt_ttl_seconds: int
    cookie_secure: bool
    cookie_samesite: str
    allowed_origins: tuple[str, ...]
    default_phone_region: str
    default_timezone: str
    default_currency: str
    app_base_url: str
    login_max_failures: int
    login_window_minutes: int
    login_max_failures_per_contact: int
    max_active_per_doctor: int
    max_active_per_patient: int
    max_messages_per_recipient_per_day: int
    max_unverified_emails_per_day: int
    cancel_cutoff_minutes: int
    reminder_offsets_minutes: tuple[int, ...]
    scheduler_group: str
    scheduler_role_arn: str
    reminder_function_arn: str
    twilio_account_sid: str
    twilio_auth_token: str
    twilio_from_number: str
    ses_from_email: str
    tracing_enabled: bool
    stripe_secret_key: str
    stripe_webhook_secret: str
    stripe_api_base: str
    require_appointment_payment: bool
    payment_hold_minutes: int
    cloudinary_url: str
    cloudinary_api_base: str
    cloudinary_delivery_base: str
    public_base_url: str
    google_api_key: str
    analysis_model: str
    analysis_per_hour: int
    emergency_alert_level: int
    prescription_valid_days: int
    clinic_name: str
    clinic_address: str
    pdf_font_dir: str
    verify_per_minute: int
    ws_management_endpoint: str
    ws_max_frames_per_second: int
    ws_connection_ttl_seconds: int
    join_early_minutes: int
    emergency_timeout_seconds: int
    emergency_function_arn: str
    stun_urls: tuple[str, ...]
    turn_urls: tuple[str, ...]
    turn_secret: str
    turn_ttl_seconds: int

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


assert [f.name for f in fields(Settings)] == [row[0] for row in _SPEC]

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
    for attr, var, parse, default in _SPEC:
        raw = env.get(var)
        if raw is None or (raw == "" and default is None):
            if default is None:
                raise ConfigError(f"Missing required setting {var} (see the configuration table in README.md)")
            raw = default
        try:
            values[attr] = parse(raw)
        except ValueError as exc:
            raise ConfigError(f"Invalid setting {var}: {exc}") from None
    for attr, var in _DEV_ONLY_HTTP:
        if values[attr].startswith("http://") and values["stage"] != "dev":
            raise ConfigError(f"Invalid setting {var}: plain http:// is accepted only in the dev stage")
    return Settings(**values)


_settings: Settings | None = None


def get_settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = load_settings()
    return _settings


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment between cases)."""
    global _settings
    _settings = None
