"""django-allauth adapters: phone-number login, no public sign-up, single sign-on only for staff.

Staff accounts, their phone numbers and e-mail addresses belong to the Staff page (audited, with the
role rules of `pos.people.services`); allauth's self-service pages for those are answered with "ask a
manager". Passkeys are a way in (fingerprint / face on the tablet), not a second lock: see
`SecondFactorStage`.
"""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from allauth.mfa.stages import AuthenticateStage
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from core.ops.client_address import client_address
from core.phone import PHONE_HELP, normalize_phone, phone_or_none
from core.roles import Perm, Role
from pos.people import lockout
from pos.people.audit import audit_record
from pos.people.lockout import LOGIN_RATE_LIMITED  # noqa: F401 - the audit action's name, imported by tests
from pos.people.models import User

# Audit actions recorded from the login machinery (the strings live with `pos.people.audit.AuditAction`'s).
SSO_REFUSED = "sso_refused"

MANAGED_ON_STAFF_PAGE = (
    "Your phone number and e-mail address are set on the Staff page by the owner or a manager. "
    "Ask them to change it."
)


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


def _has_second_factor(user) -> bool:
    """An authenticator app, or a security key registered *without* "passwordless"."""
    for authenticator in Authenticator.objects.filter(
        user_id=user.pk, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
    ):
        if authenticator.type == Authenticator.Type.TOTP:
            return True
        if authenticator.wrap().is_passwordless is not True:
            return True
    return False


class SecondFactorStage(AuthenticateStage):
    """allauth's "enter your second factor" step, asked only of people who chose a second factor.

    A passkey added to log in with a fingerprint on one tablet must not lock its owner out of
    phone-and-password logins on the other tablets, so a passwordless passkey alone does not make
    allauth ask for a second factor. An authenticator app or a plain security key still does.
    """

    def _should_handle(self, request) -> bool:
        if self.login.user is None or not _has_second_factor(self.login.user):
            return False
        return super()._should_handle(request)


