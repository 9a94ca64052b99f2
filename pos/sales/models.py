"""Sales: the sale and its lines, gap-free numbers, returns (credit notes) and refunds."""


from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.urls import reverse

from core.models import TimeStampedModel
from core.money import MoneyField, QuantityField
from pos.customers.models import Customer
from pos.people.models import Branch, User


class SaleStatus(models.TextChoices):
    OPEN = "OPEN", "Open (in the cart)"
    HELD = "HELD", "Held"
    COMPLETED = "COMPLETED", "Completed"
    VOIDED = "VOIDED", "Voided"


class PaymentStatus(models.TextChoices):
    """The state of a payment (`cashdesk.Payment`). Here, below the cash desk, because what a sale still
    has to be paid is a rule of the sale (`pos.sales.selectors.sale_amount_due`)."""

    PENDING = "PENDING", "Pending"
    CONFIRMED = "CONFIRMED", "Confirmed"
    FAILED = "FAILED", "Failed"
    REFUNDED = "REFUNDED", "Refunded"


class DiscountKindChoices(models.TextChoices):
    AMOUNT = "AMOUNT", "KES"
    PERCENT = "PERCENT", "%"


class SaleSequence(models.Model):
    """The last sale number used at a branch. Locked while a sale completes, so numbers have no gaps."""

    branch = models.OneToOneField(Branch, on_delete=models.PROTECT, related_name="sale_sequence")
    last_number = models.PositiveIntegerField(default=0)
    last_credit_note = models.PositiveIntegerField(default=0, help_text="Last credit note (return) number.")

    def __str__(self) -> str:
        return f"{self.branch.code}: {self.last_number}"


class Sale(TimeStampedModel):
    """A sale (the API's "sales header"). Open while in the cart; completed exactly once."""

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="sales")
    cashier = models.ForeignKey(User, on_delete=models.PROTECT, related_name="sales")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="sales")
    status = models.CharField(max_length=10, choices=SaleStatus.choices, default=SaleStatus.OPEN)
    # Holds the cashier's id while the sale is OPEN, NULL otherwise: one open cart per cashier,
    # enforced by a plain unique constraint (works on SQLite and MariaDB).
    open_for_cashier = models.PositiveBigIntegerField(null=True, blank=True, unique=True, editable=False)
    number = models.CharField(max_length=24, null=True, blank=True, unique=True, help_text="e.g. MAIN-000123")
    sequence = models.PositiveIntegerField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    cart_discount_kind = models.CharField(max_length=8, choices=DiscountKindChoices.choices, blank=True)
    cart_discount_value = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    subtotal = MoneyField(default=Decimal("0.00"))
    line_discount_total = MoneyField(default=Decimal("0.00"))
    cart_discount = MoneyField(default=Decimal("0.00"))
    discount_total = MoneyField(default=Decimal("0.00"))
    tax_total = MoneyField(default=Decimal("0.00"))
    total = MoneyField(default=Decimal("0.00"))
    paid_total = MoneyField(default=Decimal("0.00"), help_text="Confirmed payments, before change.")
    change_given = MoneyField(default=Decimal("0.00"))
    loyalty_points_earned = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    note = models.CharField(max_length=255, blank=True)
    held_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    void_reason = models.CharField(max_length=255, blank=True)
    receipt_prints = models.PositiveIntegerField(default=0, help_text="Original receipt + authorised reprints.")
    receipt_emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("view_all_sales", "Can see every cashier's sales"),
            ("authorise_overrides", "Can authorise overrides, voids, big discounts and reprints"),
            ("refund_sale", "Can take returns and refund"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["branch", "sequence"], name="sale_sequence_unique_per_branch"),
            models.CheckConstraint(condition=Q(status__in=SaleStatus.values), name="sale_status_valid"),
            models.CheckConstraint(
                condition=(Q(status=SaleStatus.OPEN) & Q(open_for_cashier__isnull=False))
                | (~Q(status=SaleStatus.OPEN) & Q(open_for_cashier__isnull=True)),
                name="sale_open_marker_matches_status",
            ),
            models.CheckConstraint(
                condition=~Q(status=SaleStatus.COMPLETED) | (Q(number__isnull=False) & Q(completed_at__isnull=False)),
                name="sale_completed_has_number",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="sale_total_not_negative"),
            models.CheckConstraint(condition=Q(discount_total__gte=0), name="sale_discount_not_negative"),
            models.CheckConstraint(condition=Q(change_given__gte=0), name="sale_change_not_negative"),
        ]
        indexes = [
            models.Index(fields=["branch", "completed_at"], name="sale_branch_completed_idx"),
            models.Index(fields=["cashier", "completed_at"], name="sale_cashier_completed_idx"),
            models.Index(fields=["status", "branch"], name="sale_status_branch_idx"),
            models.Index(fields=["completed_at"], name="sale_completed_idx"),
        ]

    def __str__(self) -> str:
        return self.number or f"Sale #{self.pk} ({self.get_status_display().lower()})"

    def get_absolute_url(self) -> str:
        return reverse("sales:detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status == SaleStatus.OPEN


class SaleLine(models.Model):
    """One product on a sale (the API's "sales detail"), with price and tax snapshots."""

    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT, related_name="sale_lines")
    position = models.PositiveIntegerField(default=0)
    product_name = models.CharField(max_length=150)
    sku = models.CharField(max_length=40, blank=True)
    unit_code = models.CharField(max_length=10, blank=True)
    quantity = QuantityField()
    list_price = MoneyField(help_text="Catalogue price when the line was added.")
    unit_price = MoneyField(help_text="Price charged per unit, VAT included.")
    price_overridden_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    price_override_reason = models.CharField(max_length=255, blank=True)
    discount_kind = models.CharField(max_length=8, choices=DiscountKindChoices.choices, blank=True)
    discount_value = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    discount_amount = MoneyField(default=Decimal("0.00"))
    cart_discount_share = MoneyField(default=Decimal("0.00"))
    tax_class = models.CharField(max_length=1)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2)
    cost_price = MoneyField(default=Decimal("0.00"), help_text="Cost per unit at the time of sale.")
    gross_amount = MoneyField(default=Decimal("0.00"))
    line_total = MoneyField(default=Decimal("0.00"), help_text="After all discounts; VAT included.")
    tax_amount = MoneyField(default=Decimal("0.00"))
    returned_quantity = QuantityField(default=Decimal("0"))

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="saleline_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="saleline_price_not_negative"),
            models.CheckConstraint(condition=Q(discount_amount__gte=0), name="saleline_discount_not_negative"),
            models.CheckConstraint(condition=Q(line_total__gte=0), name="saleline_total_not_negative"),
            models.CheckConstraint(condition=Q(returned_quantity__gte=0), name="saleline_returned_not_negative"),
            models.CheckConstraint(
                condition=Q(returned_quantity__lte=models.F("quantity")), name="saleline_returned_at_most_sold"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_name}"

    @property
    def price_overridden(self) -> bool:
        return self.unit_price != self.list_price


