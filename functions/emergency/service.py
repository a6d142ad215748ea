"""The emergency line (Twilio Voice): a language choice, then 1 = a doctor on call now,
2 = the nearest hospitals, 3 = a call back. Every webhook is checked against Twilio's signature
of the public URL it called (`PUBLIC_BASE_URL`, since API Gateway hides the public host).

Callers who have no account are helped the same way; the number that is calling is the one the
confirmation SMS goes to (Twilio has just connected it, so it counts as verified). Nothing
here fails a call: alerts and messages are best effort, logged, and the notifier queues SMS it
could not send.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from functions.core import clock, notify, users
from functions.core.config import get_settings
from functions.core.errors import AppError, Code, Forbidden, ServiceUnavailable
from functions.core.http import parse_model
from functions.core.observability import logger
from functions.emergency import hospitals, on_call, store, twiml
from functions.emergency.schemas import IvrQuery, TwilioForm
from functions.signaling import api as signaling

MENU_ATTEMPTS = 3
CALLBACK_WINDOW_MINUTES = 10
ANSWERED = ("completed", "answered")


@dataclass(frozen=True)
class Call:
    form: TwilioForm
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
    """A verified Twilio webhook: its form fields and our own query parameters."""
    text = raw_body.decode("utf-8", "replace") if isinstance(raw_body, bytes) else raw_body
    params = dict(parse_qsl(text, keep_blank_values=True))
    ours = dict(query or {})
    verify(step, ours, params, signature)
    return Call(parse_model(TwilioForm, params), parse_model(IvrQuery, ours), "lang" in ours)


# ---------------------------------------------------------------- the menu


def voice(call: Call) -> str:
    """POST /ivr/voice: the language choice, then the menu (repeated on silence, then goodbye)."""
    if not call.language_chosen and not call.form.digits:
        return twiml.language_menu(action=url("voice"), again=url("voice", lang="en"))
    lang = call.lang if call.language_chosen else ("hi" if call.form.digits == "2" else "en")
    return _menu(lang, call.query.attempt)


def _menu(lang: str, attempt: int, *, invalid: bool = False) -> str:
    again = url("voice", lang=lang, attempt=attempt + 1) if attempt < MENU_ATTEMPTS else None
    return twiml.main_menu(lang, url("menu", lang=lang), again, invalid=invalid)


def menu(call: Call) -> str:
    """POST /ivr/menu: the caller's choice."""
    choice = call.form.digits
    if choice == "1":
        return _connect_doctor(call)
    if choice == "2":
        return _hospitals_for_caller(call)
    if choice == "3":
        _request_callback(call, "caller asked")
        return twiml.say_then_hang_up(call.lang, "callback")
    return _menu(call.lang, call.query.attempt, invalid=True)


# ---------------------------------------------------------------- 1: a doctor now


def _connect_doctor(call: Call) -> str:
    account = users.caller(call.caller) if call.caller else None
    _alert_online_doctors(call, account)
    if call.caller:
        notify.send("phone", call.caller, "CureConnect emergency line",
                    "CureConnect: we are connecting you to a doctor. If the call drops, a doctor will call you "
                    "back on this number.", kind="ivr-confirmation", ref=call.form.call_sid)
    return _ring(call, 0)


def dial_result(call: Call) -> str:
    """POST /ivr/dial: Twilio's report of one ringing; ring the next doctor unless answered."""
    if call.form.dial_status in ANSWERED:
        return twiml.hang_up()
    return _ring(call, call.query.next)


def _ring(call: Call, index: int) -> str:
    numbers = on_call.numbers()
    if index >= len(numbers):
        _request_callback(call, "no doctor answered" if numbers else "no doctor on call")
        return twiml.say_then_hang_up(call.lang, "no_doctor")
    return twiml.dial(call.lang, numbers[index], url("dial", lang=call.lang, next=index + 1),
                      get_settings().twilio_from_number or None, first=index == 0)


def _alert_online_doctors(call: Call, account: dict[str, Any] | None) -> None:
    """A registered patient gets an emergency session (signaling's flow alerts online doctors);
    anyone else is announced to each online doctor directly."""
    try:
        if account and account.get("role") == "patient":
            try:
                signaling.start_emergency(account["_id"], "Call to the emergency line", "ivr")
                return
            except AppError as exc:  # e.g. one emergency per minute: fall back to the plain alert
                logger.info("ivr emergency session not started", extra={"code": exc.code})
        frame = {"type": "ivrEmergency", "callSid": call.form.call_sid, "caller": call.caller or None,
                 "language": call.lang, "at": clock.now().isoformat()}
        alerted = sum(signaling.push_to_user(doctor_id, frame) for doctor_id in signaling.online_doctor_ids())
        logger.info("ivr alert sent", extra={"alerted": alerted})
    except Exception as exc:  # an alert must never drop the call
        logger.warning("ivr alert failed", extra={"error": type(exc).__name__})


# ---------------------------------------------------------------- 2: hospitals


def _hospitals_for_caller(call: Call) -> str:
    account = users.caller(call.caller) if call.caller else None
    address = (account or {}).get("address") if isinstance((account or {}).get("address"), dict) else {}
    pincode = (account or {}).get("pincode") or (address or {}).get("pincode")
    city = (account or {}).get("city") or (address or {}).get("city")
    if not pincode and not city:
        return twiml.ask_pincode(call.lang, url("pincode", lang=call.lang))
    return _say_hospitals(call, hospitals.nearest(str(pincode) if pincode else None, str(city) if city else None))


def pincode_entered(call: Call) -> str:
    """POST /ivr/pincode: six digits typed by a caller whose location we do not know."""
    digits = call.form.digits
    found = hospitals.nearest(digits, None) if len(digits) == 6 and digits.isdigit() else []
    return _say_hospitals(call, found)


def _say_hospitals(call: Call, found: list[dict[str, Any]]) -> str:
    if found and call.caller:
        lines = "; ".join(f"{h['name']} {h.get('phone', '')}" for h in found)
        notify.send("phone", call.caller, "CureConnect hospitals", f"CureConnect: nearest hospitals: {lines}",
                    kind="ivr-hospitals", ref=call.form.call_sid)
    return twiml.hospitals(call.lang, found)


# ---------------------------------------------------------------- 3: a call back


def _window(now: datetime) -> str:
    return f"{now:%Y%m%d%H}{now.minute // CALLBACK_WINDOW_MINUTES}"


def _request_callback(call: Call, reason: str) -> bool:
    """Record one call-back request per number per window and text the doctors on call."""
    now = clock.now()
    who = call.caller or f"withheld:{call.form.call_sid}"
    account = users.caller(call.caller) if call.caller else None
    created = store.insert_callback({
        "_id": f"{who}|{_window(now)}", "caller": call.caller or None, "userId": (account or {}).get("_id"),
        "callSid": call.form.call_sid, "language": call.lang, "reason": reason, "status": "open",
        "createdAt": now})
    if not created:
        return False
    text = (f"CureConnect emergency line: please call back {call.caller or 'a caller (number withheld)'}"
            f" ({'Hindi' if call.lang == 'hi' else 'English'}). Requested {now:%H:%M} UTC.")
    for number in on_call.numbers():
        notify.send("phone", number, "CureConnect call back", text, kind="ivr-callback", ref=call.form.call_sid)
    return True
