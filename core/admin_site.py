"""The Django admin is for owners only.

Its changelists are not scoped to branches the way the shop's pages are (`core.branches`), so a manager
of one branch would read every branch's expenses, purchases, stock movements, audit log and staff there.
Managers do everything on the shop's own pages; the owner keeps the admin for repairs. This is the one
place that decides who may use it (the admin's `has_permission`).
"""

from functools import wraps

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import PermissionDenied

from core.roles import Role


def may_use_admin(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and getattr(user, "role", None) == Role.OWNER)


class OwnersAdminSite(admin.AdminSite):
    def has_permission(self, request) -> bool:
        return may_use_admin(request.user)

    def admin_view(self, view, cacheable=False):
        # Someone logged in who may not use the admin gets the 403 page: the admin's own answer (its login
        # page) sends them to the shop's login, which sends a logged-in person straight back: a loop.
        inner = super().admin_view(view, cacheable)

        @wraps(view)
        def guarded(request, *args, **kwargs):
            if request.user.is_authenticated and not self.has_permission(request):
                raise PermissionDenied
            return inner(request, *args, **kwargs)

        return guarded


class OwnersAdminConfig(AdminConfig):
    default_site = "core.admin_site.OwnersAdminSite"
