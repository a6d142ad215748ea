"""Data for bench/issue12_bench.py: a patient (registered by phone, with a pincode), a doctor
with a fee, an appointment, three doctors on call, hospitals; the analysis provider stubbed at
its interface and the SMS transport replaced (nothing leaves the machine)."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from bson import ObjectId


def seed(providers: Any, notify: Any) -> dict[str, Any]:
    from twilio.http import HttpClient
    from twilio.http.response import Response

    from functions.analysis.schemas import AnalysisResult
    from functions.core import clock
    from functions.core.db import get_db
    from functions.core.security import issue_token

    class Stub:
        name = "bench"

        def analyze(self, media: Any, prompt: Any) -> AnalysisResult:
            return AnalysisResult(analysis="bench", emergencyLevel=1, findings=[])

    class NoSms(HttpClient):
        def __init__(self) -> None:
            super().__init__(logging.getLogger("bench"), is_async=False)

        def request(self, method: str, uri: str, *args: Any, **kw: Any) -> Response:
            return Response(201, json.dumps({"sid": "SM1", "status": "queued"}))

    providers.override = Stub()
    notify.twilio_http_client = NoSms
    db, now = get_db(), clock.now()

    def user(role: str, **fields: Any) -> dict[str, Any]:
        doc = {"_id": ObjectId(), "name": role, "role": role, "approvalStatus": "approved", "active": True,
               "sessionVersion": 0, "revokedTokens": [], "createdAt": now, **fields}
        db["users"].insert_one(doc)
        return doc

    caller = "+919812345678"
    patient = user("patient", contact=caller, contactType="phone", pincode="560034")
    doctor = user("doctor", contact="doc@bench.test", contactType="email", consultationFee=50000, currency="INR")
    start = now + timedelta(days=2)
    appt = db["appointments"].insert_one({"patient": patient["_id"], "doctor": doctor["_id"], "status": "pending",
                                          "start": start, "end": start + timedelta(minutes=30), "slotKey": "b1",
                                          "patientSlotKey": "b2", "roomId": "b3"}).inserted_id
    for n in range(3):
        on_call = user("doctor", contact=f"+9198000000{n:02d}", contactType="phone")
        db["on_call"].insert_one({"_id": on_call["_id"], "onCall": True, "phone": on_call["contact"],
                                  "since": now + timedelta(seconds=n)})
    db["hospitals"].insert_many([{"name": f"H{n}", "phone": "+918022223333", "address": "Road", "city": "Bengaluru",
                                  "cityKey": "bengaluru", "pincode": "560034", "pincodeArea": "560", "rank": n % 2,
                                  "kind": "public", "active": True, "createdAt": now} for n in range(5)])
    auth = {"patient": {"Authorization": f"Bearer {issue_token(patient)[0]}"}}
    return {"auth": auth, "appointment": appt, "patient": patient["_id"], "caller": caller}
