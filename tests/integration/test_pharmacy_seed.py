"""The demo seed: a verified pharmacy with medicines for an existing approved pharmacist."""

import pytest

from functions.pharmacy import seed
from tests.factories import make_user
from tests.http import call
from tests.pharmacy_support import body


def test_the_seed_makes_a_public_demo_shelf_once(api, db, clock, capsys):
    owner = make_user("pharmacist", contact="demo-pharmacist@example.com")
    # When the seed runs twice
    assert seed.main(["--owner", "Demo-Pharmacist@example.com"]) == 0
    assert seed.main(["--owner", "demo-pharmacist@example.com"]) == 0
    # Then one verified pharmacy with the whole shelf exists, and the catalogue shows it
    assert "medicinesAdded=12" in capsys.readouterr().out
    shop = db.pharmacies.find_one({"owner": owner["_id"]})
    assert shop["verificationStatus"] == "verified" and shop["totalMedicines"] == 12
    assert db.medicines.count_documents({"pharmacy": shop["_id"]}) == 12
    catalogue = body(call(api, "GET", "/medicines?limit=100"))
    assert catalogue["pagination"]["total"] == 12
    # And its prices are rupees at the API and paise in the database (Dolo 650 at ₹30)
    assert next(m["price"] for m in catalogue["medicines"] if m["name"] == "Dolo 650") == 30
    assert db.medicines.find_one({"name": "Dolo 650"})["price"] == 3000
    assert (shop["deliveryCharges"], shop["freeDeliveryAbove"]) == (5000, 50000)  # ₹50 under ₹500
    assert db.users.find_one({"_id": owner["_id"]})["role"] == "pharmacist"


def test_the_seed_needs_an_approved_pharmacist(api, db):
    make_user("patient", contact="someone@example.com")
    with pytest.raises(SystemExit):
        seed.main(["--owner", "someone@example.com"])
    assert db.pharmacies.count_documents({}) == 0
