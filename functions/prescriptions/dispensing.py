"""What a pharmacy order takes from a prescription and gives back (called through `api`): all
lines or none, in one conditional write, so concurrent orders never dispense more than was
prescribed."""

from __future__ import annotations

from datetime import datetime

from bson import ObjectId

from functions.core import clock
from functions.core.db import object_id
from functions.core.errors import NotFound
from functions.core.observability import logger
from functions.prescriptions.lines import RxLine, check_dispensable, invalid, plan_gives, plan_takes
from functions.prescriptions.stores import prescriptions as store


def reserve_for_order(prescription_id: str, patient_id: ObjectId, pharmacist_id: ObjectId,
                      lines: list[RxLine], order_id: ObjectId) -> None:
    """Consume the ordered quantities from the patient's active, unexpired prescription, all
    lines or none, in one conditional write (so concurrent orders never dispense more than was
    prescribed), and let `pharmacist_id` read the prescription and its PDF from then on.
    Raises `Unprocessable(code=Code.PRESCRIPTION_INVALID)` explaining what is wrong."""
    rx_oid = _rx_id_or_invalid(prescription_id)
    now = clock.now()
    rx = check_dispensable(store.get(rx_oid), patient_id, now)
    takes = plan_takes(rx, lines)
    if store.consume(rx_oid, patient_id, now, takes, pharmacist_id, order_id):
        return
    # The write lost a race (or the state changed since the read): explain from a fresh read.
    fresh = check_dispensable(store.get(rx_oid), patient_id, now)
    plan_takes(fresh, lines)
    raise invalid("The prescription changed meanwhile; try again")


def release_for_order(prescription_id: str, order_id: ObjectId, legacy_lines: list[RxLine] | None = None) -> None:
    """Give back what the order had reserved (order cancelled or never created): exactly what its
    reservation record says, at most once, nothing when it never applied. `legacy_lines`: an
    order reserved before reservations were recorded gives back its lines (never above what was
    prescribed). Never raises for an unknown or malformed prescription id (it is a compensation)."""
    if not ObjectId.is_valid(prescription_id):
        return
    rx_oid = ObjectId(prescription_id)
    rx = store.get(rx_oid)
    if rx is None:
        return
    record = (rx.get("reservations") or {}).get(str(order_id))
    if record is not None:
        store.release_reservation(rx_oid, order_id, record.get("takes") or {}, clock.now())
        return
    if legacy_lines is None:
        return
    gives = plan_gives(rx, legacy_lines)
    if gives and not store.give_back(rx_oid, gives, clock.now()):
        logger.warning("prescription release refused (would exceed the prescribed quantity)",
                       extra={"prescriptionId": str(rx_oid)})


def pending_reservations(cap: int) -> list[tuple[ObjectId, ObjectId, datetime]]:
    """(prescription, order, reserved at) of the recorded reservations, up to `cap` prescriptions."""
    out: list[tuple[ObjectId, ObjectId, datetime]] = []
    for rx in store.with_pending_reservations(cap):
        records = rx.get("reservations") or {}
        if not records:
            store.clear_pending_flag(rx["_id"])
        out.extend((rx["_id"], ObjectId(order), record["at"]) for order, record in records.items())
    return out


def settle_for_order(prescription_id: ObjectId, order_id: ObjectId) -> None:
    """The order stands: forget its reservation record (what it took stays taken)."""
    store.settle_reservation(prescription_id, order_id)


def _rx_id_or_invalid(prescription_id: str) -> ObjectId:
    try:
        return object_id(prescription_id, "Prescription")
    except NotFound:
        raise invalid("The prescription was not found for this patient") from None
