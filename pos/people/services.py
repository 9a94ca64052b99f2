"""Writes for people and settings: staff accounts, roles, passwords, till PINs."""

import re
from datetime import timedelta

from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.branches import may_use_branch
from core.errors import DomainError
from core.ops.client_address import client_address
from core.phone import normalize_phone
from core.roles import Perm, Role, roles_a_user_may_assign
from pos.people import lockout
from pos.people.audit import AuditAction, audit_record
from pos.people.models import Branch, ShopSettings, User
from pos.people.selectors import SHOP_SETTINGS_CACHE_KEY


class StaffError(DomainError):
    """A staff change that the rules forbid (a manager touching an owner, the last owner leaving…)."""


PIN_LENGTHS = range(4, 7)


def _check_may_manage(*, actor: User, target_role: str, target: User | None = None) -> None:
    """The rules every staff change passes: may manage staff, may touch this person, may give this role."""
    if not actor.is_active or not actor.has_perm(Perm.MANAGE_STAFF):
        raise StaffError("You may not manage staff.")
    if target is not None:
        if target.role == Role.OWNER and not actor.has_perm(Perm.MANAGE_OWNERS):
            raise StaffError("Only an owner can change an owner's account.")
        if not may_use_branch(actor, target.branch_id):
            raise StaffError("This person works at another branch.")
    if target_role not in Role.values:
        raise StaffError("Choose a role: Owner, Manager or Employee.", field="role")
    if target_role not in roles_a_user_may_assign(actor.role):
        raise StaffError("Only an owner can make someone an owner.", field="role")


def _check_branch(*, actor: User, branch: Branch | None) -> None:
    if branch is None or not branch.is_active:
        raise StaffError("Choose an open branch.", field="branch")
    if not may_use_branch(actor, branch.pk):
        raise StaffError("You can only choose your own branch.", field="branch")


def _staff_snapshot(user: User) -> dict:
    return {
        "phone_number": user.phone_number,
        "full_name": user.full_name,
        "email": user.email,
        "role": user.role,
        "branch": user.branch_id,
        "is_active": user.is_active,
    }


def _lock_with_owners(user: User) -> tuple[User, int]:
    """Lock the person and every active owner (in pk order, one query) and count the other owners.

    Two owners demoting or deactivating each other at the same moment queue on these locks, so the
    shop can never be left without an active owner.
    """
    rows = list(
        User.objects.select_for_update()
        .filter(Q(pk=user.pk) | Q(role=Role.OWNER, is_active=True))
        .order_by("pk")
    )
    target = next(row for row in rows if row.pk == user.pk)
    other_owners = sum(1 for row in rows if row.pk != user.pk and row.role == Role.OWNER and row.is_active)
    return target, other_owners


def _clean_email(email: str | None) -> str | None:
    return (email or "").strip().lower() or None


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password or "", user)
    except ValidationError as exc:
        raise StaffError(" ".join(exc.messages), field="password") from exc


def _save_staff(user: User) -> None:
    """Validate and save; a duplicate that slipped past the checks (two managers at once) is a form error."""
    try:
        user.full_clean()
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        if User.objects.filter(phone_number=user.phone_number).exclude(pk=user.pk).exists():
            raise StaffError("Someone already has this number.", field="phone_number") from exc
        raise StaffError("Someone already uses this e-mail address.", field="email") from exc


