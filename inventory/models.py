"""The catalogue and the stock ledger.

Stock changes only through `inventory.ledger_services.stock_move`, which writes one `StockMovement` per
product and keeps `StockLevel.quantity` equal to the sum of the ledger (`manage.py check_stock`).
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from core.models import TimeStampedModel
from core.money import MoneyField, QuantityField, money
from inventory.barcodes import validate_barcode
from pos.people.models import kra_pin_validator


class TaxClass(models.TextChoices):
    """KRA eTIMS tax types. Shelf prices include VAT."""

    A = "A", "A – Exempt"
    B = "B", "B – VAT 16%"
    C = "C", "C – Zero-rated (0%)"
    D = "D", "D – Non-VAT"
    E = "E", "E – VAT 8%"


# The rates the shop started with. Once KRA's code list has been synced (eTIMS), the rates in `TaxRate`
# win: `current_tax_rates()` is what pricing uses. A completed sale keeps the rate of its lines.
TAX_RATES: dict[str, Decimal] = {
    TaxClass.A: Decimal("0"),
    TaxClass.B: Decimal("16"),
    TaxClass.C: Decimal("0"),
    TaxClass.D: Decimal("0"),
    TaxClass.E: Decimal("8"),
}
TAX_RATES_CACHE_KEY = "inventory:tax-rates:v1"


class TaxRate(models.Model):
    """The rate of one tax band as the shop uses it now, taken from KRA's code list (class 04).

    Kept in the shop's own database so the till prices correctly offline; a change applies to lines
    added from then on and never to a completed sale (its lines keep their rate).
    """

    tax_class = models.CharField(max_length=1, choices=TaxClass.choices, unique=True)
    rate = models.DecimalField(max_digits=5, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    source = models.CharField(max_length=40, blank=True, help_text="Where the rate came from, e.g. KRA code list.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["tax_class"]
        constraints = [
            models.CheckConstraint(condition=Q(rate__gte=0) & Q(rate__lt=100), name="taxrate_rate_range"),
            models.CheckConstraint(condition=Q(tax_class__in=TaxClass.values), name="taxrate_class_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.tax_class} {self.rate}%"


def current_tax_rates() -> dict[str, Decimal]:
    """Each band's rate now: the stored (synced) rates over the starting ones; cached until they change."""
    rates = cache.get(TAX_RATES_CACHE_KEY)
    if rates is None:
        rates = dict(TAX_RATES)
        rates.update({row.tax_class: row.rate for row in TaxRate.objects.all()})
        cache.set(TAX_RATES_CACHE_KEY, rates, timeout=300)
    return rates

# What a receipt prints for a tax class: exempt (A) and non-VAT (D) supplies carry no VAT rate at all,
# so "A 0%" would misstate them as zero-rated (C), which KRA treats differently.
_TAX_WORDS = {TaxClass.A: "Exempt", TaxClass.D: "Non-VAT"}


def tax_label(tax_class: str, rate=None) -> str:
    """"A Exempt", "B 16%", "C 0%", "D Non-VAT", "E 8%" — the rate is the line's snapshot when given."""
    if tax_class in _TAX_WORDS:
        return f"{tax_class} {_TAX_WORDS[tax_class]}"
    if rate is None:
        rate = current_tax_rates().get(tax_class, Decimal("0"))
    return f"{tax_class} {Decimal(rate).normalize():f}%"


class Category(TimeStampedModel):
    name = models.CharField(max_length=80, unique=True)
    description = models.CharField(max_length=255, blank=True)
    show_on_till = models.BooleanField(default=True, help_text="Show as a button on the till.")
    sort_order = models.PositiveSmallIntegerField(default=100)
    is_active = models.BooleanField(default=True)
    kra_item_code = models.CharField(
        "default KRA item classification", max_length=20, blank=True,
        help_text="Used for this category's products that have no classification of their own.",
    )

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Unit(TimeStampedModel):
    """How a product is counted: piece, kg, litre, pack of 6… `decimal_places` 0 means whole units only."""

    name = models.CharField(max_length=40, unique=True)
    code = models.CharField(max_length=10, unique=True, help_text="Short label on receipts: pc, kg, l, pk6.")
    decimal_places = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(3)], help_text="0 for whole units, up to 3 (0.125 kg)."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=Q(decimal_places__lte=3), name="unit_decimal_places_max_3")]

    def __str__(self) -> str:
        return self.name


