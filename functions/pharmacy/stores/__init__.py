"""MongoDB access of the pharmacy domain, one module per collection it owns.

Each function is one database statement (or one bounded read) with a docstring stating what it
guarantees; `INDEXES` gathers every collection's indexes for `ensure-indexes` (the registry).
"""

from typing import Any

from functions.pharmacy.stores import medicines, order_counters, order_holds, order_lines, orders, pharmacies

INDEXES: dict[str, list[Any]] = {**pharmacies.INDEXES, **medicines.INDEXES, **orders.INDEXES, **order_lines.INDEXES,
                                 **order_counters.INDEXES, **order_holds.INDEXES}