def _check_unique(*, phone_number: str, email: str | None, exclude_pk: int | None = None) -> None:
    others = User.objects.exclude(pk=exclude_pk) if exclude_pk else User.objects.all()
    if others.filter(phone_number=phone_number).exists():
        raise StaffError("Someone already has this number.", field="phone_number")
    if email and others.filter(email__iexact=email).exists():
        raise StaffError("Someone already uses this e-mail address.", field="email")


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
    """Add a member of staff. Managers add managers and employees at their own branch; owners anyone."""
    _check_may_manage(actor=actor, target_role=role)
    _check_branch(actor=actor, branch=branch)
    phone_number = normalize_phone(phone_number)
    email = _clean_email(email)
    _check_unique(phone_number=phone_number, email=email)
    user = User(
        phone_number=phone_number,
        full_name=(full_name or "").strip(),
        email=email,
        role=role,
        branch=branch,
        is_superuser=role == Role.OWNER,
    )
    _check_password(password, user)
    user.set_password(password)
    _save_staff(user)
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
    """Change a person's details, role or branch. Role changes are audited on their own row."""
    user, other_owners = _lock_with_owners(user)
    _check_may_manage(actor=actor, target_role=role, target=user)
    _check_branch(actor=actor, branch=branch)
    if user.role == Role.OWNER and role != Role.OWNER and user.is_active and other_owners == 0:
        raise StaffError("The shop must keep at least one active owner.", field="role")
    if user.pk == actor.pk and role != user.role:
        raise StaffError("You cannot change your own role. Ask another owner.", field="role")
    before = _staff_snapshot(user)
    phone_number = normalize_phone(phone_number) if phone_number else user.phone_number
    email = _clean_email(email)
    _check_unique(phone_number=phone_number, email=email, exclude_pk=user.pk)
    user.full_name = (full_name or "").strip()
    user.email = email
    user.role = role
    user.is_superuser = role == Role.OWNER
    user.branch = branch
    user.phone_number = phone_number
    _save_staff(user)
    after = _staff_snapshot(user)
    if before["email"] != after["email"]:

        SocialAccount.objects.filter(user=user).delete()
    if before["role"] != after["role"]:
        # What they may do changed: every session and API token of theirs ends.
        User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
        user.refresh_from_db(fields=["token_version"])
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
    """Deactivate (they can no longer log in; history stays) or reactivate a person."""
    user, other_owners = _lock_with_owners(user)
    _check_may_manage(actor=actor, target_role=user.role, target=user)
    if user.is_active == active:
        return user
    if not active:
        if user.role == Role.OWNER and other_owners == 0:
            raise StaffError("The shop must keep at least one active owner.")
        if user.pk == actor.pk:
            raise StaffError("You cannot deactivate yourself.")
    user.is_active = active
    # Every session and API token ends; a reactivation must not bring the old ones back either.
    user.token_version = F("token_version") + 1
    user.save(update_fields=["is_active", "token_version"])
    user.refresh_from_db(fields=["token_version"])
    audit_record(
        action=AuditAction.STAFF_REACTIVATED if active else AuditAction.STAFF_DEACTIVATED,
        user=actor,
        instance=user,
        reason=(reason or "").strip(),
        before={"is_active": not active},
        after={"is_active": active},
        request=request,
    )
    return user


@transaction.atomic
def staff_reset_password(*, actor: User, user: User, password: str, request=None) -> User:
    """A manager sets a new password for someone who forgot theirs (their other sessions end)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    _check_may_manage(actor=actor, target_role=user.role, target=user)
    _check_password(password, user)
    user.set_password(password)  # a new password hash: every session and API token of theirs ends
    user.save(update_fields=["password"])
    audit_record(action=AuditAction.PASSWORD_RESET, user=actor, instance=user, request=request)
    return user


def _validate_pin(pin: str) -> None:
    pin = pin or ""
    # ASCII digits only: str.isdigit() would also let "٣٤٥٦" through, which no till keypad can type.
    if not re.fullmatch(r"[0-9]+", pin) or len(pin) not in PIN_LENGTHS:
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


# The person's account is locked by the one lockout (wrong PINs, passwords or passkeys for them).
PIN_ACCOUNT_LOCKED = "Too many wrong PINs or passwords for this person: try again later."


def _pin_attempt_counters(request) -> list[tuple[str, int]]:
    """The wrong-PIN counters of whoever is typing: the logged-in person and their address."""
    if request is None:
        return []
    counters = []
    typist = getattr(request, "user", None)
    if typist is not None and typist.is_authenticated:
        counters.append((f"till-pin-wrong:user:{typist.pk}", settings.TILL_PIN_RATE_LIMIT))
    ip = client_address(request)
    if ip:
        counters.append((f"till-pin-wrong:ip:{ip}", settings.TILL_PIN_RATE_LIMIT_IP))
    return counters


def _pin_rate_limited(counters) -> bool:
    return any((cache.get(key) or 0) >= limit for key, limit in counters)


def _pin_count_wrong(counters, *, request) -> None:
    """One more wrong PIN on each counter (a fixed window that starts with the first wrong PIN)."""
    window = settings.TILL_PIN_RATE_WINDOW_MINUTES * 60
    for key, limit in counters:
        cache.add(key, 0, timeout=window)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)
            count = 1
        if count == limit:
            typist = getattr(request, "user", None)
            audit_record(
                action=AuditAction.PIN_RATE_LIMITED,
                user=typist if typist is not None and typist.is_authenticated else None,
                reason=f"{limit} wrong till PINs within {settings.TILL_PIN_RATE_WINDOW_MINUTES} minutes",
                request=request,
            )


def staff_verify_pin(*, user: User, pin: str, request=None) -> User:
    """Check a till PIN; lock the PIN after too many failures (counted across requests), and stop
    whoever keeps typing wrong PINs (whichever manager they choose) for a while."""
    account = lockout.account_key(user=user)
    if lockout.refuse_if_locked(request=request, account=account, channel=lockout.PIN):
        raise PinError(PIN_ACCOUNT_LOCKED, field="pin", code="locked")
    counters = _pin_attempt_counters(request)
    if _pin_rate_limited(counters):
        raise PinError(
            f"Too many wrong PINs from this till. Wait {settings.TILL_PIN_RATE_WINDOW_MINUTES} minutes and try again.",
            field="pin",
            code="rate_limited",
        )
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
            lockout.record_success(account=account)
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
    _pin_count_wrong(counters, request=request)
    lockout.record_failure(request=request, account=account, channel=lockout.PIN)
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