class Supplier(TimeStampedModel):
    name = models.CharField(max_length=120, unique=True)
    contact_person = models.CharField(max_length=120, blank=True)
    phone_number = models.CharField(max_length=16, blank=True)
    email = models.EmailField(blank=True)
    address = models.CharField(max_length=255, blank=True)
    kra_pin = models.CharField("KRA PIN", max_length=11, blank=True, validators=[kra_pin_validator])
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("inventory:supplier_detail", args=[self.pk])


class Product(TimeStampedModel):
    name = models.CharField(max_length=150, db_index=True)
    sku = models.CharField(
        "SKU",
        max_length=40,
        unique=True,
        validators=[RegexValidator(r"^[A-Za-z0-9._/-]+$", "Letters, digits and . _ / - only.")],
    )
    barcode = models.CharField(
        max_length=14,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_barcode],
        help_text="EAN-13, UPC-A or EAN-8 with a valid check digit.",
        error_messages={"unique": "Another product already has this barcode."},
    )
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="products")
    selling_price = MoneyField(validators=[MinValueValidator(Decimal("0.00"))], help_text="KES, VAT included.")
    cost_price = MoneyField(
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00"))],
        help_text="KES per unit; receiving a purchase updates it (moving average).",
    )
    tax_class = models.CharField(max_length=1, choices=TaxClass.choices, default=TaxClass.B)
    kra_item_code = models.CharField("KRA item classification code", max_length=20, blank=True)
    reorder_level = QuantityField(default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))])
    reorder_quantity = QuantityField(default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))])
    default_supplier = models.ForeignKey(
        Supplier, null=True, blank=True, on_delete=models.SET_NULL, related_name="products"
    )
    is_active = models.BooleanField(default=True)
    is_favourite = models.BooleanField(default=False, help_text="Show on the till's favourites grid.")
    track_stock = models.BooleanField(default=True, help_text="Off for services and items not counted.")
    image = models.ImageField(upload_to="products/", blank=True)

    class Meta:
        ordering = ["name"]
        permissions = [("view_cost_price", "Can see cost prices and margins")]
        constraints = [
            models.CheckConstraint(condition=Q(selling_price__gte=0), name="product_price_not_negative"),
            models.CheckConstraint(condition=Q(cost_price__gte=0), name="product_cost_not_negative"),
            models.CheckConstraint(condition=Q(reorder_level__gte=0), name="product_reorder_level_not_negative"),
            models.CheckConstraint(condition=Q(reorder_quantity__gte=0), name="product_reorder_qty_not_negative"),
            models.CheckConstraint(condition=Q(tax_class__in=TaxClass.values), name="product_tax_class_valid"),
        ]
        # Name search reads this index alone, in name order (is_active and the id are in it): no row
        # lookups while it scans for the words (bench/README.md, "Product search").
        indexes = [models.Index(fields=["is_active", "name"], name="product_active_name_idx")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("inventory:product_detail", args=[self.pk])

    @property
    def tax_rate(self) -> Decimal:
        return current_tax_rates()[self.tax_class]


class StockLevel(models.Model):
    """Stock on hand of one product at one branch: a cache of the ledger, kept by `stock_move`."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock_levels")
    branch = models.ForeignKey("pos.Branch", on_delete=models.PROTECT, related_name="stock_levels")
    quantity = QuantityField(default=Decimal("0"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "branch"], name="stocklevel_one_per_branch")]
        indexes = [models.Index(fields=["branch", "quantity"], name="stocklevel_branch_qty_idx")]

    def __str__(self) -> str:
        return f"{self.product} @ {self.branch}: {self.quantity}"


class MovementKind(models.TextChoices):
    SALE = "SALE", "Sale"
    SALE_RETURN = "SALE_RETURN", "Sale return"
    VOID = "VOID", "Void"
    PURCHASE_RECEIPT = "PURCHASE_RECEIPT", "Purchase received"
    PURCHASE_RETURN = "PURCHASE_RETURN", "Returned to supplier"
    ADJUSTMENT = "ADJUSTMENT", "Adjustment"
    COUNT = "COUNT", "Stock count"
    TRANSFER_OUT = "TRANSFER_OUT", "Transfer out"
    TRANSFER_IN = "TRANSFER_IN", "Transfer in"
    OPENING = "OPENING", "Opening stock"


class StockMovement(models.Model):
    """One line of the stock ledger. Never updated, never deleted."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="movements")
    branch = models.ForeignKey("pos.Branch", on_delete=models.PROTECT, related_name="stock_movements")
    quantity = QuantityField(help_text="Signed: positive in, negative out.")
    kind = models.CharField(max_length=20, choices=MovementKind.choices)
    reason = models.CharField(max_length=255, blank=True)
    # What caused it: a sale, a purchase, an adjustment… (generic so inventory never imports the till).
    reference_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reference_id = models.CharField(max_length=40, blank=True)
    reference_label = models.CharField(max_length=80, blank=True, help_text="e.g. MAIN-000123")
    unit_cost = MoneyField(null=True, blank=True, help_text="Cost per unit at the time (valuation).")
    balance_after = QuantityField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="stockmovement_quantity_not_zero"),
            models.CheckConstraint(condition=Q(kind__in=MovementKind.values), name="stockmovement_kind_valid"),
        ]
        indexes = [
            models.Index(fields=["product", "branch", "created_at"], name="movement_product_branch_idx"),
            models.Index(fields=["branch", "created_at"], name="movement_branch_time_idx"),
            models.Index(fields=["kind", "created_at"], name="movement_kind_time_idx"),
            models.Index(fields=["reference_type", "reference_id"], name="movement_reference_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity:+} {self.product}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Stock movements are never changed; write a correcting movement.")
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Stock movements are never deleted; write a correcting movement.")

    @property
    def reference(self):
        if self.reference_type_id and self.reference_id:
            return self.reference_type.get_object_for_this_type(pk=self.reference_id)
        return None


# ---------------------------------------------------------------------------- adjustments
class AdjustmentReason(models.TextChoices):
    DAMAGED = "DAMAGED", "Damaged"
    EXPIRED = "EXPIRED", "Expired"
    THEFT = "THEFT", "Theft / missing"
    COUNT_CORRECTION = "COUNT_CORRECTION", "Count correction"
    OTHER = "OTHER", "Other"


class AdjustmentStatus(models.TextChoices):
    PENDING = "PENDING", "Waiting for approval"
    APPROVED = "APPROVED", "Approved"
    REJECTED = "REJECTED", "Rejected"


class StockAdjustment(TimeStampedModel):
    """A request to correct stock, which changes nothing until a manager approves it.

    The request is a counted quantity or a delta. A counted quantity is turned into a delta against the
    stock the system showed when it was requested (`expected_quantity`), so sales rung up between the
    request and the approval are not undone by it. Approval applies `delta` through `stock_move`.
    """

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="adjustments")
    branch = models.ForeignKey("pos.Branch", on_delete=models.PROTECT, related_name="stock_adjustments")
    counted_quantity = QuantityField(null=True, blank=True, help_text="What was on the shelf, if counted.")
    expected_quantity = QuantityField(help_text="Stock on hand the system showed when it was requested.")
    delta = QuantityField(help_text="Signed change approval applies: + found, − lost.")
    reason = models.CharField(max_length=20, choices=AdjustmentReason.choices)
    note = models.CharField(max_length=255, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=AdjustmentStatus.choices, default=AdjustmentStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=255, blank=True)
    quantity_before = QuantityField(null=True, blank=True, help_text="Stock on hand just before approval.")
    quantity_after = QuantityField(null=True, blank=True)
    movement = models.OneToOneField(
        StockMovement, null=True, blank=True, on_delete=models.PROTECT, related_name="adjustment"
    )
    stock_count = models.ForeignKey(
        "StockCount", null=True, blank=True, on_delete=models.PROTECT, related_name="adjustments"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("approve_stockadjustment", "Can approve or reject stock adjustments")]
        constraints = [
            models.CheckConstraint(condition=~Q(delta=0), name="adjustment_delta_not_zero"),
            models.CheckConstraint(
                condition=Q(counted_quantity__isnull=True) | Q(counted_quantity__gte=0),
                name="adjustment_counted_not_negative",
            ),
            models.CheckConstraint(condition=Q(status__in=AdjustmentStatus.values), name="adjustment_status_valid"),
            models.CheckConstraint(condition=Q(reason__in=AdjustmentReason.values), name="adjustment_reason_valid"),
            models.CheckConstraint(
                condition=(Q(status=AdjustmentStatus.PENDING) & Q(decided_by__isnull=True) & Q(decided_at__isnull=True))
                | (~Q(status=AdjustmentStatus.PENDING) & Q(decided_by__isnull=False) & Q(decided_at__isnull=False)),
                name="adjustment_decision_matches_status",
            ),
            models.CheckConstraint(
                condition=~Q(status=AdjustmentStatus.APPROVED) | Q(movement__isnull=False),
                name="adjustment_approved_has_movement",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "branch"], name="adjustment_status_branch_idx"),
            models.Index(fields=["product", "branch"], name="adjustment_product_branch_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.product} {self.delta:+}"

    @property
    def number(self) -> str:
        return f"ADJ-{self.pk:06d}" if self.pk else "ADJ-new"

    def get_absolute_url(self) -> str:
        return reverse("inventory:adjustment_detail", args=[self.pk])

    @property
    def is_pending(self) -> bool:
        return self.status == AdjustmentStatus.PENDING


# ---------------------------------------------------------------------------- stock counts
class CountStatus(models.TextChoices):
    OPEN = "OPEN", "Counting"
    POSTED = "POSTED", "Posted"
    CANCELLED = "CANCELLED", "Cancelled"


class StockCount(TimeStampedModel):
    """A stock take of one branch (a category or everything): count, compare, post the variances."""

    branch = models.ForeignKey("pos.Branch", on_delete=models.PROTECT, related_name="stock_counts")
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty: the whole branch.",
    )
    status = models.CharField(max_length=10, choices=CountStatus.choices, default=CountStatus.OPEN)
    # "<branch id>:<category id or all>" while OPEN, NULL once posted or cancelled: one open count per
    # branch and scope (plain unique constraint; see docs/architecture.md).
    open_marker = models.CharField(max_length=40, null=True, blank=True, unique=True, editable=False)
    note = models.CharField(max_length=255, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=CountStatus.values), name="stockcount_status_valid"),
            models.CheckConstraint(
                condition=(Q(status=CountStatus.OPEN) & Q(closed_at__isnull=True))
                | (~Q(status=CountStatus.OPEN) & Q(closed_at__isnull=False) & Q(closed_by__isnull=False)),
                name="stockcount_closed_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.scope}"

    @property
    def number(self) -> str:
        return f"CNT-{self.pk:06d}" if self.pk else "CNT-new"

    @property
    def scope(self) -> str:
        return self.category.name if self.category_id else "Whole branch"

    def get_absolute_url(self) -> str:
        return reverse("inventory:count_detail", args=[self.pk])


class StockCountLine(models.Model):
    """One product on a count sheet. `expected_quantity` is the snapshot taken when the count started,
    refreshed to the stock on hand at the moment the counted quantity is entered (so sales rung up
    while the shelf is being counted do not show up as variance)."""

    count = models.ForeignKey(StockCount, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    expected_quantity = QuantityField()
    counted_quantity = QuantityField(null=True, blank=True)
    counted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    counted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["product__name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["count", "product"], name="countline_one_per_product"),
            models.CheckConstraint(
                condition=Q(counted_quantity__isnull=True) | Q(counted_quantity__gte=0),
                name="countline_counted_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product}: {self.counted_quantity} / {self.expected_quantity}"

    @property
    def variance(self) -> Decimal | None:
        if self.counted_quantity is None:
            return None
        return self.counted_quantity - self.expected_quantity


# ---------------------------------------------------------------------------- alerts
class AlertKind(models.TextChoices):
    LOW = "LOW", "Low stock"
    OUT = "OUT", "Out of stock"


class StockAlert(models.Model):
    """Stock of a product at a branch at or under its reorder level (LOW) or at or under zero (OUT).

    At most one open alert per product and branch: `open_marker` is True while open and NULL once
    resolved, under a plain unique constraint (NULLs never collide, on SQLite and MariaDB alike).
    Opened, escalated and resolved only by the ledger (`stock_move`), under the stock row's lock.
    """

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="alerts")
    branch = models.ForeignKey("pos.Branch", on_delete=models.PROTECT, related_name="stock_alerts")
    kind = models.CharField(max_length=3, choices=AlertKind.choices)
    balance = QuantityField(help_text="Stock on hand when the alert was opened or last changed kind.")
    reorder_level = QuantityField()
    opened_at = models.DateTimeField(db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_balance = QuantityField(null=True, blank=True)
    open_marker = models.BooleanField(null=True, default=True, editable=False)
    notified_kind = models.CharField(max_length=3, blank=True, help_text="The kind last notified.")
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "branch", "open_marker"], name="stockalert_one_open"),
            models.CheckConstraint(condition=Q(kind__in=AlertKind.values), name="stockalert_kind_valid"),
            models.CheckConstraint(
                condition=(Q(open_marker=True) & Q(resolved_at__isnull=True))
                | (Q(open_marker__isnull=True) & Q(resolved_at__isnull=False)),
                name="stockalert_marker_matches_resolved",
            ),
        ]
        indexes = [models.Index(fields=["branch", "resolved_at"], name="stockalert_branch_open_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.product} @ {self.branch}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


# ---------------------------------------------------------------------------- purchases
class PurchaseStatus(models.TextChoices):
    DRAFT = "DRAFT", "Draft"
    ORDERED = "ORDERED", "Ordered"
    PARTLY_RECEIVED = "PARTLY_RECEIVED", "Partly received"
    RECEIVED = "RECEIVED", "Received"
    CANCELLED = "CANCELLED", "Cancelled"


class Purchase(TimeStampedModel):
    """A purchase order to a supplier: draft → ordered → received (partly or fully)."""

    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="purchases")
    branch = models.ForeignKey("pos.Branch", on_delete=models.PROTECT, related_name="purchases")
    status = models.CharField(max_length=16, choices=PurchaseStatus.choices, default=PurchaseStatus.DRAFT)
    expected_date = models.DateField(null=True, blank=True)
    supplier_reference = models.CharField(max_length=60, blank=True, help_text="Their invoice or delivery note number.")
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ordered_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True, help_text="When goods last arrived.")
    total_ordered = MoneyField(default=Decimal("0.00"))
    total_received = MoneyField(default=Decimal("0.00"))

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=PurchaseStatus.values), name="purchase_status_valid"),
            models.CheckConstraint(condition=Q(total_ordered__gte=0), name="purchase_total_not_negative"),
            models.CheckConstraint(condition=Q(total_received__gte=0), name="purchase_received_not_negative"),
        ]
        indexes = [models.Index(fields=["branch", "status"], name="purchase_branch_status_idx")]

    def __str__(self) -> str:
        return f"{self.number} {self.supplier}"

    @property
    def number(self) -> str:
        return f"PO-{self.pk:06d}" if self.pk else "PO-new"

    def get_absolute_url(self) -> str:
        return reverse("inventory:purchase_detail", args=[self.pk])

    @property
    def is_editable(self) -> bool:
        return self.status == PurchaseStatus.DRAFT

    @property
    def is_receivable(self) -> bool:
        return self.status in (PurchaseStatus.ORDERED, PurchaseStatus.PARTLY_RECEIVED)


