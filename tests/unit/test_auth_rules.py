"""Pure rules of the auth domain: contacts, request models, views, the response scan."""

from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from functions.auth import directory, schemas, service
from tests.secrets_scan import assert_no_secrets


@pytest.mark.parametrize(("raw", "expected"), [
    ("  Asha.Rao@Example.COM ", ("asha.rao@example.com", "email")),
    ("9876543210", ("+919876543210", "phone")),              # bare 10 digits: the default region
    ("+91 98765 43210", ("+919876543210", "phone")),
    ("098765-43210", ("+919876543210", "phone")),
    ("+1 (415) 555-2671", ("+14155552671", "phone")),
])
def test_contacts_are_normalized_to_one_spelling(raw, expected):
    assert service.normalize_contact(raw, "IN") == expected


def test_a_bare_number_is_read_in_the_configured_region():
    assert service.normalize_contact("4155552671", "US") == ("+14155552671", "phone")


@pytest.mark.parametrize("raw", ["not-an-email@", "asha@@example.com", "12345", "98765abc10", "+99 1234567",
                                 "asha@localhost"])
def test_invalid_contacts_are_refused(raw):
    with pytest.raises(ValueError):
        service.normalize_contact(raw, "IN")


def test_login_key_falls_back_to_the_folded_text_for_unparseable_contacts():
    assert service.login_key("  NoSuch@@Thing ") == "nosuch@@thing"
    assert service.login_key("Patient7@Example.TEST") == "patient7@example.test"
    assert service.login_key("9876543210") == "+919876543210"


def test_register_model_limits_and_forbids_unknown_fields():
    with pytest.raises(ValidationError) as exc:
        schemas.RegisterBody.model_validate({"name": "A", "contact": "a@example.com", "password": "short",
                                             "role": "superuser", "approvalStatus": "approved"})
    fields = {".".join(map(str, e["loc"])) for e in exc.value.errors()}
    assert fields == {"name", "password", "role", "approvalStatus"}


def test_register_model_accepts_the_frontends_avatar_json_string_and_ignores_availability():
    body = schemas.RegisterBody.model_validate({
        "name": "Dr Meera", "contact": "m@example.com", "password": "long-enough-pw", "role": "doctor",
        "avatar": '{"public_id": "doctors/m", "url": "https://res.cloudinary.com/x/m.png"}',
        "availability": "true"})
    assert body.avatar is not None and body.avatar.url == "https://res.cloudinary.com/x/m.png"
    assert "availability" not in body.model_dump()


@pytest.mark.parametrize(("field", "value"), [
    ("consultationFee", 499.5), ("consultationFee", "500"), ("consultationFee", -1), ("consultationFee", True),
    ("currency", "RUPEE"), ("timezone", "Mars/Olympus"), ("languages", ["en"] * 11),
    ("avatar", {"public_id": "x", "url": "http://insecure.example/a.png"}), ("avatar", "not json"),
])
def test_doctor_profile_fields_are_validated(field, value):
    with pytest.raises(ValidationError) as exc:
        schemas.UpdateMeBody.model_validate({field: value})
    assert exc.value.errors()[0]["loc"][0] == field


def test_currency_is_upper_cased_and_fee_is_integer_minor_units():
    body = schemas.UpdateMeBody.model_validate({"currency": "usd", "consultationFee": 2500})
    assert (body.currency, body.consultationFee) == ("USD", 2500)


@pytest.mark.parametrize("url", ["http://example.com/x.png", "javascript:alert(1)", "https://", "ftp://a/b",
                                 "https://exa mple.com/x"])
def test_medical_history_urls_must_be_https(url):
    with pytest.raises(ValidationError):
        schemas.MedicalHistoryBody.model_validate({"analysis": "ok", "url": url})


def test_rejection_needs_a_reason():
    with pytest.raises(ValidationError):
        schemas.ApprovalBody.model_validate({"status": "rejected"})
    assert schemas.ApprovalBody.model_validate({"status": "approved"}).reason is None


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
    assert set(service.self_view(user)) == {"_id", "name", "contact", "role", "speciality", "availability", "timeOff",
                                            "contactVerified"}
    # a doctor's `availability` is the frontend's boolean, never the schedule itself
    assert service.self_view(user)["availability"] is False and service.self_view(user)["contactVerified"] is False
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
