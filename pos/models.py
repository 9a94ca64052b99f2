"""The till's people and places: branches, staff (phone-number login, role), shop settings, audit log.

Sales, sale lines, customers and returns are added by the till issue in this same app.
"""

from decimal import Decimal

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from pos.base import MoneyField, QuantityField, TimeStampedModel
from pos.phone import PHONE_HELP, normalize_phone, validate_phone
from pos.roles import Role, role_has_perm

DEFAULT_BRANCH_CODE = "MAIN"

kra_pin_validator = RegexValidator(
    r"^[AP]\d{9}[A-Z]$", "A KRA PIN is a letter (A or P), nine digits and a letter, e.g. P051234567X."
)
shortcode_validator = RegexValidator(r"^\d{5,7}$", "An M-Pesa till or paybill number has 5 to 7 digits.")


class Branch(TimeStampedModel):
    """A shop location. Stock, sales and cash sessions belong to one branch."""

    name = models.CharField(max_length=100, unique=True)
    code = models.CharField(
        max_length=10,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9]{2,10}$", "2–10 capital letters or digits.")],
        help_text="Short code printed on receipts and sale numbers, e.g. MAIN, WSTL.",
    )
    address = models.CharField(max_length=255, blank=True)
    phone_number = models.CharField(max_length=16, blank=True, help_text=PHONE_HELP)
    mpesa_till_number = models.CharField(
        "M-Pesa till number (Buy Goods)", max_length=7, blank=True, validators=[shortcode_validator]
    )
    mpesa_paybill = models.CharField(
        "M-Pesa paybill number", max_length=7, blank=True, validators=[shortcode_validator]
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "branches"

    def __str__(self) -> str:
        return self.name


def default_branch_id() -> int | None:
    return Branch.objects.filter(code=DEFAULT_BRANCH_CODE).values_list("pk", flat=True).first()


class ShopSettings(TimeStampedModel):
    """The business's own rules, set by the owner. Exactly one row (pk=1), created by migration."""

    # A fixed, non-auto primary key so the one-row CHECK works on MariaDB too.
    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    shop_name = models.CharField(max_length=120, default="AsiriaPOS Demo Shop")
    kra_pin = models.CharField("KRA PIN", max_length=11, blank=True, validators=[kra_pin_validator])
    address = models.CharField(max_length=255, blank=True)
    phone_number = models.CharField(max_length=16, blank=True)
    email = models.EmailField(blank=True)
    receipt_footer = models.CharField(max_length=255, blank=True, default="Thank you for shopping with us!")
    allow_negative_stock = models.BooleanField(
        default=False, help_text="Let the till sell what the system thinks is out of stock."
    )
    cashier_discount_limit_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("5.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Discounts above this percentage of a line or sale need a manager's PIN.",
    )
    loyalty_points_per_100 = models.DecimalField(
        "loyalty points per KES 100",
        max_digits=6,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    loyalty_point_value = MoneyField(
        "value of one loyalty point (KES)", default=Decimal("1.00"), validators=[MinValueValidator(Decimal("0"))]
    )
    max_cash_difference = MoneyField(
        "largest over/short a cashier may close with",
        default=Decimal("200.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="A bigger difference at close needs a manager's approval.",
    )

    class Meta:
        verbose_name = "shop settings"
        verbose_name_plural = "shop settings"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="shopsettings_single_row")]

    def __str__(self) -> str:
        return self.shop_name

    @classmethod
    def load(cls) -> "ShopSettings":
        from django.conf import settings

        obj, _ = cls.objects.get_or_create(pk=1, defaults={"shop_name": settings.SHOP_NAME[:120]})
        return obj


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, phone_number: str, password: str | None, **extra):
        if not phone_number:
            raise ValueError("A phone number is required.")
        phone_number = normalize_phone(phone_number)
        email = extra.pop("email", None)
        extra.setdefault("branch_id", default_branch_id())
        user = self.model(phone_number=phone_number, email=self.normalize_email(email) or None, **extra)
        user.set_password(password)
        user.full_clean(exclude=["password", "branch"])
        user.save(using=self._db)
        return user

    def create_user(self, phone_number: str, password: str | None = None, **extra):
        extra.setdefault("role", Role.EMPLOYEE)
        extra.setdefault("is_superuser", False)
        return self._create_user(phone_number, password, **extra)

    def create_superuser(self, phone_number: str, password: str | None = None, **extra):
        """`createsuperuser` makes an Owner."""
        extra["role"] = Role.OWNER
        extra["is_superuser"] = True
        extra.pop("is_staff", None)
        return self._create_user(phone_number, password, **extra)

    def get_by_natural_key(self, phone_number: str):
        try:
            phone_number = normalize_phone(phone_number)
        except ValidationError:
            pass
        return self.get(**{self.model.USERNAME_FIELD: phone_number})