class PurchaseLine(models.Model):
    purchase = models.ForeignKey(Purchase, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="purchase_lines")
    quantity_ordered = QuantityField()
    quantity_received = QuantityField(default=Decimal("0"))
    unit_cost = MoneyField(help_text="KES per unit, as invoiced.")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["purchase", "product"], name="purchaseline_one_per_product"),
            models.CheckConstraint(condition=Q(quantity_ordered__gt=0), name="purchaseline_ordered_positive"),
            models.CheckConstraint(condition=Q(quantity_received__gte=0), name="purchaseline_received_not_negative"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="purchaseline_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity_ordered} × {self.product}"

    @property
    def outstanding(self) -> Decimal:
        return max(self.quantity_ordered - self.quantity_received, Decimal("0"))

    @property
    def line_total(self) -> Decimal:

        return money(self.quantity_ordered * self.unit_cost)


# ---------------------------------------------------------------------------- transfers
class TransferStatus(models.TextChoices):
    DRAFT = "DRAFT", "Draft"
    IN_TRANSIT = "IN_TRANSIT", "In transit"
    RECEIVED = "RECEIVED", "Received"
    CANCELLED = "CANCELLED", "Cancelled"


class Transfer(TimeStampedModel):
    """Stock sent from one branch to another: out at the source when dispatched, in at the
    destination when received; in between it is in transit (on neither shelf)."""

    from_branch = models.ForeignKey("pos.Branch", on_delete=models.PROTECT, related_name="transfers_out")
    to_branch = models.ForeignKey("pos.Branch", on_delete=models.PROTECT, related_name="transfers_in")
    status = models.CharField(max_length=10, choices=TransferStatus.choices, default=TransferStatus.DRAFT)
    note = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dispatched_at = models.DateTimeField(null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(null=True, blank=True)
    receive_note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(from_branch=models.F("to_branch")), name="transfer_branches_differ"),
            models.CheckConstraint(condition=Q(status__in=TransferStatus.values), name="transfer_status_valid"),
        ]
        indexes = [models.Index(fields=["status"], name="transfer_status_idx")]

    def __str__(self) -> str:
        return f"{self.number} {self.from_branch} → {self.to_branch}"

    @property
    def number(self) -> str:
        return f"TR-{self.pk:06d}" if self.pk else "TR-new"

    def get_absolute_url(self) -> str:
        return reverse("inventory:transfer_detail", args=[self.pk])


