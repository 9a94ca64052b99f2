"""Formatting of report cells: KES with thousands separators, quantities without trailing zeros."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def cell(row: dict, key: str):
    return row.get(key) if isinstance(row, dict) else None


@register.filter
def money(value) -> str:
    if value is None or value == "":
        return ""
    return f"{Decimal(value):,.2f}"


@register.filter
def qty(value) -> str:
    if value is None or value == "":
        return ""
    value = Decimal(value)
    if value == value.to_integral_value():
        return f"{value:,.0f}"
    return f"{value.normalize():,f}"


@register.filter
def intcomma_plain(value) -> str:
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)
