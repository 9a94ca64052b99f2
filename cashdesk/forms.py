"""Forms of the cash desk. They parse input; the services decide (and raise PaymentError)."""

from decimal import Decimal

from crispy_forms.helper import FormHelper
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator
from django.db.models import Q

from cashdesk.models import CashMovementKind, ExpenseCategory, MoneyMethod, PaymentMethod
from cashdesk.selectors import DENOMINATIONS
from core.branches import for_viewer
from core.decimal_input import DecimalFormField
from core.roles import Perm, Role
from inventory.models import Purchase, PurchaseStatus, Supplier
from pos.customers.models import Customer
from pos.people.models import User

AMOUNT_ATTRS = {"inputmode": "decimal", "autocomplete": "off", "step": "0.01", "min": "0"}


def amount_field(label: str = "Amount (KES)", *, required: bool = True, min_value: str | None = "0.01", **kwargs):
    return DecimalFormField(
        label=label,
        required=required,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal(min_value) if min_value is not None else None,
        widget=forms.NumberInput(attrs=AMOUNT_ATTRS),
        **kwargs,
    )


class CrispyForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class SessionOpenForm(CrispyForm):
    opening_float = amount_field(
        "Opening float (KES)", min_value="0", help_text="The cash in the drawer before the first sale."
    )
    note = forms.CharField(max_length=255, required=False)


class CashMovementForm(CrispyForm):
    kind = forms.ChoiceField(
        choices=CashMovementKind.choices, widget=forms.RadioSelect, initial=CashMovementKind.PAID_OUT
    )
    amount = amount_field()
    reason = forms.CharField(
        max_length=255, help_text="e.g. Change from the bank, Boda boda delivery, Cleaning supplies"
    )


class SessionCloseForm(CrispyForm):
    """Counted cash, by total or by notes and coins; other methods' totals; a manager's PIN when needed."""

    closing_total = amount_field(
        "Counted cash (KES)", required=False, min_value="0", help_text="Leave empty to use the notes and coins counted."
    )
    card_counted = amount_field("Card terminal batch total (KES)", required=False, min_value="0")
    mpesa_counted = amount_field("M-Pesa statement total (KES)", required=False, min_value="0")
    note = forms.CharField(max_length=255, required=False)
    approver = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, label="Manager approving", empty_label="No approval needed"
    )
    approver_pin = forms.CharField(
        label="Manager's till PIN",
        required=False,
        max_length=6,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]*"}),
    )

    def __init__(self, *args, branch_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        for value, kind in DENOMINATIONS:
            self.fields[f"count_{value}"] = forms.IntegerField(
                label=f"KES {value} {kind}s",
                required=False,
                min_value=0,
                max_value=100000,
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "0"}),
            )
        self.fields["approver"].queryset = User.objects.filter(
            Q(role=Role.OWNER) | Q(role=Role.MANAGER, branch_id=branch_id), is_active=True
        ).order_by("full_name")
        # "Otieno Odhiambo (Manager)", not their phone number: the list is shown on the cashier's tablet.
        self.fields["approver"].label_from_instance = lambda person: f"{person.full_name} ({person.get_role_display()})"

    def denomination_fields(self):
        return [(value, self[f"count_{value}"]) for value, _ in DENOMINATIONS]

    def denominations(self) -> dict:
        return {
            str(value): self.cleaned_data.get(f"count_{value}")
            for value, _ in DENOMINATIONS
            if self.cleaned_data.get(f"count_{value}") not in (None, 0)
        }

    def counted_by_method(self) -> dict:
        counted = {}
        if self.cleaned_data.get("card_counted") is not None:
            counted[PaymentMethod.CARD] = self.cleaned_data["card_counted"]
        if self.cleaned_data.get("mpesa_counted") is not None:
            counted[PaymentMethod.MPESA] = self.cleaned_data["mpesa_counted"]
        return counted

    def clean(self):
        data = super().clean()
        if data.get("approver") and not data.get("approver_pin"):
            self.add_error("approver_pin", "The manager must type their PIN.")
        return data


