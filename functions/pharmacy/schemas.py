"""Pydantic models for pharmacy and medicine request bodies and query strings.

Money arrives in major units of the default currency (INR: rupees, `45.50` or `"45.50"`) and is
held in the models, as in the database, in integer minor units (`core.money`); pharmacy records
are in the default currency. Counts arrive as numbers or numeric strings, as the frontend's forms
send them. Unknown fields are rejected on writes; the fields the server manages (verification,
ratings, counters, owner, licence) are not part of any write model (D-17: the raw body went to
the database, so owners could verify themselves).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BeforeValidator,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from functions.core import clock
from functions.core.config import get_settings
from functions.core.money import major_amount
from functions.core.schemas import PageQuery, WholeNumber, WriteModel
from functions.media.api import AssetUrl
from functions.pharmacy.status import ShopStatus, VerificationStatus

OBJECT_ID = r"^[0-9a-fA-F]{24}$"
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"
PHONE = r"^\+?[0-9][0-9 ()-]{6,19}$"
PINCODE = r"^[1-9][0-9]{5}$"
UNPAGED_LIMIT = 100  # the lists the existing frontend calls without paging

CATEGORIES = ("Pain Relief", "Antibiotics", "Vitamins & Supplements", "Cold & Flu", "Digestive Health",
              "Heart & Blood Pressure", "Diabetes", "Skin Care", "Eye Care", "Women Health", "Men Health",
              "Child Care", "First Aid", "Prescription", "Other")
FORM_TYPES = ("Tablet", "Capsule", "Syrup", "Injection", "Drops", "Cream", "Ointment", "Gel", "Powder", "Other")

Text = Annotated[str, StringConstraints(max_length=500)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
if TYPE_CHECKING:
    Money = int
else:  # rupees (numbers or numeric strings) in, paise held
    Money = major_amount(lambda: get_settings().default_currency)
Stock = Annotated[WholeNumber, Field(ge=0, le=1_000_000)]
Radius = Annotated[WholeNumber, Field(ge=1, le=50)]
Year = Annotated[WholeNumber, Field(ge=1900, le=9999)]
Category = Literal["Pain Relief", "Antibiotics", "Vitamins & Supplements", "Cold & Flu", "Digestive Health",
                   "Heart & Blood Pressure", "Diabetes", "Skin Care", "Eye Care", "Women Health", "Men Health",
                   "Child Care", "First Aid", "Prescription", "Other"]
FormType = Literal["Tablet", "Capsule", "Syrup", "Injection", "Drops", "Cream", "Ointment", "Gel", "Powder", "Other"]


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


class UnpagedList(PageQuery):
    """A list the existing frontend calls without `page`/`limit` and shows whole: then the
    first `UNPAGED_LIMIT` items (as `/doctors` and `/appointment/my` do)."""

    @model_validator(mode="after")
    def _whole_list(self) -> UnpagedList:
        if not self.paged:
            self.limit = UNPAGED_LIMIT
        return self


# ---------------------------------------------------------------- pharmacies


class Coordinates(WriteModel):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class Address(WriteModel):
    street: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    city: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    state: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    pincode: Annotated[str, StringConstraints(pattern=PINCODE)]
    coordinates: Coordinates | None = None


class ContactInfo(WriteModel):
    phone: Annotated[str, StringConstraints(pattern=PHONE)]
    email: EmailStr
    whatsapp: Annotated[str | None, StringConstraints(pattern=PHONE), BeforeValidator(_blank_to_none)] = None


class Hours(WriteModel):
    open: Annotated[str, StringConstraints(pattern=HHMM)]
    close: Annotated[str, StringConstraints(pattern=HHMM)]

    @model_validator(mode="after")
    def _ordered(self) -> Hours:
        if self.close <= self.open:
            raise ValueError("close must be after open")
        return self


class OperatingHours(WriteModel):
    # Defaults built on first use (an instance at import would build the validators at cold start).
    weekdays: Hours = Field(default_factory=lambda: Hours(open="09:00", close="21:00"))
    weekends: Hours = Field(default_factory=lambda: Hours(open="10:00", close="20:00"))


def _not_future_year(value: int | None) -> int | None:
    if value is not None and value > clock.now().year:  # the year of the request, not of the process (D-44)
        raise ValueError("cannot be in the future")
    return value


class DocumentRef(WriteModel):
    """An uploaded file: `{public_id, url}` (checked against the uploads recorded for the owner)."""

    public_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    url: Annotated[AssetUrl, StringConstraints(max_length=500)]


class VerificationDocuments(WriteModel):
    """The reference's licence documents, each an upload of purpose `pharmacy-license` by the
    owner (the reference had no upload for them and took any url by mass assignment). A key
    given replaces that document; keys left out stay."""

    pharmacyLicense: DocumentRef | None = None
    drugLicense: DocumentRef | None = None
    gstCertificate: DocumentRef | None = None


class PharmacyIn(WriteModel):
    """POST /pharmacy/register (JSON, or multipart with nested objects as JSON strings)."""

    name: Annotated[str, StringConstraints(min_length=2, max_length=100)]
    description: Text = ""
    address: Address
    contactInfo: ContactInfo
    licenseNumber: Annotated[str, StringConstraints(min_length=3, max_length=50, pattern=r"^[A-Za-z0-9/ _.-]+$")]
    establishedYear: Year | None = None
    operatingHours: OperatingHours = Field(default_factory=OperatingHours)
    deliveryRadius: Radius = 10
    # Rupees, like a client's. The existing frontend cannot set these and its checkout shows ₹50
    # delivery under ₹500 (the reference's fixed rule, D-40): the defaults charge what it shows.
    deliveryCharges: Money = Field(default=50, validate_default=True)
    freeDeliveryAbove: Money = Field(default=500, validate_default=True)
    verificationDocuments: VerificationDocuments | None = None

    _year = field_validator("establishedYear")(_not_future_year)


# Server-managed fields a client may echo back from GET /pharmacy/my: dropped, never applied.
PHARMACY_READ_ONLY = frozenset({
    "_id", "id", "owner", "licenseNumber", "verificationStatus", "isVerified", "rating",
    "totalReviews", "totalMedicines", "totalOrders", "monthlyRevenue", "createdAt", "updatedAt", "avatar", "listed",
    "__v",
})


class PharmacyUpdateIn(WriteModel):
    """PUT /pharmacy/my: the owner's allow-list."""

    name: Annotated[str, StringConstraints(min_length=2, max_length=100)] | None = None
    description: Text | None = None
    address: Address | None = None
    contactInfo: ContactInfo | None = None
    establishedYear: Year | None = None
    operatingHours: OperatingHours | None = None
    deliveryRadius: Radius | None = None
    deliveryCharges: Money | None = None
    freeDeliveryAbove: Money | None = None
    status: ShopStatus | None = None  # the owner may close the shop; only admins suspend
    # Echoed from GET /pharmacy/my they are the recorded uploads already in use: accepted, unchanged.
    verificationDocuments: VerificationDocuments | None = None

    _year = field_validator("establishedYear")(_not_future_year)


