"""MongoDB access for the pharmacy domain: the indexes of every collection it owns.

The statements themselves live in `functions.pharmacy.stores` (one module per collection).
"""

from typing import Any

from functions.pharmacy.stores import medicines, orders, pharmacies

INDEXES: dict[str, list[Any]] = {**pharmacies.INDEXES, **medicines.INDEXES, **orders.INDEXES}
