"""Forms of the till, sales, returns and customers. They parse input; the services decide."""

from decimal import Decimal

from django import forms
from django.urls import reverse
from django.utils.html import format_html

from cashdesk.services import Tender
from core.decimal_input import DecimalFormField, DecimalInputError, parse_decimal
from core.money import CENT, MONEY_DIGITS
from pos.sales.models import RefundTo
from pos.sales.pricing import DiscountKind
from pos.sales.services import ReturnItem

MONEY = {"max_digits": MONEY_DIGITS, "decimal_places": 2}
KEYPAD = {"inputmode": "decimal", "autocomplete": "off", "data-keypad-input": ""}

VOID_REASONS = ["Scanned by mistake", "Customer changed their mind", "Damaged item", "Wrong price on the shelf"]


def _money_field(label: str, required: bool = False, **attrs) -> DecimalFormField:
    return DecimalFormField(
        label=label, required=required, **MONEY, widget=forms.TextInput(attrs={**KEYPAD, **attrs})
    )


class QuantityForm(forms.Form):
    quantity = DecimalFormField(
        max_digits=12, decimal_places=3, required=False, widget=forms.TextInput(attrs=KEYPAD)
    )
    delta = DecimalFormField(max_digits=12, decimal_places=3, required=False)

    def clean(self):
        data = super().clean()
        if data.get("quantity") is None and data.get("delta") is None:
            raise forms.ValidationError("Type a quantity.")
        return data


class DiscountForm(forms.Form):
    kind = forms.ChoiceField(choices=DiscountKind.CHOICES, initial=DiscountKind.PERCENT, widget=forms.RadioSelect)
    value = DecimalFormField(
        label="Discount", max_digits=12, decimal_places=2, required=False, widget=forms.TextInput(attrs=KEYPAD)
    )
    reason = forms.CharField(max_length=255, required=False)


class PriceOverrideForm(forms.Form):
    unit_price = _money_field("New price per unit (KES, VAT included)", required=True)
    reason = forms.CharField(max_length=255, required=True)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=255, required=True, error_messages={"required": "Say why: it goes in the audit log."}
    )


class VoidCompletedForm(ReasonForm):
    reference = forms.CharField(max_length=64, required=False, label="Card / M-Pesa reversal reference")


class ReprintForm(forms.Form):
    reason = forms.CharField(max_length=255, required=False)


class NoteForm(forms.Form):
    note = forms.CharField(max_length=255, required=False, widget=forms.TextInput(attrs={"autocomplete": "off"}))


class OpenSessionForm(forms.Form):
    opening_float = _money_field("Cash in the drawer now (opening float, KES)", required=True)


class QuickCustomerForm(forms.Form):
    name = forms.CharField(max_length=150)
    phone_number = forms.CharField(
        max_length=20, required=False, widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"})
    )
    email = forms.EmailField(required=False)


