"""Reads for people, branches and settings."""

from django.core.cache import cache
from django.db.models import QuerySet

from .models import AuditLog, Branch, ShopSettings, User
from .roles import Perm, Role

SHOP_SETTINGS_CACHE_KEY = "pos:shop_settings:v1"


def shop_settings() -> ShopSettings:
    """The shop's settings, cached for a minute; `shop_settings_update` clears the cache."""
    obj = cache.get(SHOP_SETTINGS_CACHE_KEY)
    if obj is None:
        obj = ShopSettings.load()
        cache.set(SHOP_SETTINGS_CACHE_KEY, obj, 60)
    return obj


def branches_visible_to(user: User) -> QuerySet[Branch]:
    qs = Branch.objects.filter(is_active=True)
    if user.has_perm(Perm.ALL_BRANCHES):
        return qs
    return qs.filter(pk=user.branch_id)


def staff_list(*, viewer: User, query: str = "", role: str = "", active: str = "") -> QuerySet[User]:
    qs = User.objects.select_related("branch").order_by("-is_active", "full_name")
    if not viewer.has_perm(Perm.ALL_BRANCHES):
        qs = qs.filter(branch_id=viewer.branch_id)
    if query:
        from django.db.models import Q

        qs = qs.filter(Q(full_name__icontains=query) | Q(phone_number__icontains=query.replace(" ", "")) | Q(email__icontains=query))
    if role in Role.values:
        qs = qs.filter(role=role)
    if active == "yes":
        qs = qs.filter(is_active=True)
    elif active == "no":
        qs = qs.filter(is_active=False)
    return qs


def audit_log_list(*, viewer: User) -> QuerySet[AuditLog]:
    qs = AuditLog.objects.select_related("user", "authorised_by", "branch")
    if not viewer.has_perm(Perm.ALL_BRANCHES):
        qs = qs.filter(branch_id=viewer.branch_id)
    return qs
