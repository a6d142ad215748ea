"""Demo data: a verified pharmacy with a shelf of medicines for an existing pharmacist.

    python -m functions.pharmacy.seed --owner pharmacist@example.com

The owner signs up through the app and is approved by an admin first (the seed never creates
accounts or changes roles). Run it again and it adds only what is missing. Like the admin CLI,
it finds the database of a running `make run` (see core.config).
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import Any

from functions.core import clock, users
from functions.core.security import APPROVED, PHARMACIST
from functions.pharmacy import inventory, pharmacies
from functions.pharmacy.schemas import MedicineIn
from functions.pharmacy.status import VERIFIED
from functions.pharmacy.stores import medicines
from functions.pharmacy.stores import pharmacies as pharmacy_store

# name, generic, category, manufacturer, strength, form, price, mrp (rupees, as a pharmacist types them;
# stored in paise: Dolo 650 at ₹30 is 3000), stock, prescription only
SHELF: tuple[tuple[str, str, str, str, str, str, int, int, int, bool], ...] = (
    ("Dolo 650", "Paracetamol", "Pain Relief", "Micro Labs", "650 mg", "Tablet", 30, 34, 120, False),
    ("Crocin Advance", "Paracetamol", "Pain Relief", "GSK", "500 mg", "Tablet", 20, 22, 80, False),
    ("Brufen", "Ibuprofen", "Pain Relief", "Abbott", "400 mg", "Tablet", 18, 20, 60, False),
    ("Mox 500", "Amoxicillin", "Antibiotics", "Sun Pharma", "500 mg", "Capsule", 95, 110, 40, True),
    ("Azee 500", "Azithromycin", "Antibiotics", "Cipla", "500 mg", "Tablet", 119, 125, 30, True),
    ("Cetzine", "Cetirizine", "Cold & Flu", "Dr. Reddy's", "10 mg", "Tablet", 19, 21, 90, False),
    ("Benadryl", "Diphenhydramine", "Cold & Flu", "Johnson & Johnson", "100 ml", "Syrup", 120, 130, 25, False),
    ("Pan 40", "Pantoprazole", "Digestive Health", "Alkem", "40 mg", "Tablet", 155, 165, 50, True),
    ("Glycomet 500", "Metformin", "Diabetes", "USV", "500 mg", "Tablet", 35, 38, 70, True),
    ("Telma 40", "Telmisartan", "Heart & Blood Pressure", "Glenmark", "40 mg", "Tablet", 210, 230, 35, True),
    ("Limcee", "Vitamin C", "Vitamins & Supplements", "Abbott", "500 mg", "Tablet", 23, 23, 150, False),
    ("Betadine", "Povidone-iodine", "First Aid", "Win-Medicare", "5%", "Ointment", 112, 120, 20, False),
)


def _medicine(row: tuple[str, str, str, str, str, str, int, int, int, bool]) -> MedicineIn:
    name, generic, category, maker, strength, form, price, mrp, stock, rx = row
    return MedicineIn.model_validate({
        "name": name, "genericName": generic, "category": category, "manufacturer": maker,
        "composition": f"{generic} {strength}", "strength": strength, "packSize": "1 strip" if form in (
            "Tablet", "Capsule") else "1 unit", "batchNumber": f"DEMO-{name[:4].upper()}", "formType": form,
        "price": price, "mrp": mrp, "stock": stock, "minStock": 10,
        "expiryDate": (clock.now() + timedelta(days=540)).date().isoformat(), "prescriptionRequired": rx,
        "tags": [generic.lower()],
    })


def seed(owner_contact: str) -> dict[str, Any]:
    from functions.auth.api import normalize_contact
    from functions.core.config import get_settings

    contact, _ = normalize_contact(owner_contact, get_settings().default_phone_region)
    owner = users.by_contact(contact)
    if owner is None or owner.get("role") != PHARMACIST or owner.get("approvalStatus") != APPROVED:
        raise SystemExit(f"No approved pharmacist with contact {owner_contact!r}: sign up and approve one first")
    shop = pharmacy_store.by_owner(owner["_id"])
    created = shop is None
    if shop is None:
        demo = pharmacies.demo_pharmacy(str(owner.get("name")), str(owner["_id"]))
        shop = pharmacies.new_pharmacy(owner["_id"], demo, verified=True)
        if pharmacy_store.insert(shop) is not None:
            raise SystemExit("The demo licence number is taken; remove the other demo pharmacy first")
    present = {d["name"] for d in medicines.all_of_pharmacy(shop["_id"], {}, {"name": 1}, 5000)}
    docs = [inventory.new_doc(shop, _medicine(row)) for row in SHELF if row[0] not in present]
    medicines.insert_many(docs)
    pharmacy_store.increment(shop["_id"], {"totalMedicines": len(docs)})
    return {"pharmacyId": str(shop["_id"]), "pharmacyCreated": created, "medicinesAdded": len(docs),
            "verified": shop.get("verificationStatus") == VERIFIED}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m functions.pharmacy.seed", description=__doc__.split("\n")[0])
    parser.add_argument("--owner", required=True, help="contact (e-mail or phone) of an approved pharmacist")
    args = parser.parse_args(argv)
    result = seed(args.owner)
    print(", ".join(f"{k}={v}" for k, v in result.items()))
    if not result["verified"]:
        print("note: that pharmacist's own pharmacy is not verified yet; an admin verifies it "
              "(PUT /api/v1/admin/pharmacy/{id}/status) before it is public", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