# ---------------------------------------------------------------------------- returns, refunds, loyalty
class SaleScan(models.Model):
    """A scan the till sent with its own id: the unique pair (cashier, scan id) lets a retried or
    repeated request add the item once only. Rows are written in the same transaction as the line."""

    cashier = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    scan_id = models.CharField(max_length=64)
    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="scans")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cashier", "scan_id"], name="salescan_once_per_cashier")]

    def __str__(self) -> str:
        return f"scan {self.scan_id} on sale {self.sale_id}"


class RefundTo(models.TextChoices):
    ORIGINAL = "ORIGINAL", "The way they paid"
    CASH = "CASH", "Cash from the drawer"


class RefundMethod(models.TextChoices):
    """How money went back to a customer. The values are the cash desk's payment methods."""

    CASH = "CASH", "Cash"
    CARD = "CARD", "Card"
    MPESA = "MPESA", "M-Pesa"
    CUSTOMER_CREDIT = "CUSTOMER_CREDIT", "Off the customer's account"
    LOYALTY = "LOYALTY", "Loyalty points back"
    VOUCHER = "VOUCHER", "Voucher"


class SaleReturn(TimeStampedModel):
    """Goods brought back from a completed sale: a credit note, numbered without gaps per branch."""

    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="returns")
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=24, unique=True, help_text="e.g. MAIN-CN-000012")
    sequence = models.PositiveIntegerField()
    processed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    authorised_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=255)
    refund_to = models.CharField(max_length=10, choices=RefundTo.choices, default=RefundTo.ORIGINAL)
    total = MoneyField(default=Decimal("0.00"), help_text="Value of the goods returned, VAT included.")
    tax_total = MoneyField(default=Decimal("0.00"))

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "sequence"], name="salereturn_sequence_unique_per_branch"),
            models.CheckConstraint(condition=Q(total__gte=0), name="salereturn_total_not_negative"),
            models.CheckConstraint(condition=Q(refund_to__in=RefundTo.values), name="salereturn_refund_to_valid"),
        ]

    def __str__(self) -> str:
        return self.number


class SaleReturnLine(models.Model):
    sale_return = models.ForeignKey(SaleReturn, on_delete=models.CASCADE, related_name="lines")
    sale_line = models.ForeignKey(SaleLine, on_delete=models.PROTECT, related_name="return_lines")
    quantity = QuantityField()
    amount = MoneyField(help_text="Refund value of this quantity, VAT included.")
    tax_amount = MoneyField(default=Decimal("0.00"))
    restock = models.BooleanField(default=True, help_text="Back on the shelf (else written off).")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="salereturnline_quantity_positive"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="salereturnline_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sale_line.product_name}"


class Refund(TimeStampedModel):
    """Money given back for a return or a voided sale. Cash comes out of the drawer of `cash_session`."""

    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="refunds")
    sale_return = models.ForeignKey(
        SaleReturn, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=16, choices=RefundMethod.choices)
    amount = MoneyField()
    reference = models.CharField(max_length=64, blank=True, help_text="Card or M-Pesa reversal reference.")
    # By name only: the till records which drawer the cash left; `cashdesk` counts it when it closes.
    cash_session = models.ForeignKey(
        "cashdesk.CashSession", null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    refunded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(condition=Q(method__in=RefundMethod.values), name="refund_method_valid"),
            models.CheckConstraint(
                condition=~Q(method=RefundMethod.CASH) | Q(cash_session__isnull=False),
                name="refund_cash_has_session",
            ),
        ]
        indexes = [models.Index(fields=["cash_session", "method"], name="refund_session_method_idx")]

    def __str__(self) -> str:
        return f"{self.get_method_display()} KES {self.amount}"
