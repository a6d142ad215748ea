"""Money at the API boundary.

Clients send and read amounts in **major units of the record's currency** with that currency's
decimals (INR: rupees, at most 2 places), as the existing frontend and the reference do: numbers,
or numeric strings from form fields ("45.50"). The database keeps exact integer **minor units**
(paise), which is also what Stripe takes. Every conversion between the two is in this module.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

# ISO 4217 exponents other than 2 (Stripe's zero-decimal currencies and the three-decimal ones).
_ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND",
                           "VUV", "XAF", "XOF", "XPF"})
_THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
# Ten million rupees (or the same count of another currency's major units): far above any real price.
MAX_MAJOR = Decimal(10_000_000)


def decimals(currency: str) -> int:
    """How many decimal places a major amount of `currency` may have."""
    code = currency.upper()
    return 0 if code in _ZERO_DECIMAL else 3 if code in _THREE_DECIMAL else 2


def parse_major(value: Any) -> Decimal:
    """A client's amount (a JSON number or a numeric string) as an exact Decimal; ValueError
    when it is not a finite number in 0..MAX_MAJOR. Floats go through their shortest repr, so
    45.5 is 45.5 and not 45.49999999999999."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError("must be a number")
    try:
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("must be a number") from None
    if not amount.is_finite():
        raise ValueError("must be a number")
    if amount < 0:
        raise ValueError("must not be negative")
    if amount > MAX_MAJOR:
        raise ValueError(f"must be at most {MAX_MAJOR}")
    return amount


def to_minor(amount: Decimal | int | float | str, currency: str) -> int:
    """Major units → integer minor units; ValueError when `amount` has more decimal places
    than the currency (₹45.505 is not an amount anyone can pay)."""
    major = parse_major(amount)
    places = decimals(currency)
    minor = major.scaleb(places)
    if minor != minor.to_integral_value():
        raise ValueError(f"at most {places} decimal places in {currency.upper()}" if places
                         else f"whole amounts only in {currency.upper()}")
    return int(minor)


def to_major(minor: int | None, currency: str) -> Decimal | None:
    """Stored minor units → the major amount clients read (JSON: 45.5, 120, 0.01)."""
    if minor is None:
        return None
    return Decimal(int(minor)).scaleb(-decimals(currency))  # encoded as 45.5 or 120 (core.envelope)


def major_amount(currency: Callable[[], str]) -> Any:
    """A request field holding a major amount of a fixed currency (a callable returning its code,
    read when the body is validated), stored in the model as integer minor units."""
    from pydantic import BeforeValidator, WithJsonSchema  # only schema modules call this

    def convert(value: Any) -> int:
        return to_minor(value, currency())

    schema = {"type": ["number", "string"],
              "description": "An amount in major units of the currency (INR: rupees, at most 2 decimal places)"}
    from typing import Annotated

    return Annotated[int, BeforeValidator(convert), WithJsonSchema(schema)]
