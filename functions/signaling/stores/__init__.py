"""The signaling domain's collections, one store module each (the only module issuing commands
to its collection, its indexes declared beside its statements), and their `INDEXES` gathered
for `functions.registry`.

- `connections`: one document per WebSocket connection (its user, video room and peer, chat
  rooms, and the per-second frame counter of the frame budget).
- `rooms`: the members of each video room and chat, by room id.
- `presence`: the doctors online now.
- `emergencies`: emergency sessions.
- `messages`: chat messages.

All of it lives in the database, not in a process (D-47: the reference kept rooms, the doctor
map and chat rooms in one Node process's memory, so it could not run twice or survive a restart);
every Lambda of the WebSocket API sees the same state.

Expiry: connections live at most 2 h (API Gateway's cap). FerretDB v1.24 refuses TTL indexes
(they are created without expiry there), so every read that relies on expiry also filters on
`expiresAt > now` and the sweeper purges.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from functions.signaling.stores import connections, emergencies, messages, presence, rooms

if TYPE_CHECKING:
    from pymongo import IndexModel

INDEXES: dict[str, Sequence[IndexModel]] = {**connections.INDEXES, **rooms.INDEXES, **presence.INDEXES,
                                            **emergencies.INDEXES, **messages.INDEXES}
