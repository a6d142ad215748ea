"""Pure parts of the emergency line: TwiML built by the SDK's builder, both languages."""

import xml.etree.ElementTree as ET

import pytest

from functions.emergency import twiml


def parse(xml):
    return ET.fromstring(xml)  # noqa: S314 (our own output)


@pytest.mark.parametrize("lang", ["en", "hi"])
def test_every_text_exists_in_both_languages(lang):
    # Given the English texts / Then each has its translation, and the menu names the three keys
    assert set(twiml.TEXTS[lang]) == set(twiml.TEXTS["en"])
    assert all(key in twiml.TEXTS[lang]["menu"] for key in ("1", "2", "3"))


def test_a_dial_rings_one_number_and_reports_to_the_next_step():
    # When one doctor is rung
    root = parse(twiml.dial("hi", "+919800000001", "https://x/dial?lang=hi&next=1", "+15005550006", first=True))
    # Then the caller hears Hindi, one number is dialled with our caller id, and Twilio reports back
    dial = root.find("Dial")
    assert root.find("Say").get("language") == "hi-IN"
    assert (dial.get("action"), dial.get("callerId"), dial.find("Number").text) == (
        "https://x/dial?lang=hi&next=1", "+15005550006", "+919800000001")


def test_the_last_menu_attempt_hangs_up_instead_of_looping():
    # When no repeat URL is given / Then the menu ends with a goodbye and a hang-up
    root = parse(twiml.main_menu("en", "https://x/menu?lang=en", None))
    assert root.find("Redirect") is None and root.find("Hangup") is not None


def test_phone_numbers_are_read_digit_by_digit():
    assert twiml.spoken_digits("+91 80-2222 3333") == "9 1 8 0 2 2 2 2 3 3 3 3"


def test_text_is_escaped_in_the_xml():
    # Given a hospital name with XML metacharacters / Then the TwiML stays well-formed
    root = parse(twiml.hospitals("en", [{"name": "St. John's <A&E>", "address": "1 Road", "phone": "080"}]))
    assert "St. John's <A&E>" in root.findall("Say")[1].text
