"""Template helpers of the till: amounts, quantities, and an include that may not exist yet."""

from decimal import Decimal, InvalidOperation

from django import template
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

from inventory.models import tax_label as label

register = template.Library()


@register.filter
def kes(value) -> str:
    """12,345.60 — thousands separated, always two places (the amount the receipt prints)."""
    if value in (None, ""):
        return ""
    try:
        return f"{Decimal(value):,.2f}"
    except (InvalidOperation, ValueError, TypeError):
        return str(value)


@register.filter
def qty(value) -> str:
    """2 rather than 2.000, 0.75 rather than 0.750."""
    if value in (None, ""):
        return ""
    try:
        value = Decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        return str(value)
    text = f"{value.normalize():f}"
    return text


@register.simple_tag(takes_context=True)
def include_if_exists(context, template_name: str):
    """Render `template_name` with the current context, or nothing when no app provides it yet.

    The till's pay panel leaves `cashdesk/partials/pay_methods_extra.html` to the cash desk (M-Pesa).
    """
    try:
        found = get_template(template_name)
    except TemplateDoesNotExist:
        return ""
    return found.render(context.flatten(), context.get("request"))


@register.filter
def plus(value, other) -> Decimal:
    """Decimal addition (Django's `add` turns 10.50 into 10 by trying int() first)."""
    return Decimal(value or 0) + Decimal(other or 0)


@register.filter
def words(value: str) -> str:
    """price_override → Price override."""
    text = str(value or "").replace("_", " ")
    return text[:1].upper() + text[1:]


@register.filter
def tax_label(tax_class: str, rate=None) -> str:
    """{{ row.tax_class|tax_label:row.rate }} → "A Exempt", "B 16%", "C 0%" (see inventory.models.tax_label)."""

    try:
        return label(str(tax_class), rate)
    except (InvalidOperation, ValueError, TypeError):
        return str(tax_class)
