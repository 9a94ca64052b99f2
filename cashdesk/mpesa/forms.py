"""Forms of the M-Pesa pages and the pay panel's M-Pesa block."""


from decimal import Decimal

from django import forms

from cashdesk.forms import CrispyForm
from core.decimal_input import DecimalFormField


# ---------------------------------------------------------------------------- M-Pesa
class StkStartForm(forms.Form):
    phone = forms.CharField(max_length=20, label="Customer's M-Pesa number")
    amount = DecimalFormField(label="Amount (KES)", max_digits=12, decimal_places=2, required=False)
    cash = DecimalFormField(
        label="Cash for the rest (KES)", max_digits=12, decimal_places=2, required=False, min_value=Decimal("0")
    )


class MpesaCodeForm(forms.Form):
    code = forms.CharField(max_length=20, label="M-Pesa transaction code")


class C2BSearchForm(forms.Form):
    q = forms.CharField(required=False, label="Phone, code or name")
    amount = DecimalFormField(required=False, max_digits=12, decimal_places=2, label="Amount")


class C2BAttachForm(forms.Form):
    sale_number = forms.CharField(max_length=24, label="Sale (number or S-id)", required=False)


class MismatchResolveForm(CrispyForm):
    decision = forms.ChoiceField(
        choices=[("accept", "Accept the amount M-Pesa received"), ("reject", "Reject: the customer gets a reversal")],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(max_length=255, required=False)


class UnverifiedResolveForm(CrispyForm):
    decision = forms.ChoiceField(
        choices=[("confirmed", "I found it on the M-Pesa portal: count it"),
                 ("not_found", "It is not on the M-Pesa portal: nothing was paid")],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(max_length=255, required=False)


class OverpaymentResolveForm(CrispyForm):
    decision = forms.ChoiceField(
        choices=[("refund", "Refund: reverse it to the customer on the M-Pesa portal"),
                 ("credit", "Keep it as the customer's credit on their account")],
        widget=forms.RadioSelect,
    )
    customer_phone = forms.CharField(
        max_length=20, required=False, label="Customer's phone (for credit, when the sale has no customer)"
    )
    note = forms.CharField(max_length=255, required=False)


class C2BConfirmForm(CrispyForm):
    note = forms.CharField(max_length=255, label="How you checked it (e.g. seen on the M-Pesa portal)")


class SetAsideForm(CrispyForm):
    note = forms.CharField(max_length=255, help_text="Why this payment belongs to no sale (e.g. paid twice, refunded).")
