"""Call-back requests of the emergency line: one per number per 10-minute window, and the
doctors on call texted to ring the caller back.

The request is a deduplicated record, not a rate limit: one insert whose `_id` is the number and
the window (`stores.callbacks`), so a repeated key press finds it already there and changes
nothing. It stays off `core.throttle` on purpose: the request (caller, time, reason, language)
has to be written anyway, and a throttle window in front of it would add a second round trip to
an IVR route Twilio is waiting on, to say what the insert's `_id` already says.
"""

from __future__ import annotations

from datetime import datetime

from functions.core import clock, notify
from functions.emergency import on_call
from functions.emergency.calls import Call
from functions.emergency.stores import callbacks as store

WINDOW_MINUTES = 10
OPEN = "open"  # a request no doctor has answered yet (the only status the line writes)


def _window(now: datetime) -> str:
    return f"{now:%Y%m%d%H}{now.minute // WINDOW_MINUTES}"


def request_callback(call: Call, reason: str) -> bool:
    """Record one call-back request per number per window and text the doctors on call."""
    now = clock.now()
    who = call.caller or f"withheld:{call.form.call_sid}"
    created = store.insert_callback({  # the number as a hint only: never the account holding it (issue 21)
        "_id": f"{who}|{_window(now)}", "caller": call.caller or None, "callerVerified": False,
        "callSid": call.form.call_sid, "language": call.lang, "reason": reason, "status": OPEN,
        "createdAt": now})
    if not created:
        return False
    text = (f"CureConnect emergency line: please call back {call.caller or 'a caller (number withheld)'}"
            f" ({'Hindi' if call.lang == 'hi' else 'English'}). Requested {now:%H:%M} UTC.")
    for number in on_call.numbers():
        notify.send("phone", number, "CureConnect call back", text, kind="ivr-callback", ref=call.form.call_sid)
    return True
