"""A verified pharmacy's inventory: add, edit, soft delete, bulk upload (JSON and CSV), bulk
stock, low-stock, expiring and search lists."""

import pytest
from bson import ObjectId

from tests.factories import bearer
from tests.http import call
from tests.pharmacy_support import (
    body,
    cloudinary_fixture,  # noqa: F401  (the `cloudinary` fixture)
    make_medicine,
    make_pharmacy,
    medicine_fields,
    multipart,
    pharmacist,
    png_bytes,
)


@pytest.fixture
def shop(api):
    return make_pharmacy()


def test_a_verified_pharmacy_adds_a_medicine_with_a_derived_discount(api, db, shop):
    # Given a verified pharmacy
    owner = shop["ownerUser"]
    # When the owner adds a medicine at ₹22.50 (MRP ₹30)
    response = call(api, "POST", "/pharmacy/medicines", as_=owner, json=medicine_fields(price=22.50, mrp=30))
    # Then it is stored in paise with the discount derived from price and MRP, listed, with the
    # virtuals, and shown in rupees
    assert response.status_code == 201, response.body
    medicine = body(response)["medicine"]
    assert (medicine["price"], medicine["mrp"], medicine["discountedPrice"]) == (22.5, 30, 22.5)
    assert medicine["discount"] == 25
    assert medicine["inStock"] is True and medicine["lowStock"] is False and medicine["listed"] is True
    stored = db.medicines.find_one({"_id": ObjectId(medicine["_id"])})
    assert (stored["price"], stored["mrp"]) == (2250, 3000)
    assert db.pharmacies.find_one({"_id": shop["_id"]})["totalMedicines"] == 1


@pytest.mark.parametrize("forged", [{"discount": 90}, {"rating": 5}, {"soldCount": 10}, {"pharmacy": "x" * 24},
                                    {"listed": True}])
def test_server_managed_medicine_fields_cannot_be_posted(api, shop, forged):
    # D-17 (mass assignment): unknown or server-managed fields are refused on create
    response = call(api, "POST", "/pharmacy/medicines", as_=shop["ownerUser"], json=medicine_fields(**forged))
    assert response.status_code == 400


@pytest.mark.parametrize(("change", "field"), [
    ({"price": 31, "mrp": 30}, "body"), ({"stock": -1}, "stock"), ({"stock": 1.5}, "stock"), ({"stock": True}, "stock"),
    ({"price": 45.505}, "price"), ({"price": "ten"}, "price"), ({"mrp": -1}, "mrp"),
    ({"category": "Snacks"}, "category"), ({"formType": "Pill"}, "formType"),
    ({"images": [{"public_id": str(i), "url": f"https://x.example/{i}.png"} for i in range(6)]}, "images"),
])
def test_medicine_fields_are_validated(api, shop, change, field):
    response = call(api, "POST", "/pharmacy/medicines", as_=shop["ownerUser"], json=medicine_fields(**change))
    assert response.status_code == 400
    assert field in [e["field"] for e in body(response)["errors"]]


def test_an_unverified_pharmacy_cannot_stock_medicines(api):
    owner = make_pharmacy(verification="pending")["ownerUser"]
    response = call(api, "POST", "/pharmacy/medicines", as_=owner, json=medicine_fields())
    assert (response.status_code, body(response)["code"]) == (403, "PHARMACY_NOT_VERIFIED")
    response = call(api, "POST", "/pharmacy/medicines", as_=pharmacist(), json=medicine_fields())
    assert (response.status_code, body(response)["code"]) == (404, "NO_PHARMACY")


def test_medicine_images_come_as_form_files_and_go_to_cloudinary(api, db, shop, cloudinary):
    # Given the frontend's multipart form with two image files
    fields = medicine_fields()
    raw, ctype = multipart(fields, {"images": ("a.png", "image/png", png_bytes())})
    raw = raw.replace(b"--XyZbOuNdArY--", b'--XyZbOuNdArY\r\nContent-Disposition: form-data; name="images"; '
                      b'filename="b.png"\r\nContent-Type: image/png\r\n\r\n' + png_bytes() + b"\r\n--XyZbOuNdArY--")
    # When it is posted
    response = api.http.post("/api/v1/pharmacy/medicines", body=raw,
                             headers={"Content-Type": ctype, **bearer(shop["ownerUser"])})
    # Then both images were uploaded and the form's strings became numbers and booleans
    assert response.status_code == 201, response.body
    medicine = body(response)["medicine"]
    assert len(medicine["images"]) == 2 and len(cloudinary.calls) == 2
    assert medicine["price"] == 25 and medicine["stock"] == 50 and medicine["prescriptionRequired"] is False


