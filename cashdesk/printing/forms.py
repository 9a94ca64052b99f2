"""Forms of the counter's printer. They parse input; the services decide."""

from crispy_forms.helper import FormHelper
from django import forms


class DrawerOpenForm(forms.Form):
    reason = forms.CharField(
        max_length=255, required=False, label="Why open the drawer?",
        help_text="e.g. Change for a customer, Checking a note. It goes in the audit log.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
