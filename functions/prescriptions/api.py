"""The prescriptions domain's public seam: the only module other domains import from it.

What filling an order takes from a prescription (`reserve_for_order`) and gives back
(`release_for_order`), in `RxLine`s, a patient's prescriptions for their record, and for their
data export (the documents, and their PDFs). Each function imports the use cases when it is
called (the PDF renderer never loads with them).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from bson import ObjectId

from functions.prescriptions.lines import RxLine

__all__ = [
    "RxLine",
    "end_retention",
    "for_export",
    "for_patient_record",
    "pdfs_for_export",
    "pending_reservations",
    "release_for_order",
    "reserve_for_order",
    "settle_for_order",
]


def reserve_for_order(prescription_id: str, patient_id: ObjectId, pharmacist_id: ObjectId,
                      lines: list[RxLine], order_id: ObjectId) -> None:
    """Take the ordered quantities from the patient's active, unexpired prescription (all or
    nothing; the refusal explains itself), recording the reservation of `order_id` in the same write."""
    from functions.prescriptions import dispensing

    dispensing.reserve_for_order(prescription_id, patient_id, pharmacist_id, lines, order_id)


def release_for_order(prescription_id: str, order_id: ObjectId, legacy_lines: list[RxLine] | None = None) -> None:
    """Give back what the order had reserved, at most once (`legacy_lines`: an order reserved
    before reservations were recorded)."""
    from functions.prescriptions import dispensing

    dispensing.release_for_order(prescription_id, order_id, legacy_lines)


def pending_reservations(cap: int) -> list[tuple[ObjectId, ObjectId, datetime]]:
    """(prescription, order, reserved at) of the reservations still recorded, for the repair sweep."""
    from functions.prescriptions import dispensing

    return dispensing.pending_reservations(cap)


def settle_for_order(prescription_id: ObjectId, order_id: ObjectId) -> None:
    """The order stands: forget its reservation record."""
    from functions.prescriptions import dispensing

    dispensing.settle_for_order(prescription_id, order_id)


def for_patient_record(patient_id: ObjectId) -> list[dict[str, Any]]:
    """The patient's latest prescriptions, for a record the caller may already see (audited)."""
    from functions.prescriptions import reading

    return reading.for_patient_record(patient_id)


def for_export(patient_id: ObjectId, cap: int) -> list[dict[str, Any]]:
    """Up to `cap` of the patient's prescriptions, newest first (one read): their data export."""
    from functions.prescriptions.stores import prescriptions as store

    return store.list_for("patient", patient_id, 0, cap)[0]


def pdfs_for_export(patient_id: ObjectId, cap: int) -> Iterator[tuple[str, bytes]]:
    """(file name, PDF bytes) of up to `cap` of the patient's prescriptions, newest first, each
    rendered when the caller asks for the next (batched reads): their data export's archive."""
    from functions.prescriptions import reading

    return reading.pdfs_for_export(patient_id, cap)


def end_retention(patient_id: ObjectId) -> int:
    """An erased patient's prescriptions after RECORD_RETENTION_YEARS: deleted (idempotent)."""
    from functions.prescriptions.stores import prescriptions

    return prescriptions.delete_of_patient(patient_id)