def test_editing_keeps_price_within_mrp_and_ignores_echoed_server_fields(api, db, shop):
    medicine = make_medicine(shop, price=25, mrp=30)
    owner = shop["ownerUser"]
    path = f"/pharmacy/medicine/{medicine['_id']}"
    assert call(api, "PUT", path, as_=owner, json={"price": 35}).status_code == 400
    response = call(api, "PUT", path, as_=owner, json={"price": "15.00", "rating": 5, "soldCount": 99, "pharmacy": "x"})
    assert response.status_code == 200, response.body
    assert body(response)["medicine"]["price"] == 15
    stored = db.medicines.find_one({"_id": medicine["_id"]})
    assert (stored["price"], stored["discount"], stored["rating"], stored["soldCount"]) == (1500, 50, 0, 0)
    assert stored["pharmacy"] == shop["_id"]


def test_another_pharmacy_cannot_touch_my_medicine(api, db, shop):
    medicine = make_medicine(shop)
    other = make_pharmacy()["ownerUser"]
    assert call(api, "PUT", f"/pharmacy/medicine/{medicine['_id']}", as_=other, json={"price": 1}).status_code == 404
    assert call(api, "DELETE", f"/pharmacy/medicine/{medicine['_id']}", as_=other).status_code == 404
    assert db.medicines.find_one({"_id": medicine["_id"]})["price"] == 2500


def test_delete_is_soft_and_unlists(api, db, shop):
    medicine = make_medicine(shop)
    response = call(api, "DELETE", f"/pharmacy/medicine/{medicine['_id']}", as_=shop["ownerUser"])
    assert response.status_code == 200
    stored = db.medicines.find_one({"_id": medicine["_id"]})
    assert stored is not None and stored["isActive"] is False and stored["listed"] is False
    assert call(api, "GET", f"/medicine/{medicine['_id']}").status_code == 404


def test_bulk_upload_reports_every_row_and_inserts_the_valid_ones(api, db, shop):
    # Given three rows, one of them invalid (D-43: invalid rows vanished silently)
    rows = [medicine_fields(name="A"), medicine_fields(name="B", price=9999, mrp=10), medicine_fields(name="C")]
    # When uploaded
    response = call(api, "POST", "/pharmacy/medicines/bulk-upload", as_=shop["ownerUser"], json={"medicines": rows})
    # Then two are inserted and the report names the failing row
    assert response.status_code == 201, response.body
    report = body(response)["results"]
    assert [r["ok"] for r in report] == [True, False, True] and report[1]["row"] == 2 and report[1]["errors"]
    assert body(response)["inserted"] == 2
    assert sorted(d["name"] for d in db.medicines.find({"pharmacy": shop["_id"]})) == ["A", "C"]


def test_bulk_upload_accepts_csv(api, db, shop):
    csv = ("name,category,manufacturer,composition,strength,packSize,batchNumber,formType,price,mrp,stock,"
           "expiryDate,prescriptionRequired,tags\n"
           "Cetirizine,Cold & Flu,Cipla,Cetirizine 10 mg,10 mg,10 tabs,C1,Tablet,500,600,30,2027-06-30,false,"
           "allergy;cold\n"
           "Broken,Nope,Cipla,x,1,1,1,Tablet,1,1,1,2027-01-01,true,\n")
    response = call(api, "POST", "/pharmacy/medicines/bulk-upload", as_=shop["ownerUser"], json=csv.encode(),
                    headers={"Content-Type": "text/csv"})
    assert response.status_code == 201, response.body
    assert [r["ok"] for r in body(response)["results"]] == [True, False]
    stored = db.medicines.find_one({"name": "Cetirizine"})
    assert stored["stock"] == 30 and stored["tags"] == ["allergy", "cold"] and stored["prescriptionRequired"] is False


def test_bulk_upload_with_no_valid_row_is_422_and_over_1000_rows_413(api, shop):
    owner = shop["ownerUser"]
    bad = call(api, "POST", "/pharmacy/medicines/bulk-upload", as_=owner, json=[{"name": "x"}])
    assert bad.status_code == 422 and body(bad)["results"][0]["ok"] is False
    big = call(api, "POST", "/pharmacy/medicines/bulk-upload", as_=owner, json=[medicine_fields()] * 1001)
    assert big.status_code == 413
    assert call(api, "POST", "/pharmacy/medicines/bulk-upload", as_=owner, json=[]).status_code == 400


def test_bulk_stock_update_reports_each_row(api, db, shop):
    mine, theirs = make_medicine(shop), make_medicine(make_pharmacy())
    rows = [{"medicineId": str(mine["_id"]), "newStock": 7}, {"medicineId": str(theirs["_id"]), "newStock": 1},
            {"medicineId": str(mine["_id"]), "newStock": -3}, {"medicineId": "nope", "newStock": 2},
            {"medicineId": str(mine["_id"]), "newStock": 2.5}]
    response = call(api, "PUT", "/pharmacy/medicines/bulk-stock-update", as_=shop["ownerUser"],
                    json={"stockUpdates": rows})
    assert response.status_code == 200
    assert [r["ok"] for r in body(response)["results"]] == [True, False, False, False, False]
    assert db.medicines.find_one({"_id": mine["_id"]})["stock"] == 7
    assert db.medicines.find_one({"_id": theirs["_id"]})["stock"] == 50


