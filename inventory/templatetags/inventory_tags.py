"""Template helpers of the stock pages: quantities and amounts as people write them, badges."""

from decimal import Decimal

from django import template
from django.utils.html import format_html

from inventory.selectors import open_alert_badge_count

register = template.Library()


@register.filter
def qty(value) -> str:
    """12.000 → 12, 0.500 → 0.5, -2 → −2 (a real minus sign)."""
    if value is None or value == "":
        return "—"
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    text = f"{value.normalize():f}"
    return text.replace("-", "−")


@register.filter
def signed_qty(value) -> str:
    if value is None:
        return "—"
    text = qty(value)
    return text if value <= 0 else f"+{text}"


@register.filter
def kes(value) -> str:
    """1250.5 → 1,250.50"""
    if value is None or value == "":
        return "—"
    return f"{Decimal(value):,.2f}"


STATE_BADGES = {
    "in": ("success", "In stock"),
    "low": ("warning", "Low"),
    "out": ("danger", "Out"),
    "untracked": ("secondary", "Not tracked"),
    "LOW": ("warning", "Low stock"),
    "OUT": ("danger", "Out of stock"),
}


@register.simple_tag
def state_badge(state: str):
    colour, label = STATE_BADGES.get(state, ("secondary", state))
    text = "text-bg-warning" if colour == "warning" else f"text-bg-{colour}"
    return format_html('<span class="badge {}">{}</span>', text, label)


STATUS_COLOURS = {
    "PENDING": "warning",
    "APPROVED": "success",
    "REJECTED": "secondary",
    "DRAFT": "secondary",
    "ORDERED": "primary",
    "PARTLY_RECEIVED": "info",
    "RECEIVED": "success",
    "CANCELLED": "dark",
    "IN_TRANSIT": "info",
    "OPEN": "primary",
    "POSTED": "success",
    "PREVIEW": "secondary",
    "QUEUED": "info",
    "RUNNING": "info",
    "DONE": "success",
    "FAILED": "danger",
}


@register.simple_tag
def status_badge(obj):
    colour = STATUS_COLOURS.get(obj.status, "secondary")
    return format_html('<span class="badge text-bg-{}">{}</span>', colour, obj.get_status_display())


@register.inclusion_tag("inventory/_alert_badge.html", takes_context=True)
def stock_alert_badge(context):
    """The open-alerts count in the top bar, for people who may see alerts (counted once per page)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.has_perm("inventory.view_stockalert"):
        return {"show": False}

    return {"show": True, "count": open_alert_badge_count(viewer=user)}
