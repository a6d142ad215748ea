"""bench/original_side_by_side.py's parts that need no checkout of the original: the counting wire
proxy (round trips of any driver, here pymongo's, on the test run's server) and the table's row
(ratio and verdict). No figure is timed here."""

from __future__ import annotations

import struct
import time
import uuid

import bson
from pymongo import MongoClient

from bench.original_side_by_side import Row, Side, format_row, table, verdict
from bench.wire_proxy import OP_MSG, WireProxy, command_name


def _port(uri: str) -> int:
    return int(uri.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])


def test_the_proxy_counts_each_command_a_client_sends_and_leaves_the_drivers_own_out(mongo_uri: str) -> None:
    # Given a client that reaches the server through the proxy only
    with WireProxy(_port(mongo_uri)) as proxy:
        client: MongoClient[dict[str, object]] = MongoClient(f"mongodb://127.0.0.1:{proxy.port}/",
                                                             directConnection=True)
        try:
            coll = client[f"proxy_{uuid.uuid4().hex[:8]}"]["things"]
            client.admin.command("ping")  # the handshake and a ping: the driver's own
            # When it inserts one document and reads it back
            began = time.perf_counter()
            coll.insert_one({"n": 1})
            found = coll.find_one({"n": 1})
            ended = time.perf_counter()
            # Then the window holds exactly those two commands, by name, and the answers came through
            assert found is not None and found["n"] == 1
            assert proxy.between(began, ended) == ["insert", "find"]
            client.drop_database(coll.database.name)
        finally:
            client.close()


def test_a_body_after_a_document_sequence_still_names_the_command() -> None:
    # Given an OP_MSG whose first section is a document sequence (as drivers send inserts) and whose body follows
    docs = bson.encode({"a": 1})
    sequence = struct.pack("<i", 4 + len(b"documents\x00") + len(docs)) + b"documents\x00" + docs
    body = bson.encode({"insert": "things", "$db": "x"})
    payload = struct.pack("<I", 0) + b"\x01" + sequence + b"\x00" + body
    message = struct.pack("<iiii", 16 + len(payload), 1, 0, OP_MSG) + payload
    # When it is read, then the body's first key names it; a legacy OP_QUERY names nothing
    assert command_name(message) == "insert"
    assert command_name(struct.pack("<iiii", 21, 1, 0, 2004) + b"\x00" * 5) is None


def test_a_row_shows_both_columns_with_the_ratio_and_judges_latency_and_the_trip_budget() -> None:
    # Given a route where ours is faster with fewer trips, and one where ours is slower over its budget
    faster = Row("POST /orders, 1 item", "<= n + 6 = 7 trips", 7,
                 Side([0.010, 0.012, 0.011], [7, 7, 7]), Side([0.020, 0.022, 0.021], [9, 9, 9]))
    slower = Row("cancel", "<= 3 trips", 3, Side([0.030] * 3, [4, 4, 4]), Side([0.010] * 3, [3, 3, 3]))
    # When they are printed
    line, other = format_row(faster), format_row(slower)
    # Then each shows trips and medians of both sides, our ratio to the original's, and the verdict
    assert line == ("| POST /orders, 1 item | 7 / 9 | 11.0 / 21.0 ms (0.52x) | 12.0 / 22.0 "
                    "| <= n + 6 = 7 trips | ok |")
    assert "(3.00x)" in other and verdict(slower) == "slower, trips OVER"
    assert table([faster]).splitlines()[0].startswith("| route | trips ours / original | median ours / original")


def test_the_20_client_rows_compare_throughput() -> None:
    # Given ours serving more requests per second with a higher median (queueing at 20 clients)
    row = Row("GET /doctors, 20 clients", ours=Side([0.05] * 4, rate=150.0), original=Side([0.04] * 4, rate=120.0))
    # Then the row prints both rates and their ratio, and throughput decides
    assert "150 / 120 req/s (1.25x)" in format_row(row) and verdict(row) == "ok"