class PharmacyStatusIn(WriteModel):
    status: VerificationStatus
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class PharmacyListQuery(PageQuery):
    limit: Annotated[int, Field(ge=1, le=100)] = 10
    city: Annotated[str, StringConstraints(max_length=100)] | None = None
    pincode: Annotated[str, StringConstraints(max_length=10)] | None = None


class AdminPharmacyQuery(UnpagedList):
    status: VerificationStatus | Literal["all", ""] | None = None


# ---------------------------------------------------------------- medicines


class ImageRef(WriteModel):
    public_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    url: Annotated[AssetUrl, StringConstraints(max_length=500)]


EXPIRY_YEARS = (2000, 2999)  # an expiry outside these years is a typing mistake (and beyond date arithmetic)


def _expiry(value: object) -> object:
    """A date means the end of that day is still good: expiry at 23:59:59 UTC of that day."""
    if isinstance(value, str) and len(value) == 10:
        value = date.fromisoformat(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time(23, 59, 59), tzinfo=UTC)
    return value


def _expiry_instant(value: datetime) -> datetime:
    """One rule for a date-time: one without an offset is in the pharmacy's zone (the
    `DEFAULT_TIMEZONE`; pharmacies have no zone of their own); stored and answered in UTC."""
    if not EXPIRY_YEARS[0] <= value.year <= EXPIRY_YEARS[1]:
        raise ValueError(f"expiryDate must lie between the years {EXPIRY_YEARS[0]} and {EXPIRY_YEARS[1]}")
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=ZoneInfo(get_settings().default_timezone))
    return value.astimezone(UTC)


