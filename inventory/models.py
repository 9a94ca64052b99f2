"""The catalogue and the stock ledger.

Stock changes only through `inventory.services.stock_move`, which writes one `StockMovement` per
product and keeps `StockLevel.quantity` equal to the sum of the ledger (`manage.py check_stock`).
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from pos.base import MoneyField, QuantityField, TimeStampedModel
from pos.models import kra_pin_validator

from .barcodes import validate_barcode


class TaxClass(models.TextChoices):
    """KRA eTIMS tax types. Shelf prices include VAT."""

    A = "A", "A – Exempt"
    B = "B", "B – VAT 16%"
    C = "C", "C – Zero-rated (0%)"
    D = "D", "D – Non-VAT"
    E = "E", "E – VAT 8%"


TAX_RATES: dict[str, Decimal] = {
    TaxClass.A: Decimal("0"),
    TaxClass.B: Decimal("16"),
    TaxClass.C: Decimal("0"),
    TaxClass.D: Decimal("0"),
    TaxClass.E: Decimal("8"),
}


class Category(TimeStampedModel):
    name = models.CharField(max_length=80, unique=True)
    description = models.CharField(max_length=255, blank=True)
    show_on_till = models.BooleanField(default=True, help_text="Show as a button on the till.")
    sort_order = models.PositiveSmallIntegerField(default=100)
    is_active = models.BooleanField(default=True)

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
        constraints = [
            models.CheckConstraint(condition=Q(selling_price__gte=0), name="product_price_not_negative"),
            models.CheckConstraint(condition=Q(cost_price__gte=0), name="product_cost_not_negative"),
            models.CheckConstraint(condition=Q(reorder_level__gte=0), name="product_reorder_level_not_negative"),
            models.CheckConstraint(condition=Q(reorder_quantity__gte=0), name="product_reorder_qty_not_negative"),
            models.CheckConstraint(condition=Q(tax_class__in=TaxClass.values), name="product_tax_class_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("inventory:product_detail", args=[self.pk])

    @property
    def tax_rate(self) -> Decimal:
        return TAX_RATES[self.tax_class]


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
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
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
