"""Login, logout and failed-login audit rows. Django's auth signals are the only hook for these."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .audit import AuditAction, audit_record
from .phone import phone_or_none


@receiver(user_logged_in)
def _audit_login(sender, request, user, **kwargs):
    audit_record(
        action=AuditAction.LOGIN, user=user, instance=user, request=request, after={"path": getattr(request, "path", "")}
    )


@receiver(user_logged_out)
def _audit_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(action=AuditAction.LOGOUT, user=user, instance=user, request=request)


@receiver(user_login_failed)
def _audit_login_failed(sender, credentials, request=None, **kwargs):
    from .models import User

    typed = credentials.get("phone") or credentials.get("phone_number") or credentials.get("username") or ""
    phone = phone_or_none(typed) if typed else None
    user = User.objects.filter(phone_number=phone).first() if phone else None
    audit_record(
        action=AuditAction.LOGIN_FAILED,
        model_name="pos.User",
        object_id=user.pk if user else "",
        branch=user.branch_id if user else None,
        reason="wrong password" if user else "unknown phone number",
        after={"phone_number": phone or str(typed)[:20]},
        request=request,
    )
