"""Conformance of the query, update and pipeline shapes the pharmacy domain sends (pharmacies,
medicines, orders and their report lines, order counters and idempotency claims). Each test
runs the shape on a small collection and asserts MongoDB's answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
A, B = ObjectId("65f000000000000000000001"), ObjectId("65f000000000000000000002")


def o(n: int) -> ObjectId:
    return ObjectId(f"{n:024x}")


def os_(*ns: int) -> list[ObjectId]:
    return [o(n) for n in ns]


def _shops(coll: Any) -> None:
    coll.insert_many([
        {"_id": o(1), "owner": A, "listed": True, "verificationStatus": "verified",
         "address": {"city": "Pune", "pincode": "411001"}, "licenseKey": "L1"},
        {"_id": o(2), "owner": B, "listed": False, "verificationStatus": "pending",
         "address": {"city": "Mumbai", "pincode": "400001"}, "licenseKey": "L2"},
        {"_id": o(3), "owner": ObjectId(), "listed": True, "verificationStatus": "verified",
         "address": {"city": "pune cantonment", "pincode": "411002"}, "licenseKey": "L3"},
    ])


def test_equality_on_ids_flags_and_statuses(coll: Any, ids: Any) -> None:
    _shops(coll)
    assert ids({"owner": A}) == os_(1)
    assert ids({"_id": o(2)}) == os_(2)
    assert ids({"_id": o(1), "listed": True}) == os_(1)
    assert ids({"_id": o(2), "listed": True}) == []
    assert ids({"verificationStatus": "verified"}) == os_(1, 3)
    assert ids({"listed": True, "address.pincode": "411002"}) == os_(3)
    assert coll.find_one({"_id": ObjectId()}) is None
    assert coll.find_one({"_id": A}) is None


def test_escaped_case_insensitive_regex_on_a_nested_field(coll: Any, ids: Any) -> None:
    _shops(coll)
    assert ids({"listed": True, "address.city": {"$regex": "pUNe", "$options": "i"}}) == os_(1, 3)
    assert ids({"listed": True, "address.city": {"$regex": r"\(a\+\)\+\$", "$options": "i"}}) == []
    assert coll.count_documents({"listed": True, "address.city": {"$regex": "PUNE", "$options": "i"}}) == 2
    both = {"listed": True, "address.city": {"$regex": "pune", "$options": "i"}, "address.pincode": "411001"}
    assert ids(both) == os_(1)
    assert coll.count_documents(both) == 1


def test_pages_newest_first_by_id_with_skip_limit_and_projection(coll: Any) -> None:
    _shops(coll)
    page = list(coll.find({"listed": True}, {"_id": 1}).sort([("_id", DESCENDING)]).skip(0).limit(500))
    assert page == [{"_id": o(3)}, {"_id": o(1)}]
    page = list(coll.find({"verificationStatus": "verified"}).sort([("_id", DESCENDING)]).skip(1).limit(1))
    assert [d["_id"] for d in page] == os_(1)
    assert coll.count_documents({"verificationStatus": "pending"}) == 1
    assert coll.count_documents({"listed": True}) == 2
    joined = {d["_id"]: d for d in coll.find({"_id": {"$in": os_(1, 2, 9)}}, {"owner": 1, "listed": 1})}
    assert sorted(joined) == os_(1, 2) and set(joined[o(1)]) == {"_id", "owner", "listed"}
    excluded = list(coll.find({"owner": A}, {"licenseKey": 0}))
    assert "licenseKey" not in excluded[0] and excluded[0]["listed"] is True


def test_find_one_and_update_sets_every_value_type(coll: Any) -> None:
    _shops(coll)
    doc = coll.find_one_and_update(
        {"owner": A},
        {"$set": {"name": "n", "listed": False, "updatedAt": NOW, "address": {"city": "Goa"}, "deliveryRadius": 5,
                  "verifiedBy": B, "avatar": {"public_id": "p", "url": "u"}, "rating": 4.5,
                  "tags": ["a"]}},
        return_document=ReturnDocument.AFTER)
    assert doc["name"] == "n" and doc["listed"] is False and doc["address"] == {"city": "Goa"}
    assert doc["verifiedBy"] == B and doc["deliveryRadius"] == 5 and doc["tags"] == ["a"]
    assert coll.find_one_and_update({"owner": ObjectId()}, {"$set": {"name": "x"}}) is None
    doc = coll.find_one_and_update({"_id": o(2)}, {"$set": {"verificationStatus": "verified", "listed": True}},
                                   return_document=ReturnDocument.AFTER)
    assert doc["verificationStatus"] == "verified"


def test_counters_inc_atomically(coll: Any) -> None:
    coll.insert_one({"_id": o(1), "totalOrders": 0, "ratingSum": 0, "totalReviews": 0})
    coll.update_one({"_id": o(1)}, {"$inc": {"totalOrders": 1}})
    coll.update_one({"_id": o(1)}, {"$inc": {"ratingSum": 4, "totalReviews": 1}})
    coll.update_one({"_id": o(1)}, {"$inc": {"totalMedicines": -1}})
    assert coll.find_one({"_id": o(1)}) == {"_id": o(1), "totalOrders": 1, "ratingSum": 4, "totalReviews": 1,
                                         "totalMedicines": -1}


# ---------------------------------------------------------------- medicines


def _medicines(coll: Any) -> None:
    coll.insert_many([
        {"_id": o(1), "pharmacy": A, "listed": True, "isActive": True, "name": "Aspirin", "category": "Pain Relief",
         "price": 100, "stock": 5, "minStock": 10, "rating": 4, "soldCount": 1, "prescriptionRequired": False,
         "expiryDate": NOW + timedelta(days=30), "createdAt": NOW, "searchText": "aspirin | bayer"},
        {"_id": o(2), "pharmacy": A, "listed": True, "isActive": True, "name": "Cefixime", "category": "Antibiotics",
         "price": 900, "stock": 0, "minStock": 10, "rating": 0, "soldCount": 9, "prescriptionRequired": True,
         "expiryDate": NOW + timedelta(days=400), "createdAt": NOW, "searchText": "cefixime | (a+)+$"},
        {"_id": o(3), "pharmacy": A, "listed": False, "isActive": False, "name": "Old", "category": "Pain Relief",
         "price": 50, "stock": 100, "minStock": 10, "rating": 5, "soldCount": 0, "prescriptionRequired": False,
         "expiryDate": NOW - timedelta(days=1), "createdAt": NOW, "searchText": "old"},
        {"_id": o(4), "pharmacy": B, "listed": True, "isActive": True, "name": "Zinc",
         "category": "Vitamins & Supplements",
         "price": 300, "stock": 40, "minStock": 10, "rating": 3, "soldCount": 3, "prescriptionRequired": False,
         "expiryDate": NOW + timedelta(days=10), "createdAt": NOW, "searchText": "zinc"},
    ])


def test_conditional_stock_take_and_give_back(coll: Any) -> None:
    _medicines(coll)
    take = {"_id": o(1), "pharmacy": A, "isActive": True, "stock": {"$gte": 5}}
    assert coll.update_one(take, {"$inc": {"stock": -5, "soldCount": 5}}).modified_count == 1
    assert coll.update_one(take, {"$inc": {"stock": -5, "soldCount": 5}}).modified_count == 0
    assert coll.update_one({"_id": o(4), "pharmacy": A, "isActive": True, "stock": {"$gte": 1}},
                           {"$inc": {"stock": -1, "soldCount": 1}}).modified_count == 0
    coll.update_one({"_id": o(1)}, {"$inc": {"stock": 2, "soldCount": -2}})
    assert coll.find_one({"_id": o(1)})["stock"] == 2 and coll.find_one({"_id": o(1)})["soldCount"] == 4


def test_owner_scoped_writes_and_relisting(coll: Any) -> None:
    _medicines(coll)
    assert coll.update_one({"_id": o(4), "pharmacy": A}, {"$set": {"stock": 9, "updatedAt": NOW}}).matched_count == 0
    assert coll.update_one({"_id": o(1), "pharmacy": A}, {"$set": {"stock": 9, "updatedAt": NOW}}).matched_count == 1
    assert coll.update_many({"pharmacy": A, "isActive": True}, {"$set": {"listed": False}}).modified_count == 2
    assert sorted(d["_id"] for d in coll.find({"listed": False})) == os_(1, 2, 3)
    doc = coll.find_one_and_update({"_id": o(2), "pharmacy": A}, {"$set": {"isActive": False, "listed": False,
                                                                       "price": 10, "images": []}},
                                   return_document=ReturnDocument.AFTER)
    assert doc["isActive"] is False and doc["price"] == 10
    assert coll.find_one({"_id": o(2), "pharmacy": B}) is None


def test_catalogue_filters_and_sorts(coll: Any, ids: Any) -> None:
    _medicines(coll)
    live = {"listed": True, "expiryDate": {"$gt": NOW}}
    assert ids(live) == os_(1, 2, 4)
    assert ids({**live, "category": "Pain Relief"}) == os_(1)
    assert ids({**live, "searchText": {"$regex": r"\(a\+\)\+\$"}}) == os_(2)
    assert ids({**live, "price": {"$gte": 100, "$lte": 300}}) == os_(1, 4)
    assert ids({**live, "price": {"$gte": 200}}) == os_(2, 4)
    assert ids({**live, "price": {"$lte": 200}}) == os_(1)
    assert ids({**live, "prescriptionRequired": True}) == os_(2)
    assert ids({**live, "pharmacy": {"$in": [B]}}) == os_(4)
    assert ids({**live, "stock": {"$gt": 0}}) == os_(1, 4)
    assert ids({"_id": o(3), "listed": True, "expiryDate": {"$gt": NOW}}) == []
    by = lambda sort: [d["_id"] for d in coll.find(live).sort(sort).skip(0).limit(10)]  # noqa: E731
    assert by([("price", ASCENDING), ("_id", ASCENDING)]) == os_(1, 4, 2)
    assert by([("price", DESCENDING), ("_id", ASCENDING)]) == os_(2, 4, 1)
    assert by([("rating", DESCENDING), ("soldCount", DESCENDING), ("_id", ASCENDING)]) == os_(1, 4, 2)
    assert by([("soldCount", DESCENDING), ("_id", ASCENDING)]) == os_(2, 4, 1)
    assert by([("name", ASCENDING), ("_id", ASCENDING)]) == os_(1, 2, 4)
    assert by([("createdAt", DESCENDING), ("_id", ASCENDING)]) == os_(1, 2, 4)
    assert coll.count_documents({**live, "searchText": {"$regex": "zinc"}}) == 1
    assert coll.count_documents({**live, "category": "Antibiotics", "price": {"$gte": 1}}) == 1
    assert coll.count_documents({**live, "price": {"$gte": 100, "$lte": 300}}) == 2
    assert coll.count_documents({**live, "pharmacy": {"$in": [B]}}) == 1
    assert coll.count_documents({**live, "stock": {"$gt": 0}}) == 2
    assert coll.count_documents({"pharmacy": A, "stock": 0}) == 1
    projected = list(coll.find({**live, "searchText": {"$regex": "asp"}}, {"name": 1, "price": 1})
                     .sort([("name", 1), ("_id", 1)]).limit(10))
    assert projected == [{"_id": o(1), "name": "Aspirin", "price": 100}]


def test_search_by_word_prefix_tokens(coll: Any, ids: Any) -> None:
    coll.insert_many([
        {"_id": o(1), "listed": True, "searchTokens": ["do", "dol", "dolo", "65", "650"], "expiryDate": NOW,
         "name": "b"},
        {"_id": o(2), "listed": True, "searchTokens": ["do", "dol", "mi", "mic"], "expiryDate": NOW, "name": "a"},
        {"_id": o(3), "listed": False, "searchTokens": ["do", "dol", "dolo"], "expiryDate": NOW, "name": "c"},
    ])
    live = {"listed": True, "expiryDate": {"$gte": NOW}}
    assert ids({**live, "searchTokens": "dolo"}) == os_(1)
    assert ids({**live, "searchTokens": "do", "$and": [{"searchTokens": "mic"}]}) == os_(2)
    assert ids({**live, "searchTokens": "dol", "$and": [{"searchTokens": "65"}, {"searchTokens": "do"}]}) == os_(1)
    assert ids({**live, "searchTokens": "olo"}) == []
    page = coll.find({**live, "searchTokens": "do"}, {"name": 1}).sort([("name", 1), ("_id", 1)]).skip(0).limit(10)
    assert [d["_id"] for d in page] == os_(2, 1)
    assert coll.count_documents({**live, "searchTokens": "do", "$and": [{"searchTokens": "dol"}]}) == 2
    found = coll.find({"listed": True, "expiryDate": {"$gt": NOW - timedelta(days=1)}, "searchTokens": "mi"})
    assert [d["_id"] for d in found.sort([("name", 1), ("_id", 1)]).skip(0).limit(10)] == os_(2)
    pharmacy_scoped = {"pharmacy": A, "listed": True, "expiryDate": {"$gt": NOW}, "searchTokens": "dolo"}
    assert list(coll.find(pharmacy_scoped)) == []


def test_a_pharmacys_own_lists(coll: Any, ids: Any) -> None:
    _medicines(coll)
    assert ids({"pharmacy": A}) == os_(1, 2, 3)
    assert ids({"pharmacy": A, "isActive": True}) == os_(1, 2)
    assert ids({"pharmacy": A, "_id": {"$in": os_(1, 4)}}) == os_(1)
    soon = {"pharmacy": A, "isActive": True, "expiryDate": {"$lte": NOW + timedelta(days=90)}}
    assert [d["_id"] for d in coll.find(soon).sort([("expiryDate", 1)]).skip(0).limit(20)] == os_(1)
    assert ids({"pharmacy": A, "stock": 0}) == os_(2)
    assert ids({"pharmacy": A, "stock": {"$gt": 0}}) == os_(1, 3)
    assert ids({"pharmacy": A, "category": "Pain Relief", "prescriptionRequired": False}) == os_(1, 3)
    assert ids({"pharmacy": A, "searchText": {"$regex": "cef"}}) == os_(2)
    lean = list(coll.find({"pharmacy": A, "isActive": True}, {"stock": 1, "minStock": 1}).limit(5000))
    assert sorted((d["_id"], d["stock"], d["minStock"]) for d in lean) == [(o(1), 5, 10), (o(2), 0, 10)]
    by_stock = [d["_id"] for d in coll.find({"pharmacy": A}).sort([("stock", -1)]).skip(0).limit(20)]
    assert by_stock == os_(3, 1, 2)
    assert coll.count_documents({"pharmacy": A}) == 3
    assert coll.count_documents({"pharmacy": A, "isActive": True, "expiryDate": {"$lte": NOW}}) == 0


def test_the_pharmacists_search_keeps_inactive_medicines_out_by_default(coll: Any, ids: Any) -> None:
    # The inventory search: `isActive: true` beside every other filter of the route (keyword,
    # category, prescription, stock), sorted and paged; without it the inactive one shows too.
    _medicines(coll)
    active = {"pharmacy": A, "isActive": True}
    assert ids(active) == os_(1, 2)
    assert ids({**active, "searchText": {"$regex": "old"}}) == []
    assert ids({"pharmacy": A, "searchText": {"$regex": "old"}}) == os_(3)
    assert ids({**active, "category": "Pain Relief", "prescriptionRequired": False}) == os_(1)
    assert ids({**active, "stock": 0}) == os_(2)
    assert ids({**active, "stock": {"$gt": 0}}) == os_(1)
    page = [d["_id"] for d in coll.find(active).sort([("price", ASCENDING)]).skip(0).limit(100)]
    assert page == os_(1, 2)
    assert coll.count_documents({**active, "stock": {"$gt": 0}}) == 1
    assert coll.count_documents({**active, "searchText": {"$regex": "cef"}}) == 1


def test_categories_grouped_with_sum(coll: Any) -> None:
    _medicines(coll)
    rows = coll.aggregate([{"$match": {"listed": True, "expiryDate": {"$gt": NOW}}},
                           {"$group": {"_id": "$category", "count": {"$sum": 1}}}])
    assert {r["_id"]: r["count"] for r in rows} == {"Pain Relief": 1, "Antibiotics": 1, "Vitamins & Supplements": 1}


# ---------------------------------------------------------------- orders, lines, counters, claims


def _orders(coll: Any) -> None:
    coll.insert_many([
        {"_id": o(1), "pharmacy": A, "customer": B, "orderStatus": "delivered", "localDay": "2026-03-01",
         "isRevenue": True, "pricing": {"totalPrice": 1000}, "paymentInfo": {"method": "cod", "status": "completed"},
         "awaitingPayment": False},
        {"_id": o(2), "pharmacy": A, "customer": B, "orderStatus": "pending", "localDay": "2026-03-01",
         "isRevenue": False, "pricing": {"totalPrice": 500}, "paymentInfo": {"method": "online", "status": "pending",
                                                                             "holdExpiresAt": NOW},
         "awaitingPayment": True},
        {"_id": o(3), "pharmacy": A, "customer": A, "orderStatus": "delivered", "localDay": "2026-03-02",
         "isRevenue": True, "pricing": {"totalPrice": 250}, "paymentInfo": {"method": "cod", "status": "completed"},
         "awaitingPayment": False},
        {"_id": o(4), "pharmacy": B, "customer": A, "orderStatus": "cancelled", "localDay": "2026-03-02",
         "isRevenue": False, "pricing": {"totalPrice": 70}, "paymentInfo": {"method": "cod", "status": "pending"},
         "awaitingPayment": False},
    ])


def _group(coll: Any, match: dict[str, Any], key: Any, name: str, expression: Any) -> list[Any]:
    rows = coll.aggregate([{"$match": match}, {"$group": {"_id": key, name: {"$sum": expression}}}])
    return sorted((tuple(sorted(r["_id"].items())) if isinstance(r["_id"], dict) else r["_id"], r[name]) for r in rows)


def test_report_groups_by_a_document_key_with_one_sum_each(coll: Any) -> None:
    _orders(coll)
    match = {"pharmacy": A, "localDay": {"$gte": "2026-03-01", "$lte": "2026-03-02"}}
    key = {"status": "$orderStatus", "day": "$localDay", "revenue": "$isRevenue"}
    d1 = (("day", "2026-03-01"), ("revenue", True), ("status", "delivered"))
    d2 = (("day", "2026-03-02"), ("revenue", True), ("status", "delivered"))
    p1 = (("day", "2026-03-01"), ("revenue", False), ("status", "pending"))
    assert _group(coll, match, key, "count", 1) == sorted([(d1, 1), (d2, 1), (p1, 1)])
    assert _group(coll, match, key, "total", "$pricing.totalPrice") == sorted([(d1, 1000), (d2, 250), (p1, 500)])
    by_status = {"status": "$orderStatus", "revenue": "$isRevenue"}
    delivered = (("revenue", True), ("status", "delivered"))
    assert _group(coll, {"isRevenue": True}, by_status, "count", 1) == [(delivered, 2)]
    assert _group(coll, {"isRevenue": True}, by_status, "total", "$pricing.totalPrice") == [(delivered, 1250)]
    pending, cancelled = (("revenue", False), ("status", "pending")), (("revenue", False), ("status", "cancelled"))
    assert _group(coll, {"isRevenue": False}, by_status, "count", 1) == sorted([(pending, 1), (cancelled, 1)])
    assert _group(coll, {"pharmacy": B}, by_status, "total", "$pricing.totalPrice") == [
        ((("revenue", False), ("status", "cancelled")), 70)]


def test_report_lines_grouped_per_medicine(coll: Any) -> None:
    coll.insert_many([
        {"pharmacy": A, "localDay": "2026-03-01", "medicine": 1, "name": "Aspirin", "manufacturer": "Bayer",
         "quantity": 2, "lineTotal": 200, "live": True},
        {"pharmacy": A, "localDay": "2026-03-02", "medicine": 1, "name": "Aspirin", "manufacturer": "Bayer",
         "quantity": 3, "lineTotal": 300, "live": True},
        {"pharmacy": A, "localDay": "2026-03-02", "medicine": 2, "name": "Zinc", "manufacturer": None,
         "quantity": 9, "lineTotal": 90, "live": False},
        {"pharmacy": B, "localDay": "2026-03-02", "medicine": 1, "name": "Aspirin", "manufacturer": "Bayer",
         "quantity": 7, "lineTotal": 700, "live": True},
    ])
    match = {"pharmacy": A, "localDay": {"$gte": "2026-03-01", "$lte": "2026-03-31"}, "live": True}
    key = {"medicine": "$medicine", "name": "$name", "manufacturer": "$manufacturer"}
    aspirin = (("manufacturer", "Bayer"), ("medicine", 1), ("name", "Aspirin"))
    assert _group(coll, match, key, "quantity", "$quantity") == [(aspirin, 5)]
    assert _group(coll, match, key, "revenue", "$lineTotal") == [(aspirin, 500)]


@pytest.mark.known_difference
def test_every_accumulator_of_a_group_is_computed(coll: Any, differs_on_ferretdb: Any) -> None:
    """Why the report runs one `$sum` per pipeline: FerretDB v1.24 answers 0 for every
    accumulator after the first of a `$group`."""
    differs_on_ferretdb("only the first accumulator of a $group is computed")
    coll.insert_many([{"k": "a", "y": 10}, {"k": "a", "y": 20}])
    rows = list(coll.aggregate([{"$match": {"k": "a"}}, {"$group": {"_id": "$k", "c": {"$sum": 1},
                                                                     "s": {"$sum": "$y"}}}]))
    assert rows == [{"_id": "a", "c": 2, "s": 30}]


def test_order_lists_and_counts(coll: Any, ids: Any) -> None:
    _orders(coll)
    assert ids({"customer": B}) == os_(1, 2)
    assert ids({"customer": B, "orderStatus": "pending"}) == os_(2)
    assert ids({"pharmacy": A, "orderStatus": "delivered"}) == os_(1, 3)
    assert ids({"orderStatus": "cancelled"}) == os_(4)
    page = list(coll.find({"pharmacy": A}, {"statusHistory": 0, "prescriptionLines": 0})
                .sort([("_id", DESCENDING)]).skip(0).limit(2))
    assert [d["_id"] for d in page] == os_(3, 2)
    assert coll.count_documents({"pharmacy": A, "localDay": "2026-03-01"}) == 2
    assert coll.count_documents({"customer": A}) == 2
    due = list(coll.find({"awaitingPayment": True, "paymentInfo.holdExpiresAt": {"$lte": NOW}}, {"_id": 1}).limit(100))
    assert due == [{"_id": o(2)}]


def test_status_transitions_are_compare_and_set(coll: Any) -> None:
    _orders(coll)
    entry = {"status": "cancelled", "timestamp": NOW, "note": "n"}
    cancel = {"$set": {"orderStatus": "cancelled", "cancelledAt": NOW, "awaitingPayment": False,
                       "isRevenue": False, "cancellationReason": "r"}, "$push": {"statusHistory": entry}}
    first = coll.find_one_and_update({"_id": o(2), "customer": B, "orderStatus": {"$in": ["pending", "confirmed"]}},
                                     cancel, return_document=ReturnDocument.AFTER)
    second = coll.find_one_and_update({"_id": o(2), "customer": B, "orderStatus": {"$in": ["pending", "confirmed"]}},
                                      cancel, return_document=ReturnDocument.AFTER)
    assert first["orderStatus"] == "cancelled" and first["statusHistory"] == [entry] and second is None
    moved = coll.find_one_and_update({"_id": o(3), "pharmacy": A, "orderStatus": "delivered"},
                                     {"$set": {"orderStatus": "delivered", "paymentInfo.status": "completed",
                                               "paymentInfo.paidAt": NOW, "deliveredAt": NOW},
                                      "$push": {"statusHistory": entry}}, return_document=ReturnDocument.AFTER)
    assert moved["paymentInfo"] == {"method": "cod", "status": "completed", "paidAt": NOW}
    assert coll.find_one_and_update({"_id": o(1), "awaitingPayment": True, "orderStatus": "pending"}, cancel) is None


def test_rating_once_and_payment_outcomes(coll: Any) -> None:
    _orders(coll)
    rate = {"$set": {"rating": 5, "review": "ok", "reviewedAt": NOW, "updatedAt": NOW}}
    once = {"_id": o(1), "customer": B, "orderStatus": "delivered", "rating": {"$exists": False}}
    assert coll.find_one_and_update(once, rate, return_document=ReturnDocument.AFTER)["rating"] == 5
    assert coll.find_one_and_update(once, rate) is None
    online = {"_id": o(2), "paymentInfo.method": "online"}
    paid = {"$set": {"paymentInfo.status": "completed", "paymentInfo.transactionId": "pi_1", "paymentInfo.paidAt": NOW,
                     "awaitingPayment": False, "isRevenue": True, "updatedAt": NOW}}
    query = {**online, "orderStatus": {"$ne": "cancelled"}, "paymentInfo.status": {"$in": ["pending", "failed"]}}
    assert coll.find_one_and_update(query, paid, return_document=ReturnDocument.AFTER)["paymentInfo"]["status"] == \
        "completed"
    assert coll.find_one_and_update(query, paid) is None
    assert coll.find_one_and_update({**online, "paymentInfo.status": {"$in": ["pending", "failed"]}}, paid) is None
    assert coll.find_one_and_update({**online, "paymentInfo.status": "pending"}, paid) is None
    refunded = coll.find_one_and_update({**online, "paymentInfo.status": "completed"},
                                        {"$set": {"paymentInfo.status": "refunded", "paymentInfo.refundedAt": NOW,
                                                  "isRevenue": False}}, return_document=ReturnDocument.AFTER)
    assert refunded["paymentInfo"]["status"] == "refunded" and refunded["isRevenue"] is False


def test_report_lines_retired_on_cancel(coll: Any) -> None:
    coll.insert_many([{"order": 1, "live": True}, {"order": 1, "live": True}, {"order": 2, "live": True}])
    assert coll.update_many({"order": 1}, {"$set": {"live": False}}).modified_count == 2
    assert coll.count_documents({"live": True}) == 1


def test_day_counter_upserts_and_increments(coll: Any) -> None:
    got = [coll.find_one_and_update({"_id": "260302"}, {"$inc": {"seq": 1}}, upsert=True,
                                    return_document=ReturnDocument.AFTER)["seq"] for _ in range(3)]
    assert got == [1, 2, 3]
    coll.insert_one({"_id": "260301", "seq": 7})
    assert sum(d["seq"] for d in coll.find({"_id": {"$in": ["260301", "260302", "260228"]}})) == 10


def test_idempotency_claims_by_id(coll: Any) -> None:
    coll.insert_one({"_id": "c:k", "orderId": A, "customer": B})
    assert coll.find_one({"_id": "c:k"})["orderId"] == A
    assert coll.delete_one({"_id": "c:k", "orderId": B}).deleted_count == 0
    assert coll.delete_one({"_id": "c:k", "orderId": A}).deleted_count == 1


def test_indexes_of_the_pharmacy_domain(coll: Any) -> None:
    created = [coll.create_indexes([model])[0] for model in (
        IndexModel([("owner", ASCENDING)], unique=True, name="uniq_owner"),
        IndexModel([("isRevenue", ASCENDING)], name="p1"),
        IndexModel([("pharmacy", ASCENDING), ("localDay", ASCENDING)], name="pd"),
        IndexModel([("pharmacy", ASCENDING), ("isActive", ASCENDING), ("name", ASCENDING)], name="p3"),
        IndexModel([("listed", ASCENDING), ("createdAt", DESCENDING)], name="p2"),
    )]
    assert created == ["uniq_owner", "p1", "pd", "p3", "p2"]


def test_users_joined_by_id_and_counted_by_role(coll: Any) -> None:
    coll.insert_many([{"_id": A, "name": "a", "role": "patient", "createdAt": NOW},
                      {"_id": B, "name": "b", "role": "pharmacist", "createdAt": NOW - timedelta(days=40)}])
    found = {d["_id"]: d for d in coll.find({"_id": {"$in": [A, B]}}, {"name": 1, "contact": 1, "contactType": 1,
                                                                      "role": 1})}
    assert found[B]["name"] == "b"
    assert coll.count_documents({"role": "patient"}) == 1
    assert coll.count_documents({"role": "pharmacist", "createdAt": {"$gte": NOW - timedelta(days=30)}}) == 0



def test_a_stock_take_records_its_order_in_the_same_write_and_gives_back_exactly_once(coll: Any) -> None:
    # Given a medicine, When two orders take from it (each take sets its record in the same write:
    # a map keyed by order id, since `$pull` with a condition does nothing on the embedded server)
    _medicines(coll)
    first, second = ObjectId(), ObjectId()
    take = {"_id": o(1), "pharmacy": A, "isActive": True, "stock": {"$gte": 2}}
    for order, at in ((first, NOW - timedelta(minutes=5)), (second, NOW)):
        assert coll.update_one(take, {"$inc": {"stock": -2, "soldCount": 2},
                                      "$set": {f"takes.{order}": {"quantity": 2, "at": at}, "takesPending": True},
                                      "$addToSet": {"orderedImages": "img"}}).modified_count == 1
    assert coll.update_one(take, {"$inc": {"stock": -2, "soldCount": 2},  # refused: no record either
                                  "$set": {f"takes.{ObjectId()}": {"quantity": 2, "at": NOW},
                                           "takesPending": True}}).matched_count == 0
    assert coll.find_one({"_id": o(1)})["stock"] == 1
    # Then the medicines with pending takes are found by one equality
    found = list(coll.find({"takesPending": True}, {"takes": 1}).limit(100))
    assert [d["_id"] for d in found] == os_(1) and set(found[0]["takes"]) == {str(first), str(second)}
    # And a give-back conditional on the record applies once, whoever repeats it
    back = {"_id": o(1), f"takes.{first}": {"$exists": True}}
    undo = {"$inc": {"stock": 2, "soldCount": -2}, "$unset": {f"takes.{first}": ""}}
    assert coll.update_one(back, undo).modified_count == 1
    assert coll.update_one(back, undo).modified_count == 0
    assert coll.find_one({"_id": o(1)})["stock"] == 3
    # And settling drops the record without touching stock; the flag goes only with the last record
    assert coll.update_one({"_id": o(1), "takes": {}}, {"$unset": {"takesPending": ""}}).modified_count == 0
    assert coll.update_one({"_id": o(1), f"takes.{second}": {"$exists": True}},
                           {"$unset": {f"takes.{second}": ""}}).modified_count == 1
    assert coll.update_one({"_id": o(1), "takes": {}}, {"$unset": {"takesPending": ""}}).modified_count == 1
    doc = coll.find_one({"_id": o(1)})
    assert doc["stock"] == 3 and doc["takes"] == {} and "takesPending" not in doc
    assert list(coll.find({"takesPending": True}, {"takes": 1}).limit(100)) == []


def test_new_medicines_of_a_failed_upload_are_deleted_by_their_ids(coll: Any) -> None:
    # Given medicines of two pharmacies, When the ids of a failed upload are deleted for one pharmacy
    _medicines(coll)
    # Then only that pharmacy's named medicines go
    assert coll.delete_many({"pharmacy": A, "_id": {"$in": os_(1, 4, 9)}}).deleted_count == 1
    assert sorted(d["_id"] for d in coll.find({}, {"_id": 1})) == os_(2, 3, 4)


def test_which_orders_have_report_lines(coll: Any) -> None:
    coll.insert_many([{"order": o(1), "live": True}, {"order": o(1), "live": True}, {"order": o(2), "live": False}])
    assert set(coll.find_one({"order": o(1)}, {"_id": 1})) == {"_id"}
    assert coll.find_one({"order": o(3)}, {"_id": 1}) is None


def test_a_customer_hold_is_taken_within_its_limits_by_one_conditional_upsert(coll: Any) -> None:
    # The hold of a placing (order_holds.take): open orders below the limit and, per medicine,
    # the units held so far plus this order's at most the limit (a medicine not held yet matches).
    def take(order: int, units: dict[str, int], max_open: int = 3, max_units: int = 20) -> bool:
        query: dict[str, Any] = {"_id": "c|p", "open": {"$lt": max_open}}
        query.update({f"units.{m}": {"$not": {"$gte": max_units - q + 1}} for m, q in units.items()})
        update = {"$inc": {"open": 1, **{f"units.{m}": q for m, q in units.items()}},
                  "$set": {f"orders.{o(order)}": {"at": NOW, "units": units}, "holdsPending": True}}
        try:
            coll.update_one(query, update, upsert=True)
            return True
        except DuplicateKeyError:
            return bool(coll.update_one(query, update).modified_count == 1)

    assert take(1, {"m1": 15}) is True  # created by the upsert
    assert take(2, {"m1": 6}) is False  # 21 units of m1: refused, the document unchanged
    assert take(3, {"m1": 5, "m2": 20}) is True  # exactly 20 of each
    assert take(4, {"m3": 20}) is True and take(8, {"m3": 1}) is False  # (more than 20 alone is refused before)
    assert take(6, {"m4": 1}) is False  # a fourth open order
    doc = coll.find_one({"_id": "c|p"})
    assert (doc["open"], doc["units"]) == (3, {"m1": 20, "m2": 20, "m3": 20})
    assert sorted(doc["orders"]) == [str(o(1)), str(o(3)), str(o(4))]
    # released once (order_holds.release), whoever repeats it
    release = {"_id": "c|p", f"orders.{o(3)}": {"$exists": True}}
    change = {"$inc": {"open": -1, "units.m1": -5, "units.m2": -20}, "$unset": {f"orders.{o(3)}": ""}}
    assert coll.update_one(release, change).modified_count == 1
    assert coll.update_one(release, change).modified_count == 0
    doc = coll.find_one({"_id": "c|p"})
    assert (doc["open"], doc["units"]) == (2, {"m1": 15, "m2": 0, "m3": 20})
    assert take(7, {"m2": 20}) is True
    assert [d["_id"] for d in coll.find({"holdsPending": True}, {"orders": 1}).limit(5)] == ["c|p"]
    coll.update_one({"_id": "c|p", "orders": {}}, {"$unset": {"holdsPending": ""}})
    assert coll.find_one({"_id": "c|p"})["holdsPending"] is True  # records remain: the flag stays


def test_orders_still_pending_placed_before_a_cutoff(coll: Any) -> None:
    coll.insert_many([{"_id": o(1), "orderStatus": "pending", "createdAt": NOW - timedelta(hours=25)},
                      {"_id": o(2), "orderStatus": "pending", "createdAt": NOW},
                      {"_id": o(3), "orderStatus": "confirmed", "createdAt": NOW - timedelta(hours=30)},
                      {"_id": o(4), "orderStatus": "pending", "createdAt": NOW - timedelta(hours=24)}])
    found = coll.find({"orderStatus": "pending", "createdAt": {"$lte": NOW - timedelta(hours=24)}}, {"_id": 1})
    assert sorted(d["_id"] for d in found.limit(100)) == os_(1, 4)


def test_a_listing_write_misses_once_the_shop_is_unlisted_and_matches_before_the_flag_existed(coll: Any) -> None:
    # inventory.update / medicines.relist_pharmacy: `shopListed` on every medicine of the shop,
    # then `listed` on the active ones; a write that lists requires `shopListed` not False.
    coll.insert_many([{"_id": o(1), "pharmacy": A, "isActive": True, "listed": True},  # before the flag
                      {"_id": o(2), "pharmacy": A, "isActive": False, "listed": False, "shopListed": True},
                      {"_id": o(3), "pharmacy": B, "isActive": True, "listed": True, "shopListed": True}])

    def list_it(n: int) -> Any:
        return coll.find_one_and_update({"_id": o(n), "pharmacy": A, "shopListed": {"$ne": False}},
                                        {"$set": {"listed": True, "isActive": True}},
                                        return_document=ReturnDocument.AFTER)

    assert list_it(1)["listed"] is True and list_it(2)["listed"] is True
    assert coll.update_many({"pharmacy": A}, {"$set": {"shopListed": False}}).matched_count == 2
    assert coll.update_many({"pharmacy": A, "isActive": True}, {"$set": {"listed": False}}).modified_count == 2
    assert list_it(1) is None and list_it(2) is None  # suspended meanwhile: the write misses
    assert [d["_id"] for d in coll.find({"listed": True})] == os_(3)


def test_a_stock_take_answers_the_medicine_it_took_from_and_refuses_an_expired_one(coll: Any) -> None:
    # Given medicines (o(1): 5 in stock, unexpired; o(3): inactive and expired)
    _medicines(coll)
    order = ObjectId()

    def take(medicine: ObjectId, qty: int) -> Any:
        return coll.find_one_and_update(
            {"_id": medicine, "pharmacy": A, "isActive": True, "expiryDate": {"$gt": NOW}, "stock": {"$gte": qty}},
            {"$inc": {"stock": -qty, "soldCount": qty},
             "$set": {f"takes.{order}": {"quantity": qty, "at": NOW}, "takesPending": True}},
            return_document=ReturnDocument.BEFORE)

    # When an order takes 2 of o(1), 9 of o(1) and 1 of o(3)
    taken, short, expired = take(o(1), 2), take(o(1), 9), take(o(3), 1)
    # Then the first answers the medicine as it was (its price), the others nothing, and only the
    # first changed the stock, with its record
    assert taken["price"] == 100 and taken["stock"] == 5 and short is None and expired is None
    after = coll.find_one({"_id": o(1)})
    assert after["stock"] == 3 and after["takes"] == {str(order): {"quantity": 2, "at": NOW}}
    assert coll.find_one({"_id": o(3)})["stock"] == 100
    # And an ordered image is remembered once however often it is added
    for _ in range(2):
        coll.update_one({"_id": o(1)}, {"$addToSet": {"orderedImages": "img-1"}})
    assert coll.find_one({"_id": o(1)})["orderedImages"] == ["img-1"]


def test_a_confirmation_decided_by_its_write_alone_skips_orders_awaiting_or_refunded_payments(coll: Any) -> None:
    # Given pending orders: cash, online unpaid, online paid, online refunded, and one without a payment status
    coll.insert_many([
        {"_id": o(1), "pharmacy": A, "orderStatus": "pending", "awaitingPayment": False,
         "paymentInfo": {"method": "cod", "status": "pending"}},
        {"_id": o(2), "pharmacy": A, "orderStatus": "pending", "awaitingPayment": True,
         "paymentInfo": {"method": "online", "status": "pending"}},
        {"_id": o(3), "pharmacy": A, "orderStatus": "pending", "awaitingPayment": False,
         "paymentInfo": {"method": "online", "status": "completed"}},
        {"_id": o(4), "pharmacy": A, "orderStatus": "pending", "awaitingPayment": False,
         "paymentInfo": {"method": "online", "status": "refunded"}},
        {"_id": o(5), "pharmacy": A, "orderStatus": "pending", "paymentInfo": {"method": "cod"}},
    ])
    entry = {"status": "confirmed", "timestamp": NOW, "note": "", "by": "pharmacy"}
    # When each is confirmed by the one conditional write (`transitions.blind_filter`)
    confirmed = [n for n in range(1, 6) if coll.find_one_and_update(
        {"_id": o(n), "pharmacy": A, "orderStatus": {"$in": ["pending"]}, "awaitingPayment": {"$ne": True},
         "paymentInfo.status": {"$ne": "refunded"}},
        {"$set": {"orderStatus": "confirmed", "updatedAt": NOW}, "$push": {"statusHistory": entry}},
        return_document=ReturnDocument.AFTER) is not None]
    # Then cash, paid and status-less orders moved; the unpaid and the refunded stayed pending
    assert confirmed == [1, 3, 5]
    assert coll.count_documents({"orderStatus": "pending"}) == 2
