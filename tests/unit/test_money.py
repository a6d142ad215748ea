"""Money crosses the API boundary in major units and is stored in exact minor units."""

from decimal import Decimal

import pytest

from functions.core.envelope import to_json
from functions.core.money import decimals, to_major, to_minor


@pytest.mark.parametrize(("given", "currency", "minor"), [
    ("45.50", "INR", 4550), (45.5, "INR", 4550), ("120", "INR", 12000), (0.01, "INR", 1), (0.1 + 0.2, "INR", None),
    ("1000", "JPY", 1000), ("1.5", "JPY", None), ("1.234", "KWD", 1234), ("45.505", "INR", None), (0, "INR", 0),
])
def test_major_amounts_become_exact_minor_units_or_are_refused(given, currency, minor):
    if minor is None:
        with pytest.raises(ValueError, match=r"decimal places|whole amounts"):
            to_minor(given, currency)
    else:
        assert to_minor(given, currency) == minor


@pytest.mark.parametrize("bad", ["", "abc", "NaN", "Infinity", "-1", True, None, [1], "1e9"])
def test_what_is_not_an_amount_is_refused(bad):
    with pytest.raises(ValueError):
        to_minor(bad, "INR")


def test_minor_units_are_read_back_as_the_numbers_the_frontend_prints():
    assert to_json([to_major(4550, "INR"), to_major(12000, "INR"), to_major(1, "INR"), to_major(None, "INR")]) \
        == "[45.5,120,0.01,null]"
    assert to_major(1234, "KWD") == Decimal("1.234") and decimals("jpy") == 0
