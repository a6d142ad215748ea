"""The local inbox: every SMS and e-mail the API sends under `make run`, readable by a person at
http://127.0.0.1:8002/inbox/ (newest first, the one-time code of a verification or recovery
message in large type), so contact verification and password recovery can be done by hand.

Write side: `install()` runs in each process of `make run` that runs the app's code (the API's
dev server, the WebSocket gateway, the sweeper) when `LOCAL_INBOX` names the journal file:

- **SMS**: when `make run` gave the app its local Twilio account (`LOCAL_TWILIO_SID`: the
  developer did not set all of TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER),
  the notifier's Twilio transport (`notify.twilio_http_client`, the hook the tests use too) is
  one that answers like Twilio's Messages API and journals what the SDK sent. With real
  Twilio credentials nothing is swapped and SMS go to Twilio.
- **E-mails** go to moto's SES as always; a botocore event handler journals the time and SES
  message id of each one SES accepted, and the page reads the message itself from moto
  (`/moto-api/data.json`), so the page shows what SES holds.
- **Dropped messages**: what the notifier's rules refuse (an unverified number, a number outside
  the SMS regions) is journaled with the reason. The notifier only logs these (without address or
  text); local tooling wraps its `dropped` (and `deliver`, for the kind of what goes out), so a
  change there breaks the e2e test, not production.

The journal is one JSON object per line, appended under an exclusive lock; `make run` starts
each run with an empty one (moto's SES keeps nothing across runs either).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import threading
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from twilio.http import HttpClient

from local.site import Reply, Request, as_json, esc, page

LOCAL_TWILIO_SID = "ACL0CA1" + "0" * 27  # the account `make run` gives the app when Twilio is not configured
LOCAL_FROM_NUMBER = "+15005550006"  # Twilio's test "from" number
CODE_KINDS = ("verification", "recovery")
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
_state = threading.local()  # the message the notifier is sending on this thread (kind, ref)


# ---------------------------------------------------------------- the journal


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, entry: dict[str, Any]) -> None:
        line = json.dumps({"at": datetime.now(UTC).isoformat(), **entry}, default=str) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            fcntl.flock(out, fcntl.LOCK_EX)
            out.write(line)

    def entries(self) -> list[dict[str, Any]]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        found = []
        for line in lines:
            try:
                found.append(json.loads(line))
            except ValueError:  # a line being written right now
                continue
        return found


def journal_from_env() -> Journal | None:
    path = os.environ.get("LOCAL_INBOX")
    return Journal(Path(path)) if path else None


# ---------------------------------------------------------------- write side (in the app's processes)


def install() -> bool:
    """Hook the notifier of this process into the journal named by LOCAL_INBOX (if any)."""
    journal = journal_from_env()
    if journal is None:
        return False
    from functions.core import notify

    if getattr(notify.deliver, "local_inbox", False):
        return True
    _record_drops(notify, journal)
    _record_emails(journal)
    if os.environ.get("TWILIO_ACCOUNT_SID") == LOCAL_TWILIO_SID:
        notify.twilio_http_client = lambda: LocalTwilio(journal)
    return True


def _record_drops(notify: Any, journal: Journal) -> None:
    """Journal what the notifier's rules drop (`notify.dropped`, in whichever process delivers:
    the API's under inline delivery, the outbox worker's under `make run`), and tell the SMS and
    e-mail journal which kind of message is going out (`notify.deliver`)."""
    dropped, deliver = notify.dropped, notify.deliver

    def recorded_dropped(channel: str, to: str, subject: str, body: str, *, kind: str, ref: Any,
                         reason: str) -> None:
        dropped(channel, to, subject, body, kind=kind, ref=ref, reason=reason)
        journal.append({"channel": "sms" if channel == "phone" else channel, "status": "dropped", "to": to,
                        "subject": subject, "body": body, "kind": kind, "reason": reason})

    def recorded_deliver(channel: str, to: str, subject: str, body: str, *, kind: str | None = None) -> None:
        _state.kind = kind
        try:
            deliver(channel, to, subject, body, kind=kind)
        finally:
            _state.kind = None

    recorded_deliver.local_inbox = True  # type: ignore[attr-defined]
    notify.dropped, notify.deliver = recorded_dropped, recorded_deliver


def _record_emails(journal: Journal) -> None:
    import boto3

    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    events = boto3.DEFAULT_SESSION.events

    def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["local_inbox"] = {"to": ", ".join((params.get("Destination") or {}).get("ToAddresses") or []),
                                  "subject": ((params.get("Message") or {}).get("Subject") or {}).get("Data"),
                                  "kind": getattr(_state, "kind", None)}

    def record(http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if getattr(http_response, "status_code", 0) == 200 and parsed.get("MessageId"):
            journal.append({"channel": "email", "status": "sent", "messageId": parsed["MessageId"],
                            **context.get("local_inbox", {})})

    events.register("provide-client-params.ses.SendEmail", remember)
    events.register("after-call.ses.SendEmail", record)


class LocalTwilio(HttpClient):  # type: ignore[misc]
    """Twilio's Messages API as far as the notifier uses it: journal the SMS, answer 201."""

    def __init__(self, journal: Journal) -> None:
        import logging

        super().__init__(logging.getLogger("local-twilio"), is_async=False)
        self.journal = journal

    def request(self, method: str, uri: str, params: Any = None, data: Any = None, headers: Any = None,
                auth: Any = None, timeout: Any = None, allow_redirects: bool = False) -> Any:
        from twilio.http.response import Response

        form = dict(data or {})
        if method != "POST" or not uri.endswith("/Messages.json"):
            return Response(404, json.dumps({"code": 20404, "message": "Not found (local Twilio)", "status": 404}))
        sid = "SM" + uuid.uuid4().hex
        self.journal.append({"channel": "sms", "status": "sent", "sid": sid, "to": form.get("To"),
                             "from": form.get("From"), "body": form.get("Body"), "kind": getattr(_state, "kind", None)})
        return Response(201, json.dumps({"sid": sid, "status": "queued", "to": form.get("To"), "from": form.get("From"),
                                         "body": form.get("Body"), "account_sid": LOCAL_TWILIO_SID}))


