"""Claims and seats: what makes overlapping bookings, and bursts past the limits, impossible.

The owner of the `appointment_claims` collection: its documents, its indexes, and the
algorithm that takes them for a booking or a move (the use cases only say when).

Cells: an active appointment holds a claim document `doctor|cell` (its time plus the doctor's
buffer) and `patient|cell` for every 5-minute cell of absolute time it covers
(`grid.claim_ids`). Claims are keyed by `_id`, so the database refuses a second holder of any
cell whatever the slot lengths, grid changes or clock changes; they are inserted in one ordered
`insert_many` and released in one `delete_many` (by the appointment id, an indexed equality).

Seats: the abuse limits (MAX_ACTIVE_PER_DOCTOR, MAX_ACTIVE_PER_PATIENT) are documents of the
same collection, `limit|<patient>|<doctor>|<k>` (k < the per-doctor limit) and
`limit|<patient>|<k>` (k < the overall limit), each holding one appointment (`appt`) until its
end (`until`), kind "seat". A booking takes one of each, by `_id`, so no burst can hold more
seats than exist; a cancellation's `delete_many` by appointment frees them with its cells, a
completion frees them by `release_seats`, and a seat whose appointment has ended is taken over
by one conditional upsert (`take_ended_seat`), so nothing needs sweeping.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bson import ObjectId
from pymongo import ASCENDING, IndexModel

from functions.appointments.grid import aware, claim_ids
from functions.appointments.status import ACTIVE, OFFERED
from functions.appointments.stores import appointments as appointments_store
from functions.appointments.stores.appointments import states
from functions.core.config import get_settings
from functions.core.db import get_db, insert_many_unless_duplicate, unless_duplicate
from functions.core.errors import Code, Conflict, PatientBusy, SlotTaken

if TYPE_CHECKING:
    from pymongo.database import Database

CLAIMS = "appointment_claims"

INDEXES = {
    CLAIMS: [
        IndexModel([("appt", ASCENDING)], name="by_appointment"),
        IndexModel([("day", ASCENDING)], name="by_day"),  # the sweeper drops the claims of past days
        IndexModel([("madeOn", ASCENDING)], name="by_made_on"),  # the repair sweep reads recent claims
    ],
}


# ---------------------------------------------------------------- the algorithm


def cells_of(doctor_id: ObjectId, patient_id: ObjectId, start: datetime, end: datetime,
             buffer_minutes: int) -> tuple[list[str], int]:
    """The doctor's cells (the slot and the buffer after it) then the patient's; and how many
    of them are the doctor's (a refusal below that index means the doctor is busy)."""
    doctor_cells = claim_ids(doctor_id, start, end + timedelta(minutes=buffer_minutes))
    return doctor_cells + claim_ids(patient_id, start, end), len(doctor_cells)


def _claim(cells: list[str], doctor_cells: int, appointment_id: ObjectId, hold: str, now: datetime) -> None:
    """Insert the claims or raise the 409 that says whose time is taken. The claims inserted
    before the refused one stay: the caller's compensation (`release_hold`) removes them, as it
    does on any other failure."""
    try:
        insert_claims(cells, appointment_id, hold, now)
    except ClaimRefused as refused:
        if refused.index < doctor_cells:
            raise SlotTaken() from None
        raise PatientBusy() from None


def claim_cells(doctor_id: ObjectId, patient_id: ObjectId, appointment_id: ObjectId, start: datetime, end: datetime,
                buffer_minutes: int, hold: str, now: datetime) -> None:
    """Take the cells of a slot (no seats: a waitlist offer), held by `hold`, or raise SlotTaken
    or PatientBusy; the caller's compensation is `release_hold(appointment_id, hold)`."""
    cells, doctor_cells = cells_of(doctor_id, patient_id, start, end, buffer_minutes)
    _claim(cells, doctor_cells, appointment_id, hold, now)


