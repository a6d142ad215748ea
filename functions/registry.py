"""The composition root's list of the domains: each domain's blueprint, the modules that declare
indexes (and data migrations), the periodic sweeps, and the ports one domain plugs into another.

Core never imports this module: it is handed these lists (`core.db.ensure_indexes`,
`core.jobs.sweep`). No route handler or per-route Lambda (a domain's `handler.py`) imports it
either: it imports every domain, so the Lambda would carry every domain's code, layers and
grants. It is imported by `app.py` (the whole API, the sweeper schedule), the command line
(`python -m functions.registry ensure-indexes`, which `python -m functions.core.db ensure-indexes`
and `make run` call; `python -m functions.auth.admin create-admin`), local/ and the tests.

A domain joins by adding its blueprint, its store's `INDEXES` (and `MIGRATIONS`), its sweep and
its ports here, and to app.py nothing else.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from functions.analysis.routes import bp as analysis
from functions.appointments import claims as appointment_claims
from functions.appointments import effects as appointment_effects
from functions.appointments import holds as appointment_holds
from functions.appointments import jobs as appointment_jobs
from functions.appointments import migrations as appointment_migrations
from functions.appointments import waitlist_answers as appointment_waitlist
from functions.appointments import waitlist_opened as appointment_waitlist_opened
from functions.appointments.routes import bp as appointments
from functions.appointments.stores import appointments as appointments_store
from functions.appointments.stores import waitlist as waitlist_store
from functions.auth import sweep as auth_sweep
from functions.auth.routes import bp as auth
from functions.core import audit, db, idempotency, jobs, outbox, throttle, users
from functions.docs.routes import bp as docs
from functions.emergency.routes import bp as emergency
from functions.emergency.stores import callbacks as emergency_callbacks
from functions.emergency.stores import hospitals as emergency_hospitals
from functions.emergency.stores import on_call as emergency_on_call
from functions.health.routes import bp as health
from functions.media.routes import bp as media
from functions.media.stores import assets as media_store
from functions.payments import api as payments_api
from functions.payments import sweep as payments_sweep
from functions.payments.routes import bp as payments
from functions.payments.stores import events as payment_events
from functions.payments.stores import payments as payments_store
from functions.pharmacy import effect_handlers as pharmacy_effects
from functions.pharmacy import stores as pharmacy_stores
from functions.pharmacy import sweep as pharmacy_sweep
from functions.pharmacy.routes import bp as pharmacy
from functions.prescriptions.routes import bp as prescriptions
from functions.prescriptions.stores import prescriptions as prescriptions_store
from functions.privacy import deletion as privacy_deletion
from functions.privacy.routes import bp as privacy
from functions.signaling import delivery as signaling_delivery
from functions.signaling import jobs as signaling_jobs
from functions.signaling import stores as signaling_stores
from functions.signaling.routes import bp as signaling

if TYPE_CHECKING:
    from pymongo import IndexModel
    from pymongo.database import Database

# The REST API, in the order app.py registers it.
BLUEPRINTS = (health, auth, appointments, pharmacy, prescriptions, signaling, payments, media, emergency, analysis,
              privacy, docs)

# Every index the code relies on, by collection, from the module that owns the collection.
INDEXES: tuple[Mapping[str, Sequence[IndexModel]], ...] = (
    audit.INDEXES, idempotency.INDEXES, outbox.INDEXES, throttle.INDEXES, users.INDEXES, appointments_store.INDEXES,
    appointment_claims.INDEXES, waitlist_store.INDEXES,
    pharmacy_stores.INDEXES, prescriptions_store.INDEXES, signaling_stores.INDEXES, payments_store.INDEXES,
    payment_events.INDEXES, media_store.INDEXES, emergency_hospitals.INDEXES, emergency_on_call.INDEXES,
    emergency_callbacks.INDEXES)
# Idempotent data migrations `(db) -> documents changed`, run after the indexes.
MIGRATIONS: tuple[Callable[[Database[dict[str, Any]]], int], ...] = appointment_migrations.MIGRATIONS

# The platform's periodic work: `reminder_sweep` (app.py) every 5 minutes, local/sweeper.py under make run.
SWEEPS: tuple[tuple[str, Callable[[datetime], Mapping[str, int]]], ...] = (
    ("appointments.jobs", appointment_jobs.sweep),  # due reminders, claims of past days
    ("appointments.holds", appointment_holds.sweep),  # unpaid holds whose time ran out
    ("appointments.waitlist", appointment_waitlist.sweep),  # waitlist offers whose time ran out: the next offered
    ("auth", auth_sweep.sweep),  # sockets of users deactivated or unapproved that a request left open
    ("core.idempotency", idempotency.sweep),  # Idempotency-Key claims of past days
    ("core.outbox", outbox.sweep),  # effects and messages no kick delivered, retries
    ("core.outbox.retention", outbox.purge_finished),  # finished entries past their retention (contacts, texts)
    ("core.throttle", throttle.sweep),  # rate-limit windows that ended
    ("payments", payments_sweep.sweep),  # refunds to retry, paid appointments cancelled elsewhere
    ("pharmacy", pharmacy_sweep.sweep),  # expired payment holds give their stock back; the repair of stock takes
    ("privacy", privacy_deletion.sweep),  # close-outs a request left unfinished; erases due; retentions ended
    ("signaling", signaling_jobs.sweep),  # unanswered emergencies, stale connections, idle rooms, old throttles
)


# The outbox's handlers by effect kind (`core.outbox`): each does its idempotent work and returns
# the messages to send. Kind "message" is built in.
EFFECTS: dict[str, outbox.Handler] = {
    appointment_effects.KIND: appointment_effects.deliver,  # reminders, claims freed, notices
    appointment_waitlist_opened.KIND: appointment_waitlist_opened.deliver,  # slots a doctor opened: waitlist offers
    **pharmacy_effects.HANDLERS,  # report lines, counters, give-backs, notices (push or message)
    throttle.SETTLE: throttle.settle_deferred,  # a login's success settled (deferred: `outbox.defer`)
    outbox.NOTICE: signaling_delivery.deliver_notice,  # a user's notice: pushed if online, else its message
}


def plug_ports() -> None:
    """Plug every port (`functions.core.ports`): a cancelled appointment's or order's refund; the
    outbox's handlers."""
    payments_api.plug_refunds()
    outbox.plug(EFFECTS)


def collect_indexes() -> dict[str, list[IndexModel]]:
    return db.collect_indexes(INDEXES)


def ensure_indexes(target: Database[dict[str, Any]] | None = None) -> dict[str, list[str]]:
    """Create every declared index (idempotent), then run the migrations."""
    return db.ensure_indexes(INDEXES, MIGRATIONS, target)


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Every domain's periodic work (`core.jobs.sweep`)."""
    return jobs.sweep(SWEEPS, now)


def main(argv: list[str]) -> int:
    return db.main(argv, ensure_indexes)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
