"""The admins' view of payments that need a person (issue 21 item 11): a success event that did
not take what was charged leaves the payment unpaid and flagged (`webhook._flag`); here an admin
lists them, with what was charged and what Stripe reported, to refund or follow up in Stripe's
dashboard. Reading the list is audited. Pure Python, no Chalice."""

from __future__ import annotations

from typing import Any

from functions.core import audit
from functions.core.config import get_settings
from functions.core.money import to_major
from functions.core.schemas import PageQuery
from functions.core.security import Principal
from functions.payments.stores import payments as store


def _view(payment: dict[str, Any]) -> dict[str, Any]:
    """Amounts in major units of their currency (the reported one may differ from the charged one)."""
    currency = str(payment.get("currency") or get_settings().default_currency)
    flag = payment.get("flagged") or {}
    reported = str(flag.get("currency") or "") or currency
    received = flag.get("amountReceived")
    return {
        "id": payment["_id"], "kind": payment.get("kind"), "targetId": payment.get("targetId"),
        "payerId": payment.get("payerId"), "status": payment.get("status"),
        "amount": to_major(payment.get("amount"), currency), "currency": currency,
        "flag": {"reason": flag.get("reason"), "paymentIntentId": flag.get("intentId"), "at": flag.get("at"),
                 "currency": reported, "amountReceived": None if received is None else to_major(received, reported)},
        "updatedAt": payment.get("updatedAt"),
    }


def flagged_payments(admin: Principal, query: PageQuery) -> tuple[list[dict[str, Any]], int]:
    """GET /admin/payments/flagged: the flagged payments, most recently flagged first."""
    items, total = store.flagged(query.skip, query.limit)
    audit.record(admin.user, "list", "payment", None, reason="flagged")
    return [_view(p) for p in items], total
