"""Sale arithmetic: line totals, discounts, VAT included per tax class. Pure functions, no database.

Rules (the shop's): prices include VAT; every amount is rounded half-up to the cent per line; a
cart discount is shared over the lines in proportion to their value (the last line takes the
remainder cent) so VAT per tax class stays right; VAT of a line = total × rate / (100 + rate).
"""

from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal

from core.money import ZERO, money


class DiscountKind:
    AMOUNT = "AMOUNT"
    PERCENT = "PERCENT"
    CHOICES = [(AMOUNT, "KES"), (PERCENT, "%")]


class PricingError(ValueError):
    """A discount or quantity that cannot be priced (bigger than the line, negative…)."""


@dataclass(frozen=True)
class LineInput:
    quantity: Decimal
    unit_price: Decimal
    tax_class: str
    tax_rate: Decimal
    discount_kind: str = ""
    discount_value: Decimal = ZERO


@dataclass
class LineResult:
    gross: Decimal  # quantity × unit price
    line_discount: Decimal
    cart_discount_share: Decimal
    total: Decimal  # what the customer pays for the line
    tax: Decimal  # VAT included in `total`


@dataclass
class SaleTotals:
    lines: list[LineResult]
    subtotal: Decimal  # sum of gross
    line_discount_total: Decimal
    cart_discount: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    tax_by_class: "OrderedDict[str, dict]" = field(default_factory=OrderedDict)


def discount_amount(*, base: Decimal, kind: str, value: Decimal) -> Decimal:
    """Resolve a discount (amount or percent) against `base`; refuse one bigger than the base."""
    if not kind or value in (None, ZERO):
        return ZERO
    if value < 0:
        raise PricingError("A discount cannot be negative.")
    if kind == DiscountKind.PERCENT:
        if value > 100:
            raise PricingError("A discount cannot be more than 100%.")
        amount = money(base * value / Decimal("100"))
    elif kind == DiscountKind.AMOUNT:
        amount = money(value)
    else:
        raise PricingError(f"Unknown discount kind {kind!r}.")
    if amount > base:
        raise PricingError(f"The discount (KES {amount}) is bigger than the amount it applies to (KES {base}).")
    return amount


def vat_included(total: Decimal, rate: Decimal) -> Decimal:
    if not rate:
        return ZERO
    return money(total * rate / (Decimal("100") + rate))


def price_sale(
    lines: list[LineInput], *, cart_discount_kind: str = "", cart_discount_value: Decimal = ZERO
) -> SaleTotals:
    results: list[LineResult] = []
    for line in lines:
        if line.quantity <= 0:
            raise PricingError("A quantity must be more than zero.")
        if line.unit_price < 0:
            raise PricingError("A price cannot be negative.")
        gross = money(line.quantity * line.unit_price)
        line_discount = discount_amount(base=gross, kind=line.discount_kind, value=line.discount_value)
        results.append(LineResult(gross, line_discount, ZERO, gross - line_discount, ZERO))

    after_line_discounts = sum((r.total for r in results), ZERO)
    cart_discount = discount_amount(base=after_line_discounts, kind=cart_discount_kind, value=cart_discount_value)
    if cart_discount and after_line_discounts:
        remaining = cart_discount
        shareable = [i for i, r in enumerate(results) if r.total > 0]
        for position, index in enumerate(shareable):
            result = results[index]
            if position == len(shareable) - 1:
                share = remaining
            else:
                share = min(money(cart_discount * result.total / after_line_discounts), remaining)
            share = min(share, result.total)
            result.cart_discount_share = share
            result.total -= share
            remaining -= share
        if remaining:  # rounding left a cent on a line that had no room: put it where there is room
            for result in results:
                take = min(remaining, result.total)
                result.cart_discount_share += take
                result.total -= take
                remaining -= take
                if not remaining:
                    break

    tax_by_class: OrderedDict[str, dict] = OrderedDict()
    for line, result in zip(lines, results, strict=True):  # one result per line, in order
        result.tax = vat_included(result.total, line.tax_rate)
        bucket = tax_by_class.setdefault(
            line.tax_class, {"tax_class": line.tax_class, "rate": line.tax_rate, "taxable": ZERO, "tax": ZERO}
        )
        bucket["taxable"] += result.total - result.tax
        bucket["tax"] += result.tax

    subtotal = sum((r.gross for r in results), ZERO)
    line_discount_total = sum((r.line_discount for r in results), ZERO)
    return SaleTotals(
        lines=results,
        subtotal=subtotal,
        line_discount_total=line_discount_total,
        cart_discount=cart_discount,
        discount_total=line_discount_total + cart_discount,
        tax_total=sum((r.tax for r in results), ZERO),
        total=sum((r.total for r in results), ZERO),
        tax_by_class=OrderedDict(sorted(tax_by_class.items())),
    )
