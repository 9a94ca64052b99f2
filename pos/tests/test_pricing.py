"""Sale arithmetic: VAT included per class, half-up per line, discounts that never exceed the line."""

from decimal import Decimal as D

import pytest

from core.money import money
from pos.sales.pricing import DiscountKind, LineInput, PricingError, discount_amount, price_sale, vat_included


def line(qty, price, tax_class="B", rate="16", kind="", value="0"):
    return LineInput(D(qty), D(price), tax_class, D(rate), kind, D(value))


def test_vat_is_included_in_the_price():
    assert vat_included(D("116.00"), D("16")) == D("16.00")
    assert vat_included(D("100.00"), D("16")) == D("13.79")  # 13.793… half-up
    assert vat_included(D("108.00"), D("8")) == D("8.00")
    assert vat_included(D("50.00"), D("0")) == D("0.00")


def test_money_rounds_half_up_and_refuses_floats():
    assert money("2.345") == D("2.35")
    assert money("2.344") == D("2.34")
    assert money(D("-2.345")) == D("-2.35")
    with pytest.raises(TypeError):
        money(2.5)


def test_totals_per_tax_class():
    totals = price_sale([line("2", "116.00"), line("1", "50.00", "A", "0"), line("3", "10.80", "E", "8")])
    assert totals.subtotal == D("314.40")
    assert totals.total == D("314.40")
    assert totals.tax_by_class["B"]["tax"] == D("32.00")
    assert totals.tax_by_class["B"]["taxable"] == D("200.00")
    assert totals.tax_by_class["A"]["tax"] == D("0.00")
    assert totals.tax_by_class["E"]["tax"] == D("2.40")
    assert totals.tax_total == D("34.40")


def test_quantity_times_price_rounds_per_line():
    totals = price_sale([line("0.333", "100.00"), line("0.333", "100.00")])
    assert [r.gross for r in totals.lines] == [D("33.30"), D("33.30")]
    assert totals.total == D("66.60")


def test_line_discounts_amount_and_percent():
    totals = price_sale(
        [
            line("2", "100.00", kind=DiscountKind.AMOUNT, value="15"),
            line("1", "80.00", kind=DiscountKind.PERCENT, value="12.5"),
        ]
    )
    assert [r.line_discount for r in totals.lines] == [D("15.00"), D("10.00")]
    assert totals.discount_total == D("25.00")
    assert totals.total == D("255.00")


def test_cart_discount_is_shared_so_vat_stays_right():
    totals = price_sale(
        [line("1", "100.00"), line("1", "50.00", "A", "0")],
        cart_discount_kind=DiscountKind.AMOUNT,
        cart_discount_value=D("15.00"),
    )
    assert [r.cart_discount_share for r in totals.lines] == [D("10.00"), D("5.00")]
    assert totals.total == D("135.00")
    assert totals.tax_by_class["B"]["tax"] == vat_included(D("90.00"), D("16"))
    assert sum(r.cart_discount_share for r in totals.lines) == totals.cart_discount


def test_cart_discount_remainder_cent_lands_on_the_last_line():
    totals = price_sale(
        [line("1", "10.00"), line("1", "10.00"), line("1", "10.00")],
        cart_discount_kind=DiscountKind.AMOUNT,
        cart_discount_value=D("10.00"),
    )
    assert [r.cart_discount_share for r in totals.lines] == [D("3.33"), D("3.33"), D("3.34")]
    assert totals.total == D("20.00")


@pytest.mark.parametrize(
    "kind,value,message",
    [
        (DiscountKind.AMOUNT, "150", "bigger than the amount"),
        (DiscountKind.PERCENT, "101", "more than 100%"),
        (DiscountKind.AMOUNT, "-1", "cannot be negative"),
        ("BOGOF", "1", "Unknown discount kind"),
    ],
)
def test_bad_discounts_are_refused(kind, value, message):
    with pytest.raises(PricingError, match=message):
        discount_amount(base=D("100.00"), kind=kind, value=D(value))


def test_zero_or_negative_quantity_is_refused():
    with pytest.raises(PricingError):
        price_sale([line("0", "10.00")])
    with pytest.raises(PricingError):
        price_sale([line("-1", "10.00")])
