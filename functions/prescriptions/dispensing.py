"""What a pharmacy order takes from a prescription and gives back (called through `api`): all
lines or none, in one conditional write, so concurrent orders never dispense more than was
prescribed."""

from __future__ import annotations

from bson import ObjectId

from functions.core import clock
from functions.core.db import object_id
from functions.core.errors import NotFound
from functions.core.observability import logger
from functions.prescriptions.lines import RxLine, check_dispensable, invalid, plan_gives, plan_takes
from functions.prescriptions.stores import prescriptions as store


def reserve_for_order(prescription_id: str, patient_id: ObjectId, pharmacist_id: ObjectId,
                      lines: list[RxLine]) -> None:
    """Consume the ordered quantities from the patient's active, unexpired prescription, all
    lines or none, in one conditional write (so concurrent orders never dispense more than was
    prescribed), and let `pharmacist_id` read the prescription and its PDF from then on.
    Raises `Unprocessable(code=Code.PRESCRIPTION_INVALID)` explaining what is wrong."""
    rx_oid = _rx_id_or_invalid(prescription_id)
    now = clock.now()
    rx = check_dispensable(store.get(rx_oid), patient_id, now)
    takes = plan_takes(rx, lines)
    if store.consume(rx_oid, patient_id, now, takes, pharmacist_id):
        return
    # The write lost a race (or the state changed since the read): explain from a fresh read.
    fresh = check_dispensable(store.get(rx_oid), patient_id, now)
    plan_takes(fresh, lines)
    raise invalid("The prescription changed meanwhile; try again")


def release_for_order(prescription_id: str, lines: list[RxLine]) -> None:
    """Give back quantities an order had reserved (order cancelled or never created). Never
    raises for an unknown prescription; never lifts a quantity above what was prescribed."""
    rx_oid = _rx_id_or_invalid(prescription_id)
    rx = store.get(rx_oid)
    if rx is None:
        return
    gives = plan_gives(rx, lines)
    if gives and not store.give_back(rx_oid, gives, clock.now()):
        logger.warning("prescription release refused (would exceed the prescribed quantity)",
                       extra={"prescriptionId": str(rx_oid)})


def _rx_id_or_invalid(prescription_id: str) -> ObjectId:
    try:
        return object_id(prescription_id, "Prescription")
    except NotFound:
        raise invalid("The prescription was not found for this patient") from None
