"""Template helpers of the analytics and notification pages: percentages and the nav's bell badge."""

from decimal import ROUND_HALF_UP, Decimal

from django import template

from reports.notifications.services import unread_count

register = template.Library()


@register.filter
def percent(value, places: int = 1) -> str:
    """0.12345 → 12.3 (a share shown as a percentage)."""
    if value is None or value == "":
        return "—"
    step = Decimal(1).scaleb(-int(places))
    return f"{(Decimal(value) * 100).quantize(step, rounding=ROUND_HALF_UP)}"


@register.inclusion_tag("reports/notifications/_badge.html", takes_context=True)
def notification_badge(context):
    """The bell in the top bar with the number of unread notifications (one COUNT query)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}

    return {"show": True, "unread": unread_count(user=user)}
