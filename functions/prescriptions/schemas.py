"""Pydantic models for prescriptions request bodies, query strings and answers.

Field names and length limits are the reference's (diagnosis, symptoms and follow-up ≤ 1000,
notes ≤ 2000); the medication fields beyond `name, dosage, frequency, duration, instructions`
are new and optional, so the existing frontend's bodies stay valid.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from functions.core.schemas import Answer, Id, OutModel, PageOut, PageQuery, WriteModel

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


# ---------------------------------------------------------------- answers (`views.to_api`, `views.verify_view`)

Status = Literal["active", "revoked", "expired"]


class VerifiedMedicationOut(OutModel):
    """A prescribed medicine as a pharmacist's verification shows it (no instructions)."""

    name: str
    genericName: str | None
    strength: str | None
    dosage: str
    frequency: str
    route: str | None
    duration: str | None
    quantity: int | None
    refills: int | None


class MedicationOut(VerifiedMedicationOut):
    """A prescribed medicine: every key always there (null when not given); `remaining` (units
    left to dispense) on one prescription's full view only."""

    instructions: str | None
    remaining: int | None = None


class DoctorRefOut(OutModel):
    id: Id = Field(alias="_id")
    name: str | None
    speciality: str | None


class PatientRefOut(OutModel):
    """`contact` for the patient themself and the prescribing doctor only."""

    id: Id = Field(alias="_id")
    name: str | None
    contact: str | None = None


class PrescriptionOut(OutModel):
    """A prescription as its cards show it; `verificationCode` on one prescription's full view,
    `revokedAt`/`revokeReason` once revoked."""

    id: Id = Field(alias="_id")
    prescriptionNumber: str
    appointment: Id | None
    doctor: DoctorRefOut
    patient: PatientRefOut
    diagnosis: str | None
    symptoms: str | None
    notes: str | None
    followUpInstructions: str | None
    medications: list[MedicationOut]
    status: Status
    issuedAt: datetime | None
    validUntil: datetime | None
    createdAt: datetime | None
    verificationCode: str | None = None
    revokedAt: datetime | None = None
    revokeReason: str | None = None


class PatientContactOut(PatientRefOut):
    contact: str | None


class PrescriptionCardOut(PrescriptionOut):
    """A prescription of the caller's list, or the one the doctor just wrote: the patient's
    contact always there (the cards print it)."""

    patient: PatientContactOut


class PrescriptionAnswer(Answer):
    prescription: PrescriptionOut


class WrittenAnswer(Answer):
    prescription: PrescriptionCardOut


class PrescriptionListAnswer(Answer):
    count: int
    prescriptions: list[PrescriptionCardOut]
    pagination: PageOut


class VerifiedDoctorOut(OutModel):
    name: str | None
    speciality: str | None


class VerificationAnswer(Answer):
    """What a pharmacist needs to trust a printed prescription: no diagnosis, notes or full names."""

    valid: bool
    status: Status
    number: str
    issuedAt: datetime | None
    validUntil: datetime | None
    doctor: VerifiedDoctorOut
    medications: list[VerifiedMedicationOut]
    patientInitials: str
