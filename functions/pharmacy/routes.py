"""HTTP routes of the pharmacy domain (thin handlers only), one module per concern:

- `routes_pharmacies`: /pharmacy/register, /pharmacy/my, /pharmacy/stats, /pharmacies, /pharmacy/{id}
- `routes_inventory`: /pharmacy/medicines..., /pharmacy/medicine/{id}
- `routes_catalogue`: /medicines..., /medicine/{id}, /pharmacy/{id}/medicines
- `routes_orders`: /orders, /orders/my, /order/{id}..., /pharmacy/orders, /pharmacy/report
- `routes_admin`: /admin/pharmacies, /admin/pharmacy/{id}/status, /admin/orders, /admin/order/{id}, /admin/analytics

Literal paths such as /pharmacy/orders and /pharmacy/report are matched before /pharmacy/{id}
by API Gateway and by Chalice (D-05: Express matched them as an id and answered 400).
"""

from functions.pharmacy import (  # noqa: F401  (importing registers the routes)
    routes_admin,
    routes_catalogue,
    routes_inventory,
    routes_orders,
    routes_pharmacies,
)
from functions.pharmacy.blueprint import bp

__all__ = ["bp"]
