"""Template helpers of the till: amounts, quantities, and an include that may not exist yet."""

from decimal import Decimal, InvalidOperation

from django import template
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse

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


# A line id no cart holds, to find where the id sits in a reversed URL.
LINE_ID_PLACEHOLDER = 2_147_483_647
CART_LINE_URLS = ("line_quantity", "line_edit", "line_remove")


@register.simple_tag
def cart_line_urls() -> dict[str, tuple[str, str]]:
    """The cart's per-line URLs, each reversed once per render as the text before and after the line id:
    a 50-line cart used to reverse eight URLs per line (`{% url %}` each time)."""
    urls = {}
    for name in CART_LINE_URLS:
        before, _, after = reverse(f"till:{name}", args=[LINE_ID_PLACEHOLDER]).rpartition(str(LINE_ID_PLACEHOLDER))
        urls[name] = (before, after)
    return urls


@register.filter
def for_line(url: tuple[str, str], line_id) -> str:
    """{{ line_urls.line_edit|for_line:line.pk }}: that URL for this line (`cart_line_urls`)."""
    before, after = url
    return f"{before}{int(line_id)}{after}"


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
