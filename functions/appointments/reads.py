"""Reading appointments: the caller's list (GET /appointment/my) and one appointment.

Round trips (the guard's user read included): the list 2-3 (a count only when the page does
not tell the total), one appointment 2; a doctor's or admin's read adds its audit entry.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from functions.appointments.schemas import MyQuery
from functions.appointments.status import STATUSES, participant_role
from functions.appointments.stores import appointments as store
from functions.appointments.views import appointment_to_api
from functions.core import audit, clock, users
from functions.core.db import object_id
from functions.core.errors import NotFound
from functions.core.security import ADMIN, DOCTOR, PATIENT, Principal

UNPAGED_LIMIT = 100


def my_appointments(caller: Principal, query: MyQuery) -> tuple[list[dict[str, Any]], int, int, int]:
    """The caller's appointments: (items, total, page, limit). Without `page`/`limit` (the
    existing frontend never pages): up to 100, those not over yet soonest first, then the past
    ones most recent first. The doctor's list carries each patient's current contact (one `$in`
    read) and is audited, since it shows their symptoms."""
    is_doctor = caller.role == DOCTOR
    field_name = "doctor" if is_doctor else "patient"
    statuses = query.statuses or list(STATUSES)  # never a waitlist offer not accepted yet (`OFFERED`)
    if query.paged:
        items, total = store.list_for(field_name, caller.id, statuses, query.skip, query.limit)
        page, limit = query.page, query.limit
    else:
        items, total = store.list_now_first(field_name, caller.id, statuses, clock.now(), UNPAGED_LIMIT)
        page, limit = 1, UNPAGED_LIMIT
    contacts: dict[Any, str | None] = {}
    if is_doctor and items:
        people = users.users_by_id(list({a["patient"] for a in items}))
        contacts = {pid: person.get("contact") for pid, person in people.items()}
        shown = Counter(a["patient"] for a in items)  # each patient's access log shows the listing
        audit.record_per_subject(caller.user, "list", "appointment", shown,
                                 lambda n: f"{n} appointment{'' if n == 1 else 's'} with symptoms")
    shaped = [appointment_to_api(a, full=False, patient_contact=contacts.get(a["patient"]) if is_doctor else None)
              for a in items]
    return shaped, total, page, limit


def read_one(caller: Principal, appointment_id: str) -> dict[str, Any]:
    """Participants and admins only; anyone else gets 404 (D-08: the reference let anyone read
    any appointment). Doctors' and admins' reads of a patient's appointment are audited."""
    appt = store.get(object_id(appointment_id, "Appointment"))
    role = participant_role(appt, caller.id) if appt else None
    if appt is None or (role is None and caller.role != ADMIN):
        raise NotFound.of("Appointment")
    if role != PATIENT:
        audit.record(caller.user, "read", "appointment", appt["_id"], subject_id=appt["patient"])
    return appointment_to_api(appt)
