"""Request and response examples of writing a prescription, for the OpenAPI document
(`@describe(examples=...)`); tests/integration/test_answers_prescriptions.py validates the
response against the route's documented model."""

from __future__ import annotations

from typing import Any

_AT = "2026-03-02T10:00:00.000Z"
_MEDICATION = {"name": "Amoxicillin", "dosage": "1 capsule", "frequency": "three times a day",
               "duration": "7 days", "instructions": "Finish the course"}

WRITE: dict[str, dict[str, Any]] = {
    "after a consultation": {
        "summary": "The doctor's prescription modal, for a confirmed appointment",
        "request": {
            "patientId": "66f0c0ffee0000000000e002",
            "appointmentId": "66f0c0ffee0000000000e003",
            "diagnosis": "Acute bronchitis",
            "symptoms": "Cough for a week, mild fever",
            "medications": [_MEDICATION],
            "notes": "Drink plenty of fluids",
            "followUpInstructions": "Come back in 7 days if not better",
        },
        "response": {
            "success": True,
            "prescription": {
                "_id": "66f0c0ffee0000000000e004",
                "prescriptionNumber": "RX-2603-000123",
                "appointment": "66f0c0ffee0000000000e003",
                "doctor": {"_id": "66f0c0ffee0000000000e001", "name": "Anita Desai", "speciality": "Pulmonology"},
                "patient": {"_id": "66f0c0ffee0000000000e002", "name": "Ravi Kumar", "contact": "+919800000002"},
                "diagnosis": "Acute bronchitis",
                "symptoms": "Cough for a week, mild fever",
                "notes": "Drink plenty of fluids",
                "followUpInstructions": "Come back in 7 days if not better",
                "medications": [{**_MEDICATION, "genericName": None, "strength": None, "route": None,
                                 "quantity": None, "refills": 0, "remaining": 0}],
                "status": "active",
                "issuedAt": _AT,
                "validUntil": "2026-08-29T10:00:00.000Z",
                "createdAt": _AT,
                "verificationCode": "K7QX-M2PD-9TRW",
            },
        },
    },
}
