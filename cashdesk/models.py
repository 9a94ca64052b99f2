"""The cash desk: cash sessions (the drawer), payments of sales (split tender), cash paid in and out,
M-Pesa (STK push requests, the callback inbox, C2B payments), customer receipts, supplier
payments and expenses.

Writes go through `services.py` (sessions, checkout, movements), `mpesa_services.py` and
`money_services.py`; nothing here has business rules beyond what the database can hold.
"""

from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q

from core.models import TimeStampedModel
from core.money import MoneyField
from pos.sales.models import PaymentStatus


class SessionStatus(models.TextChoices):
    OPEN = "OPEN", "Open"
    CLOSED = "CLOSED", "Closed"


class CashSession(TimeStampedModel):
    """One cashier's drawer from opening float to counted close. A closed session never changes."""

    cashier = models.ForeignKey("pos.User", on_delete=models.PROTECT, related_name="cash_sessions")
    branch = models.ForeignKey("pos.Branch", on_delete=models.PROTECT, related_name="cash_sessions")
    status = models.CharField(max_length=6, choices=SessionStatus.choices, default=SessionStatus.OPEN)
    # The cashier's id while OPEN, NULL once closed: one open session per cashier (plain unique
    # constraint, so it holds on MariaDB too).
    open_for_cashier = models.PositiveBigIntegerField(null=True, blank=True, unique=True, editable=False)
    opened_at = models.DateTimeField()
    opening_float = MoneyField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey("pos.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    closing_total = MoneyField(null=True, blank=True, help_text="Cash counted in the drawer at close.")
    expected_cash = MoneyField(null=True, blank=True)
    difference = MoneyField(null=True, blank=True, help_text="Counted minus expected: + over, − short.")
    denominations = models.JSONField(null=True, blank=True, help_text="Counted notes and coins, if given.")
    close_approved_by = models.ForeignKey(
        "pos.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    force_closed = models.BooleanField(default=False)
    note = models.CharField(max_length=255, blank=True)
    close_note = models.CharField(
        max_length=255, blank=True, help_text="Why it was force-closed, or the cashier's note."
    )
    # What the cashier counted for the other methods at close (card terminal batch, M-Pesa statement).
    counted_by_method = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    # The Z report frozen at close: a closed session's figures never change, whatever happens later.
    report = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder, editable=False)
    # The cashier's first count at close, kept whatever happens next: once the over/short has been
    # shown, typing a different count (a recount) needs a manager.
    first_count = MoneyField(null=True, blank=True, editable=False)
    first_count_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-opened_at"]
        permissions = [
            ("view_all_cashsessions", "Can see every cashier's sessions"),
            ("force_close_cashsession", "Can force-close an abandoned session"),
            ("approve_cash_difference", "Can approve a close with a large over/short"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(opening_float__gte=0), name="cashsession_float_not_negative"),
            models.CheckConstraint(condition=Q(status__in=SessionStatus.values), name="cashsession_status_valid"),
            models.CheckConstraint(
                condition=(Q(status=SessionStatus.OPEN) & Q(open_for_cashier__isnull=False))
                | (Q(status=SessionStatus.CLOSED) & Q(open_for_cashier__isnull=True)),
                name="cashsession_open_marker_matches_status",
            ),
            models.CheckConstraint(
                condition=Q(status=SessionStatus.OPEN)
                | (
                    Q(closing_total__isnull=False)
                    & Q(expected_cash__isnull=False)
                    & Q(difference__isnull=False)
                    & Q(closed_at__isnull=False)
                ),
                name="cashsession_closed_is_counted",
            ),
            models.CheckConstraint(
                condition=Q(closing_total__isnull=True) | Q(closing_total__gte=0),
                name="cashsession_count_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["branch", "opened_at"], name="cashsession_branch_opened_idx")]

    def __str__(self) -> str:
        return f"Session #{self.pk} · {self.cashier} · {self.opened_at:%d %b %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.status == SessionStatus.OPEN


class PaymentMethod(models.TextChoices):
    CASH = "CASH", "Cash"
    CARD = "CARD", "Card"
    MPESA = "MPESA", "M-Pesa"
    CUSTOMER_CREDIT = "CUSTOMER_CREDIT", "On account"
    LOYALTY = "LOYALTY", "Loyalty points"
    VOUCHER = "VOUCHER", "Voucher"


class Payment(TimeStampedModel):
    """One tender of a sale (the API's "sales payment"). A sale paid by several methods has several.

    `amount` is what the customer handed over by this method; for cash, `change_given` went back, so
    confirmed payments minus change equal the sale's total.
    """

    sale = models.ForeignKey("pos.Sale", on_delete=models.PROTECT, related_name="payments")
    session = models.ForeignKey(CashSession, null=True, blank=True, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(max_length=16, choices=PaymentMethod.choices)
    status = models.CharField(max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    amount = MoneyField()
    change_given = MoneyField(default=Decimal("0.00"))
    reference = models.CharField(max_length=64, blank=True, help_text="Card terminal reference, voucher code…")
    # One M-Pesa receipt pays at most one sale, whether it came by STK push or by C2B.
    mpesa_receipt = models.CharField(max_length=20, null=True, blank=True, unique=True)
    received_by = models.ForeignKey("pos.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=Q(change_given__gte=0), name="payment_change_not_negative"),
            models.CheckConstraint(
                condition=Q(method=PaymentMethod.CASH) | Q(change_given=0), name="payment_change_only_for_cash"
            ),
            models.CheckConstraint(condition=Q(change_given__lte=F("amount")), name="payment_change_at_most_amount"),
            models.CheckConstraint(condition=Q(method__in=PaymentMethod.values), name="payment_method_valid"),
            models.CheckConstraint(condition=Q(status__in=PaymentStatus.values), name="payment_status_valid"),
        ]
        indexes = [
            models.Index(fields=["session", "method", "status"], name="payment_session_method_idx"),
            models.Index(fields=["method", "created_at"], name="payment_method_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} KES {self.amount} ({self.get_status_display().lower()})"

    @property
    def net_amount(self) -> Decimal:
        return self.amount - self.change_given


# ---------------------------------------------------------------------------- cash paid in / out
class CashMovementKind(models.TextChoices):
    PAID_IN = "PAID_IN", "Paid in"
    PAID_OUT = "PAID_OUT", "Paid out"
    CASH_DROP = "DROP", "Cash drop to the safe"


class CashMovement(TimeStampedModel):
    """Petty cash put into or taken out of the drawer during an open session, with a reason; a cash
    drop is notes taken from a full drawer to the safe."""

    session = models.ForeignKey(CashSession, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=8, choices=CashMovementKind.choices)
    amount = MoneyField()
    reason = models.CharField(max_length=255)
    recorded_by = models.ForeignKey("pos.User", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="cashmovement_amount_positive"),
            models.CheckConstraint(condition=Q(kind__in=CashMovementKind.values), name="cashmovement_kind_valid"),
            models.CheckConstraint(condition=~Q(reason=""), name="cashmovement_reason_given"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} KES {self.amount}: {self.reason}"

    @property
    def signed_amount(self) -> Decimal:
        return self.amount if self.kind == CashMovementKind.PAID_IN else -self.amount


# ---------------------------------------------------------------------------- money in and out
class MoneyMethod(models.TextChoices):
    """How money moves that is not a sale: customer receipts, supplier payments, expenses."""

    CASH = "CASH", "Cash (from the drawer)"
    MPESA = "MPESA", "M-Pesa"
    CARD = "CARD", "Card"
    BANK = "BANK", "Bank transfer"
    CHEQUE = "CHEQUE", "Cheque"


class CustomerReceipt(TimeStampedModel):
    """A customer paying off what they owe on account; lowers `Customer.balance`."""

    number = models.CharField(max_length=24, null=True, blank=True, unique=True)
    customer = models.ForeignKey("pos.Customer", on_delete=models.PROTECT, related_name="receipts")
    branch = models.ForeignKey("pos.Branch", on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(
        CashSession, null=True, blank=True, on_delete=models.PROTECT, related_name="customer_receipts"
    )
    method = models.CharField(max_length=8, choices=MoneyMethod.choices)
    amount = MoneyField()
    reference = models.CharField(max_length=64, blank=True)
    balance_before = MoneyField()
    balance_after = MoneyField()
    received_by = models.ForeignKey("pos.User", on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=255, blank=True)
    c2b_payment = models.OneToOneField(
        "cashdesk.C2BPayment", null=True, blank=True, on_delete=models.PROTECT, related_name="customer_receipt"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="customerreceipt_amount_positive"),
            models.CheckConstraint(condition=Q(method__in=MoneyMethod.values), name="customerreceipt_method_valid"),
            models.CheckConstraint(
                condition=~Q(method=MoneyMethod.CASH) | Q(session__isnull=False),
                name="customerreceipt_cash_has_session",
            ),
            models.CheckConstraint(
                condition=Q(balance_after=F("balance_before") - F("amount")), name="customerreceipt_balance_moves"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number or 'Receipt'} · {self.customer} · KES {self.amount}"


class CustomerReceiptAllocation(models.Model):
    """The part of a receipt that settles one on-account sale."""

    receipt = models.ForeignKey(CustomerReceipt, on_delete=models.PROTECT, related_name="allocations")
    sale = models.ForeignKey("pos.Sale", on_delete=models.PROTECT, related_name="account_settlements")
    amount = MoneyField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="receiptallocation_amount_positive"),
            models.UniqueConstraint(fields=["receipt", "sale"], name="receiptallocation_once_per_sale"),
        ]

    def __str__(self) -> str:
        return f"KES {self.amount} → {self.sale}"


class SupplierPayment(TimeStampedModel):
    """Money paid to a supplier (for a purchase, or on account)."""

    supplier = models.ForeignKey("inventory.Supplier", on_delete=models.PROTECT, related_name="payments")
    purchase = models.ForeignKey(
        "inventory.Purchase", null=True, blank=True, on_delete=models.PROTECT, related_name="supplier_payments"
    )
    purchase_reference = models.CharField(max_length=64, blank=True, help_text="The supplier's invoice number.")
    branch = models.ForeignKey("pos.Branch", on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(
        CashSession, null=True, blank=True, on_delete=models.PROTECT, related_name="supplier_payments"
    )
    method = models.CharField(max_length=8, choices=MoneyMethod.choices)
    amount = MoneyField()
    reference = models.CharField(max_length=64, blank=True, help_text="Cheque number, bank or M-Pesa reference.")
    paid_by = models.ForeignKey("pos.User", on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="supplierpayment_amount_positive"),
            models.CheckConstraint(condition=Q(method__in=MoneyMethod.values), name="supplierpayment_method_valid"),
            models.CheckConstraint(
                condition=~Q(method=MoneyMethod.CASH) | Q(session__isnull=False),
                name="supplierpayment_cash_has_session",
            ),
        ]

    def __str__(self) -> str:
        return f"KES {self.amount} to {self.supplier}"


class ExpenseCategory(TimeStampedModel):
    name = models.CharField(max_length=80, unique=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "expense categories"

    def __str__(self) -> str:
        return self.name


class Expense(TimeStampedModel):
    """A running cost of the shop (rent, power, transport…), with the bill or receipt attached."""

    category = models.ForeignKey(ExpenseCategory, on_delete=models.PROTECT, related_name="expenses")
    branch = models.ForeignKey("pos.Branch", on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(CashSession, null=True, blank=True, on_delete=models.PROTECT, related_name="expenses")
    method = models.CharField(max_length=8, choices=MoneyMethod.choices)
    amount = MoneyField()
    description = models.CharField(max_length=255)
    spent_on = models.DateField()
    reference = models.CharField(max_length=64, blank=True)
    attachment = models.FileField(upload_to="expenses/%Y/%m/", blank=True)
    recorded_by = models.ForeignKey("pos.User", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-spent_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="expense_amount_positive"),
            models.CheckConstraint(condition=Q(method__in=MoneyMethod.values), name="expense_method_valid"),
            models.CheckConstraint(
                condition=~Q(method=MoneyMethod.CASH) | Q(session__isnull=False), name="expense_cash_has_session"
            ),
        ]
        indexes = [models.Index(fields=["branch", "spent_on"], name="expense_branch_date_idx")]

    def __str__(self) -> str:
        return f"{self.category}: KES {self.amount} ({self.spent_on:%d %b %Y})"


# The M-Pesa records are defined with M-Pesa (cashdesk/mpesa/models.py); Django loads them from here.
# The eTIMS records are defined with eTIMS (cashdesk/etims/models.py); Django loads them from here.
# The counter's printer and its jobs are defined with the hardware (cashdesk/printing/models.py).
from cashdesk.etims.models import (  # noqa: E402,F401
    EtimsCode,
    EtimsDevice,
    EtimsItem,
    EtimsItemClass,
    EtimsItemSequence,
    EtimsPurchase,
    EtimsSignature,
    EtimsSubmission,
    EtimsSyncState,
)
from cashdesk.mpesa.models import C2BPayment, MpesaInbox, MpesaReconciliation, StkRequest  # noqa: E402,F401
from cashdesk.printing.models import PrintJob, ReceiptPrinter  # noqa: E402,F401
