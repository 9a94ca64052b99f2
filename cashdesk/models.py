"""The cash desk: cash sessions (the drawer) and payments of sales (split tender).

M-Pesa requests and callbacks, cash paid in/out, customer receipts, supplier payments and expenses
live here too (added by the cash desk issue).
"""

from decimal import Decimal

from django.db import models
from django.db.models import F, Q

from pos.base import MoneyField, TimeStampedModel


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
            models.CheckConstraint(condition=Q(closing_total__isnull=True) | Q(closing_total__gte=0), name="cashsession_count_not_negative"),
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


class PaymentStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    CONFIRMED = "CONFIRMED", "Confirmed"
    FAILED = "FAILED", "Failed"
    REFUNDED = "REFUNDED", "Refunded"


class Payment(TimeStampedModel):
    """One tender of a sale (the brief's "sales payment"). A sale paid by several methods has several.

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
