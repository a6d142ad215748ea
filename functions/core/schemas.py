"""Base models every domain's schemas build on.

`defer_build` keeps model construction out of cold start: a Lambda builds only the validators
of the bodies it actually receives.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, WithJsonSchema


def _no_bool(value: object) -> object:
    if isinstance(value, bool):  # pydantic's lax int would read true as 1
        raise ValueError("must be a whole number")
    return value


# A count (stock, quantity, year) sent as a JSON number or as a numeric string, as form inputs
# send them (`{"newStock": "35"}`, multipart fields): 35 and "35" are 35; 2.5, "2.5", true and ""
# are refused. Bounds go beside it: `Annotated[WholeNumber, Field(ge=0, le=100)]`. The OpenAPI
# document says `integer` (what a client should send); the strings are tolerated for the forms.
WholeNumber = Annotated[int, BeforeValidator(_no_bool)]


class WriteModel(BaseModel):
    """A request body: unknown fields are rejected (no mass assignment)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class PageQuery(BaseModel):
    """`page` >= 1 and `limit` 1..100 (default 20); other query parameters (cache busters) are ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, defer_build=True)

    page: Annotated[int, Field(ge=1, le=10_000)] = 1
    limit: Annotated[int, Field(ge=1, le=100)] = 20

    @property
    def paged(self) -> bool:
        """Did the client ask for a page? Routes the existing frontend calls without one answer
        up to 100 items in an order that puts what matters now first."""
        return bool({"page", "limit"} & self.model_fields_set)

    @property
    def skip(self) -> int:
        return (self.page - 1) * self.limit


# ---------------------------------------------------------------- answers (the OpenAPI document's response models)

# An id as answers send it (core.envelope: an ObjectId is its 24 hex digits).
Id = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{24}$")]
# An amount in major units of its currency, sent as a JSON number (core.envelope encodes the
# Decimal of `core.money.to_major` as 45.5 or 120; INR: rupees, at most 2 decimal places).
Major = Annotated[Decimal, WithJsonSchema({
    "type": "number", "description": "An amount in major units of its currency (INR: rupees, 2 decimal places at most)",
})]


class OutModel(BaseModel):
    """A part of an answer. Its fields are all it may hold (`extra="forbid"`: the tests validate
    every answer they receive against the document, so a key added or renamed without its model
    fails them); instants are ISO 8601 strings with `Z` (`datetime` here), ids 24 hex digits."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class OpenOutModel(OutModel):
    """A part of an answer whose keys are not all known (a stored document a client may extend,
    a provider's result): the listed keys are typed, others pass."""

    model_config = ConfigDict(extra="allow")


class Answer(OutModel):
    """The success envelope (`{"success": true, ...}`): each route's `…Out` answer adds its keys."""

    success: Literal[True]


class PaginationOut(OutModel):
    total: int
    page: int
    pages: int
    limit: int


class MessageOut(Answer):
    """An answer that only says what was done."""

    message: str


class ImageOut(OutModel):
    """An uploaded image as stored and answered: Cloudinary's `public_id` and its `url`."""

    public_id: str
    url: str
