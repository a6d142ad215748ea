"""Authorization matrix: every route of the pharmacy domain, for every kind of caller.

Callers: anonymous; the order's customer; another patient (stranger); a doctor; the owner of
the verified pharmacy (owner); the owner of another verified pharmacy (rival); a pharmacist
without a pharmacy (newcomer); an admin. {shop}, {medicine}, {order} and {delivered} are the
owner's pharmacy, one of its medicines, the customer's pending order and delivered order.
"""


import pytest
from bson import ObjectId

from tests.factories import bearer, make_user
from tests.http import call
from tests.matrix import unlisted
from tests.pharmacy_support import make_medicine, make_pharmacy, medicine_fields, order_body, registration

CALLERS = ("anonymous", "customer", "stranger", "doctor", "owner", "rival", "newcomer", "admin")


def expect(anonymous=401, **by_caller):
    default = by_caller.pop("default", 403)
    return {"anonymous": anonymous, **{c: by_caller.get(c, default) for c in CALLERS if c != "anonymous"}}


def pharmacists(owner, rival=None, newcomer=404, **rest):
    """The usual shape of a pharmacist-only route."""
    return expect(owner=owner, rival=owner if rival is None else rival, newcomer=newcomer, **rest)


EVERYONE_200 = expect(200, default=200)
ROUTES = [
    ("POST", "/pharmacy/register", registration(licenseNumber="NEW-{caller}"),
     expect(owner=409, rival=409, newcomer=201)),
    ("POST", "/pharmacy/quick-setup", None, pharmacists(404)),  # dev stage only
    ("GET", "/pharmacy/my", None, pharmacists(200)),
    ("PUT", "/pharmacy/my", {"description": "Now open on Sundays"}, pharmacists(200)),
    ("GET", "/pharmacy/stats", None, pharmacists(200)),
    ("GET", "/pharmacies", None, EVERYONE_200),
    ("GET", "/pharmacy/{shop}", None, EVERYONE_200),
    ("POST", "/pharmacy/medicines", medicine_fields(), pharmacists(201)),
    ("PUT", "/pharmacy/medicine/{medicine}", {"price": "20.50"}, pharmacists(200, rival=404)),
    ("DELETE", "/pharmacy/medicine/{medicine}", None, pharmacists(200, rival=404)),
    ("POST", "/pharmacy/medicines/bulk-upload", [medicine_fields()], pharmacists(201)),
    ("PUT", "/pharmacy/medicines/bulk-stock-update", {"stockUpdates": [{"medicineId": "{medicine}", "newStock": 3}]},
     pharmacists(200, rival=422)),  # a rival's row names no medicine of theirs: nothing applied
    ("GET", "/pharmacy/medicines/low-stock", None, pharmacists(200)),
    ("GET", "/pharmacy/medicines/expiring", None, pharmacists(200)),
    ("GET", "/pharmacy/medicines/search", None, pharmacists(200)),
    ("GET", "/medicines", None, EVERYONE_200),
    ("GET", "/medicines/search", None, EVERYONE_200),
    ("GET", "/medicines/categories", None, EVERYONE_200),
    ("GET", "/medicines/featured", None, EVERYONE_200),
    ("GET", "/medicine/{medicine}", None, EVERYONE_200),
    ("GET", "/pharmacy/{shop}/medicines", None, EVERYONE_200),
    ("POST", "/orders", "ORDER", expect(customer=201, stranger=201)),
    ("GET", "/orders/my", None, expect(default=200)),  # each signed-in caller's own orders
    ("GET", "/order/{order}", None, expect(customer=200, stranger=404, owner=200, rival=404, newcomer=404, admin=200)),
    ("PUT", "/order/{order}/status", {"status": "confirmed"}, expect(owner=200, rival=404, newcomer=404)),
    ("PUT", "/order/{order}/cancel", {"reason": "no longer needed"}, expect(customer=200, stranger=404)),
    ("PUT", "/order/{delivered}/rate", {"rating": 5}, expect(customer=200, stranger=404)),
    ("GET", "/pharmacy/orders", None, pharmacists(200)),
    ("GET", "/pharmacy/report", None, pharmacists(200)),
    ("GET", "/admin/pharmacies", None, expect(admin=200)),
    ("PUT", "/admin/pharmacy/{shop}/status", {"status": "suspended", "reason": "audit"}, expect(admin=200)),
    ("GET", "/admin/orders", None, expect(admin=200)),
    ("GET", "/admin/order/{order}", None, expect(admin=200)),
    ("GET", "/admin/analytics", None, expect(admin=200)),
]


@pytest.fixture
def world(api, clock, db):
    from functions.core.security import Principal
    from functions.pharmacy import placing
    from functions.pharmacy.order_schemas import OrderIn

    shop = make_pharmacy()
    medicine = make_medicine(shop)
    customer = make_user("patient")
    buyer = Principal(user=customer, claims={})
    order = placing.place(buyer, OrderIn.model_validate(order_body(shop, [(medicine, 1)])), None).order
    delivered = placing.place(buyer, OrderIn.model_validate(order_body(shop, [(medicine, 1)])), None).order
    db.orders.update_one({"_id": ObjectId(delivered["_id"])}, {"$set": {"orderStatus": "delivered"}})
    return {
        "shop": shop, "medicine": medicine, "order": order, "delivered": delivered,
        "callers": {"customer": customer, "stranger": make_user("patient"), "doctor": make_user("doctor"),
                    "owner": shop["ownerUser"], "rival": make_pharmacy()["ownerUser"],
                    "newcomer": make_user("pharmacist"), "admin": make_user("admin")},
    }


def _fill(template, world, caller):
    values = {"shop": world["shop"]["_id"], "medicine": world["medicine"]["_id"], "order": world["order"]["_id"],
              "delivered": world["delivered"]["_id"], "caller": caller}
    if template == "ORDER":
        return order_body(world["shop"], [(world["medicine"], 1)])
    if isinstance(template, str):
        return template.format(**{k: str(v) for k, v in values.items()})
    if isinstance(template, dict):
        return {k: _fill(v, world, caller) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, world, caller) for v in template]
    return template


@pytest.mark.parametrize(("method", "path", "payload", "statuses"),
                         [pytest.param(*route, id=f"{route[0]} {route[1]}") for route in ROUTES])
def test_pharmacy_authorization_matrix(api, world, method, path, payload, statuses):
    # One world per route (a fresh database per test is the slow part); callers expected to
    # succeed go last, so a change they make (a cancel, a delete) cannot decide another row.
    answers = {}
    for caller in sorted(CALLERS, key=lambda c: statuses[c] < 300):
        me = world["callers"].get(caller)
        response = call(api, method, _fill(path, world, caller), as_=None, json=_fill(payload, world, caller),
                        headers=bearer(me) if me else None)
        answers[caller] = response.status_code
    assert answers == statuses


def test_every_pharmacy_route_is_in_the_matrix(chalice_app):
    # A route added later without a row here fails this test
    assert unlisted(chalice_app, "functions.pharmacy.", ROUTES) == (set(), set())
