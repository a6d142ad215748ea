"""Pharmacy benchmark: catalogue list and search latency with 10 000 and 100 000 medicines, and
the database round trips of placing an order of 1 and 3 items, changing its status and cancelling
it, each beside its issue 20 budget and the original's figure (and of the reads around them).

    .venv/bin/python -m bench.pharmacy_bench [--runs 15] [--sizes 10000,100000]

Figures only; nothing passes or fails on time. The medicines are spread over 50 verified
pharmacies; the measured queries are the public ones (listed, unexpired; escaped search).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import timedelta
from typing import Any

from bench._harness import bench_app, measure

CATEGORIES = ("Pain Relief", "Antibiotics", "Vitamins & Supplements", "Cold & Flu", "Digestive Health", "Diabetes")
WORDS = ("dolo", "crocin", "amox", "azee", "cetzine", "pan", "glycomet", "telma", "limcee", "zinc", "brufen")


def _user(role: str, n: int) -> dict[str, Any]:
    from functions.core import clock
    from functions.core.db import get_db

    doc = {"name": f"Bench {role} {n}", "contact": f"bench-{role}-{n}@example.com", "contactType": "email",
           "role": role, "approvalStatus": "approved", "active": True, "sessionVersion": 0, "revokedTokens": {},
           "createdAt": clock.now()}
    doc["_id"] = get_db()["users"].insert_one(doc).inserted_id
    return doc


def _auth(user: dict[str, Any]) -> dict[str, str]:
    from functions.core.security import issue_token

    return {"Authorization": f"Bearer {issue_token(user)[0]}"}


def _shops(count: int) -> list[dict[str, Any]]:
    from functions.pharmacy import pharmacies
    from functions.pharmacy.stores import pharmacies as store

    shops = []
    for n in range(count):
        owner = _user("pharmacist", n)
        doc = pharmacies.new_pharmacy(owner["_id"], pharmacies.demo_pharmacy(owner["name"], str(owner["_id"])),
                                      verified=True)
        assert store.insert(doc) is None
        doc["ownerUser"] = owner
        shops.append(doc)
    return shops


def _fill(shops: list[dict[str, Any]], start: int, total: int) -> float:
    """Medicines `start..total-1`, built by the domain's own builder, inserted in batches."""
    from functions.core import clock
    from functions.pharmacy import inventory
    from functions.pharmacy.schemas import MedicineIn
    from functions.pharmacy.stores import medicines

    began = time.perf_counter()
    expiry = (clock.now() + timedelta(days=400)).date().isoformat()
    batch: list[dict[str, Any]] = []
    for i in range(start, total):
        word = WORDS[i % len(WORDS)]
        data = MedicineIn.model_validate({
            "name": f"{word.title()} {i}", "genericName": f"generic {word}", "category": CATEGORIES[i % 6],
            "manufacturer": f"Maker {i % 40}", "composition": f"{word} {i % 900} mg", "strength": "500 mg",
            "packSize": "10", "batchNumber": f"B{i}", "formType": "Tablet",
            "price": f"{10 + i % 5000 / 100:.2f}", "mrp": 70, "stock": 100, "expiryDate": expiry})  # rupees
        batch.append(inventory.new_doc(shops[i % len(shops)], data))
        if len(batch) == 2000:
            medicines.insert_many(batch)
            batch = []
    medicines.insert_many(batch)
    return time.perf_counter() - began


def _time(client: Any, counter: Any, path: str, runs: int) -> tuple[float, float, int]:
    samples, trips = [], 0
    for _ in range(runs):
        began = time.perf_counter()
        response, commands = measure(client, counter, "GET", path)
        samples.append(time.perf_counter() - began)
        assert response.status_code == 200, response.body[:200]
        trips = len(commands)
    return statistics.median(samples) * 1000, min(samples) * 1000, trips


def _row(label: str, commands: list[str], budget: int | None = None, original: int | None = None) -> None:
    verdict = "" if budget is None else f"   budget {budget:2d}: {'ok' if len(commands) <= budget else 'OVER'}"
    reference = "" if original is None else f"   original {original}"
    print(f"  {label:<40}{len(commands):3d}{verdict}{reference}")
    print(f"  {'':<40}   {' '.join(commands)}")


