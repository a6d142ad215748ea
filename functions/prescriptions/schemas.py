"""Pydantic models for prescriptions request bodies and query strings.

Field names and length limits are the reference's (diagnosis, symptoms and follow-up ≤ 1000,
notes ≤ 2000); the medication fields beyond `name, dosage, frequency, duration, instructions`
are new and optional, so the existing frontend's bodies stay valid.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from functions.core.schemas import PageQuery, WriteModel

OBJECT_ID = r"^[0-9a-fA-F]{24}$"

ObjectIdText = Annotated[str, StringConstraints(pattern=OBJECT_ID)]


class MedicationIn(WriteModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    genericName: Annotated[str, StringConstraints(max_length=200)] | None = None
    strength: Annotated[str, StringConstraints(max_length=60)] | None = None
    dosage: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    frequency: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    route: Annotated[str, StringConstraints(max_length=60)] | None = None
    duration: Annotated[str, StringConstraints(max_length=200)] | None = None
    quantity: Annotated[int, Field(ge=1, le=1000)] | None = None
    refills: Annotated[int, Field(ge=0, le=5)] = 0
    instructions: Annotated[str, StringConstraints(max_length=500)] | None = None


class PrescriptionIn(WriteModel):
    """`POST /prescription/new`. `patientId` must be the appointment's patient (D-14: the
    reference never checked that the appointment was this doctor's and this patient's)."""

    patientId: ObjectIdText
    appointmentId: ObjectIdText
    diagnosis: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    symptoms: Annotated[str, StringConstraints(max_length=1000)] | None = None
    notes: Annotated[str, StringConstraints(max_length=2000)] | None = None
    followUpInstructions: Annotated[str, StringConstraints(max_length=1000)] | None = None
    medications: Annotated[list[MedicationIn], Field(min_length=1, max_length=20)]


class RevokeIn(WriteModel):
    reason: Annotated[str, StringConstraints(min_length=3, max_length=500)]


class ListQuery(PageQuery):
    """Without `page`/`limit` the list answers up to 100 (the frontend never pages)."""

    limit: Annotated[int, Field(ge=1, le=100)] = 100
