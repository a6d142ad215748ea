"""The prescriptions domain's public seam: the only module other domains import from it.

What filling an order takes from a prescription (`reserve_for_order`) and gives back
(`release_for_order`), in `RxLine`s, and a patient's prescriptions for their record. Each
function imports the use cases when it is called (the PDF renderer never loads with them).
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from functions.prescriptions.lines import RxLine

__all__ = ["RxLine", "for_patient_record", "release_for_order", "reserve_for_order"]


def reserve_for_order(prescription_id: str, patient_id: ObjectId, pharmacist_id: ObjectId,
                      lines: list[RxLine]) -> None:
    """Take the ordered quantities from the patient's active, unexpired prescription (all or
    nothing; the refusal explains itself)."""
    from functions.prescriptions import dispensing

    dispensing.reserve_for_order(prescription_id, patient_id, pharmacist_id, lines)


def release_for_order(prescription_id: str, lines: list[RxLine]) -> None:
    """Give back what an order had reserved (never above what was prescribed)."""
    from functions.prescriptions import dispensing

    dispensing.release_for_order(prescription_id, lines)


def for_patient_record(patient_id: ObjectId) -> list[dict[str, Any]]:
    """The patient's latest prescriptions, for a record the caller may already see (audited)."""
    from functions.prescriptions import reading

    return reading.for_patient_record(patient_id)
