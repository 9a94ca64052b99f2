"""Audit rows for logins, failed logins, logouts and passkeys; the shop settings' cache after a restore.

Django's auth signals and allauth.mfa's authenticator signals are the only hooks for these; each
receiver records one row and changes nothing else.
"""

from allauth.account.internal.flows.login import get_authentication_records
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added, authenticator_removed
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.cache import cache
from django.dispatch import receiver

from core.ops.backup import restored
from core.phone import phone_or_none
from pos.people.audit import AuditAction, audit_record
from pos.people.models import User
from pos.people.selectors import SHOP_SETTINGS_CACHE_KEY

PASSKEY_ADDED = "passkey_added"
PASSKEY_REMOVED = "passkey_removed"


def _login_method(request, user) -> str:
    """How this login was proven: password, passkey or a single sign-on provider."""

    records = get_authentication_records(request, user) if request is not None else []
    if not records:
        return "password"
    last = records[-1]
    if last.get("method") == "mfa" and last.get("passwordless"):
        return "passkey"
    if last.get("method") == "socialaccount":
        return f"single sign-on ({last.get('provider', '')})"
    return str(last.get("method") or "password")


@receiver(user_logged_in)
def _audit_login(sender, request, user, **kwargs):
    audit_record(
        action=AuditAction.LOGIN,
        user=user,
        instance=user,
        request=request,
        after={"method": _login_method(request, user)},
    )


@receiver(user_logged_out)
def _audit_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(action=AuditAction.LOGOUT, user=user, instance=user, request=request)


@receiver(user_login_failed)
def _audit_login_failed(sender, credentials, request=None, **kwargs):

    typed = credentials.get("phone") or credentials.get("phone_number") or credentials.get("username") or ""
    phone = phone_or_none(typed) if typed else None
    user = User.objects.filter(phone_number=phone).first() if phone else None
    if user is None:
        reason = "unknown phone number"
    elif not user.is_active:
        reason = "deactivated account"
    else:
        reason = "wrong password"
    audit_record(
        action=AuditAction.LOGIN_FAILED,
        model_name="pos.User",
        object_id=user.pk if user else "",
        branch=user.branch_id if user else None,
        reason=reason,
        after={"phone_number": phone or str(typed)[:20]},
        request=request,
    )


def _passkey_audit(action: str, request, user, authenticator) -> None:
    if authenticator.type != Authenticator.Type.WEBAUTHN:
        return
    audit_record(
        action=action,
        user=user,
        instance=user,
        request=request,
        after={"name": str(authenticator), "passwordless": authenticator.wrap().is_passwordless},
    )


@receiver(authenticator_added)
def _audit_passkey_added(sender, request, user, authenticator, **kwargs):
    _passkey_audit(PASSKEY_ADDED, request, user, authenticator)


@receiver(authenticator_removed)
def _audit_passkey_removed(sender, request, user, authenticator, **kwargs):
    _passkey_audit(PASSKEY_REMOVED, request, user, authenticator)


@receiver(restored, dispatch_uid="asiria-shop-settings-after-restore")
def forget_shop_settings(sender, **kwargs) -> None:
    """A restored database may hold other settings than the cached ones."""
    cache.delete(SHOP_SETTINGS_CACHE_KEY)
