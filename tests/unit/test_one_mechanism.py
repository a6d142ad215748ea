"""Each mechanism has one home in `functions/core`: the tests fail when a copy grows back."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = {str(p.relative_to(ROOT)): p.read_text() for p in sorted((ROOT / "functions").rglob("*.py"))}


def _names(source: str) -> set[str]:
    tree = ast.parse(source)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return names | {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}


def _calls(source: str) -> set[str]:
    calls = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            calls.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return calls


def test_a_duplicate_key_is_caught_in_core_db_only() -> None:
    # Given every module of the application
    # Then only core/db.py (unless_duplicate, insert_unless_duplicate, insert_many_unless_duplicate)
    # names the duplicate-key error, single or in a bulk write
    assert [path for path, source in SOURCES.items()
            if {"DuplicateKeyError", "is_duplicate_key", "BulkWriteError"} & _names(source)] == [
                "functions/core/db.py"]


def test_a_rate_limit_is_refused_by_core_throttle_only() -> None:
    # Then a 429 is raised (its Retry-After computed) in core/throttle.py alone
    assert [path for path, source in SOURCES.items() if "RateLimited" in _calls(source)] == [
        "functions/core/throttle.py"]


def test_a_count_for_a_page_total_is_asked_by_core_paging_only() -> None:
    # Then `count_documents` next to a page read (`.skip(...)`) appears only in core/paging.py
    assert [path for path, source in SOURCES.items()
            if {"count_documents", "skip"} <= _calls(source)] == ["functions/core/paging.py"]


def test_request_bodies_are_parsed_in_core_bodies_only() -> None:
    # Then the MIME and form parsers of the standard library are used by core/bodies.py alone
    # (the emergency line reads Twilio's signed form with parse_qsl to check its signature)
    users = [path for path, source in SOURCES.items() if {"BytesParser", "parse_qsl"} & _names(source)]
    assert users == ["functions/core/bodies.py", "functions/emergency/calls.py"]


def test_a_sequence_is_numbered_by_core_sequences_only() -> None:
    # Then no other module increments a `seq` counter of its own
    assert [path for path, source in SOURCES.items() if '{"$inc": {"seq": 1}}' in source] == [
        "functions/core/sequences.py"]
