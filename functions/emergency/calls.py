"""A Twilio voice webhook, verified: the call it is about (Twilio's form fields and our own query
parameters), accepted only when `X-Twilio-Signature` signs the public URL Twilio called
(`PUBLIC_BASE_URL`, since API Gateway hides the public host) and every field it sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from functions.core.config import get_settings
from functions.core.errors import Code, Forbidden, ServiceUnavailable
from functions.core.validation import parse_model
from functions.emergency.schemas import IvrQuery, TwilioFormIn


@dataclass(frozen=True)
class Call:
    form: TwilioFormIn
    query: IvrQuery
    language_chosen: bool

    @property
    def lang(self) -> str:
        return self.query.lang

    @property
    def caller(self) -> str:
        return self.form.caller if self.form.caller.startswith("+") else ""


def url(step: str, **query: Any) -> str:
    """Our public URL of an IVR step; query parameters in one fixed (sorted) order, so the URL
    we hand to Twilio and the one we check its signature against are the same string."""
    base = get_settings().public_base_url.rstrip("/")
    params = sorted((k, str(v)) for k, v in query.items() if v is not None)
    return f"{base}/api/v1/ivr/{step}" + (f"?{urlencode(params)}" if params else "")


def verify(step: str, query: dict[str, str], params: dict[str, str], signature: str | None) -> None:
    """403 unless `X-Twilio-Signature` signs this URL and these form fields with our token."""
    settings = get_settings()
    if not (settings.twilio_auth_token and settings.public_base_url):
        raise ServiceUnavailable("The emergency line is not configured", code=Code.IVR_NOT_CONFIGURED)
    from twilio.request_validator import RequestValidator

    if not signature or not RequestValidator(settings.twilio_auth_token).validate(url(step, **query), params,
                                                                                  signature):
        raise Forbidden("Invalid Twilio signature", code=Code.BAD_SIGNATURE)


def incoming(step: str, raw_body: bytes | str, query: dict[str, str] | None, signature: str | None) -> Call:
    """A verified Twilio webhook: its form fields and our own query parameters.

    The signature covers every field exactly as Twilio sent it, the blank ones included
    (`CallerCity=` ...), so the fields are read here as sent (`parse_qsl`, blanks kept, never a
    refusal: nothing may drop an emergency call), not by `core.bodies`, whose forms leave a
    blank input out (a browser form's rule) and refuse a malformed body. The typed fields then
    go through `core.validation.parse_model` like any other input."""
    text = raw_body.decode("utf-8", "replace") if isinstance(raw_body, bytes) else raw_body
    params = dict(parse_qsl(text, keep_blank_values=True))
    ours = dict(query or {})
    verify(step, ours, params, signature)
    return Call(parse_model(TwilioFormIn, params), parse_model(IvrQuery, ours), "lang" in ours)
