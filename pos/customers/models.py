"""Customers ("clients") and their loyalty points ledger."""


from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.models import TimeStampedModel
from core.money import MoneyField
from core.phone import PHONE_HELP, normalize_phone, validate_phone
from pos.people.models import Branch, User, kra_pin_validator


# ---------------------------------------------------------------------------- customers and sales
class Customer(TimeStampedModel):
    """A client of the shop: optional on a sale; needed for sales on account and loyalty."""

    name = models.CharField(max_length=150)
    phone_number = models.CharField(
        max_length=16, unique=True, null=True, blank=True, validators=[validate_phone], help_text=PHONE_HELP
    )
    email = models.EmailField(blank=True)
    kra_pin = models.CharField("KRA PIN", max_length=11, blank=True, validators=[kra_pin_validator])
    credit_limit = MoneyField(
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Most the customer may owe on account. 0 = no sales on account.",
    )
    balance = MoneyField(default=Decimal("0.00"), help_text="What the customer owes the shop now.")
    loyalty_points = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    notes = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    branch = models.ForeignKey(Branch, null=True, blank=True, on_delete=models.PROTECT, related_name="customers")

    class Meta:
        ordering = ["name"]
        permissions = [("set_credit_limit", "Can set a customer's credit limit")]
        constraints = [
            models.CheckConstraint(condition=Q(credit_limit__gte=0), name="customer_credit_limit_not_negative"),
            models.CheckConstraint(condition=Q(loyalty_points__gte=0), name="customer_points_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.phone_number:
            self.phone_number = normalize_phone(self.phone_number)
        else:
            self.phone_number = None


class LoyaltyKind(models.TextChoices):
    EARNED = "EARNED", "Earned on a sale"
    REDEEMED = "REDEEMED", "Paid with points"
    GIVEN_BACK = "GIVEN_BACK", "Points paid back on a refund"
    TAKEN_BACK = "TAKEN_BACK", "Earned points taken back on a return or void"


class LoyaltyEntry(models.Model):
    """The loyalty ledger: every change of a customer's points, signed, with the balance after it."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="loyalty_entries")
    sale = models.ForeignKey(
        "pos.Sale", null=True, blank=True, on_delete=models.PROTECT, related_name="loyalty_entries"
    )
    kind = models.CharField(max_length=12, choices=LoyaltyKind.choices)
    points = models.DecimalField(max_digits=12, decimal_places=2)
    amount = MoneyField(default=Decimal("0.00"), help_text="KES the points were worth (redeemed or paid back).")
    balance_after = models.DecimalField(max_digits=12, decimal_places=2)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "loyalty entries"
        constraints = [
            models.CheckConstraint(condition=~Q(points=0), name="loyaltyentry_points_not_zero"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="loyaltyentry_balance_not_negative"),
            models.CheckConstraint(condition=Q(kind__in=LoyaltyKind.values), name="loyaltyentry_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.customer}: {self.points:+} ({self.get_kind_display()})"