def order_round_trips(client: Any, counter: Any, shops: list[dict[str, Any]]) -> None:
    """Issue 20 §1 budgets (auth read included; the effects' record counted, their delivery not):
    placing n items n + 6, a status change 4, a cancel of a one-item order 4."""
    import json

    from functions.pharmacy.stores import medicines

    shop = shops[0]
    items = medicines.all_of_pharmacy(shop["_id"], {"isActive": True}, {"_id": 1}, 3)
    customer, owner = _user("patient", 0), _auth(shop["ownerUser"])

    def body(n: int) -> dict[str, Any]:
        return {"pharmacyId": str(shop["_id"]),
                "items": [{"medicine": str(m["_id"]), "quantity": 1} for m in items[:n]],
                "paymentInfo": {"method": "cod"}, "deliveryInfo": {"type": "pickup"}}

    print("\nDatabase round trips per request (auth read included; effects recorded in the outbox, not delivered)")
    response, commands = measure(client, counter, "POST", "/api/v1/orders", body(1), _auth(customer))
    assert response.status_code == 201, response.body[:300]
    one = json.loads(response.body)["order"]["_id"]
    _row("POST /orders (1 item, cod)", commands, 1 + 6, 9)
    response, commands = measure(client, counter, "POST", "/api/v1/orders", body(3), _auth(customer))
    assert response.status_code == 201, response.body[:300]
    order_id = json.loads(response.body)["order"]["_id"]
    _row("POST /orders (3 items, cod)", commands, 3 + 6, 13)
    response, commands = measure(client, counter, "POST", "/api/v1/orders", body(1),
                                 {**_auth(customer), "Idempotency-Key": "bench-1"})
    _row("POST /orders with Idempotency-Key", commands)
    response, commands = measure(client, counter, "POST", "/api/v1/orders", body(1),
                                 {**_auth(customer), "Idempotency-Key": "bench-1"})
    _row("POST /orders retried (same key)", commands)
    response, commands = measure(client, counter, "PUT", f"/api/v1/order/{order_id}/status",
                                 {"status": "confirmed"}, owner)
    _row("PUT /order/:id/status", commands, 4, 4)
    response, commands = measure(client, counter, "PUT", f"/api/v1/order/{one}/cancel", {}, _auth(customer))
    _row("PUT /order/:id/cancel (1 item)", commands, 4, 4)
    response, commands = measure(client, counter, "PUT", f"/api/v1/order/{order_id}/cancel", {}, _auth(customer))
    _row("PUT /order/:id/cancel (3 items back)", commands, 4)
    for path in ("/api/v1/orders/my", "/api/v1/pharmacy/orders", "/api/v1/pharmacy/report", "/api/v1/pharmacy/stats"):
        who = _auth(customer) if path.endswith("/my") else owner
        response, commands = measure(client, counter, "GET", path, None, who)
        _row(f"GET {path.removeprefix('/api/v1')}", commands)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--big-runs", type=int, default=5, help="runs above 10 000 medicines")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with bench_app() as (client, counter):
        shops = _shops(50)
        filled_to = 0
        paths = {
            "GET /medicines (page 1, name order)": "/api/v1/medicines",
            "GET /medicines?page=50&sortBy=price-high": "/api/v1/medicines?page=50&sortBy=price-high",
            "GET /medicines?category&sortBy=price-low": "/api/v1/medicines?category=Antibiotics&sortBy=price-low",
            "GET /medicines/featured": "/api/v1/medicines/featured",
            "GET /medicines?search=amox": "/api/v1/medicines?search=amox",
            "GET /medicines/search?q=telma 5": "/api/v1/medicines/search?q=telma%205",
            "GET /medicines/categories": "/api/v1/medicines/categories",
        }
        for size in sizes:
            took = _fill(shops, filled_to, size)
            filled_to = size
            print(f"\n{size:,} medicines (filled in {took:.1f} s), median / best of"
                  f" {args.runs if size <= 10_000 else args.big_runs}, round trips")
            runs = args.runs if size <= 10_000 else args.big_runs
            for label, path in paths.items():
                median, best, trips = _time(client, counter, path, runs)
                print(f"  {label:<44} {median:9.1f} ms {best:9.1f} ms {trips:3d}")
            if size == sizes[0]:
                order_round_trips(client, counter, shops)
        print("\n(the synthetic names use 11 words, so each searched word starts the names of 1/11 of the\n"
              " medicines: about 9 100 at 100 000; real catalogues match far fewer per word)")
        from functions.core.db import get_client

        info = get_client().admin.command("buildInfo")
        ferret = info.get("ferretdbVersion")
        print(f"\nserver: {'FerretDB ' + ferret if ferret else 'MongoDB ' + str(info.get('version'))}"
              f" ({os.environ.get('MONGODB_URI', '')[:24]}...)")


if __name__ == "__main__":
    main()
