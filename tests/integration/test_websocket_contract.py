"""Issue 23: the WebSocket protocol is documented like the REST API (an AsyncAPI document built
from the signaling domain's frame models: each action, each answer type, each error code), the
frames the server sends in the tests match it (tests/contract_schema.py), and the local call page
speaks only what it documents."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest

from functions.core.errors import FrameCode
from functions.signaling import asyncapi, schemas
from tests.contract_schema import ContractViolation, check_frame

ROOT = Path(__file__).resolve().parents[2]
CALL_PAGE = ROOT / "local" / "static" / "call.js"
JSON_SCHEMA_TYPES = {"object", "string", "array", "number", "integer", "boolean", "null"}


def _document_names() -> tuple[set[str], set[str]]:
    messages = asyncapi.build()["channels"]["signaling"]["messages"]
    actions = {m["name"] for key, m in messages.items() if key.startswith("action:")}
    types = {m["name"] for key, m in messages.items() if key.startswith("type:")}
    return actions, types


def test_the_document_lists_every_action_every_frame_type_the_code_sends_and_every_error_code():
    # Given the AsyncAPI document
    document = asyncapi.build()
    actions, types = _document_names()
    # Then every action the server handles is an operation with its answers
    assert actions == set(schemas.FRAMES)
    assert all(f"send-{action}" in document["operations"] for action in schemas.FRAMES)
    # And every frame type the signaling and emergency code sends (a `"type": "..."` literal, or a
    # relayed action) is a documented message
    sources = [*(ROOT / "functions" / "signaling").glob("*.py"), *(ROOT / "functions" / "emergency").glob("*.py")]
    sent = {m for path in sources for m in re.findall(r'"type": "([A-Za-z-]+)"', path.read_text())}
    sent |= {"offer", "answer", "ice-candidate"}  # rooms.relay sends the action's name as the type
    sent -= JSON_SCHEMA_TYPES  # the `"type": "string"` of a JSON schema in the same code is no frame
    assert sent <= types, sent - types
    # And the error frame's codes are the FrameCode catalogue, each explained
    error_schema = document["components"]["schemas"]["FrameCode"]
    assert set(error_schema["enum"]) == {c.value for c in FrameCode}
    description = document["channels"]["signaling"]["messages"]["type:error"]["description"]
    assert all(f"`{c.value}`" in description for c in FrameCode)
    assert set(get_args(schemas.UseCaseFrameCode)) == set(asyncapi.USE_CASE_MEANINGS)


def test_the_local_call_page_sends_and_handles_only_documented_frames():
    # Given the call page's script and the document
    script = CALL_PAGE.read_text()
    actions, types = _document_names()
    sent = set(re.findall(r"action: '([A-Za-z-]+)'", script))
    handlers_block = script[script.index("const handlers"):]
    handled = set(re.findall(r"async '([A-Za-z-]+)'\(", handlers_block)) | set(
        re.findall(r"^\s+async ([A-Za-z]+)\(", handlers_block, re.MULTILINE))
    # Then it sends only documented actions and handles only documented frame types
    assert sent and sent <= actions, sent - actions
    assert handled and handled <= types, handled - types


def test_a_frame_off_its_documented_schema_fails_the_test_that_sends_it():
    # A documented frame passes
    check_frame({"type": "joined", "roomId": "room-123456", "waiting": True})
    check_frame({"type": "error", "code": "not_in_room", "message": "Join the room first"})
    # A field gone, an undocumented code, an undocumented type: each fails
    with pytest.raises(ContractViolation, match="waiting"):
        check_frame({"type": "joined", "roomId": "room-123456"})
    with pytest.raises(ContractViolation, match="code"):
        check_frame({"type": "error", "code": "NOT_IN_ROOM", "message": "Join the room first"})
    with pytest.raises(ContractViolation, match="undocumented type"):
        check_frame({"type": "surprise"})