Expiry = Annotated[datetime, BeforeValidator(_expiry), AfterValidator(_expiry_instant)]
Tags = Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=50)]], Field(max_length=20)]
Images = Annotated[list[ImageRef], Field(max_length=5)]


class MedicineFields(WriteModel):
    """Everything a pharmacist may set on a medicine (all optional: the update model)."""

    name: Name | None = None
    genericName: Annotated[str, StringConstraints(max_length=200)] | None = None
    category: Category | None = None
    manufacturer: Name | None = None
    composition: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None
    strength: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    packSize: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    batchNumber: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    formType: FormType | None = None
    price: Money | None = None
    mrp: Money | None = None
    stock: Stock | None = None
    minStock: Stock | None = None
    expiryDate: Expiry | None = None
    images: Images | None = None
    description: Annotated[str, StringConstraints(max_length=1000)] | None = None
    uses: Text | None = None
    sideEffects: Text | None = None
    precautions: Text | None = None
    dosage: Annotated[str, StringConstraints(max_length=300)] | None = None
    prescriptionRequired: bool | None = None
    isActive: bool | None = None
    tags: Tags | None = None

    @model_validator(mode="after")
    def _price_within_mrp(self) -> MedicineFields:
        if self.price is not None and self.mrp is not None and self.price > self.mrp:
            raise ValueError("price cannot exceed mrp")
        return self


MedicineUpdateIn = MedicineFields


class MedicineIn(MedicineFields):
    """POST /pharmacy/medicines and each bulk-upload row."""

    name: Name
    category: Category
    manufacturer: Name
    composition: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    strength: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    packSize: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    batchNumber: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    formType: FormType
    price: Money
    mrp: Money
    stock: Stock = 0
    minStock: Stock = 10
    expiryDate: Expiry
    prescriptionRequired: bool = False
    isActive: bool = True


class StockRow(WriteModel):
    medicineId: Annotated[str, StringConstraints(pattern=OBJECT_ID)]
    newStock: Stock  # the stock input's string ("35") or a number; never 2.5 or true


class BulkStockIn(WriteModel):
    stockUpdates: Annotated[list[dict[str, object]], Field(min_length=1, max_length=1000)]


class ExpiringQuery(UnpagedList):
    days: Annotated[int, Field(ge=0, le=3650)] = 90


Flag = Annotated[bool | None, BeforeValidator(_blank_to_none)]  # a filter left blank is no filter
PriceBound = Annotated[Money | None, BeforeValidator(_blank_to_none)]


class InventorySearchQuery(UnpagedList):
    keyword: Annotated[str, StringConstraints(max_length=100)] | None = None
    category: Category | Literal["all", ""] | None = None
    prescriptionRequired: Flag = None
    stockStatus: Literal["inStock", "outOfStock", "lowStock", "all", ""] | None = None
    sortBy: Literal["name", "price", "stock", "expiry", ""] | None = None
    # Soft-deleted (inactive) medicines stay out unless asked for; `stockStatus` is about stock only.
    includeInactive: Flag = None


class CatalogueQuery(PageQuery):
    category: Category | Literal["all", ""] | None = None
    search: Annotated[str, StringConstraints(max_length=100)] | None = None
    keyword: Annotated[str, StringConstraints(max_length=100)] | None = None  # the docs' name for `search`
    minPrice: PriceBound = None
    maxPrice: PriceBound = None
    prescriptionRequired: Flag = None
    city: Annotated[str, StringConstraints(max_length=100)] | None = None
    pincode: Annotated[str, StringConstraints(max_length=10)] | None = None
    sortBy: Literal["price-low", "price-high", "rating", "newest", "popular", "name", ""] | None = None


class SearchQuery(PageQuery):
    q: Annotated[str, StringConstraints(max_length=100)] = ""
    limit: Annotated[int, Field(ge=1, le=100)] = 10


class FeaturedQuery(PageQuery):
    limit: Annotated[int, Field(ge=1, le=50)] = 10
