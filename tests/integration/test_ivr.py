"""The emergency line through Twilio's webhooks: signatures, the language choice, each branch."""
# ruff: noqa: F811  (pytest fixtures imported from tests.ivr_support)

import json

import pytest

from functions.core import config
from functions.core.db import get_db
from functions.signaling import api as signaling
from tests.factories import make_user
from tests.ivr_support import (  # noqa: F401  (fixture)
    CALLER,
    PUBLIC_BASE,
    hospital,
    ivr,
    on_call_doctor,
    said,
    twilio_post,
    twiml,
)


@pytest.fixture
def alerts(monkeypatch):
    """What the line sends through signaling's seams (two doctors online)."""
    sent = {"pushed": [], "emergencies": []}
    online = ["d1", "d2"]
    monkeypatch.setattr(signaling, "online_doctor_ids", lambda: online)
    monkeypatch.setattr(signaling, "push_to_user", lambda uid, msg: sent["pushed"].append((uid, msg)) or 1)
    monkeypatch.setattr(signaling, "start_emergency",
                        lambda pid, note, source, source_ip=None: sent["emergencies"].append((pid, source)) or {})
    return sent


# ---------------------------------------------------------------- signatures


def test_a_signed_call_hears_the_language_choice(ivr):
    # Given Twilio calling our public URL with a valid signature
    # When the call starts
    root = twiml(twilio_post(ivr, "voice"))
    # Then a one-digit Gather offers English and Hindi, posting back to our public URL
    gather = root.find("Gather")
    assert gather.get("numDigits") == "1" and gather.get("action") == f"{PUBLIC_BASE}/api/v1/ivr/voice"
    assert [lang for lang, _ in said(root)] == ["en-IN", "hi-IN"]
    assert root.find("Redirect").text == f"{PUBLIC_BASE}/api/v1/ivr/voice?lang=en"


def test_forged_or_misaddressed_signatures_are_403(ivr):
    # Given requests signed with another token, for another host, tampered, or unsigned
    answers = [
        twilio_post(ivr, "voice", token="other-token"),
        twilio_post(ivr, "voice", url_base="https://attacker.example"),
        twilio_post(ivr, "voice", signature="bm90IGEgc2lnbmF0dXJl"),
        twilio_post(ivr, "voice", signature=None),
    ]
    # Then each is refused
    assert [r.status_code for r in answers] == [403, 403, 403, 403]


def test_a_signed_request_with_changed_digits_is_403(ivr):
    # Given a signature computed over Digits=3
    from twilio.request_validator import RequestValidator

    from tests.ivr_support import TOKEN

    params = {"CallSid": "CA1", "From": CALLER, "Digits": "3"}
    good = RequestValidator(TOKEN).compute_signature(f"{PUBLIC_BASE}/api/v1/ivr/menu?lang=en", params)
    # When the body says Digits=1
    response = ivr.http.post("/api/v1/ivr/menu?lang=en", headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": good},
        body=b"CallSid=CA1&From=%2B919812345678&Digits=1")
    # Then it is refused
    assert response.status_code == 403


def test_without_twilio_or_a_public_url_the_line_is_503(ivr, monkeypatch):
    # Given no PUBLIC_BASE_URL
    monkeypatch.delenv("PUBLIC_BASE_URL")
    config.reset_settings()
    # When Twilio calls
    # Then the dependency is reported missing
    assert twilio_post(ivr, "voice").status_code == 503


# ---------------------------------------------------------------- the menu


def test_pressing_2_gives_the_menu_in_hindi(ivr):
    # Given the language choice
    # When the caller presses 2
    root = twiml(twilio_post(ivr, "voice", Digits="2"))
    # Then the three choices are spoken in Hindi and the answer goes to the Hindi menu
    assert {lang for lang, _ in said(root)} == {"hi-IN"}
    assert root.find("Gather").get("action") == f"{PUBLIC_BASE}/api/v1/ivr/menu?lang=hi"


