"""Response models of the pharmacy routes: what each answer holds, for the OpenAPI document.

They describe the answers as the views build them (`pharmacies.to_owner_api`/`to_public_api`,
`medicine_rules.to_api`, `catalogue`, `order_views.to_api`/`to_admin_api`, `reports`); the tests
validate every answer they receive against them, so a key the views add or rename fails a test.
Money is in major units of the default currency (INR: rupees) as JSON numbers (`MajorAmount`), except
an order item's `discount` and a medicine's `discount`, which are percentages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from functions.core.schemas import Answer, AssetOut, Id, MajorAmount, OutModel, PageOut
from functions.pharmacy.status import DeliveryType, OrderStatus, PaymentMethod, ShopStatus, VerificationStatus

PaymentStatus = Literal["pending", "completed", "failed", "refunded"]


# ---------------------------------------------------------------- pharmacies


class CoordinatesOut(OutModel):
    latitude: float
    longitude: float


class AddressOut(OutModel):
    street: str
    city: str
    state: str
    pincode: str
    coordinates: CoordinatesOut | None = None


class ContactInfoOut(OutModel):
    phone: str
    email: str
    whatsapp: str | None = None


class HoursOut(OutModel):
    open: str
    close: str


class OperatingHoursOut(OutModel):
    weekdays: HoursOut
    weekends: HoursOut


class VerificationDocumentsOut(OutModel):
    pharmacyLicense: AssetOut | None = None
    drugLicense: AssetOut | None = None
    gstCertificate: AssetOut | None = None


class PublicPharmacyOut(OutModel):
    """A listed pharmacy as anyone sees it (`GET /pharmacies`, `GET /pharmacy/{id}`)."""

    id: Id = Field(alias="_id")
    name: str
    description: str = ""
    address: AddressOut
    contactInfo: ContactInfoOut
    establishedYear: int | None = None
    operatingHours: OperatingHoursOut
    deliveryRadius: int
    deliveryCharges: MajorAmount
    freeDeliveryAbove: MajorAmount
    avatar: AssetOut | None = None
    verificationStatus: VerificationStatus
    isVerified: bool
    status: ShopStatus
    rating: float
    totalReviews: int
    createdAt: datetime
    updatedAt: datetime


class PharmacyOut(PublicPharmacyOut):
    """The owner's (and an admin's) view: the public one plus the licence, the counters and the
    verification's details."""

    owner: Id
    licenseNumber: str
    verificationDocuments: VerificationDocumentsOut | None = None
    verificationReason: str | None = None
    verifiedBy: Id | None = None
    listed: bool
    totalMedicines: int
    totalOrders: int
    monthlyRevenue: MajorAmount | None = None  # old records only (computed by GET /pharmacy/stats now)


class AdminPharmacyOut(PharmacyOut):
    """`owner` is the owner's id as text (the admin page prints it), with the name beside it."""

    ownerName: str | None


class PharmacyAnswer(Answer):
    pharmacy: PharmacyOut


class PharmacySavedAnswer(PharmacyAnswer):
    message: str


class PublicPharmacyAnswer(Answer):
    pharmacy: PublicPharmacyOut


class PublicPharmacyListAnswer(Answer):
    count: int
    pharmacies: list[PublicPharmacyOut]
    pagination: PageOut


class AdminPharmacyListAnswer(Answer):
    count: int
    pharmacies: list[AdminPharmacyOut]
    pagination: PageOut


class MedicineStatsOut(OutModel):
    total: int
    active: int
    lowStock: int


class OrderStatsOut(OutModel):
    total: int
    pending: int
    today: int


class RevenueOut(OutModel):
    total: MajorAmount
    thisMonth: MajorAmount
    currency: str


class StatsOut(OutModel):
    medicines: MedicineStatsOut
    orders: OrderStatsOut
    revenue: RevenueOut
    rating: float
    totalReviews: int


class StatsAnswer(Answer):
    stats: StatsOut


# ---------------------------------------------------------------- medicines


