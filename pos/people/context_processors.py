"""What every page header shows: the shop's name, the user's branch, and their role's menu."""

from django.conf import settings
from django.db import DatabaseError

from pos.people.selectors import shop_settings


def shop(request):

    user = getattr(request, "user", None)
    ctx = {"SHOP_NAME": settings.SHOP_NAME}
    try:
        ctx["SHOP_NAME"] = shop_settings().shop_name
    except DatabaseError:  # a fresh database before migrate, or the database is down
        pass
    if user is not None and user.is_authenticated:
        ctx["current_branch"] = user.branch
    return ctx
