"""django-allauth adapters: phone-number login, no public sign-up, single sign-on only for staff."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import render

from .phone import PHONE_HELP, normalize_phone


class KenyanPhoneField(forms.CharField):
    """A phone box that accepts any Kenyan way of writing a mobile number and cleans it to E.164."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Phone number")
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("help_text", PHONE_HELP)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={
                    "type": "tel",
                    "inputmode": "tel",
                    "autocomplete": "username",
                    "placeholder": "0712 345 678",
                }
            ),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        return normalize_phone(value)


class AccountAdapter(DefaultAccountAdapter):
    """Staff accounts are made by owners and managers on the Staff page, never by sign-up."""

    def is_open_for_signup(self, request) -> bool:
        return False

    def phone_form_field(self, **kwargs):
        kwargs.pop("label", None)
        return KenyanPhoneField(**kwargs)

    def clean_phone(self, phone: str) -> str:
        try:
            return normalize_phone(phone)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages[0]) from exc

    # allauth's phone hooks, backed by `User.phone_number`.
    def get_phone(self, user):
        if user.phone_number:
            return user.phone_number, True
        return None

    def set_phone(self, user, phone: str, verified: bool) -> None:
        user.phone_number = normalize_phone(phone)
        user.save(update_fields=["phone_number"])

    def set_phone_verified(self, user, phone: str) -> None:
        # A number on a staff account was checked by the manager who created it.
        return None

    def get_user_by_phone(self, phone: str):
        from .models import User

        try:
            phone = normalize_phone(phone)
        except ValidationError:
            return None
        return User.objects.filter(phone_number=phone).first()

    def send_verification_code_sms(self, user, phone: str, code: str, **kwargs) -> None:
        # Phone verification is off (ACCOUNT_PHONE_VERIFICATION_ENABLED = False); nothing is sent.
        raise NotImplementedError("SMS verification is not used by AsiriaPOS")

    def get_login_redirect_url(self, request) -> str:
        """Cashiers live in the till: they land there after login (a `?next=` still wins)."""
        from django.urls import reverse

        from .roles import Perm, Role

        user = getattr(request, "user", None)
        if getattr(user, "role", None) == Role.EMPLOYEE and user.has_perm(Perm.USE_TILL):
            return reverse("till:index")
        return super().get_login_redirect_url(request)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Google / Microsoft / OpenID Connect sign in an existing, active member of staff only.

    The provider must vouch for the e-mail address (verified); that address must belong to an
    active staff account. Everyone else gets a clear refusal page; nobody is created.
    """

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return False

    def pre_social_login(self, request, sociallogin) -> None:
        from .models import User

        if sociallogin.is_existing:
            if not sociallogin.user.is_active:
                self._refuse(request, "This staff account has been deactivated.")
            return
        verified = [
            e.email.strip().lower() for e in sociallogin.email_addresses if e.verified and e.email
        ]
        if not verified:
            self._refuse(request, "Your provider did not confirm an e-mail address for this account.")
        user = User.objects.filter(email__in=verified, is_active=True).first()
        if user is None:
            self._refuse(
                request,
                "No active member of staff uses this e-mail address. Ask the shop owner or a "
                "manager to add it to your staff account, then try again.",
            )
        sociallogin.connect(request, user)

    def _refuse(self, request, reason: str) -> None:
        response = render(request, "account/sso_refused.html", {"reason": reason}, status=403)
        raise ImmediateHttpResponse(response)


class MFAAdapter(DefaultMFAAdapter):
    def get_public_key_credential_rp_entity(self) -> dict:
        entity = super().get_public_key_credential_rp_entity()
        entity["name"] = getattr(settings, "SHOP_NAME", entity.get("name"))
        return entity
