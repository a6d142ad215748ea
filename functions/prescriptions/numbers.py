"""Prescription numbers and verification codes: how they are made, printed and read back.

Pure: no I/O. A number is `RX` + the clinic's calendar day + that day's sequence (the sequence
comes from `stores.counters`); a code is 12 characters without look-alikes.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

# Verification codes: no look-alikes (0/O, 1/I/L) so a code read off paper is typed right.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12  # 31^12 ≈ 2^59 codes: not guessable at any rate the verify route allows
_CODE_RE = re.compile(f"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")


def day_key(now: datetime, timezone: str) -> str:
    """yymmdd of the clinic's calendar day (numbers restart each local day)."""
    return now.astimezone(ZoneInfo(timezone)).strftime("%y%m%d")


def prescription_number(day: str, sequence: int) -> str:
    """`RX` + yymmdd + the day's sequence, at least 4 digits (never overflows: D-23, the
    reference's order numbers broke past 9,999 a day)."""
    return f"RX{day}{sequence:04d}"


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """Groups of four for print: `ABCD-EFGH-JKMN`."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def normalize_code(text: str) -> str | None:
    """What a person typed (any case, spaces or dashes) → the stored code, or None."""
    candidate = re.sub(r"[\s-]", "", text or "").upper()
    return candidate if _CODE_RE.match(candidate) else None
