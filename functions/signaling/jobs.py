"""The signaling domain's part of the periodic sweep (listed in `functions.registry`)."""

from __future__ import annotations

from datetime import datetime

from functions.core import clock
from functions.signaling import emergencies
from functions.signaling.stores import connections, presence, rooms


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Periodic safety net: emergencies past their deadline (a schedule that never fired), and
    what TTL indexes remove on MongoDB only: connections past the 2-hour cap, stale presence,
    idle rooms (rate-limit windows are core.throttle's)."""
    now = now or clock.now()
    return {"emergenciesUnanswered": emergencies.expire_overdue(now),
            "connectionsPurged": connections.purge_expired_connections(now),
            "presencePurged": presence.purge_expired_presence(now),
            "roomsPurged": rooms.purge_idle_rooms(now)}