# ---------------------------------------------------------------- read side (the page)


def moto_emails(aws_endpoint: str | None) -> dict[str, dict[str, Any]]:
    """SES messages moto holds, by message id (empty when moto cannot be reached)."""
    if not aws_endpoint:
        return {}
    try:
        with urllib.request.urlopen(f"{aws_endpoint}/moto-api/data.json", timeout=5) as answer:  # noqa: S310 - moto on loopback
            data = json.loads(answer.read())
    except (OSError, ValueError):
        return {}
    return {str(m.get("id")): m for m in (data.get("ses") or {}).get("Message") or []}


def code_in(entry: dict[str, Any]) -> str | None:
    """The one-time code of a verification or recovery message."""
    words = f"{entry.get('subject') or ''} {entry.get('body') or ''}"
    if entry.get("kind") in CODE_KINDS or "code" in words.lower():
        found = _CODE.search(str(entry.get("body") or ""))
        return found.group(1) if found else None
    return None


def messages(journal: Journal | None, aws_endpoint: str | None) -> list[dict[str, Any]]:
    """Every message, newest first. E-mails carry what moto's SES holds (body, sender)."""
    entries = journal.entries() if journal else []
    held = moto_emails(aws_endpoint)
    shown: list[dict[str, Any]] = []
    for entry in entries:
        item = dict(entry)
        if item.get("channel") == "email" and item.get("status") == "sent":
            message = held.pop(str(item.get("messageId")), None)
            if message is not None:
                to = [a for addresses in (message.get("destinations") or {}).values() for a in addresses]
                item.update({"to": ", ".join(to) or item.get("to"), "from": message.get("source"),
                             "subject": message.get("subject"), "body": message.get("body")})
        item["code"] = code_in(item)
        shown.append(item)
    shown.reverse()
    for message in reversed(list(held.values())):  # e-mails SES holds that the API did not send
        item = {"at": None, "channel": "email", "status": "sent", "to": ", ".join(
            a for addresses in (message.get("destinations") or {}).values() for a in addresses),
            "from": message.get("source"), "subject": message.get("subject"), "body": message.get("body"),
            "messageId": message.get("id")}
        item["code"] = code_in(item)
        shown.append(item)
    return shown


def inbox_page(journal: Journal | None, aws_endpoint: str | None, sms_local: bool) -> Callable[[Request], Reply]:
    def handle(request: Request) -> Reply:
        if request.path.rstrip("/") not in ("/inbox", "/inbox/messages.json"):
            return Reply(404, b"Not found\n", {"Content-Type": "text/plain"})
        found = messages(journal, aws_endpoint)
        if request.path.endswith(".json"):
            return as_json(200, {"messages": found})
        return page("Inbox", _render(found, journal is not None, sms_local), refresh=5)

    return handle


def _render(found: list[dict[str, Any]], journaled: bool, sms_local: bool) -> str:
    notes = []
    if not journaled:
        notes.append("Not started by <code>make run</code>: nothing is journaled here.")
    notes.append("SMS: kept here (no Twilio account is configured)." if sms_local else
                 "SMS: sent through Twilio (TWILIO_* are set); this page lists only the ones the notifier dropped.")
    notes.append("E-mails: moto's SES. Newest first; this page refreshes every 5 s.")
    rows = []
    for item in found:
        at = item.get("at")
        when = f"{at[11:19]} UTC" if isinstance(at, str) else "—"
        channel = "SMS" if item.get("channel") == "sms" else "E-mail"
        status = f"dropped: {esc(item.get('reason'))}" if item.get("status") == "dropped" else "sent"
        code = f'<div>code <span class="code">{esc(item["code"])}</span></div>' if item.get("code") else ""
        subject = f"<b>{esc(item.get('subject'))}</b><br>" if channel == "E-mail" and item.get("subject") else ""
        css = ' class="dropped"' if item.get("status") == "dropped" else ""
        rows.append(f"<tr{css}><td>{esc(when)}</td><td>{channel}<br><span class=muted>{esc(item.get('kind') or '')}"
                    f"</span></td><td>{esc(item.get('to'))}<br><span class=muted>from {esc(item.get('from') or '')}"
                    f"</span></td><td>{subject}{esc(item.get('body'))}{code}</td><td>{status}</td></tr>")
    table = ("<table><tr><th>When</th><th>Channel</th><th>To</th><th>Message</th><th>Status</th></tr>"
             + "".join(rows) + "</table>") if rows else "<p>No messages yet.</p>"
    return "".join(f"<p class=muted>{note}</p>" for note in notes) + table
