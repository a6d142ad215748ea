from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from bson import ObjectId

from functions.core.config import ConfigError, load_settings
from functions.core.db import object_id
from functions.core.envelope import to_json
from functions.core.errors import NotFound

BASE_ENV = {"MONGODB_URI": "mongodb://localhost:27017/", "JWT_SECRET": "s" * 32}


def test_object_ids_and_datetimes_encode_as_strings_in_utc_with_z():
    # Given an ObjectId, an aware non-UTC datetime and a naive one (stored UTC)
    oid = ObjectId("64b000000000000000000001")
    ist = timezone(timedelta(hours=5, minutes=30))
    payload = {"id": oid, "at": datetime(2026, 3, 2, 15, 30, tzinfo=ist), "naive": datetime(2026, 1, 1, 0, 0),
               "fee": Decimal("500"), "ratio": Decimal("0.5")}
    # When encoded
    text = to_json(payload)
    # Then the id is its hex string and instants are UTC ISO 8601 with Z
    assert text == ('{"id":"64b000000000000000000001","at":"2026-03-02T10:00:00.000Z",'
                    '"naive":"2026-01-01T00:00:00.000Z","fee":500,"ratio":0.5}')


def test_unknown_types_are_refused_rather_than_stringified():
    with pytest.raises(TypeError):
        to_json({"x": object()})


def test_missing_required_setting_names_the_variable():
    env = dict(BASE_ENV)
    del env["JWT_SECRET"]
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        load_settings(env)


def test_short_jwt_secret_is_rejected_with_its_name():
    with pytest.raises(ConfigError, match=r"JWT_SECRET.*32 bytes"):
        load_settings({**BASE_ENV, "JWT_SECRET": "short"})


def test_invalid_timezone_and_boolean_are_named():
    with pytest.raises(ConfigError, match="DEFAULT_TIMEZONE"):
        load_settings({**BASE_ENV, "DEFAULT_TIMEZONE": "Mars/Olympus"})
    with pytest.raises(ConfigError, match="COOKIE_SECURE"):
        load_settings({**BASE_ENV, "COOKIE_SECURE": "maybe"})


def test_settings_parse_types_and_defaults():
    settings = load_settings({**BASE_ENV, "ALLOWED_ORIGINS": "https://a.test, https://b.test",
                              "REMINDER_OFFSETS_MINUTES": "60,5", "COOKIE_SAMESITE": "strict"})
    assert settings.allowed_origins == ("https://a.test", "https://b.test")
    assert settings.reminder_offsets_minutes == (60, 5)
    assert settings.cookie_samesite == "Strict"
    assert settings.mongodb_db == "cureconnect"
    assert "s" * 32 not in repr(settings)


@pytest.mark.parametrize("bad", ["", "123", "zz" * 12, "64b00000000000000000000", None, 42])
def test_malformed_object_ids_are_not_found(bad):
    with pytest.raises(NotFound):
        object_id(bad)


def test_frozen_clock_moves_only_when_told():
    from functions.core import clock

    frozen = clock.FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    clock.set_now(frozen)
    try:
        first = clock.now()
        frozen.advance(minutes=5)
        assert clock.now() - first == timedelta(minutes=5)
    finally:
        clock.set_now(None)


def test_every_setting_is_declared_once_and_documented_in_the_readme():
    # Given the one declaration of the settings
    from dataclasses import fields
    from pathlib import Path

    from functions.core.config import Settings

    variables = [f.metadata["var"] for f in fields(Settings)]
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = [line for line in readme.splitlines() if line.startswith("| `")]
    # Then each variable is named once and has a row of the README's configuration table
    assert len(variables) == len(set(variables)) > 50
    assert [v for v in variables if not any(f"`{v}`" in row.split(" | ")[0] for row in table)] == []


def test_a_required_setting_left_empty_is_missing_and_an_optional_one_takes_its_default():
    # Given an empty JWT_SECRET and an empty DEFAULT_TIMEZONE
    with pytest.raises(ConfigError, match=r"Missing required setting JWT_SECRET \(see the configuration table"):
        load_settings({**BASE_ENV, "JWT_SECRET": ""})
    # Then an empty optional setting is parsed from its own spelling (an empty list here)
    assert load_settings({**BASE_ENV, "ALLOWED_ORIGINS": ""}).allowed_origins == ()
