"""The page a printed prescription's QR code opens (`GET /prescription/verify/<code>` from a
browser): the same facts as the JSON answer (`views.verify_view`), every value escaped."""

from __future__ import annotations

from typing import Any

from chalice.app import Response

from functions.core.config import get_settings
from functions.core.pages import esc, page
from functions.prescriptions import views

_MED_COLUMNS = (("Dose", "dosage"), ("Frequency", "frequency"), ("Route", "route"), ("Duration", "duration"),
                ("Quantity", "quantity"), ("Refills", "refills"))


def _medicine(med: dict[str, Any]) -> str:
    name = " ".join(esc(v) for v in (med.get("name"), med.get("strength")) if v)
    generic = f"<br><small>{esc(med['genericName'])}</small>" if med.get("genericName") else ""
    cells = "".join(f"<td>{esc(med.get(key))}</td>" for _, key in _MED_COLUMNS)
    return f"<tr><td><strong>{name}</strong>{generic}</td>{cells}</tr>"


def verification(view: dict[str, Any]) -> Response:
    """`view` is `views.verify_view(...)`: valid or not, status, number, dates, the doctor, the
    medications and the patient's initials (no diagnosis, notes or full names)."""
    tz = get_settings().default_timezone
    doctor = view.get("doctor") or {}
    if view["valid"]:
        verdict = '<h1 class="ok">Valid prescription</h1><p>This prescription is genuine and may be dispensed.</p>'
    else:
        verdict = (f'<h1 class="bad">Not valid: {esc(view["status"])}</h1>'
                   "<p>This prescription is genuine but must not be dispensed.</p>")
    facts = (
        ("Number", view.get("number")),
        ("Status", view.get("status")),
        ("Issued", views.local_date(view.get("issuedAt"), tz)),
        ("Valid until", views.local_date(view.get("validUntil"), tz)),
        ("Doctor", " · ".join(v for v in (views.doctor_title(doctor.get("name")), doctor.get("speciality")) if v)),
        ("Patient", view.get("patientInitials")),
    )
    rows = "".join(f"<dt>{esc(label)}</dt><dd>{esc(value)}</dd>" for label, value in facts)
    head = "".join(f"<th>{esc(label)}</th>" for label, _ in (("Medicine", ""), *_MED_COLUMNS))
    meds = "".join(_medicine(med) for med in view.get("medications") or [])
    body = (f"{verdict}<dl>{rows}</dl><h2>Medications</h2>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{meds}</tbody></table>"
            f"<p><small>Checked by {esc(get_settings().clinic_name)}.</small></p>")
    return page(f"Prescription {view.get('number')} · verification", body)
