"""Waitlist offers: a freed slot is offered to the first eligible patient waiting for it.

When an appointment's slot is freed (a cancellation, a released payment hold, or the slot a
reschedule left: `offer_moved_from`, through the outbox's `appointments.changed`
effect, so the cancel's request path pays nothing), `offer_freed` walks the entries waiting for
that doctor on that day, first in line first, whose window holds the slot's start, and offers the
slot to the first who can take it: an appointment in status `offered` holding the slot's cells
(as a booking does, so no booking and no other offer can take them, the repair sweep sees a live
appointment, and the patient can never hold an offer and a booking that overlap) for
WAITLIST_OFFER_MINUTES. A patient busy then is skipped; when the doctor's cells are taken (a
booking came first) nobody is offered. The patient is told by a `waitlist-offer` WebSocket frame
when online, else by a message: one notice through the outbox (`outbox.notice`, whose handler is
the signaling domain's).

Failure-atomic (`core.compensation`), three steps: claim the cells (undo: release them by this
offer's hold, only once the appointment is known not to stand), mark the entry `offered` (undo:
back to waiting if it still names this offer), insert the offered appointment (undo: delete it by
the id chosen). The cells come first, so an entry is only ever marked for a slot this offer holds
(a slot a booking took never pulls the first in line away from another freed slot). Run again
after a crash, it finds the slot held (SlotTaken) and stops.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bson import ObjectId

from functions.appointments import claims
from functions.appointments.grid import aware, room_id, slot_key
from functions.appointments.messages import recipient_of, when_text
from functions.appointments.status import ACTIVE, CANCELLED, OFFERED, history_entry
from functions.appointments.stores import appointments as appointments_store
from functions.appointments.stores import waitlist as store
from functions.appointments.views import party_snapshot
from functions.core import clock, outbox, users
from functions.core.compensation import Compensations
from functions.core.config import get_settings
from functions.core.errors import PatientBusy, SlotTaken
from functions.core.observability import logger

CANDIDATES = 20  # entries read per freed slot (first in line first)
KIND = "waitlist_offer"  # the message's kind (a notice)


class EntryTaken(Exception):
    """The entry was offered another slot meanwhile (this offer's cells are given back)."""


def offer_freed(appointment_id: ObjectId) -> list[outbox.Effect]:
    """After a cancellation's claims are released: offer its slot (see the module). The messages
    to send; nothing when the appointment is not cancelled, or its slot is past or taken."""
    now = clock.now()
    freed = appointments_store.get(appointment_id)
    if freed is None or freed.get("status") != CANCELLED or aware(freed["start"]) <= now:
        return []
    return offer_slot(freed, now)


def offer_moved_from(appointment_id: ObjectId, previous_start: datetime) -> list[outbox.Effect]:
    """After a reschedule (its old cells settled on the request path): offer the slot it left,
    when that is ahead. A move to an overlapping time leaves no whole slot: the claim says so."""
    now = clock.now()
    moved = appointments_store.get(appointment_id)
    if moved is None or moved.get("status") not in ACTIVE or previous_start <= now:
        return []
    local = previous_start.astimezone(ZoneInfo(str(moved.get("timezone") or "UTC")))
    length = aware(moved["end"]) - aware(moved["start"])
    left = {**moved, "start": previous_start, "end": previous_start + length, "day": local.date().isoformat(),
            "time": f"{local:%H:%M}"}
    return offer_slot(left, now)


def _in_window(entry: dict[str, Any], time: str) -> bool:
    return str(entry["from"]) <= time < str(entry["to"])


def offer_slot(slot: dict[str, Any], now: datetime, skip: ObjectId | None = None) -> list[outbox.Effect]:
    """Offer the slot of `slot` (an appointment document that no longer holds it) to the first
    eligible waiting patient (not `skip`)."""
    entries = store.waiting_for(slot["doctor"], str(slot["day"]), CANDIDATES)
    return offer_to(slot, [e for e in entries if e["patient"] != skip], now)[0]


def offer_to(slot: dict[str, Any], entries: list[dict[str, Any]], now: datetime
             ) -> tuple[list[outbox.Effect], ObjectId | None]:
    """Offer the slot to the first of `entries` (first in line first) whose window holds its start
    and who can take it (a patient busy then, or offered another slot meanwhile, is passed over).
    `slot` holds what an appointment of the slot needs (`doctor`, `day`, `time`, `start`, `end`,
    `timezone`, `durationMinutes`, `bufferMinutes`, `requiresConfirmation`; `patient`, who left
    it, is never offered it back). The messages to send and the entry offered it (None: nobody)."""
    candidates = [e for e in entries if _in_window(e, str(slot["time"])) and e["patient"] != slot.get("patient")]
    if not candidates:
        return [], None
    people = users.users_by_id([slot["doctor"], *(e["patient"] for e in candidates)])
    for entry in candidates:
        patient = people.get(entry["patient"])
        if patient is None:
            continue
        try:
            offered = _offer(entry, patient, slot, people.get(slot["doctor"]) or {}, now)
        except SlotTaken:
            return [], None  # a booking (or another offer) holds the slot now
        except (PatientBusy, EntryTaken):
            continue  # this patient holds something at that time, or another offer: the next in line
        return _tell(patient, offered), entry["_id"]
    return [], None


def _offer(entry: dict[str, Any], patient: dict[str, Any], slot: dict[str, Any], doctor: dict[str, Any],
           now: datetime) -> dict[str, Any]:
    """The three steps (see the module's docstring): the offered appointment."""
    settings = get_settings()
    appointment_id, entry_id = ObjectId(), entry["_id"]
    start, end = aware(slot["start"]), aware(slot["end"])
    expires = now + timedelta(minutes=settings.waitlist_offer_minutes)
    doc: dict[str, Any] = {
        "_id": appointment_id, "patient": entry["patient"], "doctor": slot["doctor"],
        "description": "Waitlist offer", "symptoms": "", "day": slot["day"], "time": slot["time"],
        "timezone": slot.get("timezone"), "start": start, "end": end,
        "durationMinutes": slot.get("durationMinutes"), "bufferMinutes": int(slot.get("bufferMinutes") or 0),
        "status": OFFERED, "offerExpiresAt": expires, "waitlistEntry": entry_id,
        "statusHistory": [history_entry(OFFERED, None, "system", now, action="waitlist offer")],
        "requiresConfirmation": bool(slot.get("requiresConfirmation", False)), "roomId": room_id(),
        "slotKey": slot_key(slot["doctor"], start), "patientSlotKey": slot_key(entry["patient"], start),
        "parties": {"patient": party_snapshot(patient, doctor=False),
                    "doctor": (slot.get("parties") or {}).get("doctor") or party_snapshot(doctor, doctor=True)},
        "reminderOffsets": [], "remindersSent": {}, "createdAt": now, "updatedAt": now,
    }
    offer = {"appointment": appointment_id, "day": slot["day"], "time": slot["time"], "start": start,
             "expiresAt": expires}
    written = claims.ClaimedInsert(appointment_id, f"offer|{appointment_id}")
    with Compensations("waitlist offer") as undo:
        undo.step("claim the cells", written.release_claims)
        claims.claim_cells(slot["doctor"], entry["patient"], appointment_id, start, end,
                           int(slot.get("bufferMinutes") or 0), written.hold, now)
        undo.step("mark the entry offered", lambda: store.back_to_waiting(entry_id, appointment_id, now))
        if store.take_for_offer(entry_id, offer, now) is None:
            raise EntryTaken()
        undo.step("insert the offered appointment", written.delete_appointment)
        written.insert(doc)
    logger.info("waitlist slot offered")
    return doc


def _tell(patient: dict[str, Any], offered: dict[str, Any]) -> list[outbox.Effect]:
    """The offer's notice to the patient (`outbox.notice`): a `waitlist-offer` frame pushed to
    their live WebSocket connections by the signaling domain's handler, else the message (no PHI:
    the time and a link)."""
    frame = {"type": "waitlist-offer", "entryId": str(offered["waitlistEntry"]), "appointmentId": str(offered["_id"]),
             "doctor": str(offered["doctor"]),
             "doctorName": ((offered.get("parties") or {}).get("doctor") or {}).get("name"),
             "day": offered["day"], "time": offered["time"], "expiresAt": aware(offered["offerExpiresAt"]).isoformat()}
    recipient = recipient_of(patient, patient["_id"])
    message = None
    if recipient is not None:
        settings = get_settings()
        body = (f"CureConnect: a slot on {when_text(aware(offered['start']), recipient.timezone)} you are waiting "
                f"for is free and held for you for {settings.waitlist_offer_minutes} minutes. Accept it: "
                f"{settings.app_base_url.rstrip('/')}/appointments")
        message = outbox.message(recipient.contact_type, recipient.contact, "CureConnect: a slot for you", body,
                                 kind=KIND, ref=offered["_id"], sender=None)
    return [outbox.notice(patient["_id"], frame, message, ref=offered["_id"])]
