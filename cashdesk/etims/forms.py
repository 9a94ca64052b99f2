"""Forms of the eTIMS pages: they parse input; the services decide."""

from django import forms

from cashdesk.etims.config import ENVIRONMENT_CHOICES
from inventory.models import Purchase


class DeviceForm(forms.Form):
    environment = forms.ChoiceField(choices=ENVIRONMENT_CHOICES)
    tin = forms.CharField(label="KRA PIN", max_length=11, required=False,
                          help_text="The taxpayer's PIN, e.g. P051234567X.")
    bhf_id = forms.CharField(label="eTIMS branch id (bhfId)", max_length=2, required=False,
                             help_text="The 2 digits KRA gave this OSCU device (00, 01…). Do not guess 00.")
    serial_number = forms.CharField(label="Device serial number", max_length=100, required=False,
                                    help_text="As registered on the eTIMS taxpayer portal.")


class PurchaseDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", "Accept"), ("reject", "Reject")])
    purchase = forms.ModelChoiceField(queryset=Purchase.objects.none(), required=False,
                                      label="Our purchase order", empty_label="(none)")
    note = forms.CharField(max_length=255, required=False)

    def __init__(self, *args, branch_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        if branch_id:
            self.fields["purchase"].queryset = Purchase.objects.filter(branch_id=branch_id).order_by("-created_at")
