"""Contract rows 19-40 of `../shared/frontend-contract.md`: the pharmacy, its inventory, the
medicine store, orders and their administration. Every request goes through
`tests.contract.frontend.send`, exactly as the frontend's proxy delivers it (bare `Origin`, the
API's own `Host`, `Sec-Fetch-Site`, the `token` cookie; multipart and JSON bodies with numbers as
strings), and every field the UI reads is asserted with the type it renders: a string where it
prints text, rupees as numbers (`price: 45.5`, `totalAmount`, `pricing.totalPrice`).
"""
from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId

from tests.contract.frontend import read, renders_as_text, send
from tests.factories import make_user
from tests.pharmacy_support import (
    cloudinary_fixture,  # noqa: F401  (the `cloudinary` fixture)
    make_medicine,
    make_pharmacy,
    patient,
    pharmacist,
    png_bytes,
)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_text(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def registration_form(**overrides: Any) -> dict[str, Any]:
    """PharmacyRegistration's FormData: every field a string, objects as JSON strings."""
    form: dict[str, Any] = {
        "name": "Good Health Pharmacy", "description": "Open late", "licenseNumber": "MH-PUN-12345",
        "establishedYear": "2015", "deliveryRadius": "5",
        "address": '{"street": "12 MG Road", "city": "Pune", "state": "Maharashtra", "pincode": "411001"}',
        "contactInfo": '{"phone": "+919812345678", "email": "shop@example.com", "whatsapp": ""}',
        "operatingHours": '{"weekdays": {"open": "09:00", "close": "21:00"}, '
                          '"weekends": {"open": "10:00", "close": "18:00"}}',
    }
    form.update(overrides)
    return form


def medicine_form(**overrides: str) -> dict[str, str]:
    """CreateMedicine's FormData: the form's inputs, all strings."""
    form = {"name": "Dolo 650", "genericName": "Paracetamol", "category": "Pain Relief", "manufacturer": "Micro Labs",
            "composition": "Paracetamol 650 mg", "strength": "650 mg", "packSize": "15 tablets",
            "batchNumber": "DL-2201", "formType": "Tablet", "price": "45.50", "mrp": "50", "stock": "35",
            "minStock": "10", "expiryDate": "2027-12-31", "prescriptionRequired": "false",
            "description": "For fever and pain", "sideEffects": "Nausea", "uses": "Fever"}
    form.update(overrides)
    return form


@pytest.fixture
def shop(client: Any, clock: Any) -> dict[str, Any]:
    return make_pharmacy()


# ---------------------------------------------------------------- 19-24: the pharmacist's pharmacy


def test_row_19_quick_setup_makes_the_demo_pharmacy(client, clock, db, monkeypatch):
    # Given the dev stage (the Create Medicine gate's button exists for development only)
    from functions.core import config

    monkeypatch.setenv("STAGE", "dev")
    config.reset_settings()
    owner = pharmacist()
    # When the gate posts `{}`
    response = send(client, "POST", "/pharmacy/quick-setup", owner, json_body={})
    # Then a verified pharmacy exists (the page reloads and reads /pharmacy/my)
    assert response.status_code == 201, response.body
    stored = db.pharmacies.find_one({"owner": owner["_id"]})
    assert stored["verificationStatus"] == "verified"
    assert (stored["deliveryCharges"], stored["freeDeliveryAbove"]) == (5000, 50000)  # ₹50, ₹500 in paise


def test_row_20_registration_form_with_numbers_as_strings_and_an_avatar(client, clock, db, cloudinary):
    # Given the registration form, numbers as strings and an avatar file
    owner = pharmacist()
    # When it is posted through the proxy
    response = send(client, "POST", "/pharmacy/register", owner, form=registration_form(),
                    files={"avatar": ("shop.png", png_bytes(), "image/png")})
    # Then the UI reads `success`, and the strings were stored as numbers
    assert response.status_code == 201, response.body
    assert read(response)["success"] is True
    stored = db.pharmacies.find_one({"owner": owner["_id"]})
    assert (stored["establishedYear"], stored["deliveryRadius"]) == (2015, 5)
    assert stored["verificationStatus"] == "pending" and stored["avatar"]["url"].startswith("https://")


@pytest.mark.parametrize(("quantity", "delivery"), [(2, 50), (11, 0)])
def test_a_pharmacy_registered_by_the_form_charges_the_delivery_the_checkout_shows(client, clock, db, quantity,
                                                                                 delivery):
    # Given a pharmacy registered through the form (which has no delivery fields) and verified
    owner = pharmacist()
    assert send(client, "POST", "/pharmacy/register", owner, form=registration_form()).status_code == 201
    db.pharmacies.update_one({"owner": owner["_id"]}, {"$set": {"verificationStatus": "verified",
                                                                 "isVerified": True, "listed": True}})
    shop = db.pharmacies.find_one({"owner": owner["_id"]})
    medicine = make_medicine({**shop, "ownerUser": owner}, name="Dolo 650", price=45.50, mrp=50)
    # When a patient checks out 2 (₹91, under ₹500) or 11 (₹500.50) of them for delivery
    response = send(client, "POST", "/orders", patient(), json_body={
        "pharmacyId": str(shop["_id"]), "items": [{"medicine": str(medicine["_id"]), "quantity": quantity}],
        "shippingAddress": {"fullName": "Asha Rao", "phone": "+919800000001", "street": "1 Lake View",
                            "city": "Pune", "state": "Maharashtra", "pincode": "411002"},
        "paymentInfo": {"method": "cod", "status": "pending"}, "deliveryInfo": {"type": "delivery"}})
    # Then the delivery charged is what the checkout page showed: ₹50 under ₹500, free from ₹500
    assert response.status_code == 201, response.body
    assert read(response)["order"]["pricing"]["deliveryCharge"] == delivery


def test_row_20_from_a_foreign_page_is_refused(client, clock, db):
    # Given a foreign page posting the same form through the proxy, with the visitor's cookie
    owner = pharmacist()
    # When it arrives (the proxy's bare Origin, the browser's `Sec-Fetch-Site: cross-site`)
    response = send(client, "POST", "/pharmacy/register", owner, form=registration_form(), site="cross-site")
    # Then nothing is registered
    assert (response.status_code, read(response)["code"]) == (403, "CROSS_SITE_REQUEST")
    assert db.pharmacies.count_documents({}) == 0


def test_row_21_my_pharmacy_carries_what_the_dashboard_prints(client, shop):
    # Given a verified pharmacy; When its owner's dashboard loads it
    response = send(client, "GET", "/pharmacy/my", shop["ownerUser"])
    # Then the fields it prints come as text, numbers and a flag, money in rupees
    assert response.status_code == 200
    pharmacy = read(response)["pharmacy"]
    assert is_text(pharmacy["name"]) and is_text(pharmacy["status"]) and pharmacy["isVerified"] is True
    assert is_number(pharmacy["rating"]) and is_number(pharmacy["totalReviews"])
    assert pharmacy["deliveryCharges"] == 40 and pharmacy["freeDeliveryAbove"] == 500  # rupees


def test_row_22_updating_the_pharmacy_by_multipart(client, shop, db):
    # Given the settings form, numbers (money too) as strings
    form = registration_form(name="Good Health Pharmacy & Clinic", deliveryRadius="7", deliveryCharges="35.50",
                             freeDeliveryAbove="499")
    del form["licenseNumber"]  # read-only after registration
    # When it is sent
    response = send(client, "PUT", "/pharmacy/my", shop["ownerUser"], form=form)
    # Then the answer's pharmacy shows the rupees sent, and paise are stored
    assert response.status_code == 200, response.body
    pharmacy = read(response)["pharmacy"]
    assert pharmacy["name"] == "Good Health Pharmacy & Clinic" and pharmacy["deliveryRadius"] == 7
    assert (pharmacy["deliveryCharges"], pharmacy["freeDeliveryAbove"]) == (35.5, 499)
    stored = db.pharmacies.find_one({"_id": shop["_id"]})
    assert (stored["deliveryCharges"], stored["freeDeliveryAbove"]) == (3550, 49900)


def test_row_23_a_pharmacys_public_page(client, shop):
    # Given a listed pharmacy; When anyone opens its page
    response = send(client, "GET", f"/pharmacy/{shop['_id']}")
    # Then its public fields come, money in rupees, private ones left out
    assert response.status_code == 200
    pharmacy = read(response)["pharmacy"]
    assert is_text(pharmacy["name"]) and is_text(pharmacy["address"]["city"])
    assert pharmacy["deliveryCharges"] == 40 and "licenseNumber" not in pharmacy


def test_row_24_stats_are_numbers(client, shop):
    # Given one medicine low on stock; When the dashboard's stats load
    make_medicine(shop, stock=3)
    response = send(client, "GET", "/pharmacy/stats", shop["ownerUser"])
    # Then every figure it prints is a number
    assert response.status_code == 200
    stats = read(response)["stats"]
    assert stats["medicines"] == {"total": 1, "active": 1, "lowStock": 1}
    assert all(is_number(stats["orders"][k]) for k in ("total", "pending", "today"))
    assert is_number(stats["revenue"]["total"])


# ---------------------------------------------------------------- 25-32: the inventory


MEDICINE_TEXT = ("name", "manufacturer", "strength", "category", "expiryDate")


def assert_medicine_row(row: dict[str, Any]) -> None:
    assert all(is_text(row[k]) for k in MEDICINE_TEXT), row
    assert all(is_number(row[k]) for k in ("price", "mrp", "stock", "minStock")), row


def test_row_25_search_shows_active_medicines_with_rupee_prices(client, shop):
    # Given an active medicine at ₹45.50 and a deleted one
    make_medicine(shop, name="Dolo 650", price=45.50, mrp=50)
    make_medicine(shop, name="Withdrawn Syrup", isActive=False)
    # When the dashboard's table asks, its filters blank or "all"
    for query in ("?keyword=&category=&stockStatus=", "?keyword=&category=all&stockStatus=all", ""):
        response = send(client, "GET", "/pharmacy/medicines/search" + query, shop["ownerUser"])
        # Then only the active one is listed, with the fields it prints
        assert response.status_code == 200, (query, response.body)
        [row] = read(response)["medicines"]
        assert_medicine_row(row)
        assert (row["name"], row["price"], row["mrp"]) == ("Dolo 650", 45.5, 50)


def test_row_26_create_medicine_form_with_strings_and_an_image(client, shop, db, cloudinary):
    # When CreateMedicine posts its form: every number a string, the price with paise
    response = send(client, "POST", "/pharmacy/medicines", shop["ownerUser"], form=medicine_form(),
                    files={"images": ("dolo.png", png_bytes(), "image/png")})
    # Then the medicine is created and the answer shows the rupees typed
    assert response.status_code == 201, response.body
    medicine = read(response)["medicine"]
    assert (medicine["price"], medicine["mrp"], medicine["stock"], medicine["minStock"]) == (45.5, 50, 35, 10)
    assert medicine["prescriptionRequired"] is False and is_text(medicine["images"][0]["url"])
    stored = db.medicines.find_one({"_id": ObjectId(medicine["_id"])})
    assert (stored["price"], stored["mrp"], stored["stock"]) == (4550, 5000, 35)


def test_row_26_the_form_with_its_optional_inputs_left_empty(client, shop, db):
    # Given CreateMedicine's FormData exactly as the page builds it (all 18 inputs, the optional
    # ones left empty, the checkbox as the string "false")
    form = medicine_form(genericName="", minStock="", description="", sideEffects="", uses="")
    assert len(form) == 18
    # When it is posted
    response = send(client, "POST", "/pharmacy/medicines", shop["ownerUser"], form=form)
    # Then the medicine is created with the defaults of the empty inputs
    assert response.status_code == 201, response.body
    medicine = read(response)["medicine"]
    assert medicine["minStock"] == 10 and medicine["price"] == 45.5 and medicine["prescriptionRequired"] is False


def test_row_20_the_registration_form_without_a_year(client, clock, db):
    # Given the registration form with its optional year left empty (the page's initial '')
    owner = pharmacist()
    # When it is posted
    response = send(client, "POST", "/pharmacy/register", owner, form=registration_form(establishedYear=""))
    # Then the pharmacy is registered without a year
    assert response.status_code == 201, response.body
    assert "establishedYear" not in db.pharmacies.find_one({"owner": owner["_id"]}) or \
        db.pharmacies.find_one({"owner": owner["_id"]})["establishedYear"] is None


def test_row_26_a_price_with_three_decimals_is_refused_by_name(client, shop):
    # When a price below a paisa is typed
    response = send(client, "POST", "/pharmacy/medicines", shop["ownerUser"], form=medicine_form(price="45.505"))
    # Then it is refused, naming the field
    assert response.status_code == 400
    assert "price" in [e["field"] for e in read(response)["errors"]]


def test_row_27_updating_a_medicine_by_multipart(client, shop, db):
    # Given a medicine at ₹45.50
    medicine = make_medicine(shop, price=45.50, mrp=50)
    # When the edit form sends its strings
    response = send(client, "PUT", f"/pharmacy/medicine/{medicine['_id']}", shop["ownerUser"],
                    form={"price": "40.25", "stock": "12", "minStock": "5"})
    # Then the medicine shows them as numbers, the price in rupees (paise stored)
    assert response.status_code == 200, response.body
    assert read(response)["success"] is True
    shown = read(response)["medicine"]
    assert (shown["price"], shown["stock"], shown["minStock"]) == (40.25, 12, 5)
    assert db.medicines.find_one({"_id": medicine["_id"]})["price"] == 4025


def test_row_28_a_deleted_medicine_leaves_the_dashboards_table(client, shop):
    # Given a medicine in the table
    medicine = make_medicine(shop, name="Dolo 650")
    # When the pharmacist deletes it
    response = send(client, "DELETE", f"/pharmacy/medicine/{medicine['_id']}", shop["ownerUser"])
    # Then it is gone from the table the dashboard reloads (row 25)
    assert response.status_code == 200, response.body
    after = read(send(client, "GET", "/pharmacy/medicines/search", shop["ownerUser"]))["medicines"]
    assert after == []


def test_row_29_bulk_upload_of_json_rows(client, shop, db):
    # Given rows with numbers as strings or numbers, prices in rupees
    rows = [{**medicine_form(name="Crocin", batchNumber="CR-1"), "price": "20", "mrp": "22.50", "stock": "80"},
            {**medicine_form(name="Brufen", batchNumber="BR-1"), "price": 18, "mrp": 20, "stock": 60}]
    # When they are uploaded
    response = send(client, "POST", "/pharmacy/medicines/bulk-upload", shop["ownerUser"], json_body={"medicines": rows})
    # Then both are inserted, shown in rupees and stored in paise
    assert response.status_code == 201, response.body
    data = read(response)
    assert data["success"] is True and data["inserted"] == 2 and is_text(data["message"])
    assert sorted(m["price"] for m in data["medicines"]) == [18, 20]
    assert db.medicines.find_one({"name": "Crocin"})["mrp"] == 2250


def test_row_30_the_stock_input_sends_a_string(client, shop, db):
    # Given a medicine with 50 in stock
    medicine = make_medicine(shop, stock=50)
    # When the stock input sends what was typed
    response = send(client, "PUT", "/pharmacy/medicines/bulk-stock-update", shop["ownerUser"],
                    json_body={"stockUpdates": [{"medicineId": str(medicine["_id"]), "newStock": "35"}]})
    # Then the stock is 35 (the toast shows on any 2xx)
    assert response.status_code == 200, response.body
    assert db.medicines.find_one({"_id": medicine["_id"]})["stock"] == 35


def test_row_30_an_update_that_applied_nothing_is_no_2xx_and_says_why(client, shop, db):
    # Given a medicine with 50 in stock
    medicine = make_medicine(shop, stock=50)
    # When the input holds something that is no stock
    response = send(client, "PUT", "/pharmacy/medicines/bulk-stock-update", shop["ownerUser"],
                    json_body={"stockUpdates": [{"medicineId": str(medicine["_id"]), "newStock": "3.5"}]})
    # Then the UI gets an error, whose message (all it shows) names the field
    assert response.status_code == 422
    assert "newStock" in read(response)["message"]
    assert db.medicines.find_one({"_id": medicine["_id"]})["stock"] == 50


def test_rows_31_and_32_low_stock_and_expiring_lists(client, shop):
    # Given a medicine low on stock and expiring this month, and one with plenty for years
    make_medicine(shop, name="Low Dolo", stock=2, price=45.50, mrp=50, expiryDate="2026-03-20")
    make_medicine(shop, name="Plenty", stock=500)
    # When the dashboard's two warning lists load
    low = send(client, "GET", "/pharmacy/medicines/low-stock", shop["ownerUser"])
    expiring = send(client, "GET", "/pharmacy/medicines/expiring?days=30", shop["ownerUser"])
    # Then each holds the first, with the fields the table prints
    assert low.status_code == expiring.status_code == 200
    for response in (low, expiring):
        [row] = read(response)["medicines"]
        assert_medicine_row(row)
        assert (row["name"], row["price"]) == ("Low Dolo", 45.5)


# ---------------------------------------------------------------- 33-37: the store and orders


@pytest.fixture
def placed(client, shop):
    """A patient's order of 2 x ₹45.50 with ₹40 delivery (under the ₹500 threshold), placed
    through the checkout's body (row 36)."""
    medicine = make_medicine(shop, name="Dolo 650", price=45.50, mrp=50)
    customer = patient()
    checkout = {
        "pharmacyId": str(shop["_id"]),
        "items": [{"medicine": str(medicine["_id"]), "quantity": 2}],
        "shippingAddress": {"fullName": "Asha Rao", "phone": "+919800000001", "street": "1 Lake View",
                            "city": "Pune", "state": "Maharashtra", "pincode": "411002"},
        "paymentInfo": {"method": "cod", "status": "pending"},
        "deliveryInfo": {"type": "delivery"},
        "specialInstructions": "",
    }
    response = send(client, "POST", "/orders", customer, json_body=checkout)
    return {"shop": shop, "medicine": medicine, "customer": customer, "response": response}


def test_row_36_the_checkouts_body_places_the_order_priced_in_rupees(placed, db):
    # Given the checkout's body posted (the fixture); Then the order is placed, priced in rupees
    response = placed["response"]
    assert response.status_code == 201, response.body
    order = read(response)["order"]
    assert order["pricing"] == {"itemsPrice": 91, "discount": 9, "deliveryCharge": 40, "totalPrice": 131,
                                "currency": "INR"}
    assert order["items"][0]["price"] == 45.5 and is_text(order["orderNumber"])
    assert order["paymentInfo"] == {"method": "cod", "status": "pending"}  # the client's status is not taken
    assert db.orders.find_one({"_id": ObjectId(order["_id"])})["pricing"]["totalPrice"] == 13100


def test_row_33_the_pharmacys_orders(client, placed):
    # Given a placed order; When the pharmacy's order list loads
    response = send(client, "GET", "/pharmacy/orders", placed["shop"]["ownerUser"])
    # Then it shows the order with its customer's name, phone and e-mail, the total in rupees
    assert response.status_code == 200
    [order] = read(response)["orders"]
    assert is_text(order["orderNumber"]) and is_text(order["orderStatus"]) and is_text(order["createdAt"])
    customer = order["customer"]
    assert customer["name"] == placed["customer"]["name"] and customer["email"] == placed["customer"]["contact"]
    assert customer["phone"] == "+919800000001"  # an e-mail account: the delivery address's phone
    assert isinstance(order["items"], list) and order["pricing"]["totalPrice"] == 131


def test_row_34_categories_are_strings(client, shop):
    # Given medicines in two categories
    make_medicine(shop, category="Pain Relief")
    make_medicine(shop, name="Azee", category="Antibiotics")
    make_medicine(shop, name="Limcee", category="Antibiotics")
    # When the store's category filter loads
    response = send(client, "GET", "/medicines/categories")
    # Then it gets the names as strings (its option keys, values and labels), counts beside
    assert response.status_code == 200
    data = read(response)
    assert data["categories"] == ["Pain Relief", "Antibiotics"]
    assert all(isinstance(c, str) for c in data["categories"])
    assert data["counts"] == {"Pain Relief": 1, "Antibiotics": 2}


def test_row_35_the_store_lists_pages_and_filters_by_rupees(client, shop):
    # Given two medicines on sale, one with an image
    make_medicine(shop, name="Dolo 650", price=45.50, mrp=50,
                  images=[{"public_id": "m/dolo", "url": "https://res.cloudinary.com/demo/dolo.png"}])
    make_medicine(shop, name="Telma 40", price=210, mrp=230)
    # When the store asks with its query, unused filters blank
    everything = send(client, "GET", "/medicines?search=&category=&sortBy=name&minPrice=&maxPrice="
                                     "&prescriptionRequired=&city=&page=1&limit=20")
    cheap = send(client, "GET", "/medicines?search=&category=all&sortBy=price-low&minPrice=40&maxPrice=45.50"
                                "&prescriptionRequired=false&city=pune&page=1&limit=20")
    # Then it gets the page and its pagination, prices in rupees, the pharmacy's name as text
    assert everything.status_code == cheap.status_code == 200, (everything.body, cheap.body)
    data = read(everything)
    assert [m["name"] for m in data["medicines"]] == ["Dolo 650", "Telma 40"]
    assert data["pagination"]["pages"] == 1 and data["pagination"]["total"] == 2
    dolo = data["medicines"][0]
    assert dolo["price"] == 45.5 and is_number(dolo["rating"])
    assert is_text(dolo["pharmacy"]["_id"]) and is_text(dolo["pharmacy"]["name"])
    assert is_text(dolo["images"][0]["url"])
    assert [m["name"] for m in read(cheap)["medicines"]] == ["Dolo 650"]


def test_row_37_order_tracking(client, placed):
    # Given a placed order; When its customer opens order tracking
    response = send(client, "GET", "/orders/my", placed["customer"])
    # Then every field the page prints is there, money in rupees
    assert response.status_code == 200
    [order] = read(response)["orders"]
    assert is_text(order["orderNumber"]) and is_text(order["createdAt"]) and is_text(order["orderStatus"])
    assert is_text(order["pharmacy"]["name"]) and order["paymentInfo"]["method"] == "cod"
    assert {k: order["pricing"][k] for k in ("totalPrice", "itemsPrice", "deliveryCharge")} == {
        "totalPrice": 131, "itemsPrice": 91, "deliveryCharge": 40}
    [item] = order["items"]
    assert item["medicine"]["name"] == "Dolo 650" and isinstance(item["medicine"]["images"], list)
    assert (item["quantity"], item["price"]) == (2, 45.5)
    assert order["shippingAddress"]["city"] == "Pune"


@pytest.mark.parametrize("role", ["pharmacist", "admin", "doctor"])
def test_row_37_the_navbars_order_links_of_other_roles_open_an_empty_list(client, placed, role):
    # Given the pharmacist's "Order History" or the admin's "Orders" (both open /orders)
    who = placed["shop"]["ownerUser"] if role == "pharmacist" else make_user(role)
    # When it loads
    response = send(client, "GET", "/orders/my", who)
    # Then it shows their own orders: none, and never the customer's
    assert response.status_code == 200, response.body
    assert read(response)["orders"] == []


# ---------------------------------------------------------------- 38-40: administration


def test_row_38_the_admin_pharmacy_list_prints_the_owner_as_text(client, clock):
    # Given a pending pharmacy
    shop = make_pharmacy(verification="pending")
    # When the admin panel loads
    response = send(client, "GET", "/admin/pharmacies", make_user("admin"))
    # Then each item has the fields it renders, `owner` a string
    assert response.status_code == 200
    [row] = read(response)["pharmacies"]
    assert row["_id"] == str(shop["_id"]) and row["owner"] == str(shop["owner"])
    assert row["ownerName"] == shop["ownerUser"]["name"]
    assert all(renders_as_text(row[k]) for k in ("name", "licenseNumber", "owner", "verificationStatus",
                                                 "createdAt"))
    assert renders_as_text(row["contactInfo"]["phone"])
    assert renders_as_text(row["address"]["city"]) and renders_as_text(row["address"]["state"])


def test_row_39_approving_a_pharmacy(client, clock, db):
    # Given a pending pharmacy; When the admin clicks Approve
    shop = make_pharmacy(verification="pending")
    response = send(client, "PUT", f"/admin/pharmacy/{shop['_id']}/status", make_user("admin"),
                    json_body={"status": "verified"})
    # Then it is verified and listed
    assert response.status_code == 200, response.body
    assert db.pharmacies.find_one({"_id": shop["_id"]})["listed"] is True


def test_row_40_the_admin_orders_tab(client, placed):
    # Given a placed order; When the admin's Orders tab loads
    assert placed["response"].status_code == 201
    response = send(client, "GET", "/admin/orders", make_user("admin"))
    # Then each row has the keys the tab reads, the total in rupees
    assert response.status_code == 200
    [row] = read(response)["orders"]
    assert row["_id"] == read(placed["response"])["order"]["_id"]
    assert is_text(row["createdAt"]) and is_text(row["orderNumber"]) and row["status"] == "pending"
    assert row["pharmacyId"]["name"] == placed["shop"]["name"]
    assert row["userId"]["name"] == placed["customer"]["name"]
    assert row["totalAmount"] == 131  # rupees