def _seat_conflict(overall: bool) -> Conflict:
    settings = get_settings()
    if overall:
        return Conflict(f"You already have {settings.max_active_per_patient} upcoming appointments, the most allowed",
                        code=Code.TOO_MANY_APPOINTMENTS)
    return Conflict(f"You already have {settings.max_active_per_doctor} upcoming appointments with this doctor",
                    code=Code.TOO_MANY_WITH_DOCTOR)


def claim_booking(patient_id: ObjectId, doctor_id: ObjectId, appointment_id: ObjectId, start: datetime,
                  end: datetime, buffer_minutes: int, now: datetime) -> None:
    """Take the booking's cells, a free seat with this doctor and a free overall seat, or raise
    the 409 that says whose time is taken or which limit is reached. What it took is held by
    `str(appointment_id)`: `release_hold` with it gives all of it back, and the caller does so
    (its compensation) whatever this raises, the 409s included.

    The seats are read once. Free seats that do not exist are inserted after the cells in the
    same ordered `insert_many`, so a booking whose time is taken never holds a seat, not even
    for a moment (a burst of overlapping bookings gets PATIENT_BUSY, not a limit); a seat whose
    appointment has ended is then taken over by one conditional upsert. A seat a concurrent
    booking of the same patient took meanwhile is crossed off and the next free one tried,
    after giving back everything this attempt took; when none is left, the limit is reached
    (each refusal was a seat held by a booking that got past its own cells). A cell refused
    because a cancelled appointment still holds it (its claims are freed by the outbox's worker,
    a moment after the cancel) is freed here (`free_dead_holder`) and the claims taken again."""
    hold = str(appointment_id)
    cells, doctor_cells = cells_of(doctor_id, patient_id, start, end, buffer_minutes)
    _take_seats(cells, doctor_cells, patient_id, doctor_id, appointment_id, hold, end, now)


def claim_seats(patient_id: ObjectId, doctor_id: ObjectId, appointment_id: ObjectId, hold: str, end: datetime,
                now: datetime) -> None:
    """Take a free seat with this doctor and a free overall seat (a waitlist offer accepted: its
    cells are held already), held by `hold`, or raise the 409 of the limit reached; the caller's
    compensation is `release_hold(appointment_id, hold)`."""
    _take_seats([], 0, patient_id, doctor_id, appointment_id, hold, end, now)


def _take_seats(cells: list[str], doctor_cells: int, patient_id: ObjectId, doctor_id: ObjectId,
                appointment_id: ObjectId, hold: str, end: datetime, now: datetime) -> None:
    """`cells` (may be none) and the seats, by the algorithm `claim_booking` describes."""
    settings = get_settings()
    per_doctor, overall = seat_ids(patient_id, doctor_id, settings.max_active_per_doctor,
                                   settings.max_active_per_patient)
    held = held_seats(per_doctor + overall)

    def free(ids: list[str]) -> list[str]:  # absent seats first: they cost no extra round trip
        return [s for s in ids if s not in held] + [s for s in ids if s in held and held[s] <= now]

    free_doctor, free_overall = free(per_doctor), free(overall)
    takeovers = 0
    while True:
        if not free_overall or not free_doctor:
            raise _seat_conflict(overall=not free_overall)
        chosen = (free_doctor[0], free_overall[0])
        fresh = [seat_doc(seat, appointment_id, hold, end, now) for seat in chosen if seat not in held]
        refused: str | None = None
        try:
            insert_claims(cells, appointment_id, hold, now, seats=fresh)
        except ClaimRefused as exc:
            if exc.index < len(cells) and takeovers < MAX_TAKEOVERS and free_dead_holder(cells[exc.index], cells):
                takeovers += 1  # a cancelled appointment's cells the worker has not freed yet: try again
                release_hold(appointment_id, hold)
                continue
            if exc.index < doctor_cells:  # the caller's compensation removes what this attempt took
                raise SlotTaken() from None
            if exc.index < len(cells):
                raise PatientBusy() from None
            release_hold(appointment_id, hold)
            refused = str(fresh[exc.index - len(cells)]["_id"])
        else:
            refused = next((seat for seat in chosen if seat in held
                            and not take_ended_seat(seat, appointment_id, hold, end, now)), None)
            if refused is None:
                return
            release_hold(appointment_id, hold)
        (free_doctor if refused in free_doctor else free_overall).remove(refused)


