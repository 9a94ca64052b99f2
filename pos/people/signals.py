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
from pos.people import lockout
from pos.people.audit import AuditAction, audit_record
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
def _count_login_failed(sender, credentials, request=None, **kwargs):
    """A wrong phone number or password, on the web login or the API token: counted and audited once."""
    typed = credentials.get("phone") or credentials.get("phone_number") or credentials.get("username") or ""
    channel = lockout.API if request is not None and request.path.startswith("/api/") else lockout.WEB
    lockout.record_failure(
        request=request, account=lockout.account_key(phone=typed), channel=channel, typed=str(typed)
    )


@receiver(user_logged_in)
def _clear_login_failures(sender, request, user, **kwargs):
    lockout.record_success(account=lockout.account_key(user=user))


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