class ForceCloseForm(CrispyForm):
    closing_total = amount_field("Cash counted in the drawer (KES)", min_value="0")
    reason = forms.CharField(max_length=255, help_text="Why the cashier could not close it themselves.")


# ---------------------------------------------------------------------------- money in and out
ATTACHMENT_TYPES = ["pdf", "jpg", "jpeg", "png", "webp"]
ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
_MAGIC = {
    "pdf": [b"%PDF-"],
    "jpg": [b"\xff\xd8\xff"],
    "jpeg": [b"\xff\xd8\xff"],
    "png": [b"\x89PNG\r\n\x1a\n"],
    "webp": [b"RIFF"],
}


def validate_attachment(upload) -> None:
    """A bill or receipt photo/PDF: by extension, by its first bytes, and at most 5 MB."""
    FileExtensionValidator(ATTACHMENT_TYPES)(upload)
    if upload.size > ATTACHMENT_MAX_BYTES:
        raise ValidationError(f"The file is {upload.size / 1048576:.1f} MB; at most 5 MB.")
    extension = upload.name.rsplit(".", 1)[-1].lower()
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(magic) for magic in _MAGIC[extension]):
        raise ValidationError(f"This file is not really a {extension.upper()}.")


class CustomerReceiptForm(CrispyForm):
    customer = forms.ModelChoiceField(queryset=Customer.objects.filter(is_active=True).order_by("name"))
    amount = amount_field()
    method = forms.ChoiceField(
        choices=[
            (m, label)
            for m, label in MoneyMethod.choices
            if m in (MoneyMethod.CASH, MoneyMethod.MPESA, MoneyMethod.CARD, MoneyMethod.BANK, MoneyMethod.CHEQUE)
        ]
    )
    reference = forms.CharField(
        max_length=64,
        required=False,
        help_text="M-Pesa code (required for M-Pesa), card slip, cheque or bank reference.",
    )
    note = forms.CharField(max_length=255, required=False)


class SupplierPaymentForm(CrispyForm):
    supplier = forms.ModelChoiceField(queryset=None)
    purchase = forms.ModelChoiceField(
        queryset=None, required=False, help_text="Leave empty to pay on the supplier's account.", empty_label="—"
    )
    amount = amount_field()
    method = forms.ChoiceField(choices=MoneyMethod.choices)
    purchase_reference = forms.CharField(max_length=64, required=False, label="Supplier's invoice number")
    reference = forms.CharField(max_length=64, required=False, help_text="Cheque number, bank or M-Pesa reference.")
    note = forms.CharField(max_length=255, required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)

        self.fields["supplier"].queryset = Supplier.objects.filter(is_active=True).order_by("name")
        purchases = Purchase.objects.exclude(
            status__in=[PurchaseStatus.DRAFT, PurchaseStatus.CANCELLED]
        ).select_related("supplier")
        if user is not None:
            purchases = for_viewer(purchases, user)
        self.fields["purchase"].queryset = purchases.order_by("-created_at")
        self.fields["purchase"].label_from_instance = lambda p: (
            f"{p.number} · {p.supplier.name} · {p.get_status_display()}"
        )


class ExpenseForm(CrispyForm):
    category = forms.ModelChoiceField(queryset=ExpenseCategory.objects.filter(is_active=True))
    amount = amount_field()
    method = forms.ChoiceField(choices=MoneyMethod.choices)
    description = forms.CharField(max_length=255)
    spent_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(max_length=64, required=False)
    attachment = forms.FileField(
        required=False,
        validators=[validate_attachment],
        help_text="The bill or receipt: PDF, JPG, PNG or WebP, at most 5 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.webp"}),
    )


class ExpenseCategoryForm(CrispyForm):
    name = forms.CharField(max_length=80)


def user_may_approve(user: User) -> bool:
    return user.has_perm(Perm.APPROVE_CASH_DIFFERENCE)
