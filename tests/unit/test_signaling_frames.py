"""Error frames speak one vocabulary: every WebSocket error frame is built by
`delivery.reply_error`, with a code taken from `FrameCode` (a member, or `FrameCode.of` for an
error a use case raised), never a string written where the frame is refused."""

from __future__ import annotations

import ast
from pathlib import Path

from functions.core.errors import FrameCode

ROOT = Path(__file__).resolve().parents[2]
SIGNALING = {str(p.relative_to(ROOT)): ast.parse(p.read_text())
             for p in sorted((ROOT / "functions/signaling").rglob("*.py"))}
CODE_POSITION = {"FrameError": 0, "reply_error": 1}  # where each call takes its code


def _name(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")


def _from_the_catalogue(code: ast.expr) -> bool:
    """`FrameCode.X`, `FrameCode.of(error)`, or a refused frame's own code passed on (`exc.code`)."""
    if isinstance(code, ast.Attribute) and isinstance(code.value, ast.Name):
        return (code.value.id == "FrameCode" and code.attr in FrameCode.__members__) or code.attr == "code"
    return (isinstance(code, ast.Call) and isinstance(code.func, ast.Attribute) and code.func.attr == "of"
            and getattr(code.func.value, "id", None) == "FrameCode")


def test_every_error_frame_code_comes_from_frame_code():
    # Given every refusal of a frame in the signaling domain (a FrameError raised, an error replied)
    calls = [(path, call) for path, tree in SIGNALING.items() for call in ast.walk(tree)
             if isinstance(call, ast.Call) and _name(call) in CODE_POSITION]
    codes = {f"{path}:{call.lineno}": call.args[CODE_POSITION[_name(call)]] for path, call in calls}
    assert len(codes) >= 10  # the refusals are found (the scan is not looking at nothing)
    # Then each code is a member of FrameCode or FrameCode.of(...)
    assert [where for where, code in codes.items() if not _from_the_catalogue(code)] == []


def test_no_frame_code_is_spelled_out_in_the_signaling_domain():
    # Given every string constant in functions/signaling
    spelled = [f"{path}:{node.lineno}" for path, tree in SIGNALING.items() for node in ast.walk(tree)
               if isinstance(node, ast.Constant) and node.value in {c.value for c in FrameCode}]
    # Then none is a frame code (they are written once, in functions/core/errors.py)
    assert spelled == []


def test_the_error_frame_is_built_in_one_place():
    # Given every dict literal with `"type": "error"` in functions/signaling
    builders = [path for path, tree in SIGNALING.items() for node in ast.walk(tree) if isinstance(node, ast.Dict)
                and any(isinstance(k, ast.Constant) and k.value == "type" and isinstance(v, ast.Constant)
                        and v.value == "error" for k, v in zip(node.keys, node.values, strict=True))]
    # Then it is delivery.reply_error's alone
    assert builders == ["functions/signaling/delivery.py"]
