"""Role checks for HTML views: anonymous → login, logged in without the permission → 403.

Every view names the permission it needs; a template hiding a button is never the check.
"""

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect


def login_redirect(request):
    """To the login page and back here afterwards; an htmx request sends the whole page there."""
    login_url = resolve_url(settings.LOGIN_URL)
    if getattr(request, "htmx", False):
        # An htmx fragment request after the session expired: send the whole page to login.
        return HttpResponseClientRedirect(f"{login_url}?next={request.htmx.current_url_abs_path or '/'}")
    return redirect_to_login(request.get_full_path(), login_url)


def require_perm(*perms: str, any_of: bool = False):
    """Decorate a view: the user must be logged in and hold every permission (or any, with any_of)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return login_redirect(request)
            check = any if any_of else all
            if perms and not check(request.user.has_perm(p) for p in perms):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.required_perms = perms  # read by the role-matrix test's sanity check
        return wrapped

    return decorator


def require_login(view):
    """Any active member of staff (the start page, their own password)."""
    return require_perm()(view)