MAX_TAKEOVERS = 3  # holders a booking frees cells of at most (a slot's cells rarely have more than two)


def free_dead_holder(cell: str, cells: Sequence[str]) -> bool:
    """Only after a booking's claim was refused (no round trip on the normal path): is the cell's
    holder an appointment that no longer holds time (cancelled, completed, no-show; a waitlist
    offer does hold it) whose claims
    the outbox's worker has not freed yet? Then its claims among `cells` are freed now, by a
    delete conditional on that holder (a cell someone else took meanwhile is never touched), and
    True says try again; the database's `_id` still decides between concurrent bookings. A holder
    that is live, or not stored yet (a booking in flight names its appointment before it
    exists), keeps the cell: False. True too when the cell was freed since the refusal."""
    found = get_db()[CLAIMS].find_one({"_id": cell}, {"appt": 1})
    if found is None:
        return True
    holder = states([found["appt"]]).get(found["appt"])
    if holder is None or holder.get("status") in (*ACTIVE, OFFERED):  # a waitlist offer holds its time too
        return False
    release_claims(found["appt"], list(cells))
    return True


class Move:
    """The claims of an appointment moving to another slot. `claim` takes the new cells it does
    not hold yet (held by `hold`, chosen before the write so `give_back` undoes it whatever
    happened to the reply); after the move is written, `settle` frees the cells it no longer
    covers; if the move is not written, `give_back` removes the new claims and changes nothing."""

    def __init__(self, appt: dict[str, Any], start: datetime, end: datetime, buffer_minutes: int) -> None:
        oid, doctor_id, patient_id = appt["_id"], appt["doctor"], appt["patient"]
        self.appointment_id, self.hold = oid, str(ObjectId())
        self.held, _ = cells_of(doctor_id, patient_id, aware(appt["start"]), aware(appt["end"]),
                                int(appt.get("bufferMinutes") or 0))
        self.wanted, self._doctor_cells = cells_of(doctor_id, patient_id, start, end, buffer_minutes)

    def claim(self, now: datetime) -> None:
        """Claim the cells of the new slot (and its buffer) not held yet, or raise the 409 that
        says whose time is taken (having taken nothing)."""
        held_now = set(self.held)
        new_cells = [c for c in self.wanted if c not in held_now]  # doctor's first, as in `wanted`
        _claim(new_cells, sum(1 for c in self.wanted[:self._doctor_cells] if c not in held_now),
               self.appointment_id, self.hold, now)

    def give_back(self) -> None:
        release_hold(self.appointment_id, self.hold)

    def settle(self) -> None:
        wanted = set(self.wanted)
        release_claims(self.appointment_id, [c for c in self.held if c not in wanted])


# ---------------------------------------------------------------- claims