class AccountAdapter(DefaultAccountAdapter):
    """Staff accounts are made by owners and managers on the Staff page, never by sign-up."""

    def is_open_for_signup(self, request) -> bool:
        return False

    def get_login_stages(self) -> list[str]:
        stages = super().get_login_stages()
        return [
            "pos.people.adapters.SecondFactorStage" if stage == "allauth.mfa.stages.AuthenticateStage" else stage
            for stage in stages
        ]

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
        # allauth calls this after a single sign-on link when the provider knows a phone number. The
        # login number of a member of staff changes only on the Staff page (audited), never here.
        return None

    def set_phone_verified(self, user, phone: str) -> None:
        # A number on a staff account was checked by the manager who created it.
        return None

    def get_user_by_phone(self, phone: str):

        phone = phone_or_none(phone)
        if phone is None:
            return None
        return User.objects.filter(phone_number=phone).first()

    def send_verification_code_sms(self, user, phone: str, code: str, **kwargs) -> None:
        # The only way here is allauth's "change phone" page: a number changes on the Staff page.
        request = context.request
        messages.error(request, MANAGED_ON_STAFF_PAGE)
        raise ImmediateHttpResponse(redirect("home"))

    # E-mail addresses, like phone numbers, are kept by the Staff page (single sign-on matches on them).
    def clean_email(self, email: str) -> str:
        request = context.request
        match = getattr(request, "resolver_match", None) if request is not None else None
        if match is not None and match.url_name == "account_email":
            raise forms.ValidationError(MANAGED_ON_STAFF_PAGE)
        return email

    def can_delete_email(self, email_address) -> bool:
        return False

    def get_client_ip(self, request) -> str:
        # allauth's own rate limits key on the address too: the trusted one, never a spoofable header.
        return client_address(request) or "unknown"

    def pre_authenticate(self, request, **credentials) -> None:
        """The shop's one lockout (pos/people/lockout.py) instead of allauth's `login_failed` limit."""
        account = lockout.account_key(phone=credentials.get("phone"))
        if lockout.refuse_if_locked(request=request, account=account, channel=lockout.WEB):
            raise self.validation_error("too_many_login_attempts")

    def authentication_failed(self, request, **credentials) -> None:
        # Counted (and audited) by the `user_login_failed` receiver: the API token login fails there too.
        return None

    def get_login_redirect_url(self, request) -> str:
        """Cashiers live in the till, owners and managers on the dashboard: each lands there after login
        (a `?next=` still wins)."""

        user = getattr(request, "user", None)
        if getattr(user, "role", None) == Role.EMPLOYEE and user.has_perm(Perm.USE_TILL):
            return reverse("till:index")
        if user is not None and user.is_authenticated and user.has_perm(Perm.VIEW_DASHBOARD):
            return reverse("reports:dashboard")
        return super().get_login_redirect_url(request)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Google / Microsoft / OpenID Connect sign in an existing, active member of staff only.

    The provider must vouch for the e-mail address (verified); that address must belong to an
    active staff account. Everyone else gets a clear refusal page; nobody is ever created.
    """

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return False

    def get_app(self, request, provider, client_id=None):
        # A provider's URLs exist whether or not the shop set it up: one that is not configured is a
        # 404 page ("not found"), never allauth's SocialApp.DoesNotExist (a 500).
        try:
            return super().get_app(request, provider, client_id=client_id)
        except SocialApp.DoesNotExist:
            raise Http404("Single sign-on with this provider is not set up in this shop.") from None

    def pre_social_login(self, request, sociallogin) -> None:

        if sociallogin.is_existing:
            # Linked before (by a verified match); a deactivated person stays out.
            if not sociallogin.user.is_active:
                self._refuse(request, sociallogin, "This staff account has been deactivated.")
            return
        verified = sorted(
            {e.email.strip().lower() for e in sociallogin.email_addresses if e.verified and e.email}
        )
        if not verified:
            self._refuse(
                request, sociallogin, "Your provider did not confirm an e-mail address for this account."
            )
        match = Q()
        for email in verified:
            match |= Q(email__iexact=email)
        people = list(User.objects.filter(match).order_by("-is_active", "pk")[:2])
        if request.user.is_authenticated and sociallogin.state.get("process") == "connect":
            # Linking a provider to the account one is logged in to: only one's own address.
            if request.user not in people:
                self._refuse(
                    request, sociallogin, "This account's e-mail address is not the one on your staff account."
                )
            return
        if not people:
            self._refuse(
                request,
                sociallogin,
                "No member of staff uses this e-mail address. Ask the shop owner or a manager to add it "
                "to your staff account, then try again.",
            )
        user = people[0]
        if not user.is_active:
            self._refuse(request, sociallogin, "This staff account has been deactivated.")
        sociallogin.connect(request, user)

    def _refuse(self, request, sociallogin, reason: str) -> None:

        provider = getattr(getattr(sociallogin, "account", None), "provider", "") or ""
        emails = [e.email for e in getattr(sociallogin, "email_addresses", []) if e.email][:3]
        audit_record(
            action=SSO_REFUSED,
            model_name="pos.User",
            reason=reason,
            after={"provider": provider, "emails": emails},
            request=request,
        )
        response = render(request, "account/sso_refused.html", {"reason": reason}, status=403)
        raise ImmediateHttpResponse(response)


class MFAAdapter(DefaultMFAAdapter):
    def get_public_key_credential_rp_entity(self) -> dict:
        entity = super().get_public_key_credential_rp_entity()
        entity["name"] = getattr(settings, "SHOP_NAME", entity.get("name"))
        return entity

    def get_public_key_credential_user_entity(self, user) -> dict:
        # The passkey picker on a shared tablet shows who each passkey belongs to.
        entity = super().get_public_key_credential_user_entity(user)
        entity["name"] = user.phone_number
        entity["display_name"] = user.full_name or user.phone_number
        return entity

    def generate_authenticator_name(self, user, type) -> str:
        if type == Authenticator.Type.WEBAUTHN:
            count = Authenticator.objects.filter(user_id=user.pk, type=type).count()
            return "This tablet" if count == 0 else f"Device {count + 1}"
        return super().generate_authenticator_name(user, type)
