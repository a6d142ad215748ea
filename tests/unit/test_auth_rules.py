"""Pure rules of the auth domain: contacts, request models, views, the response scan."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from functions.auth import contacts, directory, fees, schemas, views
from functions.core.errors import ValidationFailed
from tests.secrets_scan import assert_no_secrets


@pytest.mark.parametrize(("raw", "expected"), [
    ("  Asha.Rao@Example.COM ", ("asha.rao@example.com", "email")),
    ("9876543210", ("+919876543210", "phone")),              # bare 10 digits: the default region
    ("+91 98765 43210", ("+919876543210", "phone")),
    ("098765-43210", ("+919876543210", "phone")),
    ("+1 (415) 555-2671", ("+14155552671", "phone")),
])
def test_contacts_are_normalized_to_one_spelling(raw, expected):
    assert contacts.normalize_contact(raw, "IN") == expected


def test_a_bare_number_is_read_in_the_configured_region():
    assert contacts.normalize_contact("4155552671", "US") == ("+14155552671", "phone")


@pytest.mark.parametrize("raw", ["not-an-email@", "asha@@example.com", "12345", "98765abc10", "+99 1234567",
                                 "asha@localhost"])
def test_invalid_contacts_are_refused(raw):
    with pytest.raises(ValueError):
        contacts.normalize_contact(raw, "IN")


def test_login_key_falls_back_to_the_folded_text_for_unparseable_contacts():
    assert contacts.login_key("  NoSuch@@Thing ") == "nosuch@@thing"
    assert contacts.login_key("Patient7@Example.TEST") == "patient7@example.test"
    assert contacts.login_key("9876543210") == "+919876543210"


def test_register_model_limits_and_forbids_unknown_fields():
    with pytest.raises(ValidationError) as exc:
        schemas.RegisterIn.model_validate({"name": "A", "contact": "a@example.com", "password": "short",
                                             "role": "superuser", "approvalStatus": "approved"})
    fields = {".".join(map(str, e["loc"])) for e in exc.value.errors()}
    assert fields == {"name", "password", "role", "approvalStatus"}


def test_register_model_accepts_the_frontends_avatar_json_string_and_ignores_availability():
    body = schemas.RegisterIn.model_validate({
        "name": "Dr Meera", "contact": "m@example.com", "password": "long-enough-pw", "role": "doctor",
        "avatar": '{"public_id": "doctors/m", "url": "https://res.cloudinary.com/x/m.png"}',
        "availability": "true"})
    assert body.avatar is not None and body.avatar.url == "https://res.cloudinary.com/x/m.png"
    assert "availability" not in body.model_dump()


@pytest.mark.parametrize(("field", "value"), [
    ("consultationFee", "five hundred"), ("consultationFee", "NaN"), ("consultationFee", -1),
    ("consultationFee", True), ("consultationFee", 10_000_001),
    ("currency", "RUPEE"), ("timezone", "Mars/Olympus"), ("languages", ["en"] * 11),
    ("avatar", {"public_id": "x", "url": "http://insecure.example/a.png"}), ("avatar", "not json"),
])
def test_doctor_profile_fields_are_validated(field, value):
    with pytest.raises(ValidationError) as exc:
        schemas.UpdateMeIn.model_validate({field: value})
    assert exc.value.errors()[0]["loc"][0] == field


@pytest.mark.parametrize(("sent", "major"), [(2500, "2500"), ("499.50", "499.50"), (499.5, "499.5"), (" 120 ", "120")])
def test_currency_is_upper_cased_and_the_fee_is_a_major_amount_as_numbers_or_numeric_strings(sent, major):
    body = schemas.UpdateMeIn.model_validate({"currency": "usd", "consultationFee": sent})
    assert (body.currency, body.consultationFee) == ("USD", Decimal(major))


@pytest.mark.parametrize(("fee", "body_currency", "stored", "minor"), [
    (Decimal("499.5"), None, "INR", 49950),    # the doctor's stored currency
    (Decimal("499.5"), None, None, 49950),     # the default (INR)
    (Decimal("1500"), "JPY", "INR", 1500),     # the currency sent with it wins
    (Decimal("12.345"), "KWD", None, 12345),
])
def test_a_fee_is_stored_in_minor_units_of_the_currency_that_applies(fee, body_currency, stored, minor):
    assert fees.fee_to_minor(fee, body_currency, stored) == minor


def test_a_fee_with_more_decimals_than_its_currency_is_a_400_naming_the_field():
    with pytest.raises(ValidationFailed) as exc:
        fees.fee_to_minor(Decimal("499.505"), None, "INR")
    assert exc.value.errors == [{"field": "consultationFee", "message": "at most 2 decimal places in INR"}]
    assert exc.value.message.startswith("consultationFee")
    with pytest.raises(ValidationFailed):
        fees.fee_to_minor(Decimal("0.5"), "JPY", "INR")


def test_a_stored_fee_is_read_in_major_units_of_the_doctors_currency():
    assert fees.fee_to_api({"consultationFee": 49950, "currency": "INR"}) == Decimal("499.5")
    assert fees.fee_to_api({"consultationFee": 1500, "currency": "JPY"}) == 1500
    assert fees.fee_to_api({"consultationFee": None, "currency": "INR"}) is None


@pytest.mark.parametrize("url", ["http://example.com/x.png", "javascript:alert(1)", "https://", "ftp://a/b",
                                 "https://exa mple.com/x"])
def test_medical_history_urls_must_be_https(url):
    with pytest.raises(ValidationError):
        schemas.MedicalHistoryIn.model_validate({"analysis": "ok", "url": url})


def test_rejection_needs_a_reason():
    with pytest.raises(ValidationError):
        schemas.ApprovalIn.model_validate({"status": "rejected"})
    assert schemas.ApprovalIn.model_validate({"status": "approved"}).reason is None


def test_pages_are_bounded():
    for bad in ({"page": "0"}, {"limit": "101"}, {"limit": "0"}, {"page": "x"}):
        with pytest.raises(ValidationError):
            schemas.PageQuery.model_validate(bad)
    assert schemas.DoctorsQuery.model_validate({"page": "3", "limit": "10", "_": "123"}).skip == 20


def test_views_never_carry_secrets_or_internal_fields():
    user = {"_id": 1, "name": "A", "contact": "a@example.com", "passwordHash": "$argon2id$...", "sessionVersion": 3,
            "revokedTokens": [{"jti": "x"}], "loginFailures": {"count": 2}, "nameKey": "a", "medicalHistory": [],
            "role": "doctor", "speciality": "general", "availability": {"mon": []}, "timeOff": [],
            "revokedJtis": {"x": 1}, "verification": {"codeHash": "h"}, "recovery": {"codeHash": "h"}}
    assert set(views.self_view(user)) == {"_id", "name", "contact", "role", "speciality", "availability", "timeOff",
                                            "contactVerified"}
    # a doctor's `availability` is the frontend's boolean, never the schedule itself
    assert views.self_view(user)["availability"] is False and views.self_view(user)["contactVerified"] is False
    assert "contact" not in directory.public_doctor(user)
    assert directory.public_doctor(user)["availability"] is False


def test_the_response_scan_catches_hashes_and_password_fields():
    with pytest.raises(AssertionError):
        assert_no_secrets(SimpleNamespace(body=b'{"user": {"x": "$argon2id$v=19$m=19456"}}'))
    with pytest.raises(AssertionError):
        assert_no_secrets(SimpleNamespace(body=b'{"user": {"passwordHash": "x"}}'))
    with pytest.raises(AssertionError):
        assert_no_secrets(SimpleNamespace(body=b'{"items": [{"password": "x"}]}'))
    assert_no_secrets(SimpleNamespace(body=b'{"errors": [{"field": "password", "message": "too short"}]}'))


def test_default_currency_setting_is_validated_and_named():
    from functions.core.config import ConfigError, load_settings

    base = {"MONGODB_URI": "mongodb://db/", "JWT_SECRET": "x" * 32}
    assert load_settings(base).default_currency == "INR"
    assert load_settings({**base, "DEFAULT_CURRENCY": "usd"}).default_currency == "USD"
    with pytest.raises(ConfigError, match="DEFAULT_CURRENCY"):
        load_settings({**base, "DEFAULT_CURRENCY": "RUPEES"})
