"""Pydantic models of the privacy routes: the export's query and answer, the deletion's body and answer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from functions.core.schemas import WriteModel


class ExportQuery(BaseModel):
    """`format`: `json` (the default), or `zip` (that JSON as `export.json` and the prescriptions'
    PDFs). Other query parameters (cache busters) are ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, defer_build=True)

    format: Literal["json", "zip"] = "json"


class ExportAnswer(BaseModel):
    """Everything the platform holds about the caller, one list per kind of record."""

    success: Literal[True]
    exportedAt: str
    profile: dict[str, Any]
    medicalHistory: list[dict[str, Any]]
    appointments: list[dict[str, Any]]
    prescriptions: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    payments: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    accessLog: list[dict[str, Any]]



class DeleteIn(WriteModel):
    """The caller's current password confirms the deletion."""

    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class DeleteAnswer(BaseModel):
    """The account is closed; its personal data is erased after `eraseAfter` (ISO 8601)."""

    success: Literal[True]
    eraseAfter: str
    message: str
