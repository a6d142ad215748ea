"""What the emergency line says, in English and Hindi, as TwiML. Pure: the SDK's TwiML builder
(`twilio.twiml`, imported here only when a response is built; never `twilio.rest`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

VOICE = "Polly.Aditi"  # speaks both Indian English and Hindi
LANGUAGES = {"en": "en-IN", "hi": "hi-IN"}
GATHER_TIMEOUT = 6
DIAL_TIMEOUT = 20
EMERGENCY_NUMBER = "112"

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "welcome": "Welcome to the CureConnect emergency line. For English, press 1.",
        "menu": "To speak to a doctor now, press 1. To hear the nearest hospitals, press 2. "
                "To request a call back from a doctor, press 3.",
        "connecting": "Connecting you to a doctor on call. Please stay on the line.",
        "next_doctor": "Trying another doctor. Please stay on the line.",
        "no_doctor": "No doctor could take your call right now. A doctor will call you back on this number "
                     "as soon as possible. If this is life threatening, hang up and call 112.",
        "pincode": "Please enter the six digit pin code of where you are.",
        "hospitals": "The nearest hospitals are:",
        "hospital": "{name}, {address}. Phone: {phone}.",
        "no_hospitals": "We could not find a hospital for that area. For an ambulance, call 112.",
        "callback": "Your call back request is recorded. A doctor will call you on this number soon.",
        "invalid": "Sorry, that is not an option.",
        "goodbye": "We did not receive a choice. Goodbye. For an ambulance, call 112.",
    },
    "hi": {
        "welcome": "क्योरकनेक्ट आपातकालीन सेवा में आपका स्वागत है। हिंदी के लिए 2 दबाएँ।",
        "menu": "अभी डॉक्टर से बात करने के लिए 1 दबाएँ। नज़दीकी अस्पतालों की जानकारी के लिए 2 दबाएँ। "
                "डॉक्टर से वापस कॉल पाने के लिए 3 दबाएँ।",
        "connecting": "आपको ड्यूटी पर मौजूद डॉक्टर से जोड़ा जा रहा है। कृपया लाइन पर बने रहें।",
        "next_doctor": "दूसरे डॉक्टर से जोड़ा जा रहा है। कृपया लाइन पर बने रहें।",
        "no_doctor": "अभी कोई डॉक्टर उपलब्ध नहीं है। डॉक्टर जल्द ही इसी नंबर पर आपको वापस कॉल करेंगे। "
                     "जान का ख़तरा हो तो फ़ोन रखकर 112 पर कॉल करें।",
        "pincode": "कृपया अपने स्थान का छह अंकों का पिन कोड दर्ज करें।",
        "hospitals": "नज़दीकी अस्पताल हैं:",
        "hospital": "{name}, {address}। फ़ोन: {phone}।",
        "no_hospitals": "उस क्षेत्र के लिए कोई अस्पताल नहीं मिला। एम्बुलेंस के लिए 112 पर कॉल करें।",
        "callback": "आपका अनुरोध दर्ज हो गया है। डॉक्टर जल्द ही इसी नंबर पर आपको कॉल करेंगे।",
        "invalid": "क्षमा करें, यह विकल्प उपलब्ध नहीं है।",
        "goodbye": "कोई विकल्प नहीं मिला। नमस्ते। एम्बुलेंस के लिए 112 पर कॉल करें।",
    },
}


def _response() -> Any:
    from twilio.twiml.voice_response import VoiceResponse

    return VoiceResponse()


def _say(node: Any, lang: str, text: str) -> None:
    node.say(text, language=LANGUAGES[lang], voice=VOICE)


def spoken_digits(phone: str) -> str:
    """A phone number read digit by digit ("0 8 0 ...") instead of as one large number."""
    return " ".join(ch for ch in phone if ch.isdigit())


def language_menu(action: str, again: str) -> str:
    vr = _response()
    from twilio.twiml.voice_response import Gather

    gather = Gather(num_digits=1, action=action, method="POST", timeout=GATHER_TIMEOUT)
    _say(gather, "en", TEXTS["en"]["welcome"])
    _say(gather, "hi", TEXTS["hi"]["welcome"])
    vr.append(gather)
    vr.redirect(again, method="POST")  # silence: English menu
    return str(vr)


def main_menu(lang: str, action: str, again: str | None, *, invalid: bool = False) -> str:
    """The three choices; `again` repeats them on silence (None after the last attempt)."""
    vr = _response()
    from twilio.twiml.voice_response import Gather

    if invalid:
        _say(vr, lang, TEXTS[lang]["invalid"])
    gather = Gather(num_digits=1, action=action, method="POST", timeout=GATHER_TIMEOUT)
    _say(gather, lang, TEXTS[lang]["menu"])
    vr.append(gather)
    if again:
        vr.redirect(again, method="POST")
    else:
        _say(vr, lang, TEXTS[lang]["goodbye"])
        vr.hangup()
    return str(vr)


def dial(lang: str, number: str, action: str, caller_id: str | None, *, first: bool) -> str:
    """Ring one doctor; Twilio posts the outcome to `action`, which rings the next one."""
    vr = _response()
    _say(vr, lang, TEXTS[lang]["connecting" if first else "next_doctor"])
    kwargs: dict[str, Any] = {"action": action, "method": "POST", "timeout": DIAL_TIMEOUT}
    if caller_id:
        kwargs["caller_id"] = caller_id
    vr.dial(**kwargs).number(number)
    return str(vr)


def say_then_hang_up(lang: str, key: str) -> str:
    vr = _response()
    _say(vr, lang, TEXTS[lang][key])
    vr.hangup()
    return str(vr)


def hang_up() -> str:
    vr = _response()
    vr.hangup()
    return str(vr)


def ask_pincode(lang: str, action: str) -> str:
    vr = _response()
    from twilio.twiml.voice_response import Gather

    gather = Gather(num_digits=6, action=action, method="POST", timeout=GATHER_TIMEOUT * 2)
    _say(gather, lang, TEXTS[lang]["pincode"])
    vr.append(gather)
    _say(vr, lang, TEXTS[lang]["no_hospitals"])
    vr.hangup()
    return str(vr)


def hospitals(lang: str, found: Sequence[dict[str, Any]]) -> str:
    if not found:
        return say_then_hang_up(lang, "no_hospitals")
    vr = _response()
    _say(vr, lang, TEXTS[lang]["hospitals"])
    for hospital in found:
        _say(vr, lang, TEXTS[lang]["hospital"].format(name=hospital["name"], address=hospital.get("address", ""),
                                                      phone=spoken_digits(str(hospital.get("phone", "")))))
    vr.hangup()
    return str(vr)
