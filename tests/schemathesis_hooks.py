"""Hooks of the schemathesis run (tests/integration/test_packaging_schemathesis.py): besides the
NUL characters schemathesis generates itself (`--generation-allow-x00`), some generated strings of
a JSON body end in a lone surrogate (`\\ud800`, sent as that JSON escape), the other text no field
of this API takes. A fixed share, chosen by a checksum, so the seeded run stays deterministic."""

from __future__ import annotations

import zlib
from typing import Any

import schemathesis

LONE_SURROGATE = "\ud800"


def _with_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return value + LONE_SURROGATE if zlib.crc32(value.encode("utf-8", "surrogatepass")) % 4 == 0 else value
    if isinstance(value, dict):
        return {k: _with_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_surrogates(v) for v in value]
    return value


@schemathesis.hook
def map_body(context: Any, body: Any) -> Any:
    return _with_surrogates(body)