class KraPinInput(forms.TextInput):
    """A buyer's KRA PIN, checked with KRA (eTIMS `selectCustomer`) as it is typed; the answer shows beside it."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = {**(attrs or {}), "autocomplete": "off", "hx-get": reverse("etims:pin_check"),
                 "hx-trigger": "input changed delay:600ms", "hx-target": f"#{name}-check"}
        box = super().render(name, value, attrs, renderer)
        return format_html('{}<div id="{}-check" aria-live="polite"></div>', box, name)


class CustomerForm(forms.Form):
    name = forms.CharField(max_length=150)
    phone_number = forms.CharField(
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "placeholder": "0712 345 678"}),
    )
    email = forms.EmailField(required=False, help_text="Receipts are e-mailed here.")
    kra_pin = forms.CharField(
        label="KRA PIN", max_length=11, required=False, help_text="For invoices to businesses.", widget=KraPinInput()
    )
    credit_limit = DecimalFormField(
        **MONEY,
        required=False,
        min_value=Decimal("0"),
        help_text="Most they may owe on account. 0 = no sales on account.",
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

    def __init__(self, *args, may_set_credit_limit: bool = False, creating: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_set_credit_limit:
            self.fields["credit_limit"].disabled = True
            self.fields["credit_limit"].help_text = "Only the owner sets credit limits."
        if creating:
            del self.fields["is_active"]


# The pay panel's amount boxes and the way each one pays.
TENDER_FIELDS = {"cash": "CASH", "card": "CARD", "account": "CUSTOMER_CREDIT", "loyalty": "LOYALTY"}


def typed_tenders(data, *, without: str = "") -> list[Tender]:
    """What the cashier has typed in the pay panel so far, for its running figures. A box that does not
    hold an amount yet ("12.", "-5", a letter) counts as nothing: checkout says what is wrong with it."""
    tenders = []
    for name, method in TENDER_FIELDS.items():
        if name == without:
            continue
        try:
            amount = parse_decimal(str(data.get(name) or "").replace(",", "").strip(), allow_blank=True)
        except DecimalInputError:
            continue
        if amount is not None and amount > 0 and amount == amount.quantize(CENT):
            tenders.append(Tender(method, amount))
    return tenders


class PayForm(forms.Form):
    """What the customer hands over, by method; any mix is a split payment."""

    sale = forms.IntegerField(widget=forms.HiddenInput)
    idempotency_key = forms.CharField(max_length=64, widget=forms.HiddenInput)
    cash = _money_field("Cash handed over", **{"data-tender": "CASH"})
    card = _money_field("Card", **{"data-tender": "CARD"})
    card_reference = forms.CharField(max_length=64, required=False, label="Terminal reference",
                                     widget=forms.TextInput(attrs={"autocomplete": "off"}))
    account = _money_field("On account", **{"data-tender": "CUSTOMER_CREDIT"})
    loyalty = _money_field("Loyalty points (KES)", **{"data-tender": "LOYALTY"})

    def clean(self):
        data = super().clean()
        for name in ("cash", "card", "account", "loyalty"):
            if data.get(name) is not None and data[name] < 0:
                self.add_error(name, "An amount cannot be negative.")
        if data.get("card") and not (data.get("card_reference") or "").strip():
            self.add_error("card_reference", "Type the reference the card terminal printed.")
        return data

    def tenders(self):

        data = self.cleaned_data
        pairs = [("CASH", data.get("cash"), ""), ("CARD", data.get("card"), data.get("card_reference") or ""),
                 ("CUSTOMER_CREDIT", data.get("account"), ""), ("LOYALTY", data.get("loyalty"), "")]
        return [Tender(method, amount, reference) for method, amount, reference in pairs if amount]


class ReturnForm(forms.Form):
    """One quantity box and one restock tick per line of the sale, then why and how the money goes back."""

    reason = forms.CharField(max_length=255, required=True, error_messages={"required": "Say why the goods came back."})
    refund_to = forms.ChoiceField(choices=RefundTo.choices, initial=RefundTo.ORIGINAL, widget=forms.RadioSelect)
    reference = forms.CharField(max_length=64, required=False, label="Card / M-Pesa reversal reference")

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            returnable = line.quantity - line.returned_quantity
            self.fields[f"qty_{line.pk}"] = DecimalFormField(
                max_digits=12, decimal_places=3, required=False, initial=Decimal("0"),
                widget=forms.TextInput(attrs={**KEYPAD, "data-returnable": f"{returnable.normalize():f}"}),
            )
            self.fields[f"restock_{line.pk}"] = forms.BooleanField(required=False, initial=True)

    def rows(self):
        for line in self.lines:
            yield line, self[f"qty_{line.pk}"], self[f"restock_{line.pk}"], line.quantity - line.returned_quantity

    def items(self):

        data = self.cleaned_data
        return [
            ReturnItem(line.pk, data.get(f"qty_{line.pk}") or Decimal("0"), bool(data.get(f"restock_{line.pk}")))
            for line in self.lines
            if data.get(f"qty_{line.pk}")
        ]
