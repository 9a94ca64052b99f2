"""The till's people and places: branches, staff (phone-number login, role), shop settings, audit log.

Sales, sale lines, customers and returns are added by the till issue in this same app.
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from core.models import TimeStampedModel
from core.money import MoneyField
from core.phone import PHONE_HELP, normalize_phone, validate_phone
from core.roles import Role, role_has_perm

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


class ScaleLabelKind(models.TextChoices):
    WEIGHT = "WEIGHT", "Weight"
    PRICE = "PRICE", "Price"


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
    mpesa_accept_safaricom_addresses = models.BooleanField(
        "accept M-Pesa callbacks from Safaricom's addresses",
        default=False,
        help_text="Off: every M-Pesa payment is confirmed with Daraja before it pays a sale. On: a callback "
        "that comes from Safaricom's published addresses pays at once (behind a proxy, set "
        "TRUSTED_PROXY_COUNT so the address is the real one).",
    )
    mpesa_confirm_wait_seconds = models.PositiveSmallIntegerField(
        "seconds the till waits for M-Pesa to confirm",
        default=60,
        validators=[MinValueValidator(10)],
        help_text="A payment M-Pesa reported but Daraja has not confirmed by then goes to the managers' "
        "\"M-Pesa to check\" list.",
    )
    max_cash_difference = MoneyField(
        "largest over/short a cashier may close with",
        default=Decimal("200.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="A bigger difference at close needs a manager's approval.",
    )
    # Scale labels (EAN-13, 20–29) on loose goods: how this shop's scales lay them out
    # (`inventory.scale_labels`). The default is the common shape: 2, a free digit, 5-digit item code,
    # 5-digit weight in grams (kg with 3 decimals), check digit.
    scale_label_prefix = models.CharField(
        "scale label prefix", max_length=2, default="2", blank=True,
        validators=[RegexValidator(r"^2[0-9]?$", "2 (any of 20–29) or two digits from 20 to 29.")],
        help_text="Labels from the shop's scales start with this: 2 reads any of 20–29. Empty: no scale labels.",
    )
    scale_label_item_digits = models.PositiveSmallIntegerField(
        "scale label item-code digits", default=5, validators=[MinValueValidator(1), MaxValueValidator(6)],
        help_text="The item code sits just before the value; digits between the prefix and it are not read.",
    )
    scale_label_value_digits = models.PositiveSmallIntegerField(
        "scale label value digits", default=5, validators=[MinValueValidator(1), MaxValueValidator(6)],
        help_text="The weight or price, just before the check digit.",
    )
    scale_label_decimals = models.PositiveSmallIntegerField(
        "scale label decimals", default=3, validators=[MaxValueValidator(3)],
        help_text="3: the value is grams of a kg (01250 = 1.250 kg); 2: cents of a shilling.",
    )
    scale_label_kind = models.CharField(
        "scale labels carry", max_length=6, choices=ScaleLabelKind.choices, default=ScaleLabelKind.WEIGHT
    )
    blind_close = models.BooleanField(
        "blind close",
        default=True,
        help_text="The cashier counts the drawer before seeing what should be in it; the over/short shows "
        "after the count. Managers and owners still see the expected cash on their own pages.",
    )
    cash_out_pin_limit = MoneyField(
        "largest paid-out or cash drop without a manager",
        default=Decimal("2000.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Taking more than this out of a drawer needs a manager's PIN.",
    )

    class Meta:
        verbose_name = "shop settings"
        verbose_name_plural = "shop settings"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="shopsettings_single_row"),
            models.CheckConstraint(
                condition=Q(scale_label_item_digits__gte=1, scale_label_item_digits__lte=6,
                            scale_label_value_digits__gte=1, scale_label_value_digits__lte=6),
                name="shopsettings_scale_label_digits_1_to_6",
            ),
            models.CheckConstraint(
                condition=Q(scale_label_decimals__lte=3) & Q(scale_label_decimals__lte=F("scale_label_value_digits")),
                name="shopsettings_scale_label_decimals_fit",
            ),
            models.CheckConstraint(
                condition=Q(scale_label_kind__in=["WEIGHT", "PRICE"]), name="shopsettings_scale_label_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.shop_name

    def clean(self) -> None:
        super().clean()
        # An EAN-13 has 12 digits before its check digit: the layout must fit in them.
        used = len(self.scale_label_prefix or "") + (self.scale_label_item_digits or 0) + (
            self.scale_label_value_digits or 0
        )
        if self.scale_label_prefix and used > 12:
            raise ValidationError(
                {"scale_label_item_digits": "Prefix, item code and value take at most 12 digits together "
                                            f"(the 13th is the check digit); these take {used}."}
            )
        most = 3 if self.scale_label_kind == ScaleLabelKind.WEIGHT else 2
        if self.scale_label_decimals is not None and self.scale_label_decimals > min(
            most, self.scale_label_value_digits or 0
        ):
            kind = self.get_scale_label_kind_display().lower()
            raise ValidationError(
                {"scale_label_decimals": f"At most {most} decimals for a {kind}, never more than the value's digits."}
            )

    @classmethod
    def load(cls) -> "ShopSettings":

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
    # Raised when a deactivation, reactivation or role change must end every session and API token the
    # person holds (a password change ends them through the password hash).
    token_version = models.PositiveIntegerField(default=0, editable=False)

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

    def _get_session_auth_hash(self, secret=None):
        # Django checks this on every request of a session: with `token_version` in it, a deactivation
        # or a role change logs the person out everywhere, and a later reactivation revives nothing.
        return salted_hmac(
            "asiria.people.User.session_auth_hash",
            f"{self.password}:{self.token_version}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    @property
    def token_stamp(self) -> str:
        """Carried in every API token (claim `stamp`) and checked on refresh and on each request: it
        changes with the password and with `token_version`, so older tokens stop working."""
        return self._get_session_auth_hash()[:24]

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
