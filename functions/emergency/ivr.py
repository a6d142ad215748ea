"""The emergency line's call flow (Twilio Voice): a language choice, then 1 = a doctor on call
now, 2 = the nearest hospitals, 3 = a call back; each step answers TwiML (`twiml`).

A caller ID is a hint, never an identity (issue 21: it can be spoofed, and it opened emergencies
in real patients' names): every caller is helped the same way, announced to the doctors as an
unverified caller (the number shown), never attached to the account holding that number, and
never located by it (the hospitals step asks for a pincode). The menu's own SMS (the
confirmation, the hospitals) still go to the calling number, within the notifier's per-number
caps. Nothing here fails a call: alerts and messages are best effort, logged, and the notifier
queues SMS it could not send.
"""

from __future__ import annotations

from typing import Any

from functions.core import clock, notify
from functions.core.config import get_settings
from functions.core.observability import logger
from functions.emergency import hospitals, on_call, twiml
from functions.emergency.callbacks import request_callback
from functions.emergency.calls import Call, url
from functions.signaling import api as signaling

MENU_ATTEMPTS = 3
ANSWERED = ("completed", "answered")  # Twilio's DialCallStatus of a call a doctor took


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
        request_callback(call, "caller asked")
        return twiml.say_then_hang_up(call.lang, "callback")
    return _menu(call.lang, call.query.attempt, invalid=True)


# ---------------------------------------------------------------- 1: a doctor now


def _connect_doctor(call: Call) -> str:
    _alert_online_doctors(call)
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
        request_callback(call, "no doctor answered" if numbers else "no doctor on call")
        return twiml.say_then_hang_up(call.lang, "no_doctor")
    return twiml.dial(call.lang, numbers[index], url("dial", lang=call.lang, next=index + 1),
                      get_settings().twilio_from_number or None, first=index == 0)


def _alert_online_doctors(call: Call) -> None:
    """Each online doctor is told of the call, as from an unverified caller: the number shown
    (`callerVerified: false`), no account or patient name (a caller ID proves nothing)."""
    try:
        frame = {"type": "ivrEmergency", "callSid": call.form.call_sid, "caller": call.caller or None,
                 "callerVerified": False, "language": call.lang, "at": clock.now().isoformat()}
        alerted = sum(signaling.push_to_user(doctor_id, frame) for doctor_id in signaling.online_doctor_ids())
        logger.info("ivr alert sent", extra={"alerted": alerted})
    except Exception as exc:  # an alert must never drop the call
        logger.warning("ivr alert failed", extra={"error": type(exc).__name__})


# ---------------------------------------------------------------- 2: hospitals


def _hospitals_for_caller(call: Call) -> str:
    """Every caller types the pincode: an account's registered location is never looked up by a
    caller ID (a spoofed one would read out where that patient lives)."""
    return twiml.ask_pincode(call.lang, url("pincode", lang=call.lang))


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