def test_a_stock_input_sends_a_string_and_a_bulk_update_that_applied_nothing_is_422(api, db, shop):
    # Given one of my medicines and one of another pharmacy
    mine, theirs = make_medicine(shop), make_medicine(make_pharmacy())
    owner = shop["ownerUser"]
    # When the stock input's string is sent, as the dashboard does
    ok = call(api, "PUT", "/pharmacy/medicines/bulk-stock-update", as_=owner,
              json={"stockUpdates": [{"medicineId": str(mine["_id"]), "newStock": "35"}]})
    # Then it is applied
    assert ok.status_code == 200, ok.body
    assert body(ok)["results"] == [{"row": 1, "ok": True, "id": str(mine["_id"]), "stock": 35}]
    assert db.medicines.find_one({"_id": mine["_id"]})["stock"] == 35
    # And when no row applies, the answer is no 2xx and its message names the first row's error
    for rows, named in (([{"medicineId": str(mine["_id"]), "newStock": "3.5"}], "newStock"),
                        ([{"medicineId": str(theirs["_id"]), "newStock": "4"}], "Medicine not found")):
        refused = call(api, "PUT", "/pharmacy/medicines/bulk-stock-update", as_=owner, json={"stockUpdates": rows})
        assert (refused.status_code, body(refused)["code"]) == (422, "NO_VALID_ROWS"), refused.body
        assert named in body(refused)["message"] and body(refused)["results"][0]["ok"] is False
    assert db.medicines.find_one({"_id": mine["_id"]})["stock"] == 35
    assert db.medicines.find_one({"_id": theirs["_id"]})["stock"] == 50


def test_low_stock_and_expiring_lists(api, shop, clock):
    make_medicine(shop, name="Plenty", stock=100)
    make_medicine(shop, name="Low", stock=3)
    make_medicine(shop, name="Gone", stock=0)
    make_medicine(shop, name="Custom", stock=15, minStock=20)
    make_medicine(shop, name="Expired", expiryDate="2026-02-01")
    make_medicine(shop, name="Soon", expiryDate="2026-04-15")
    owner = shop["ownerUser"]
    low = body(call(api, "GET", "/pharmacy/medicines/low-stock", as_=owner))
    assert [m["name"] for m in low["medicines"]] == ["Gone", "Low", "Custom"] and low["count"] == 3
    expiring = body(call(api, "GET", "/pharmacy/medicines/expiring", as_=owner))["medicines"]
    assert [(m["name"], m["expired"]) for m in expiring] == [("Expired", True), ("Soon", False)]
    assert call(api, "GET", "/pharmacy/medicines/expiring?days=abc", as_=owner).status_code == 400


def test_inventory_search_filters_sorts_and_leaves_inactive_out_unless_asked(api, shop):
    # Given two active medicines and a deleted (inactive) one
    make_medicine(shop, name="Amoxicillin", category="Antibiotics", price=90, prescriptionRequired=True, stock=0)
    make_medicine(shop, name="Zinc", category="Vitamins & Supplements", price=30, stock=5)
    make_medicine(shop, name="Old Syrup", formType="Syrup", price=10, isActive=False, stock=0)
    owner = shop["ownerUser"]
    # When the pharmacist searches their inventory
    def names(q: str) -> list[str]:
        return [m["name"] for m in body(call(api, "GET", "/pharmacy/medicines/search" + q, as_=owner))["medicines"]]

    # Then the deleted one shows only when asked for, whatever the stock filter says
    assert names("") == ["Amoxicillin", "Zinc"]
    assert names("?includeInactive=true") == ["Amoxicillin", "Old Syrup", "Zinc"]
    assert names("?stockStatus=outOfStock") == ["Amoxicillin"]
    assert names("?stockStatus=outOfStock&includeInactive=true") == ["Amoxicillin", "Old Syrup"]
    assert names("?includeInactive=false&keyword=syrup") == []
    assert names("?sortBy=price&includeInactive=true") == ["Old Syrup", "Zinc", "Amoxicillin"]
    assert names("?sortBy=price") == ["Zinc", "Amoxicillin"]
    assert names("?keyword=AMOX") == ["Amoxicillin"]
    assert names("?prescriptionRequired=true") == ["Amoxicillin"]
    assert names("?stockStatus=lowStock") == ["Amoxicillin", "Zinc"]
    assert names("?stockStatus=lowStock&includeInactive=true") == ["Amoxicillin", "Old Syrup", "Zinc"]
    assert names("?keyword=(a%2B)%2B%24") == []
