"""Forms for staff, settings and the till PIN. They parse input; the services decide."""

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.core import context
from allauth.mfa.adapter import get_adapter
from allauth.mfa.webauthn import forms as webauthn_forms
from allauth.mfa.webauthn.internal import auth as webauthn_auth
from crispy_forms.helper import FormHelper
from django import forms

from core.roles import Role, roles_a_user_may_assign
from pos.people import lockout
from pos.people.adapters import KenyanPhoneField
from pos.people.models import Branch, ShopSettings, User
from pos.people.selectors import branches_visible_to


class _CrispyForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class StaffForm(_CrispyForm):
    full_name = forms.CharField(max_length=150)
    phone_number = KenyanPhoneField()
    email = forms.EmailField(required=False, help_text="Optional. Needed for Google / Microsoft sign-in.")
    role = forms.ChoiceField(choices=Role.choices)
    branch = forms.ModelChoiceField(queryset=Branch.objects.none(), empty_label=None)

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = roles_a_user_may_assign(actor.role)
        self.fields["role"].choices = [(r, label) for r, label in Role.choices if r in allowed]
        self.fields["branch"].queryset = branches_visible_to(actor)
        self.fields["phone_number"].widget.attrs["autocomplete"] = "off"


class StaffCreateForm(StaffForm):
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(
        label="Password again", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords are different.")
        return data


class PasswordResetByManagerForm(_CrispyForm):
    password1 = forms.CharField(
        label="New password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label="New password again", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords are different.")
        return data


class PinForm(_CrispyForm):
    pin = forms.CharField(
        label="Till PIN",
        min_length=4,
        max_length=6,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]*"}),
        help_text="4 to 6 digits. Used to authorise overrides at the till.",
    )
    pin2 = forms.CharField(
        label="PIN again",
        min_length=4,
        max_length=6,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]*"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("pin") and data.get("pin") != data.get("pin2"):
            self.add_error("pin2", "The two PINs are different.")
        return data


class DeactivateForm(_CrispyForm):
    reason = forms.CharField(max_length=255, required=False)


class ShopSettingsForm(forms.ModelForm):
    class Meta:
        model = ShopSettings
        fields = [
            "shop_name",
            "kra_pin",
            "address",
            "phone_number",
            "email",
            "receipt_footer",
            "allow_negative_stock",
            "cashier_discount_limit_percent",
            "loyalty_points_per_100",
            "loyalty_point_value",
            "max_cash_difference",
            "blind_close",
            "cash_out_pin_limit",
            "mpesa_accept_safaricom_addresses",
            "mpesa_confirm_wait_seconds",
            "scale_label_prefix",
            "scale_label_item_digits",
            "scale_label_value_digits",
            "scale_label_decimals",
            "scale_label_kind",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


# ---------------------------------------------------------------------------- passkeys
# allauth 65.21 turns a malformed WebAuthn credential into a form error only when fido2 raises
# TypeError; fido2 2.x raises KeyError ("rawId") for a missing field, which became a 500 on the
# public passkey-login URL. These forms make any malformed credential the usual "Incorrect code."
# Wired in with settings.MFA_FORMS = PASSKEY_FORMS.
_MALFORMED_CREDENTIAL = (KeyError, TypeError, AttributeError, ValueError)


def _incorrect_code() -> forms.ValidationError:

    return get_adapter().validation_error("incorrect_code")


class _SafeCredential:
    def clean_credential(self):
        try:
            return super().clean_credential()
        except _MALFORMED_CREDENTIAL as exc:
            raise _incorrect_code() from exc


class _PasskeyLockout:
    """A passkey login passes the same lockout as the password (pos/people/lockout.py): a locked account
    or address is refused, and a passkey that does not verify counts as a failed login."""

    def clean_credential(self):
        request = context.request
        credential = self.cleaned_data.get("credential")
        account = None
        try:
            account = lockout.account_key(user=webauthn_auth.extract_user_from_response(credential))
        except (forms.ValidationError, *_MALFORMED_CREDENTIAL):
            pass  # nobody named: counted on the address only
        if lockout.refuse_if_locked(request=request, account=account, channel=lockout.PASSKEY):
            raise get_account_adapter().validation_error("too_many_login_attempts")
        try:
            authenticator = super().clean_credential()
        except forms.ValidationError:
            lockout.record_failure(request=request, account=account, channel=lockout.PASSKEY)
            raise
        lockout.record_success(account=account)
        return authenticator


class PasskeyLoginForm(_PasskeyLockout, _SafeCredential, webauthn_forms.LoginWebAuthnForm):
    pass


class PasskeyReauthenticateForm(_SafeCredential, webauthn_forms.ReauthenticateWebAuthnForm):
    pass


class PasskeyAddForm(webauthn_forms.AddWebAuthnForm):
    def clean(self):
        try:
            return super().clean()
        except _MALFORMED_CREDENTIAL as exc:
            raise _incorrect_code() from exc


PASSKEY_FORMS = {
    "login_webauthn": "pos.people.forms.PasskeyLoginForm",
    "reauthenticate_webauthn": "pos.people.forms.PasskeyReauthenticateForm",
    "add_webauthn": "pos.people.forms.PasskeyAddForm",
}
