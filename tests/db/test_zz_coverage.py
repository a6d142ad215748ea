"""Runs last (see capture.py): judges every command the application sent during this run."""

from __future__ import annotations

import pytest

from tests.db.capture import RECORDER

PAGE = 100  # the largest page any list route returns


def _need_app_commands() -> None:
    if not RECORDER.used:
        pytest.skip("no application command was sent in this run: run it with the rest of the suite")


def test_every_shape_the_application_sends_is_proven_by_a_conformance_test() -> None:
    # Given every filter, update, sort, projection, pipeline and index shape the app sent
    _need_app_commands()
    # When compared with what the conformance tests of tests/db proved on this server
    unproven = RECORDER.unproven()
    # Then nothing is left unproven
    assert not unproven, "shapes the app sends that no passing conformance test in tests/db exercises " \
        "(write one first):\n" + "\n".join(f"  {shape}    (first sent in {test})" for shape, test in unproven.items())


def test_every_application_query_has_an_index_led_by_one_of_its_equality_fields() -> None:
    # Given the declared indexes and every filter the app sent
    _need_app_commands()
    from functions.registry import collect_indexes

    leading = {coll: {next(iter(m.document["key"])) for m in models} | {"_id"}
               for coll, models in collect_indexes().items()}
    # When a filter's top-level equality fields meet no index's first key (see Recorder.unindexed)
    uncovered = RECORDER.unindexed(leading)
    # Then it would read the whole collection on MongoDB (and on FerretDB): none may exist
    assert not uncovered, "application queries without a selective, index-backed equality:\n" + "\n".join(
        f"  {q.collection}.{q.command} {{{', '.join(q.clauses)}}}    (first sent in {q.test})" for q in uncovered)


def test_no_id_in_read_asks_for_more_than_a_page_of_ids() -> None:
    # Given every `_id: {$in: [...]}` the app sent (joins: one read per related collection)
    _need_app_commands()
    # When one asked for more ids than a page holds (FerretDB reads such a filter's collection whole)
    too_big = [q for q in RECORDER.queries.values() if q.largest_id_in > PAGE]
    # Then none did
    assert not too_big, "\n".join(f"  {q.collection}.{q.command}: {q.largest_id_in} ids (first sent in {q.test})"
                                   for q in too_big)