def test_silence_repeats_the_menu_then_says_goodbye(ivr):
    # Given a caller who chose English
    first = twiml(twilio_post(ivr, "voice", Digits="1"))
    assert first.find("Redirect").text == f"{PUBLIC_BASE}/api/v1/ivr/voice?attempt=2&lang=en"
    # When they stay silent through the third menu
    last = twiml(twilio_post(ivr, "voice", {"lang": "en", "attempt": 3}))
    # Then the line says goodbye and hangs up instead of looping
    assert last.find("Redirect") is None and last.find("Hangup") is not None


def test_an_unknown_key_repeats_the_menu(ivr):
    # When the caller presses 9
    root = twiml(twilio_post(ivr, "menu", {"lang": "en"}, Digits="9"))
    # Then they are told and hear the menu again
    assert said(root)[0][1].startswith("Sorry") and root.find("Gather") is not None


# ---------------------------------------------------------------- 1: a doctor now


def test_1_rings_the_doctors_on_call_in_turn_and_alerts_online_doctors(ivr, twilio, alerts):
    # Given two doctors on call (the first went on call earlier) and one who is no longer approved
    on_call_doctor("+919800000001")
    on_call_doctor("+919800000002")
    on_call_doctor("+919800000003", approvalStatus="rejected")
    # When an unknown caller presses 1
    root = twiml(twilio_post(ivr, "menu", {"lang": "en"}, Digits="1"))
    # Then the first doctor is rung, with the next step named in the Dial's action
    dial = root.find("Dial")
    assert dial.find("Number").text == "+919800000001"
    assert dial.get("action") == f"{PUBLIC_BASE}/api/v1/ivr/dial?lang=en&next=1"
    # And online doctors were alerted, and the caller got a confirmation SMS
    assert [uid for uid, _ in alerts["pushed"]] == ["d1", "d2"]
    assert alerts["pushed"][0][1]["type"] == "ivrEmergency" and alerts["pushed"][0][1]["caller"] == CALLER
    assert [m["To"] for m in twilio.sms] == [CALLER]
    # When the first does not answer
    second = twiml(twilio_post(ivr, "dial", {"lang": "en", "next": 1}, DialCallStatus="no-answer"))
    # Then the second is rung, and the rejected doctor never is
    assert second.find("Dial/Number").text == "+919800000002"
    last = twiml(twilio_post(ivr, "dial", {"lang": "en", "next": 2}, DialCallStatus="busy"))
    assert last.find("Dial") is None and last.find("Hangup") is not None
    # And then a call back is queued and both doctors on call are texted the caller's number
    assert get_db()["ivr_callbacks"].count_documents({"caller": CALLER}) == 1
    texts = [m for m in twilio.sms if m["To"] != CALLER]
    assert sorted(m["To"] for m in texts) == ["+919800000001", "+919800000002"]
    assert all(CALLER in m["Body"] for m in texts)


def test_an_answered_call_ends_the_ringing(ivr, alerts):
    # Given two doctors on call
    on_call_doctor("+919800000001")
    on_call_doctor("+919800000002")
    # When the first answers and the conversation ends
    root = twiml(twilio_post(ivr, "dial", {"lang": "en", "next": 1}, DialCallStatus="completed"))
    # Then nobody else is rung
    assert root.find("Dial") is None and root.find("Hangup") is not None


def test_the_line_dials_exactly_the_doctors_the_directory_lists(ivr, alerts):
    # Given doctors on call: one whose document has no `active` field (an account made before the
    # field existed: listed and bookable), one deactivated, one awaiting approval, one plain
    old = on_call_doctor("+919800000001", name="Dr Old Account")
    get_db()["users"].update_one({"_id": old["_id"]}, {"$unset": {"active": ""}})
    on_call_doctor("+919800000002", name="Dr Deactivated", active=False)
    on_call_doctor("+919800000003", name="Dr Pending", approvalStatus="pending")
    on_call_doctor("+919800000004", name="Dr Plain")
    listed = [d["name"] for d in json.loads(ivr.http.get("/api/v1/doctors").body)["doctors"]]
    # When a caller presses 1 and nobody answers
    rung = [twiml(twilio_post(ivr, "menu", {"lang": "en"}, Digits="1")).find("Dial/Number").text]
    while (number := twiml(twilio_post(ivr, "dial", {"lang": "en", "next": len(rung)},
                                       DialCallStatus="no-answer")).find("Dial/Number")) is not None:
        rung.append(number.text)
    # Then the line rang exactly the doctors the directory lists, in the order they went on call
    assert sorted(listed) == ["Dr Old Account", "Dr Plain"]
    assert rung == ["+919800000001", "+919800000004"]