class MedicineOut(OutModel):
    """A medicine as its pharmacist sees it (and, with `pharmacy`, as the catalogue shows it):
    the stored fields plus `discountedPrice`, `inStock`, `lowStock` and `expired`."""

    id: Id = Field(alias="_id")
    pharmacy: Id
    name: str
    genericName: str | None = None
    category: str
    manufacturer: str
    composition: str
    strength: str
    packSize: str
    batchNumber: str
    formType: str
    price: MajorAmount
    mrp: MajorAmount
    discount: int
    discountedPrice: MajorAmount
    stock: int
    minStock: int
    expiryDate: datetime
    images: list[AssetOut]
    description: str | None = None
    uses: str | None = None
    sideEffects: str | None = None
    precautions: str | None = None
    dosage: str | None = None
    prescriptionRequired: bool
    isActive: bool
    listed: bool
    tags: list[str]
    rating: float
    totalReviews: int
    soldCount: int
    inStock: bool
    lowStock: bool
    expired: bool | None = None
    createdAt: datetime
    updatedAt: datetime


class ShopSummaryOut(OutModel):
    """The pharmacy beside each catalogue medicine."""

    id: Id = Field(alias="_id")
    name: str
    address: AddressOut | None
    contactInfo: ContactInfoOut | None
    rating: float
    operatingHours: OperatingHoursOut | None


class CatalogueMedicineOut(MedicineOut):
    pharmacy: Id | ShopSummaryOut  # type: ignore[assignment]  # the summary when the pharmacy is found


class SearchMedicineOut(OutModel):
    """A type-ahead hit: the fields the search reads, with the virtuals and the pharmacy."""

    id: Id = Field(alias="_id")
    pharmacy: Id | ShopSummaryOut
    name: str
    genericName: str | None = None
    manufacturer: str
    category: str
    strength: str
    price: MajorAmount
    mrp: MajorAmount
    discountedPrice: MajorAmount
    stock: int
    minStock: int
    images: list[AssetOut]
    prescriptionRequired: bool
    inStock: bool
    lowStock: bool


class MedicineAnswer(Answer):
    medicine: MedicineOut


class MedicineSavedAnswer(MedicineAnswer):
    message: str


class MedicineListAnswer(Answer):
    count: int
    medicines: list[MedicineOut]


class MedicinePageAnswer(MedicineListAnswer):
    pagination: PageOut


class InventorySearchAnswer(Answer):
    medicines: list[MedicineOut]
    pagination: PageOut


class CatalogueAnswer(Answer):
    count: int
    medicines: list[CatalogueMedicineOut]
    pagination: PageOut


class CatalogueListAnswer(Answer):
    count: int
    medicines: list[CatalogueMedicineOut]


class SearchAnswer(Answer):
    count: int
    medicines: list[SearchMedicineOut]


class CatalogueMedicineAnswer(Answer):
    medicine: CatalogueMedicineOut


class CategoriesAnswer(Answer):
    """`categories` are names (the store page renders them as text), in the catalogue's order."""

    categories: list[str]
    counts: dict[str, int]


class RowErrorOut(OutModel):
    field: str
    message: str


class RowResultOut(OutModel):
    """One row of a bulk upload or stock update: `ok`, the medicine's `id`, or the row's errors."""

    row: int
    ok: bool
    id: Id | None = None
    stock: int | None = None
    errors: list[RowErrorOut] | None = None


class BulkUploadAnswer(Answer):
    message: str
    inserted: int
    failed: int
    results: list[RowResultOut]
    medicines: list[MedicineOut]


class BulkStockAnswer(Answer):
    message: str
    results: list[RowResultOut]


# ---------------------------------------------------------------- orders


class OrderMedicineOut(OutModel):
    id: Id = Field(alias="_id")
    name: str | None
    images: list[AssetOut]


class OrderItemOut(OutModel):
    medicine: OrderMedicineOut
    name: str
    genericName: str | None = None
    strength: str | None = None
    manufacturer: str | None = None
    quantity: int
    price: MajorAmount
    mrp: MajorAmount
    discount: int
    lineTotal: MajorAmount
    prescriptionRequired: bool


class ShippingAddressOut(OutModel):
    fullName: str
    phone: str
    street: str
    city: str
    state: str
    pincode: str
    landmark: str | None = None
    addressType: str


