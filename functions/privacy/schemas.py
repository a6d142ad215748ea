"""Pydantic models of the privacy routes: the export's query and answer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


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