def test_a_spoofed_caller_id_opens_no_emergency_in_the_patients_name(ivr, twilio, alerts):
    # Given a verified patient registered with a number, and a doctor on call
    make_user("patient", name="Meena Das", contact=CALLER, contactType="phone", contactVerified=True)
    on_call_doctor("+919800000001")
    # When someone calls showing that number (a caller ID anyone can set) and presses 1, then 3
    twiml(twilio_post(ivr, "menu", {"lang": "hi"}, Digits="1"))
    twiml(twilio_post(ivr, "menu", {"lang": "hi"}, Digits="3"))
    # Then no emergency session is opened for the patient; the doctors see an unverified caller's number
    assert alerts["emergencies"] == [] and get_db()["emergencies"].count_documents({}) == 0
    frames = [frame for _, frame in alerts["pushed"]]
    assert frames and all(f["type"] == "ivrEmergency" and f["caller"] == CALLER and f["callerVerified"] is False
                          for f in frames)
    assert not any("Meena" in json.dumps(f) for f in frames)
    # And the call-back request names the number only, never the account holding it
    [request] = get_db()["ivr_callbacks"].find({})
    assert request["caller"] == CALLER and request["callerVerified"] is False and "userId" not in request
    # And the menu's own confirmation SMS still went to the calling number
    assert [m["To"] for m in twilio.sms if m["To"] == CALLER] == [CALLER]


def test_with_no_doctor_on_call_the_caller_is_promised_a_call_back(ivr, alerts):
    # Given nobody on call
    # When the caller presses 1
    root = twiml(twilio_post(ivr, "menu", {"lang": "en"}, Digits="1"))
    # Then they hear that a doctor will call back, and the request is recorded
    assert "call you back" in said(root)[-1][1]
    assert get_db()["ivr_callbacks"].count_documents({}) == 1


# ---------------------------------------------------------------- 2: hospitals


def test_2_asks_every_caller_for_a_pincode_and_reads_its_hospitals(ivr, twilio):
    # Given a caller ID registered with pincode 560034 and hospitals around
    make_user("patient", contact=CALLER, contactType="phone", contactVerified=True, pincode="560034")
    hospital("Private Care", "560034", kind="private")
    hospital("City General", "560034")
    hospital("Far Away", "110001", city="Delhi")
    # When the caller presses 2
    ask = twiml(twilio_post(ivr, "menu", {"lang": "en"}, Digits="2"))
    # Then they are asked for a pincode: a caller ID never reveals where an account holder lives
    assert ask.find("Gather").get("numDigits") == "6" and twilio.sms == []
    # When they type 560034
    root = twiml(twilio_post(ivr, "pincode", {"lang": "en"}, Digits="560034"))
    # Then the public hospital comes first, the phone is read digit by digit, the far one is not named
    texts = [text for _, text in said(root)]
    assert texts[1].startswith("City General") and texts[2].startswith("Private Care") and len(texts) == 3
    assert "9 1 8 0 2 2 2 2 3 3 3 3" in texts[1]
    # And the list is texted to the caller
    assert [m["To"] for m in twilio.sms] == [CALLER] and "City General" in twilio.sms[0]["Body"]