class PaymentInfoOut(OutModel):
    method: PaymentMethod
    status: PaymentStatus
    holdExpiresAt: datetime | None = None
    transactionId: str | None = None
    paidAt: datetime | None = None
    refundedAt: datetime | None = None


class PricingOut(OutModel):
    itemsPrice: MajorAmount
    discount: MajorAmount
    deliveryCharge: MajorAmount
    totalPrice: MajorAmount
    currency: str


class StatusEntryOut(OutModel):
    status: OrderStatus
    timestamp: datetime
    note: str
    by: str | None = None


class DeliveryInfoOut(OutModel):
    type: DeliveryType


class OrderPharmacyOut(OutModel):
    id: Id = Field(alias="_id")
    name: str | None
    contactInfo: ContactInfoOut | None
    address: AddressOut | None


class OrderCustomerOut(OutModel):
    """The customer as the pharmacy's order list reads it (`customer.{name,phone,email}`)."""

    id: Id = Field(alias="_id")
    name: str | None
    phone: str | None
    email: str | None


class OrderListItemOut(OutModel):
    """An order in a list (its status history left out: `GET /order/{id}` has it). `pharmacy` and
    `customer` are summaries where the route reads them, ids otherwise."""

    id: Id = Field(alias="_id")
    orderNumber: str
    customer: Id | OrderCustomerOut
    pharmacy: Id | OrderPharmacyOut
    items: list[OrderItemOut]
    shippingAddress: ShippingAddressOut | None
    paymentInfo: PaymentInfoOut
    orderStatus: OrderStatus
    pricing: PricingOut
    deliveryInfo: DeliveryInfoOut
    specialInstructions: str
    isUrgent: bool
    prescription: Id | None
    deliveredAt: datetime | None = None
    cancelledAt: datetime | None = None
    cancellationReason: str | None = None
    rating: int | None = None
    review: str | None = None
    reviewedAt: datetime | None = None
    createdAt: datetime
    updatedAt: datetime


class OrderOut(OrderListItemOut):
    """One order, with its status history."""

    statusHistory: list[StatusEntryOut]


class PersonRefOut(OutModel):
    id: Id = Field(alias="_id")
    name: str | None


class AdminOrderOut(OrderListItemOut):
    """The admin Orders tab's keys besides: `pharmacyId.name`, `userId.name`, `totalAmount`
    (rupees) and `status`."""

    pharmacyId: PersonRefOut
    userId: PersonRefOut
    totalAmount: MajorAmount | None
    status: OrderStatus


class OrderAnswer(Answer):
    order: OrderOut


class OrderSavedAnswer(OrderAnswer):
    message: str


class OrderListAnswer(Answer):
    count: int
    orders: list[OrderListItemOut]
    pagination: PageOut


class AdminOrderListAnswer(Answer):
    count: int
    orders: list[AdminOrderOut]
    pagination: PageOut


# ---------------------------------------------------------------- reports


class DayOut(OutModel):
    date: str
    count: int
    revenue: MajorAmount


class StatusSeriesOut(OutModel):
    status: OrderStatus = Field(alias="_id")
    daily: list[DayOut]
    totalCount: int
    totalRevenue: MajorAmount


class TopMedicineOut(OutModel):
    id: Id = Field(alias="_id")
    name: str | None
    manufacturer: str | None
    totalQuantity: int
    totalRevenue: MajorAmount


class ReportSummaryOut(OutModel):
    totalOrders: int
    totalRevenue: MajorAmount
    currency: str
    topSellingMedicine: str


class PeriodOut(OutModel):
    startDate: str
    endDate: str
    type: str


class ReportOut(OutModel):
    orderStats: list[StatusSeriesOut]
    topMedicines: list[TopMedicineOut]
    summary: ReportSummaryOut
    period: PeriodOut


class ReportAnswer(Answer):
    report: ReportOut


class AnalyticsOut(OutModel):
    totalPharmacies: int
    verifiedPharmacies: int
    pendingPharmacies: int
    pharmaciesByStatus: dict[str, int]
    totalOrders: int
    ordersByStatus: dict[str, int]
    totalRevenue: MajorAmount
    currency: str
    totalUsers: int
    totalMedicines: int
    recentOrders: int
    recentUsers: int


class AnalyticsAnswer(Answer):
    analytics: AnalyticsOut
