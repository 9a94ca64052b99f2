"""Reads for people, branches and settings."""

import re

from django.core.cache import cache
from django.db.models import Q, QuerySet

from core.branches import for_viewer
from core.roles import Perm, Role, role_has_perm
from pos.people.models import AuditLog, Branch, ShopSettings, User

SHOP_SETTINGS_CACHE_KEY = "pos:shop_settings:v3"


def shop_settings() -> ShopSettings:
    """The shop's settings, cached for a minute; `shop_settings_update` clears the cache."""
    obj = cache.get(SHOP_SETTINGS_CACHE_KEY)
    if obj is None:
        obj = ShopSettings.load()
        cache.set(SHOP_SETTINGS_CACHE_KEY, obj, 60)
    return obj


def branches_visible_to(user: User) -> QuerySet[Branch]:
    return for_viewer(Branch.objects.filter(is_active=True), user, field="pk")


def staff_list(*, viewer: User, query: str = "", role: str = "", active: str = "") -> QuerySet[User]:
    """Staff the viewer may see (their branch unless they see all), searched and filtered.

    `query` matches name, e-mail or phone number however it is typed (`0712 345`, `254712`, `+254 712`).
    `active` is "yes" (default view), "no" or anything else for everyone.
    """
    qs = User.objects.select_related("branch").order_by("-is_active", "full_name")
    qs = for_viewer(qs, viewer)
    query = (query or "").strip()
    if query:
        match = Q(full_name__icontains=query) | Q(email__icontains=query)
        digits = re.sub(r"\D", "", query)
        if digits:
            if digits.startswith("254"):
                digits = digits[3:]
            elif digits.startswith("0"):
                digits = digits[1:]
            if digits:
                match |= Q(phone_number__contains=digits)
        qs = qs.filter(match)
    if role in Role.values:
        qs = qs.filter(role=role)
    if active == "yes":
        qs = qs.filter(is_active=True)
    elif active == "no":
        qs = qs.filter(is_active=False)
    return qs


def staff_visible_to(viewer: User) -> QuerySet[User]:
    """Everyone whose name the viewer may see in a filter or a list."""
    qs = User.objects.order_by("full_name")
    qs = for_viewer(qs, viewer)
    return qs


def audit_log_list(*, viewer: User) -> QuerySet[AuditLog]:
    qs = AuditLog.objects.select_related("user", "authorised_by", "branch")
    qs = for_viewer(qs, viewer)
    return qs




def authorisers_for(*, user: User, perm: str) -> QuerySet[User]:
    """Who may type their PIN on this cashier's tablet for `perm`: active, with a PIN, of the
    cashier's branch (or seeing every branch), never the cashier themselves."""
    roles = [role for role in Role.values if role_has_perm(role, perm)]
    everywhere = [role for role in roles if role_has_perm(role, Perm.ALL_BRANCHES)]
    return (
        User.objects.filter(is_active=True, role__in=roles)
        .exclude(till_pin="")
        .exclude(pk=user.pk)
        .filter(Q(branch_id=user.branch_id) | Q(role__in=everywhere))
        .order_by("full_name")
    )
