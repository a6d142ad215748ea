"""The error catalogue: every code a client can see is a member of `Code` (WebSocket frames:
`FrameCode`), errors take a member, and the recurring errors have names."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from functions.core import errors
from functions.core.errors import (
    AppError,
    Code,
    Conflict,
    FrameCode,
    InvalidToken,
    NotFound,
    PatientBusy,
    RateLimited,
    SlotTaken,
)

ROOT = Path(__file__).resolve().parents[2]


def _error_classes() -> list[type[AppError]]:
    return [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, AppError)]


def test_every_error_class_answers_a_code_of_the_catalogue() -> None:
    # Given every error class in core.errors
    classes = _error_classes()
    # When their default codes are looked up in the catalogue
    outside = [c.__name__ for c in classes if not isinstance(c.code, Code)]
    # Then each is a member
    assert len(classes) >= 15 and not outside


def test_an_error_refuses_a_code_outside_the_catalogue() -> None:
    # Given a code nobody declared
    # When an error is raised with it
    # Then the error cannot even be built (the client would see an undocumented code)
    with pytest.raises(ValueError, match="BOGUS"):
        Conflict("x", code="BOGUS")  # type: ignore[arg-type]


def test_the_recurring_errors_have_names_with_one_message_each() -> None:
    # Given the named errors
    token, slot, busy = InvalidToken(), SlotTaken(), PatientBusy()
    # Then each says what the frontend already shows, under its code and status
    assert (token.status, token.code, token.message) == (401, Code.INVALID_TOKEN, "Invalid or expired token")
    assert (slot.status, slot.code, slot.message) == (409, Code.SLOT_TAKEN, "This time slot is already booked")
    assert (busy.status, busy.code, busy.message) == (409, Code.PATIENT_BUSY,
                                                      "You already have an appointment at this time")
    order = NotFound.of("Order")
    assert (order.status, order.code, order.message) == (404, Code.NOT_FOUND, "Order not found")


def test_a_frame_answers_a_use_case_error_in_the_frames_vocabulary() -> None:
    # Given errors a use case raises while a WebSocket frame is handled
    limited = RateLimited("slow down", retry_after=5, code=Code.EMERGENCY_RATE_LIMITED)
    conflict = Conflict("x", code=Code.NOT_CONFIRMED)
    # Then the frame's code is `rate_limited` for any 429, else the code in lower case
    assert FrameCode.of(limited) == "rate_limited"
    assert FrameCode.of(conflict) == "not_confirmed"
    assert json.dumps({"code": FrameCode.NO_PEER}) == '{"code": "no_peer"}'


def _calls(path: Path) -> list[ast.Call]:
    return [n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Call)]


def test_no_code_is_written_as_a_string_outside_the_catalogue() -> None:
    # Given every call in functions/
    inline: list[str] = []
    for path in sorted((ROOT / "functions").rglob("*.py")):
        for call in _calls(path):
            name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
            literal_code = any(k.arg == "code" and isinstance(k.value, ast.Constant) for k in call.keywords)
            # FrameError(code, ...), reply_error(cid, code, ...), error_response(status, code, ...)
            position = {"FrameError": 0, "reply_error": 1, "error_response": 1, "error_body": 1}.get(name)
            literal_arg = position is not None and len(call.args) > position \
                and isinstance(call.args[position], ast.Constant)
            if literal_code or literal_arg:
                inline.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    # Then none passes a code as a string literal
    assert not inline


def test_the_invalid_token_message_is_written_once() -> None:
    # Given the application's source
    sources = {p: p.read_text() for p in (ROOT / "functions").rglob("*.py")}
    # Then "Invalid or expired token" appears in core/errors.py only
    assert [str(p.relative_to(ROOT)) for p, text in sources.items() if "Invalid or expired token" in text] == [
        "functions/core/errors.py"]