def test_an_unknown_caller_types_a_pincode_and_hears_the_areas_hospitals(ivr):
    # Given a hospital in the same postal area (560) but another pincode
    hospital("Area Hospital", "560001")
    # When an unknown caller presses 2
    ask = twiml(twilio_post(ivr, "menu", {"lang": "en"}, Digits="2"))
    # Then they are asked for six digits
    gather = ask.find("Gather")
    assert gather.get("numDigits") == "6" and gather.get("action") == f"{PUBLIC_BASE}/api/v1/ivr/pincode?lang=en"
    # When they type 560034
    root = twiml(twilio_post(ivr, "pincode", {"lang": "en"}, Digits="560034"))
    # Then the area's hospital is read out
    assert any(text.startswith("Area Hospital") for _, text in said(root))


def test_an_unknown_area_points_to_112(ivr):
    # When a caller types a pincode with no hospital
    root = twiml(twilio_post(ivr, "pincode", {"lang": "en"}, Digits="999999"))
    # Then they are told to call 112
    assert "112" in said(root)[-1][1] and root.find("Hangup") is not None


# ---------------------------------------------------------------- 3: call back


def test_3_records_one_call_back_however_often_it_is_pressed(ivr, twilio):
    # Given a doctor on call
    on_call_doctor("+919800000001")
    # When the caller presses 3 twice within minutes
    first = twiml(twilio_post(ivr, "menu", {"lang": "en"}, Digits="3"))
    twiml(twilio_post(ivr, "menu", {"lang": "en"}, Digits="3"))
    # Then one request exists, the doctor got one SMS naming the number, the caller heard the confirmation
    assert get_db()["ivr_callbacks"].count_documents({}) == 1
    assert [m["To"] for m in twilio.sms] == ["+919800000001"] and CALLER in twilio.sms[0]["Body"]
    assert "call back request is recorded" in said(first)[0][1]


def test_a_registered_caller_whose_number_is_unverified_still_gets_the_confirmation(ivr, twilio, alerts):
    # Given a patient registered with the calling number but never verified it, and a doctor on call
    make_user("patient", contact=CALLER, contactType="phone", contactVerified=False)
    on_call_doctor("+919800000001")
    # When they call and press 1
    twiml(twilio_post(ivr, "menu", {"lang": "en"}, Digits="1"))
    # Then the confirmation SMS goes to the number that is calling (it counts as verified)
    assert [m["To"] for m in twilio.sms] == [CALLER]


@pytest.mark.parametrize(("step", "query", "form"), [
    ("menu", {"lang": "fr"}, {"Digits": "1"}),
    ("voice", {"attempt": "-1"}, {}),
    ("dial", {"lang": "en", "next": "999"}, {"DialCallStatus": "busy"}),
    ("menu", {"lang": "en"}, {"Digits": "1" * 40}),
    ("pincode", {"lang": "hi"}, {"Digits": "56%00$"}),
    ("menu", {"lang": "en"}, {"From": "x" * 100, "Digits": "2"}),
])
def test_signed_but_malformed_webhooks_are_refused_not_500(ivr, alerts, step, query, form):
    # Given a correctly signed request whose fields or our own parameters are malformed
    response = twilio_post(ivr, step, query, **form)
    # Then it is a client error (or, for an unreadable pincode, the "no hospital" answer), never a 500
    assert response.status_code in (200, 400), response.body


def test_the_line_never_dials_an_unproven_or_foreign_on_call_number(ivr, alerts):
    # Given a doctor on call with a number never proven by a code (set before issue 21), one with
    # a satellite number (+881, now outside SMS_ALLOWED_REGIONS), and one with a proven Indian mobile
    unproven = on_call_doctor("+919800000001")
    get_db()["on_call"].update_one({"_id": unproven["_id"]}, {"$unset": {"phoneVerifiedAt": ""}})
    on_call_doctor("+881631234567")
    on_call_doctor("+919800000003")
    # When a caller presses 1 and nobody answers
    rung = [twiml(twilio_post(ivr, "menu", {"lang": "en"}, Digits="1")).find("Dial/Number").text]
    while (number := twiml(twilio_post(ivr, "dial", {"lang": "en", "next": len(rung)},
                                       DialCallStatus="no-answer")).find("Dial/Number")) is not None:
        rung.append(number.text)
    # Then only the proven, allowed number was rung
    assert rung == ["+919800000003"]
