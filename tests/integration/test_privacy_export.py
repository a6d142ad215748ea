"""A patient's own data export, `GET /me/export` (issue 24 §3): every kind of record the platform
holds about the caller, nothing of another user, rate-limited per user."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from bson import ObjectId

from functions.core import clock
from functions.core.db import get_db
from tests.factories import bearer, make_user


def _records_of(patient: dict[str, Any], doctor: dict[str, Any], marker: str) -> dict[str, Any]:
    """One record of each kind for `patient`, each carrying `marker`, written as the domains write them."""
    db, now = get_db(), clock.now()
    db["users"].update_one({"_id": patient["_id"]}, {"$set": {"medicalHistory": [
        {"_id": ObjectId(), "analysis": f"history {marker}", "url": "https://res.cloudinary.com/cc/x.png",
         "type": "image", "createdAt": now}]}})
    appt_id, room = ObjectId(), f"room-{marker}"
    db["appointments"].insert_one({"_id": appt_id, "patient": patient["_id"], "doctor": doctor["_id"],
                                   "status": "confirmed", "start": now + timedelta(days=1),
                                   "end": now + timedelta(days=1, minutes=30), "day": "2026-03-03",
                                   "roomId": room, "reason": f"visit {marker}"})
    db["prescriptions"].insert_one({"patient": patient["_id"], "doctor": doctor["_id"], "appointment": appt_id,
                                    "diagnosis": f"diagnosis {marker}", "status": "active", "createdAt": now})
    db["orders"].insert_one({"customer": patient["_id"], "orderNumber": f"ORD-{marker}", "orderStatus": "placed",
                             "createdAt": now})
    db["payments"].insert_one({"_id": f"appointment:{appt_id}", "payerId": patient["_id"], "kind": "appointment",
                               "targetId": appt_id, "status": "succeeded", "description": f"paid {marker}",
                               "updatedAt": now})
    db["messages"].insert_one({"_id": ObjectId(), "roomId": room, "senderId": patient["_id"],
                               "text": f"hello {marker}", "sentAt": now})
    db["audit_log"].insert_one({"actorId": doctor["_id"], "actorName": doctor["name"], "actorRole": "doctor",
                                "action": "read", "resourceType": "medical-history",
                                "resourceId": patient["_id"], "subjectId": patient["_id"],
                                "reason": f"care {marker}", "at": now})
    return {"appointment": str(appt_id)}


def test_the_export_holds_each_kind_of_record_of_the_caller_and_nothing_of_another_user(client: Any) -> None:
    # Given a patient and another patient, each with one record of every kind, with the same doctor
    doctor = make_user("doctor")
    me, other = make_user("patient", name="Mina Export"), make_user("patient", name="Otto Other")
    mine = _records_of(me, doctor, "MINE-7f3")
    _records_of(other, doctor, "THEIRS-9c1")
    # When the patient asks for their export
    response = client.http.get("/api/v1/me/export", headers=bearer(me))
    # Then it is one JSON document with every kind of record of theirs
    assert response.status_code == 200, response.body[:300]
    body = json.loads(response.body)
    assert body["success"] is True
    assert body["profile"]["name"] == "Mina Export" and body["profile"]["contact"] == me["contact"]
    assert [h["analysis"] for h in body["medicalHistory"]] == ["history MINE-7f3"]
    assert [a["_id"] for a in body["appointments"]] == [mine["appointment"]]
    assert [p["diagnosis"] for p in body["prescriptions"]] == ["diagnosis MINE-7f3"]
    assert [o["orderNumber"] for o in body["orders"]] == ["ORD-MINE-7f3"]
    assert [p["description"] for p in body["payments"]] == ["paid MINE-7f3"]
    assert [m["text"] for m in body["messages"]] == ["hello MINE-7f3"]
    assert [(e["actor"]["name"], e["reason"]) for e in body["accessLog"]] == [(doctor["name"], "care MINE-7f3")]
    # And nothing of the other patient anywhere in it
    assert "THEIRS-9c1" not in response.body.decode()
    assert "Otto Other" not in response.body.decode() and other["contact"] not in response.body.decode()
    assert "passwordHash" not in body["profile"]


def test_an_export_needs_a_session(client: Any) -> None:
    # Given no session; When the export is asked for; Then 401
    response = client.http.get("/api/v1/me/export")
    assert response.status_code == 401
    assert json.loads(response.body)["success"] is False


def test_an_unknown_format_is_a_clear_400(client: Any) -> None:
    # Given a patient; When they ask for a format the export does not have
    response = client.http.get("/api/v1/me/export?format=xml", headers=bearer(make_user("patient")))
    # Then a JSON 400 names the field (a bad query is a 400 here, a bad body a 422)
    assert response.status_code == 400
    assert [e["field"] for e in json.loads(response.body)["errors"]] == ["format"]


def test_exports_are_limited_per_user_per_hour(client: Any) -> None:
    # Given the hourly budget (3 by default) spent by one patient
    patient, another = make_user("patient"), make_user("patient")
    for _ in range(3):
        assert client.http.get("/api/v1/me/export", headers=bearer(patient)).status_code == 200
    # When they ask once more
    refused = client.http.get("/api/v1/me/export", headers=bearer(patient))
    # Then 429 with a Retry-After, and another patient's budget is their own
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert client.http.get("/api/v1/me/export", headers=bearer(another)).status_code == 200
