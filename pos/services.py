"""Writes for people and settings: staff accounts, roles, passwords, till PINs."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .audit import AuditAction, audit_record
from .base import DomainError
from .models import Branch, ShopSettings, User
from .phone import normalize_phone
from .roles import Perm, Role, roles_a_user_may_assign
from .selectors import SHOP_SETTINGS_CACHE_KEY


class StaffError(DomainError):
    """A staff change that the rules forbid (a manager touching an owner, the last owner leaving…)."""


PIN_LENGTHS = range(4, 7)


def _check_may_manage(*, actor: User, target_role: str, target: User | None = None) -> None:
    if not actor.has_perm(Perm.MANAGE_STAFF):
        raise StaffError("You may not manage staff.")
    if target_role not in roles_a_user_may_assign(actor.role):
        raise StaffError("Only an owner can make someone an owner.", field="role")
    if target is not None:
        if target.role == Role.OWNER and not actor.has_perm(Perm.MANAGE_OWNERS):
            raise StaffError("Only an owner can change an owner's account.")
        if not actor.has_perm(Perm.ALL_BRANCHES) and target.branch_id != actor.branch_id:
            raise StaffError("This person works at another branch.")


def _check_branch(*, actor: User, branch: Branch) -> None:
    if not actor.has_perm(Perm.ALL_BRANCHES) and branch.pk != actor.branch_id:
        raise StaffError("You can only add staff to your own branch.", field="branch")


def _staff_snapshot(user: User) -> dict:
    return {
        "phone_number": user.phone_number,
        "full_name": user.full_name,
        "email": user.email,
        "role": user.role,
        "branch": user.branch_id,
        "is_active": user.is_active,
    }


def _remaining_active_owners(exclude: User) -> int:
    return User.objects.filter(role=Role.OWNER, is_active=True).exclude(pk=exclude.pk).count()


@transaction.atomic
def staff_create(
    *,
    actor: User,
    phone_number: str,
    full_name: str,
    role: str,
    branch: Branch,
    password: str,
    email: str | None = None,
    request=None,
) -> User:
    _check_may_manage(actor=actor, target_role=role)
    _check_branch(actor=actor, branch=branch)
    phone_number = normalize_phone(phone_number)
    if User.objects.filter(phone_number=phone_number).exists():
        raise StaffError("Someone already has this number.", field="phone_number")
    user = User(
        phone_number=phone_number,
        full_name=full_name.strip(),
        email=(email or "").strip().lower() or None,
        role=role,
        branch=branch,
        is_superuser=role == Role.OWNER,
    )
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise StaffError(" ".join(exc.messages), field="password") from exc
    user.set_password(password)
    user.full_clean()
    user.save()
    audit_record(
        action=AuditAction.STAFF_CREATED, user=actor, instance=user, after=_staff_snapshot(user), request=request
    )
    return user


@transaction.atomic
def staff_update(
    *,
    actor: User,
    user: User,
    full_name: str,
    role: str,
    branch: Branch,
    email: str | None = None,
    phone_number: str | None = None,
    request=None,
) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    _check_may_manage(actor=actor, target_role=role, target=user)
    _check_branch(actor=actor, branch=branch)
    before = _staff_snapshot(user)
    if user.role == Role.OWNER and role != Role.OWNER and user.is_active and _remaining_active_owners(user) == 0:
        raise StaffError("The shop must keep at least one active owner.", field="role")
    if user.pk == actor.pk and role != actor.role:
        raise StaffError("You cannot change your own role.", field="role")
    user.full_name = full_name.strip()
    user.email = (email or "").strip().lower() or None
    user.role = role
    user.is_superuser = role == Role.OWNER
    user.branch = branch
    if phone_number:
        phone_number = normalize_phone(phone_number)
        if User.objects.filter(phone_number=phone_number).exclude(pk=user.pk).exists():
            raise StaffError("Someone already has this number.", field="phone_number")
        user.phone_number = phone_number
    user.full_clean()
    user.save()
    after = _staff_snapshot(user)
    if before["role"] != after["role"]:
        audit_record(
            action=AuditAction.ROLE_CHANGED,
            user=actor,
            instance=user,
            before={"role": before["role"]},
            after={"role": after["role"]},
            request=request,
        )
    if before != after:
        audit_record(
            action=AuditAction.STAFF_UPDATED, user=actor, instance=user, before=before, after=after, request=request
        )
    return user


@transaction.atomic
def staff_set_active(*, actor: User, user: User, active: bool, reason: str = "", request=None) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    _check_may_manage(actor=actor, target_role=user.role, target=user)
    if user.is_active == active:
        return user
    if not active:
        if user.pk == actor.pk:
            raise StaffError("You cannot deactivate yourself.")
        if user.role == Role.OWNER and _remaining_active_owners(user) == 0:
            raise StaffError("The shop must keep at least one active owner.")
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit_record(
        action=AuditAction.STAFF_REACTIVATED if active else AuditAction.STAFF_DEACTIVATED,
        user=actor,
        instance=user,
        reason=reason,
        before={"is_active": not active},
        after={"is_active": active},
        request=request,
    )
    return user


@transaction.atomic
def staff_reset_password(*, actor: User, user: User, password: str, request=None) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    _check_may_manage(actor=actor, target_role=user.role, target=user)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise StaffError(" ".join(exc.messages), field="password") from exc
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(action=AuditAction.PASSWORD_RESET, user=actor, instance=user, request=request)
    return user


def _validate_pin(pin: str) -> None:
    if not pin.isdigit() or len(pin) not in PIN_LENGTHS:
        raise StaffError("A till PIN is 4 to 6 digits.", field="pin")
    if len(set(pin)) == 1 or pin in "0123456789" or pin in "9876543210":
        raise StaffError("Choose a PIN that is not a run or a repeated digit.", field="pin")


@transaction.atomic
def staff_set_pin(*, actor: User, user: User, pin: str, request=None) -> User:
    """Set a till PIN (stored hashed). Anyone may set their own; managers set their staff's."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.pk != actor.pk:
        _check_may_manage(actor=actor, target_role=user.role, target=user)
    _validate_pin(pin)
    user.till_pin = make_password(pin)
    user.pin_failed_attempts = 0
    user.pin_locked_until = None
    user.save(update_fields=["till_pin", "pin_failed_attempts", "pin_locked_until"])
    audit_record(action=AuditAction.PIN_SET, user=actor, instance=user, request=request)
    return user


