"""Template filters of the cash desk: KES amounts as people read them."""

from decimal import Decimal, InvalidOperation

from django import template
from django.template.loader import render_to_string

from cashdesk.mpesa.views import panel_context
from cashdesk.selectors import purchase_amount_owed
from core.phone import format_phone_local, phone_or_none

register = template.Library()


@register.filter
def kes(value) -> str:
    """`1380` / "1380.00" / Decimal → "1,380.00"; negative amounts keep their minus sign; None → "—"."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return str(value)
    sign = "−" if amount < 0 else ""
    return f"{sign}{abs(amount):,.2f}"


@register.filter
def over_short(value) -> str:
    """A counted-minus-expected difference in words: "KES 50.00 over", "KES 20.00 short", "exact"."""
    if value is None or value == "":
        return "—"
    amount = Decimal(str(value))
    if amount == 0:
        return "exact"
    return f"KES {abs(amount):,.2f} {'over' if amount > 0 else 'short'}"


@register.filter
def sign_class(value) -> str:
    if value is None or value == "":
        return "text-muted"
    amount = Decimal(str(value))
    return "text-success" if amount > 0 else "text-danger" if amount < 0 else "text-muted"


@register.filter
def kes_out(value) -> str:
    """Money going out, shown with a minus sign unless it is zero: "−40.00", "0.00"."""
    if value is None or value == "":
        return "—"
    amount = Decimal(str(value))
    return kes(-amount) if amount else kes(amount)


@register.filter
def local_phone(value) -> str:
    """`254708374149` / `+254708374149` → `0708 374 149`."""

    e164 = phone_or_none(str(value or ""))
    return format_phone_local(e164) if e164 else str(value or "")


@register.simple_tag(takes_context=True)
def mpesa_pay_panel(context, sale):
    """The M-Pesa block of the till's pay panel for `sale` (see cashdesk/mpesa_panel.html#panel)."""

    request = context.get("request")
    return render_to_string(
        "cashdesk/mpesa_panel.html#panel",
        panel_context(sale=sale, user=getattr(request, "user", None), in_till=True),
        request=request,
    )


@register.simple_tag
def purchase_owed(purchase) -> Decimal:
    """`{% purchase_owed purchase as owed %}`: what the shop still owes the supplier on a purchase."""

    return purchase_amount_owed(purchase=purchase)
