"""Base models every domain's schemas build on.

`defer_build` keeps model construction out of cold start: a Lambda builds only the validators
of the bodies it actually receives.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator


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


class UpdateModel(WriteModel):
    """A partial update: every field optional, but a body with none of them is refused."""

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("Nothing to update")
        return self


# Types of answer fields, as the envelope encodes them (core.envelope: ObjectId and datetime as strings,
# Decimal as a JSON number).
Id = Annotated[str, Field(description="An object id (24 hexadecimal digits)")]
Timestamp = Annotated[datetime, Field(description="An ISO 8601 date-time with its UTC offset")]
MajorAmount = Annotated[Decimal, WithJsonSchema({
    "type": "number", "description": "An amount in major units of its currency (INR: rupees, at most 2 decimals)"})]


class OutModel(BaseModel):
    """A view of a resource as an answer sends it (a `*Out` model): it documents the answer, it does
    not build it. Its fields are all the answer holds: the document says `additionalProperties:
    false`, so the tests' schema check fails on a field the model does not list."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class OpenOutModel(BaseModel):
    """A view that passes a stored document on (a user as they see themself): the fields listed
    are always there with these types; others the document holds may come along."""

    model_config = ConfigDict(extra="allow", defer_build=True)


class Answer(OutModel):
    """The whole JSON body of a success answer (`@describe(response=...)`): the envelope's
    `success` and the answer's fields."""

    success: Literal[True]


class PageOut(OutModel):
    """The paging block of a paged list (`core.paging`)."""

    page: int
    limit: int
    total: int
    pages: int


class MessageAnswer(Answer):
    """A success answer that only says what happened."""

    message: str


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


class AssetOut(OutModel):
    """An uploaded file as stored and answered (a medicine's image, a pharmacy's picture or
    licence): Cloudinary's `public_id` and the `url` it reported."""

    public_id: str
    url: str
