"""The emergency line without a phone: this module plays Twilio's part under `make run`.

Twilio calls `/api/v1/ivr/voice` when someone rings the number, then follows the TwiML the API
answers: a `<Gather>` posts the keys pressed to its `action`, a `<Redirect>` is followed on
silence, a `<Dial>` rings a number and posts its outcome (`DialCallStatus`) to its `action`.
Here each of those requests is signed as Twilio signs it (`X-Twilio-Signature`, the SDK's
`RequestValidator` over the public URL and the form) with the run's TWILIO_AUTH_TOKEN, and the
answer is shown: what the line says, which keys it waits for, which number it would dial.

    python -m local.ivr_phone --from +919812345678 1 2 411001   # call, then press 1, 2, 411001
    python -m local.ivr_phone --from +919812345678 1 1 no-answer  # a dial outcome is a word

The same from a page: http://127.0.0.1:8002/ivr/. URLs in the TwiML start with PUBLIC_BASE_URL
(make run: the local API); they are signed as they are and posted to the local API.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from local import instance
from local.site import Reply, Request, as_json, esc, page

DIAL_OUTCOMES = ("completed", "no-answer", "busy", "failed")
TO_NUMBER = "+15005550006"  # the number the caller rang (Twilio's test number)


class Refused(Exception):
    """The step cannot be made (not configured, a URL outside the API, ...)."""


@dataclass(frozen=True)
class Line:
    api: str  # where the local API listens
    public_base: str  # PUBLIC_BASE_URL: the URLs Twilio is given, and signs
    token: str  # TWILIO_AUTH_TOKEN

    @classmethod
    def load(cls) -> Line:
        env = os.environ
        if env.get("TWILIO_AUTH_TOKEN") and env.get("PUBLIC_BASE_URL") and env.get("LOCAL_API_URL"):
            return cls(env["LOCAL_API_URL"], env["PUBLIC_BASE_URL"].rstrip("/"), env["TWILIO_AUTH_TOKEN"])
        info = instance.read()
        if not (info.get("twilioAuthToken") and info.get("publicBaseUrl")):
            raise Refused("this `make run` has no TWILIO_AUTH_TOKEN and PUBLIC_BASE_URL")
        return cls(str(info["api"]), str(info["publicBaseUrl"]).rstrip("/"), str(info["twilioAuthToken"]))

    @property
    def voice_url(self) -> str:
        return f"{self.public_base}/api/v1/ivr/voice"


@dataclass
class Step:
    """One answer of the line, read as Twilio reads it."""

    url: str
    status: int
    twiml: str
    said: list[tuple[str, str]] = field(default_factory=list)  # (language, text)
    gather: dict[str, Any] | None = None  # {"action", "numDigits"}
    redirect: str | None = None
    dial: dict[str, Any] | None = None  # {"numbers", "action", "callerId"}
    hangup: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"url": self.url, "status": self.status, "said": [text for _, text in self.said],
                "gather": self.gather, "redirect": self.redirect, "dial": self.dial, "hangup": self.hangup,
                "twiml": self.twiml}


def read_twiml(url: str, status: int, body: str) -> Step:
    step = Step(url, status, body)
    if status != 200:
        return step
    root = ET.fromstring(body)  # noqa: S314 - the local API's own answer
    for element in root.iter():
        if element.tag == "Say":
            step.said.append((element.get("language", ""), element.text or ""))
        elif element.tag == "Gather":
            step.gather = {"action": element.get("action"), "numDigits": int(element.get("numDigits") or 1)}
        elif element.tag == "Redirect":
            step.redirect = (element.text or "").strip()
        elif element.tag == "Dial":
            step.dial = {"numbers": [(n.text or "").strip() for n in element.iter("Number")],
                         "action": element.get("action"), "callerId": element.get("callerId")}
        elif element.tag == "Hangup":
            step.hangup = True
    return step


def post(line: Line, url: str, caller: str, call_sid: str, **form: str) -> Step:
    """Post one signed webhook to `url` (a PUBLIC_BASE_URL URL from the TwiML) as Twilio would."""
    from twilio.request_validator import RequestValidator

    if not url.startswith(line.public_base + "/api/v1/ivr/"):
        raise Refused(f"not a URL of this API's emergency line: {url}")
    params = {"CallSid": call_sid, "AccountSid": os.environ.get("TWILIO_ACCOUNT_SID", "AC" + "0" * 32),
              "From": caller, "To": TO_NUMBER, "CallStatus": "in-progress", "Direction": "inbound", **form}
    signature = RequestValidator(line.token).compute_signature(url, params)
    local = line.api.rstrip("/") + url.removeprefix(line.public_base)
    request = urllib.request.Request(local, data=urlencode(params).encode(), method="POST", headers={  # noqa: S310
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - the local API
            return read_twiml(url, int(answer.status), answer.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        return read_twiml(url, exc.code, exc.read().decode("utf-8", "replace"))


def new_call_sid() -> str:
    return "CA" + secrets.token_hex(16)


def press(line: Line, step: Step, key: str, caller: str, call_sid: str) -> Step:
    """What the caller does next: keys for a `<Gather>`, a dial outcome for a `<Dial>`, or
    "silence" (the `<Redirect>`)."""
    if key in DIAL_OUTCOMES:
        if not step.dial:
            raise Refused(f"the line is not dialling: {key!r} means nothing now")
        return post(line, str(step.dial["action"]), caller, call_sid, DialCallStatus=key)
    if key == "silence":
        if not step.redirect:
            raise Refused("the line does not wait for anything now")
        return post(line, step.redirect, caller, call_sid)
    if not step.gather:
        raise Refused(f"the line is not waiting for keys: {key!r} means nothing now")
    return post(line, str(step.gather["action"]), caller, call_sid, Digits=key)


# ---------------------------------------------------------------- the page


def ivr_page(load: Callable[[], Line]) -> Callable[[Request], Reply]:
    def handle(request: Request) -> Reply:
        path = request.path.rstrip("/")
        if request.method == "GET" and path == "/ivr":
            return page("Emergency line", _start_form())
        if request.method == "POST" and path == "/ivr/step":
            form = request.form()
            caller = form.get("from", "").strip()
            call_sid = form.get("callSid") or new_call_sid()
            try:
                line = load()
                url = form.get("url") or line.voice_url
                extra = {k: form[k] for k in ("Digits", "DialCallStatus") if form.get(k)}
                step = post(line, url, caller, call_sid, **extra)
            except (Refused, instance.NotRunning) as exc:
                return as_json(422, {"error": str(exc)}) if request.wants_json else page(
                    "Emergency line", f'<p class="dropped">{esc(exc)}</p><p><a href="/ivr/">Start again</a></p>')
            if request.wants_json:
                return as_json(200, {"callSid": call_sid, "from": caller, **step.as_dict()})
            return page("Emergency line", _render(step, caller, call_sid))
        return Reply(404, b"Not found\n", {"Content-Type": "text/plain"})

    return handle


def _start_form() -> str:
    return ("<p class=muted>Plays Twilio's part: each step is a signed webhook to the API's "
            "<code>/api/v1/ivr/...</code>, and the TwiML it answers is shown. From a terminal: "
            "<code>.venv/bin/python -m local.ivr_phone --from +919812345678 1 2</code>.</p>"
            '<form method="post" action="/ivr/step"><label>Calling from <input name="from" '
            'value="+919812345678" required></label><button>Call the emergency line</button></form>')


def _hidden(caller: str, call_sid: str, url: str, **extra: str) -> str:
    fields = {"from": caller, "callSid": call_sid, "url": url, **extra}
    return "".join(f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">' for k, v in fields.items())


def _render(step: Step, caller: str, call_sid: str) -> str:
    said = "".join(f"<li>{esc(text)} <span class=muted>({esc(lang)})</span></li>" for lang, text in step.said)
    parts = [f"<p>{esc(caller)} · {esc(call_sid)} · the API answered <b>{step.status}</b> to "
             f"<code>{esc(step.url)}</code></p>", f"<h2>The line says</h2><ul>{said}</ul>"]
    if step.gather:
        n = step.gather["numDigits"]
        keys = (" ".join(f'<button name="Digits" value="{d}">{d}</button>' for d in "123456789*0#")
                if n == 1 else f'<input name="Digits" pattern="[0-9]{{{n}}}" required><button>Enter</button>')
        parts.append(f'<h2>Press {"a key" if n == 1 else f"{n} digits"}</h2><form method="post" '
                     f'action="/ivr/step">{_hidden(caller, call_sid, str(step.gather["action"]))}{keys}</form>')
    if step.redirect:
        parts.append(f'<form method="post" action="/ivr/step">{_hidden(caller, call_sid, step.redirect)}'
                     "<button>Stay silent</button></form>")
    if step.dial:
        numbers = ", ".join(step.dial["numbers"])
        outcomes = " ".join(f'<button name="DialCallStatus" value="{o}">{o}</button>' for o in DIAL_OUTCOMES)
        parts.append(f"<h2>Dialling <b>{esc(numbers)}</b></h2><p class=muted>caller id "
                     f"{esc(step.dial.get('callerId') or '—')}; Twilio would ring it and report:</p>"
                     f'<form method="post" action="/ivr/step">{_hidden(caller, call_sid, str(step.dial["action"]))}'
                     f"{outcomes}</form>")
    if step.hangup:
        parts.append("<p><b>The line hangs up.</b></p>")
    parts.append(f'<details><summary>TwiML</summary><pre>{esc(step.twiml)}</pre></details>'
                 '<p><a href="/ivr/">New call</a> · <a href="/inbox/">Inbox</a> (SMS the line sent)</p>')
    return "".join(parts)


# ---------------------------------------------------------------- the command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.ivr_phone",
                                     description="Call the local emergency line and press keys, as Twilio would.")
    parser.add_argument("--from", dest="caller", default="+919812345678", help="the caller's number (E.164)")
    parser.add_argument("keys", nargs="*", help=f"keys to press in turn, 'silence', or a dial outcome "
                                                f"({', '.join(DIAL_OUTCOMES)})")
    parser.add_argument("--json", action="store_true", help="print each step as JSON")
    args = parser.parse_args(argv)
    call_sid = new_call_sid()
    try:
        line = Line.load()
        step = post(line, line.voice_url, args.caller, call_sid)
        _print(step, args.json)
        for key in args.keys:
            step = press(line, step, key, args.caller, call_sid)
            _print(step, args.json, key)
    except (Refused, instance.NotRunning) as exc:
        print(f"ivr_phone: {exc}", file=sys.stderr)
        return 2
    return 0 if step.status == 200 else 1


def _print(step: Step, as_json_lines: bool, key: str | None = None) -> None:
    if as_json_lines:
        print(json.dumps({"pressed": key, **step.as_dict()}))
        return
    print(f"--- {'call' if key is None else f'pressed {key}'} -> {step.status}")
    for _, text in step.said:
        print(f"  says: {text}")
    if step.gather:
        print(f"  waits for {step.gather['numDigits']} key(s)")
    if step.dial:
        print(f"  dials {', '.join(step.dial['numbers'])}")
    if step.hangup:
        print("  hangs up")


if __name__ == "__main__":
    raise SystemExit(main())
