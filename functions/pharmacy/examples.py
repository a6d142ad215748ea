"""Request and response examples of the pharmacy's main flows, for the OpenAPI document
(`@describe(examples=...)`). Each response example is validated against its route's documented
model by tests/integration/test_answers_pharmacy.py, so an example cannot drift from the answer."""

from __future__ import annotations

from typing import Any

_SHOP = "66f0c0ffee0000000000a001"
_MEDICINE = "66f0c0ffee0000000000b001"
_ADDRESS = {"street": "12 MG Road", "city": "Pune", "state": "Maharashtra", "pincode": "411001"}
_CONTACT = {"phone": "+919812345678", "email": "shop@example.com"}
_IMAGE = {"public_id": "cureconnect/medicine-image/66f0c0ffee0000000000c001/strip",
          "url": "https://res.cloudinary.com/demo/image/upload/v1/cureconnect/medicine-image/66f0c0ffee0000000000c001/strip.jpg"}
_AT = "2026-03-02T10:00:00.000Z"

_SHIPPING = {"fullName": "Asha Rao", "phone": "+919800000001", "street": "1 Lake View", "city": "Pune",
             "state": "Maharashtra", "pincode": "411002", "landmark": None, "addressType": "Home"}

PLACE_ORDER: dict[str, dict[str, Any]] = {
    "cash on delivery": {
        "summary": "Two strips of paracetamol, delivered, paid in cash (the checkout's request)",
        "request": {
            "pharmacyId": _SHOP,
            "items": [{"medicine": _MEDICINE, "quantity": 2}],
            "shippingAddress": {k: v for k, v in _SHIPPING.items() if v is not None},
            "paymentInfo": {"method": "cod", "status": "pending"},
            "deliveryInfo": {"type": "delivery"},
            "specialInstructions": "Ring the bell twice",
        },
        "response": {
            "success": True,
            "message": "Order placed successfully",
            "order": {
                "_id": "66f0c0ffee0000000000d001",
                "orderNumber": "ORD2603020001",
                "customer": "66f0c0ffee0000000000c002",
                "pharmacy": {"_id": _SHOP, "name": "Good Health Pharmacy", "contactInfo": _CONTACT,
                             "address": _ADDRESS},
                "items": [{"name": "Paracetamol", "genericName": "Acetaminophen", "strength": "500 mg",
                           "manufacturer": "Cipla", "quantity": 2, "price": 25, "mrp": 30, "discount": 16,
                           "lineTotal": 50, "prescriptionRequired": False,
                           "medicine": {"_id": _MEDICINE, "name": "Paracetamol", "images": [_IMAGE]}}],
                "shippingAddress": _SHIPPING,
                "paymentInfo": {"method": "cod", "status": "pending"},
                "orderStatus": "pending",
                "statusHistory": [{"status": "pending", "timestamp": _AT, "note": "Order placed successfully"}],
                "pricing": {"itemsPrice": 50, "discount": 10, "deliveryCharge": 50, "totalPrice": 100,
                            "currency": "INR"},
                "deliveryInfo": {"type": "delivery"},
                "specialInstructions": "Ring the bell twice",
                "isUrgent": False,
                "prescription": None,
                "createdAt": _AT,
                "updatedAt": _AT,
            },
        },
    },
}

CATALOGUE: dict[str, dict[str, Any]] = {
    "first page": {
        "summary": "The store page's first page (`GET /medicines?page=1&limit=20&sortBy=price-low`)",
        "response": {
            "success": True,
            "count": 1,
            "medicines": [{
                "_id": _MEDICINE, "name": "Paracetamol", "genericName": "Acetaminophen", "category": "Pain Relief",
                "manufacturer": "Cipla", "composition": "Paracetamol 500 mg", "strength": "500 mg",
                "packSize": "10 tablets", "batchNumber": "B1", "formType": "Tablet", "price": 25, "mrp": 30,
                "discount": 16, "discountedPrice": 25, "stock": 50, "minStock": 10,
                "expiryDate": "2027-12-31T23:59:59.000Z", "images": [_IMAGE], "prescriptionRequired": False,
                "isActive": True, "listed": True, "tags": [], "rating": 0, "totalReviews": 0, "soldCount": 0,
                "inStock": True, "lowStock": False, "expired": False, "createdAt": _AT, "updatedAt": _AT,
                "pharmacy": {"_id": _SHOP, "name": "Good Health Pharmacy", "address": _ADDRESS,
                             "contactInfo": _CONTACT, "rating": 4.5,
                             "operatingHours": {"weekdays": {"open": "09:00", "close": "21:00"},
                                                "weekends": {"open": "10:00", "close": "18:00"}}},
            }],
            "pagination": {"total": 1, "page": 1, "pages": 1, "limit": 20},
        },
    },
}
