"""One lockout for every way in: the web login, `/api/token/`, passkeys and the till PIN.

Failed attempts are counted per account (the phone number typed, the passkey's owner, the manager whose
PIN was typed) and per trusted client address (`core.ops.client_address`), with the same limits and the
same audit rows whichever door was tried:

- `LOGIN_LOCKOUT_ACCOUNT_FAILURES` failures on one account within `LOGIN_LOCKOUT_MINUTES` lock that
  account, whichever way in is tried next (the right password, a passkey or the PIN too);
- `LOGIN_LOCKOUT_ADDRESS_FAILURES` failures from one address lock that address (loose: a shop's tablets
  share one public address).

Every failure is a `login_failed` audit row saying which way in ("web", "api token", "passkey", "till PIN");
every refused attempt while locked is a `login_rate_limited` row. The counters live in the cache (Redis
in production, shared by every app server); a lock ends by itself when its window runs out.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

from core.ops.client_address import client_address
from core.phone import phone_or_none
from pos.people.audit import AuditAction, audit_record
from pos.people.models import User

LOGIN_RATE_LIMITED = "login_rate_limited"
LOCKED_MESSAGE = "Too many failed login attempts. Try again later."

WEB, API, PASSKEY, PIN = "web", "api token", "passkey", "till PIN"


def _window() -> int:
    return int(settings.LOGIN_LOCKOUT_MINUTES) * 60


def account_key(*, phone: str | None = None, user: User | None = None) -> str | None:
    """Accounts are counted by their phone number (also for numbers nobody has: guessing them is counted)."""
    if user is not None and user.phone_number:
        return user.phone_number
    return phone_or_none(phone or "")


def _counters(*, account: str | None, address: str | None) -> list[tuple[str, int]]:
    counters = []
    if account:
        counters.append((f"lockout:account:{account}", int(settings.LOGIN_LOCKOUT_ACCOUNT_FAILURES)))
    if address:
        counters.append((f"lockout:address:{address}", int(settings.LOGIN_LOCKOUT_ADDRESS_FAILURES)))
    return counters


def is_locked(*, request, account: str | None) -> bool:
    """True when this account or this client address has had too many failures lately."""
    counters = _counters(account=account, address=client_address(request))
    values = cache.get_many([key for key, _ in counters])
    return any((values.get(key) or 0) >= limit for key, limit in counters)


def refuse_if_locked(*, request, account: str | None, channel: str) -> bool:
    """Check before trying a password, passkey or PIN; a refusal is audited. Returns True if refused."""
    if not is_locked(request=request, account=account):
        return False
    user = User.objects.filter(phone_number=account).first() if account else None
    audit_record(
        action=LOGIN_RATE_LIMITED,
        model_name="pos.User",
        object_id=user.pk if user else "",
        branch=user.branch_id if user else None,
        reason="too many failed logins",
        after={"phone_number": account or "", "way_in": channel},
        request=request,
    )
    return True


def record_failure(*, request, account: str | None, channel: str, typed: str = "") -> None:
    """One more failure on the account's and the address's counters, and its audit row."""
    user = User.objects.filter(phone_number=account).first() if account else None
    if user is None:
        reason = "unknown phone number" if channel in (WEB, API) else "unknown account"
    elif not user.is_active:
        reason = "deactivated account"
    else:
        reason = {PASSKEY: "passkey not accepted", PIN: "wrong till PIN"}.get(channel, "wrong password")
    audit_record(
        action=AuditAction.LOGIN_FAILED,
        model_name="pos.User",
        object_id=user.pk if user else "",
        branch=user.branch_id if user else None,
        reason=reason,
        after={"phone_number": account or str(typed)[:20], "way_in": channel},
        request=request,
    )
    window = _window()
    for key, _limit in _counters(account=account, address=client_address(request)):
        cache.add(key, 0, timeout=window)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)


def record_success(*, account: str | None) -> None:
    """A right password/passkey/PIN clears the account's count (not the address's)."""
    if account:
        cache.delete(f"lockout:account:{account}")