class ClaimRefused(Exception):
    """A cell is held already: `index` is the position of the refused claim in the request."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


def made(now: datetime) -> dict[str, Any]:
    """When a claim or seat was taken (`at`) and its UTC day (`madeOn`): the repair sweep reads
    the recent ones by day and leaves alone those younger than REPAIR_AFTER_SECONDS."""
    return {"at": now, "madeOn": f"{now.astimezone(UTC):%Y-%m-%d}"}


def claim_doc(claim_id: str, appointment_id: ObjectId, hold: str, now: datetime) -> dict[str, Any]:
    """A claim: its cell's UTC day (for the sweeper), who holds it (`appt`: the id the booking
    chose before it claimed, so a claim names its appointment even before that exists) and when
    it was taken; `hold` names the write that made it, so a failed write removes exactly its own
    claims."""
    cell = claim_id.rsplit("|", 1)[1]
    return {"_id": claim_id, "appt": appointment_id, "hold": hold, "day": cell[:10], **made(now)}


def insert_claims(cells: Sequence[str], appointment_id: ObjectId, hold: str, now: datetime,
                  seats: Sequence[dict[str, Any]] = ()) -> None:
    """All the claims, then the `seats` documents if any, in one ordered `insert_many` round
    trip; the first document held by someone else stops it (ClaimRefused with its index, the
    seats counted after the claims). The caller then calls `release_hold`: documents before the
    refused one were inserted."""
    if not cells and not seats:
        return
    refusal = insert_many_unless_duplicate(
        get_db()[CLAIMS], [*(claim_doc(c, appointment_id, hold, now) for c in cells), *seats], ordered=True)
    if refusal:
        raise ClaimRefused(refusal.refused[0])


def release_hold(appointment_id: ObjectId, hold: str) -> int:
    """Compensation: remove the claims one write made (one round trip)."""
    return int(get_db()[CLAIMS].delete_many({"appt": appointment_id, "hold": hold}).deleted_count)


class ClaimedInsert:
    """The two writes of a use case that claims an appointment's cells (by `hold`) and then
    inserts the appointment (a booking, a waitlist offer), with the compensation of each: the
    claims are released only once the appointment is known not to stand, so a failed delete
    leaves a stored appointment that holds its claims, never one without them.

        with Compensations("book") as undo:
            undo.step("claim the cells", written.release_claims)
            ...claim the cells by `hold`...
            undo.step("insert the appointment", written.delete_appointment)
            written.insert(doc)
    """

    __slots__ = ("_stands", "appointment_id", "hold")

    def __init__(self, appointment_id: ObjectId, hold: str) -> None:
        self.appointment_id, self.hold = appointment_id, hold
        self._stands = False  # the appointment may stand (its delete began and did not finish)

    def release_claims(self) -> None:
        if not self._stands:
            release_hold(self.appointment_id, self.hold)

    def delete_appointment(self) -> None:
        self._stands = True
        appointments_store.delete_unanswered(self.appointment_id)
        self._stands = False

    def insert(self, doc: dict[str, Any]) -> None:
        """Insert the appointment; SlotTaken or PatientBusy when a unique key refuses it."""
        clash = appointments_store.insert_appointment(doc)
        if clash == "slot":
            raise SlotTaken()
        if clash:
            raise PatientBusy()


def release_claims(appointment_id: ObjectId, cells: Sequence[str] | None = None) -> int:
    """Free the appointment's cells (all of them, or those listed) in one round trip. Filtered by
    the appointment, so a cell someone else claimed since is never touched."""
    query: dict[str, Any] = {"appt": appointment_id}
    if cells is not None:
        if not cells:
            return 0
        query["_id"] = {"$in": list(cells)}
    return int(get_db()[CLAIMS].delete_many(query).deleted_count)


def purge_claims_of_day(day: str) -> int:
    """Claims of a past UTC day can never clash with a booking again (no booking starts in the past)."""
    return int(get_db()[CLAIMS].delete_many({"day": day}).deleted_count)


def recent(made_on: str, cutoff: datetime) -> list[dict[str, Any]]:
    """The claims and seats taken on UTC day `made_on` at or before `cutoff` (the repair sweep's
    read: `_id`, holder and kind)."""
    return list(get_db()[CLAIMS].find({"madeOn": made_on, "at": {"$lte": cutoff}}, {"appt": 1, "kind": 1}))


def claimed_by(db: Database[dict[str, Any]], appointment_id: ObjectId) -> set[str]:
    """The ids of the claims (and seats) the appointment holds (the migrations' read)."""
    return {c["_id"] for c in db[CLAIMS].find({"appt": appointment_id}, {"_id": 1})}


def insert_missing(db: Database[dict[str, Any]], docs: list[dict[str, Any]]) -> tuple[int, int]:
    """Insert what no one holds yet, in one unordered `insert_many`: (inserted, refused)."""
    refusal = insert_many_unless_duplicate(db[CLAIMS], docs, ordered=False)
    return refusal.inserted, len(refusal.refused)


# ---------------------------------------------------------------- seats


def seat_ids(patient_id: ObjectId, doctor_id: ObjectId, per_doctor: int, overall: int) -> tuple[list[str], list[str]]:
    """The patient's seats with this doctor, and overall (see the module's docstring)."""
    return ([f"limit|{patient_id}|{doctor_id}|{k}" for k in range(per_doctor)],
            [f"limit|{patient_id}|{k}" for k in range(overall)])


def seat_doc(seat_id: str, appointment_id: ObjectId, hold: str, until: datetime, now: datetime) -> dict[str, Any]:
    """A seat held by the appointment until its end; `day` (of `until`) lets the claims purge
    drop it once long ended, `hold` lets a failed booking remove it with its cells."""
    return {"_id": seat_id, "appt": appointment_id, "hold": hold, "kind": "seat", "until": until,
            "day": f"{until.astimezone(UTC):%Y-%m-%d}", **made(now)}


def held_seats(ids: Sequence[str]) -> dict[str, datetime]:
    """The seats among `ids` that exist, with the end of the appointment holding each (one
    `_id $in` read of at most the two limits' worth of ids). A missing seat is free; one
    whose `until` has passed is free to take over."""
    found = get_db()[CLAIMS].find({"_id": {"$in": list(ids)}}, {"until": 1})
    return {doc["_id"]: doc["until"].replace(tzinfo=UTC) if doc["until"].tzinfo is None else doc["until"]
            for doc in found}


def take_ended_seat(seat_id: str, appointment_id: ObjectId, hold: str, until: datetime, now: datetime,
                    db: Database[dict[str, Any]] | None = None) -> bool:
    """Take over a seat whose appointment has ended (or that was freed since it was read): one
    conditional upsert on `_id`. False when someone holds it now: the filter does not match and
    the upsert's insert collides on `_id`."""
    doc = seat_doc(seat_id, appointment_id, hold, until, now)
    fields = {k: v for k, v in doc.items() if k != "_id"}
    with unless_duplicate() as held:
        (db if db is not None else get_db())[CLAIMS].update_one(
            {"_id": seat_id, "until": {"$lte": now}}, {"$set": fields}, upsert=True)
    return not held


def release_seats(appointment_id: ObjectId) -> int:
    """Free the appointment's limit seats, not its cells (completed or no-show): one round trip."""
    return int(get_db()[CLAIMS].delete_many({"appt": appointment_id, "kind": "seat"}).deleted_count)


def move_seats(appointment_id: ObjectId, until: datetime) -> int:
    """A rescheduled appointment holds its seats until its new end (one round trip)."""
    result = get_db()[CLAIMS].update_many({"appt": appointment_id, "kind": "seat"},
                                          {"$set": {"until": until, "day": f"{until.astimezone(UTC):%Y-%m-%d}"}})
    return int(result.matched_count)


def holds_a_seat(db: Database[dict[str, Any]], appointment_id: ObjectId) -> bool:
    """Does the appointment hold any seat (the migrations' read)?"""
    return db[CLAIMS].find_one({"appt": appointment_id, "kind": "seat"}, {"_id": 1}) is not None


def seats_held_until_after(db: Database[dict[str, Any]], ids: list[str], now: datetime) -> set[str]:
    """The seats among `ids` held by an appointment that has not ended (the migrations' read)."""
    return {d["_id"] for d in db[CLAIMS].find({"_id": {"$in": ids}, "until": {"$gt": now}}, {"_id": 1})}