class TransferLine(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="transfer_lines")
    quantity = QuantityField()
    quantity_received = QuantityField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["transfer", "product"], name="transferline_one_per_product"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="transferline_quantity_positive"),
            models.CheckConstraint(
                condition=Q(quantity_received__isnull=True)
                | (Q(quantity_received__gte=0) & Q(quantity_received__lte=models.F("quantity"))),
                name="transferline_received_within_sent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product}"


# ---------------------------------------------------------------------------- CSV import
class ImportStatus(models.TextChoices):
    PREVIEW = "PREVIEW", "Checked, waiting for confirmation"
    QUEUED = "QUEUED", "Queued"
    RUNNING = "RUNNING", "Importing"
    DONE = "DONE", "Imported"
    FAILED = "FAILED", "Failed, nothing changed"


class ProductImport(TimeStampedModel):
    """An uploaded product CSV: checked row by row (the preview), then applied in one transaction."""

    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    branch = models.ForeignKey(
        "pos.Branch", on_delete=models.PROTECT, related_name="+", help_text="Opening stock goes here."
    )
    file_name = models.CharField(max_length=255)
    content = models.TextField(help_text="The file as uploaded (UTF-8).")
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.PREVIEW)
    rows = models.JSONField(default=list, help_text="Per row: line, action (create/update/reject), reasons.")
    total_rows = models.PositiveIntegerField(default=0)
    to_create = models.PositiveIntegerField(default=0)
    to_update = models.PositiveIntegerField(default=0)
    to_reject = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(status__in=ImportStatus.values), name="import_status_valid")]

    def __str__(self) -> str:
        return f"Import #{self.pk} {self.file_name}"

    def get_absolute_url(self) -> str:
        return reverse("inventory:import_detail", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)
