"""The Django admin is for owners only.

Its changelists are not scoped to branches the way the shop's pages are (`core.branches`), so a manager
of one branch would read every branch's expenses, purchases, stock movements, audit log and staff there.
Managers do everything on the shop's own pages; the owner keeps the admin for repairs. This is the one
place that decides who may use it (the admin's `has_permission`).
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig

from core.roles import Role


def may_use_admin(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and getattr(user, "role", None) == Role.OWNER)


class OwnersAdminSite(admin.AdminSite):
    def has_permission(self, request) -> bool:
        return may_use_admin(request.user)


class OwnersAdminConfig(AdminConfig):
    default_site = "core.admin_site.OwnersAdminSite"