class PinError(DomainError):
    pass


def staff_verify_pin(*, user: User, pin: str, request=None) -> User:
    """Check a till PIN; lock the PIN after too many failures (counted across requests)."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        now = timezone.now()
        if not user.is_active:
            raise PinError("This account is not active.", field="pin")
        if user.pin_locked_until and user.pin_locked_until > now:
            minutes = max(1, int((user.pin_locked_until - now).total_seconds() // 60) + 1)
            raise PinError(f"Too many wrong PINs. Try again in {minutes} minutes.", field="pin", code="locked")
        if not user.till_pin:
            raise PinError("This person has no till PIN yet.", field="pin")
        if check_password(pin or "", user.till_pin):
            if user.pin_failed_attempts:
                user.pin_failed_attempts = 0
                user.pin_locked_until = None
                user.save(update_fields=["pin_failed_attempts", "pin_locked_until"])
            return user
        user.pin_failed_attempts += 1
        locked = user.pin_failed_attempts >= settings.TILL_PIN_MAX_FAILURES
        if locked:
            user.pin_locked_until = now + timedelta(minutes=settings.TILL_PIN_LOCKOUT_MINUTES)
            user.pin_failed_attempts = 0
        user.save(update_fields=["pin_failed_attempts", "pin_locked_until"])
        if locked:
            audit_record(action=AuditAction.PIN_LOCKED, user=user, instance=user, request=request)
    if locked:
        raise PinError("Too many wrong PINs: the PIN is locked for a while.", field="pin", code="locked")
    raise PinError("Wrong PIN.", field="pin")


@transaction.atomic
def shop_settings_update(*, actor: User, data: dict, request=None) -> ShopSettings:
    if not actor.has_perm(Perm.CHANGE_SHOP_SETTINGS):
        raise StaffError("Only an owner can change the shop's settings.")
    obj = ShopSettings.objects.select_for_update().get(pk=1)
    before = {k: getattr(obj, k) for k in data}
    for key, value in data.items():
        setattr(obj, key, value)
    obj.full_clean()
    obj.save()
    cache.delete(SHOP_SETTINGS_CACHE_KEY)
    audit_record(
        action=AuditAction.SETTINGS_CHANGED, user=actor, instance=obj, before=before, after=dict(data), request=request
    )
    return obj
