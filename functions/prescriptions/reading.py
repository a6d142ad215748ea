"""Reading prescriptions: one (for whoever may read it, also as a PDF), a caller's list, and a
patient's for their record; the users they name joined with one batched read. Reads by anyone
but the patient are audited."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from bson import ObjectId

from functions.core import audit, clock, users
from functions.core.db import object_id
from functions.core.errors import NotFound
from functions.core.security import DOCTOR, PATIENT, Principal
from functions.prescriptions import access, views
from functions.prescriptions.schemas import ListQuery
from functions.prescriptions.stores import prescriptions as store

RESOURCE = "prescription"  # the audit log's resource type


def people_of(*docs: Mapping[str, Any]) -> dict[Any, dict[str, Any]]:
    """The doctors and patients these prescriptions name, by id (one read)."""
    return users.people_by_ids(views.related_user_ids(docs))


def _readable(principal: Principal, rx_id: str) -> dict[str, Any]:
    """The prescription if the caller may read it, else the same 404 as for an unknown id.
    The id may also be an appointment's: the existing frontend asks with that one (the reference
    never found anything), and gets the newest prescription of the appointment. Reads by anyone
    but the patient are audited."""
    oid = object_id(rx_id, "Prescription")
    rx = store.get(oid) or store.latest_for_appointment(oid)
    if rx is None or not access.can_read(principal.role, principal.id, rx):
        raise NotFound.of("Prescription")
    if principal.role != PATIENT:
        audit.record(principal.user, "read", RESOURCE, rx["_id"], subject_id=rx["patient"])
    return rx


def read_one(principal: Principal, rx_id: str) -> dict[str, Any]:
    rx = _readable(principal, rx_id)
    return views.to_api(rx, people_of(rx), clock.now(), full=True,
                        patient_contact=principal.role in (PATIENT, DOCTOR))


def list_mine(principal: Principal, query: ListQuery) -> tuple[list[dict[str, Any]], int]:
    """A patient's own prescriptions, or those a doctor wrote; newest first; users joined with
    one batched read. Each carries the patient's contact (the frontend's card prints it)."""
    field = "doctor" if principal.role == DOCTOR else "patient"
    items, total = store.list_for(field, principal.id, query.skip, query.limit)
    people = people_of(*items)
    now = clock.now()
    return [views.to_api(rx, people, now, patient_contact=True) for rx in items], total


def for_patient_record(patient_id: ObjectId) -> list[dict[str, Any]]:
    """The patient's latest prescriptions (up to 100) for `GET /patient/:id/complete-data`. The
    caller has already checked the reader may see this patient's record and audited it."""
    items, _ = store.list_for("patient", patient_id, 0, 100)
    people = people_of(*items)
    now = clock.now()
    return [views.to_api(rx, people, now) for rx in items]


def pdf(principal: Principal, rx_id: str) -> tuple[str, bytes]:
    """(file name, PDF bytes). ReportLab is imported here only, on the PDF path."""
    rx = _readable(principal, rx_id)
    people = people_of(rx)
    from functions.prescriptions import pdf as rendering

    data = rendering.render(rx, people.get(rx["doctor"]), people.get(rx["patient"]), clock.now())
    return _file_name(rx), data


def _file_name(rx: Mapping[str, Any]) -> str:
    return f"prescription-{rx['prescriptionNumber']}.pdf"


PEOPLE_PER_READ = 50  # prescriptions whose people one read joins (a `$in` of at most 51 ids)


def pdfs_for_export(patient_id: ObjectId, cap: int) -> Iterator[tuple[str, bytes]]:
    """(file name, PDF bytes) of each of the patient's own prescriptions, newest first, up to
    `cap`, the same PDF `GET /prescription/:id/pdf` answers them. One read of the prescriptions,
    then one of the people they name per `PEOPLE_PER_READ`; each PDF is rendered when asked for,
    so a caller that stops early (the export's size limit) reads and renders no more."""
    items = store.documents_for(patient_id, cap)
    if not items:
        return
    from functions.prescriptions import pdf as rendering

    now = clock.now()
    for start in range(0, len(items), PEOPLE_PER_READ):
        batch = items[start:start + PEOPLE_PER_READ]
        people = people_of(*batch)
        for rx in batch:
            yield _file_name(rx), rendering.render(rx, people.get(rx["doctor"]), people.get(rx["patient"]), now)
