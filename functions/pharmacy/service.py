"""Rules of the pharmacy domain: pure Python, no Chalice import.

The use cases live in one module per concern (`pharmacies`, `inventory`, `catalogue`,
`orders`, `reports`); this module is the domain's public face for other domains:

- `payable_order(order_id, payer_id) -> (amount, currency)` and
  `record_order_payment(order_id, status, payment_intent_id)`: called by payments;
- `sweep(now)`: the periodic job (expired payment holds give their stock back).
"""

from functions.pharmacy.orders import payable_order, record_order_payment, sweep

__all__ = ["payable_order", "record_order_payment", "sweep"]