class User(AbstractBaseUser, PermissionsMixin):
    """A member of staff. Logs in with a phone number; what they may do comes from `role`."""

    phone_number = models.CharField(
        max_length=16,
        unique=True,
        validators=[validate_phone],
        help_text=PHONE_HELP,
        error_messages={"unique": "Someone already has this number."},
    )
    full_name = models.CharField(max_length=150)
    email = models.EmailField(
        blank=True,
        null=True,
        unique=True,
        help_text="Optional. Used for receipts, reports and single sign-on.",
        error_messages={"unique": "Someone already uses this e-mail address."},
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.EMPLOYEE)
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="staff", help_text="Where this person works."
    )
    is_active = models.BooleanField(
        default=True, help_text="Deactivate instead of deleting: a person with sales history stays."
    )
    date_joined = models.DateTimeField(default=timezone.now)
    till_pin = models.CharField("till PIN (hashed)", max_length=128, blank=True)
    pin_failed_attempts = models.PositiveSmallIntegerField(default=0)
    pin_locked_until = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "phone_number"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name"]
        permissions = [
            ("manage_owners", "Can create and edit owners"),
            ("all_branches", "Can see every branch"),
            ("use_till", "Can use the till"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="user_role_valid"),
            models.CheckConstraint(condition=Q(phone_number__startswith="+254"), name="user_phone_e164_ke"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.phone_number})"

    def clean(self) -> None:
        super().clean()
        if self.phone_number:
            self.phone_number = normalize_phone(self.phone_number)
        if self.email:
            self.email = self.email.strip().lower()
        else:
            self.email = None

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.phone_number

    # Django admin asks `is_staff`; owners and managers may use it, within their role's permissions.
    @property
    def is_staff(self) -> bool:
        return self.is_active and self.role in (Role.OWNER, Role.MANAGER)

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER

    @property
    def is_manager_or_owner(self) -> bool:
        return self.role in (Role.OWNER, Role.MANAGER)

    @property
    def sees_all_branches(self) -> bool:
        return role_has_perm(self.role, "pos.all_branches")

    @property
    def has_till_pin(self) -> bool:
        return bool(self.till_pin)


class AuditLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Audit log entries are never changed.")

    def delete(self):
        raise PermissionError("Audit log entries are never deleted.")


class AuditLog(models.Model):
    """Who did what, when, why, with before and after. Insert-only."""

    action = models.CharField(max_length=40, db_index=True)
    model_name = models.CharField(max_length=60, blank=True, db_index=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_entries"
    )
    authorised_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="authorised_audit_entries",
        help_text="The manager whose PIN or click authorised the action, when not the user.",
    )
    branch = models.ForeignKey(Branch, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)
    before_data = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after_data = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        # Related-object access and serialisers use the base manager: make it the insert-only one too.
        base_manager_name = "objects"
        indexes = [models.Index(fields=["model_name", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.model_name}#{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("Audit log entries are never changed.")
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit log entries are never deleted.")


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


class SaleStatus(models.TextChoices):
    OPEN = "OPEN", "Open (in the cart)"
    HELD = "HELD", "Held"
    COMPLETED = "COMPLETED", "Completed"
    VOIDED = "VOIDED", "Voided"


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
    """A sale (the brief's "sales header"). Open while in the cart; completed exactly once."""

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

    @property
    def amount_due(self) -> Decimal:
        return max(self.total - self.paid_total, Decimal("0.00"))


class SaleLine(models.Model):
    """One product on a sale (the brief's "sales detail"), with price and tax snapshots."""

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


class LoyaltyKind(models.TextChoices):
    EARNED = "EARNED", "Earned on a sale"
    REDEEMED = "REDEEMED", "Paid with points"
    GIVEN_BACK = "GIVEN_BACK", "Points paid back on a refund"
    TAKEN_BACK = "TAKEN_BACK", "Earned points taken back on a return or void"


class LoyaltyEntry(models.Model):
    """The loyalty ledger: every change of a customer's points, signed, with the balance after it."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="loyalty_entries")
    sale = models.ForeignKey(Sale, null=True, blank=True, on_delete=models.PROTECT, related_name="loyalty_entries")
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


# ---------------------------------------------------------------------------- the JSON API
class ApiIdempotencyKey(models.Model):
    """An `Idempotency-Key` a caller sent with a POST to the API, and the first answer it got.

    A repeat of the same key by the same user gets that answer again (`pos.idempotency`); the same
    key with another body or on another endpoint is refused. Only successful answers are kept: a
    request that failed wrote nothing, so its retry runs again.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    endpoint = models.CharField(max_length=120)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="apiidempotencykey_once_per_user")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key} {self.endpoint}"
