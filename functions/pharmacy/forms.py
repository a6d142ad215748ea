"""The pharmacy forms' body parser is core's (`functions.core.bodies`, rules `NESTED_WITH_FILES`:
files kept, dotted names and JSON-string fields expanded). These names stay importable from here
until the pharmacy's routes import them from core."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.core.bodies import FORM_TYPES, NESTED_WITH_FILES, FormBody, UploadedFile, read_body

__all__ = ["FORM_TYPES", "FormBody", "UploadedFile", "parse_form"]


def parse_form(headers: Mapping[str, Any], raw: bytes | str | None) -> FormBody:
    """The body as a nested dict (and files) whatever the accepted content type."""
    return read_body(headers, raw, NESTED_WITH_FILES)
