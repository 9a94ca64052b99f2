"""Report figures against the sales of `shop` (conftest), worked out by hand to the cent.

Every test runs twice: with the shop's days read live from the sales, and with them summed into the
report summaries first (reports/summaries.py), so both ways give the same cent.
"""

import datetime as dt
from decimal import Decimal

import pytest

from reports import selectors
from reports.selectors import Period
from reports.tests.conftest import DAY, at

pytestmark = pytest.mark.django_db
D = Decimal
NEXT = DAY + dt.timedelta(days=1)


@pytest.fixture(params=["live", "summed"])
def shop(shop, request):
    if request.param == "summed":
        from reports.summaries import summaries_catch_up

        assert summaries_catch_up().through == dt.date.today() - dt.timedelta(days=1)
    return shop


def main_only(shop, start=DAY, end=NEXT):
    return Period(start=start, end=end, branch_ids=(shop.main.pk,))


def test_sales_by_day_uses_nairobi_days_and_leaves_out_other_branches(shop):
    rows = selectors.sales_by_day(period=main_only(shop))
    assert [(r["day"], r["count"], r["sales"], r["vat"]) for r in rows] == [
        (DAY, 2, D("490.00"), D("40.00")),  # 10:15 and 23:30 (20:30 UTC) local
        (NEXT, 1, D("116.00"), D("16.00")),  # 00:30 local is 21:30 UTC the day before
    ]
    assert rows[0]["average"] == D("245.00")


def test_every_branch_when_no_branch_is_given(shop):
    rows = selectors.sales_by_day(period=Period(start=DAY, end=NEXT))
    assert [(r["day"], r["count"], r["sales"]) for r in rows] == [(DAY, 3, D("1650.00")), (NEXT, 1, D("116.00"))]


def test_sales_by_hour_lists_all_24_local_hours(shop):
    rows = selectors.sales_by_hour(period=main_only(shop))
    assert len(rows) == 24
    busy = {r["hour"]: r["sales"] for r in rows if r["count"]}
    assert busy == {0: D("116.00"), 10: D("382.00"), 23: D("108.00")}


def test_sales_by_product_with_profit_and_margin_from_the_cost_at_the_time(shop):
    # A later cost change must not move the margin of what was already sold.
    shop.sugar.cost_price = D("100.00")
    shop.sugar.save()
    rows = {r["product__name"]: r for r in selectors.sales_by_product(period=main_only(shop))}
    sugar = rows["Sugar 1kg"]
    assert (sugar["units"], sugar["sales"], sugar["vat"], sugar["net_sales"], sugar["cost"]) == (
        D("3"), D("348.00"), D("48.00"), D("300.00"), D("240.00"))
    assert (sugar["profit"], sugar["margin"]) == (D("60.00"), D("20.0"))
    flour = rows["Maize flour 2kg"]
    assert (flour["sales"], flour["vat"], flour["cost"], flour["profit"], flour["margin"]) == (
        D("150.00"), D("0.00"), D("120.00"), D("30.00"), D("20.0"))
    gas = rows["Cooking gas 6kg"]
    assert (gas["sales"], gas["vat"], gas["cost"], gas["profit"], gas["margin"]) == (
        D("108.00"), D("8.00"), D("90.00"), D("10.00"), D("10.0"))
    total_profit = sum(r["profit"] for r in rows.values())
    total_net = sum(r["net_sales"] for r in rows.values())
    assert (total_profit, total_net) == (D("100.00"), D("550.00"))


def test_sales_by_category(shop):
    rows = {r["product__category__name"]: r for r in selectors.sales_by_category(period=main_only(shop))}
    assert rows["Groceries"]["sales"] == D("498.00") and rows["Groceries"]["vat"] == D("48.00")
    assert rows["Fuel"]["sales"] == D("108.00")


def test_sales_by_cashier(shop):
    rows = selectors.sales_by_cashier(period=Period(start=DAY, end=NEXT))
    assert [(r["cashier__full_name"], r["count"], r["sales"]) for r in rows] == [
        ("Baraka Westlands", 1, D("1160.00")),
        ("Akinyi Atieno", 3, D("606.00")),
    ]


def test_payment_methods_count_cash_less_change(shop):
    rows = {r["method"]: r for r in selectors.sales_by_payment_method(period=main_only(shop))}
    assert rows["CASH"]["amount"] == D("382.00")  # 400 handed over, 18 change
    assert rows["CARD"]["amount"] == D("108.00")
    assert rows["CUSTOMER_CREDIT"]["amount"] == D("116.00")
    assert sum(r["amount"] for r in rows.values()) == D("606.00")


def test_vat_per_tax_class_for_the_return(shop):
    rows = {r["tax_class"]: r for r in selectors.vat_by_tax_class(period=main_only(shop))}
    assert (rows["A"]["gross"], rows["A"]["taxable"], rows["A"]["vat"]) == (D("150.00"), D("150.00"), D("0.00"))
    assert (rows["B"]["gross"], rows["B"]["taxable"], rows["B"]["vat"]) == (D("348.00"), D("300.00"), D("48.00"))
    assert (rows["E"]["gross"], rows["E"]["taxable"], rows["E"]["vat"]) == (D("108.00"), D("100.00"), D("8.00"))


def test_a_return_is_taken_off_vat_and_the_day(shop):
    from cashdesk.refund_services import sale_return_refund
    from pos.sales.services import ReturnItem

    sale = shop.sales[0]
    sugar_line = sale.lines.get(product=shop.sugar)
    sale_return_refund(sale=sale, items=[ReturnItem(line_id=sugar_line.pk, quantity=D("1"))], user=shop.akinyi,
                       authorised_by=_manager(shop), reason="Torn bag")
    # The credit note is dated today: count over a period that reaches it.
    period = Period(start=DAY, end=dt.date.today() + dt.timedelta(days=1), branch_ids=(shop.main.pk,))
    rows = {r["tax_class"]: r for r in selectors.vat_by_tax_class(period=period)}
    assert (rows["B"]["returns"], rows["B"]["gross"], rows["B"]["vat"]) == (D("116.00"), D("232.00"), D("32.00"))
    days = selectors.sales_by_day(period=period)
    assert sum(r["returns"] for r in days) == D("116.00")
    assert sum(r["net"] for r in days) == D("490.00")
    exceptions = {r["name"]: r for r in selectors.exceptions_by_cashier(period=period)}
    assert exceptions["Akinyi Atieno"]["refunds"] == 1
    assert exceptions["Akinyi Atieno"]["refund_amount"] == D("116.00")


def _manager(shop):
    from core.roles import Role
    from pos.tests.factories import UserFactory

    return UserFactory(role=Role.MANAGER, branch=shop.main, full_name="Mark Manager")


def test_inventory_valuation_at_cost_and_retail(shop):
    rows = {r["product__name"]: r for r in selectors.inventory_valuation(period=main_only(shop))}
    # Sugar: 50 in, 3 sold at MAIN = 47 on hand.
    assert (rows["Sugar 1kg"]["on_hand"], rows["Sugar 1kg"]["cost_value"], rows["Sugar 1kg"]["retail_value"]) == (
        D("47"), D("3760.00"), D("5452.00"))
    assert rows["Maize flour 2kg"]["cost_value"] == D("1880.00")  # 47 × 40
    everywhere = {r["product__name"]: r for r in selectors.inventory_valuation(period=Period(start=DAY, end=NEXT))}
    assert everywhere["Sugar 1kg"]["on_hand"] == D("87")  # + 40 at Westlands


def test_slow_movers_put_dead_stock_first(shop):
    from inventory.tests.factories import ProductFactory, stock_in

    dusty = ProductFactory(name="Dusty radio", cost_price=D("900.00"))
    stock_in(dusty, shop.main, 2)
    rows = selectors.slow_movers(period=main_only(shop))
    assert rows[0]["product__name"] == "Dusty radio" and rows[0]["status"] == "Dead stock"
    assert rows[0]["cost_value"] == D("1800.00")
    by_name = {r["product__name"]: r for r in rows}
    assert by_name["Cooking gas 6kg"]["sold"] == D("1") and by_name["Cooking gas 6kg"]["days_of_stock"] == D("98")


def test_stock_movement_summary(shop):
    rows = {r["kind"]: r for r in selectors.stock_movement_summary(
        period=Period(start=dt.date(2000, 1, 1), end=dt.date(2100, 1, 1), branch_ids=(shop.main.pk,)))}
    assert rows["SALE"]["quantity_out"] == D("7") and rows["SALE"]["quantity_in"] == D("0")
    assert rows["SALE"]["cost_value"] == D("-450.00")  # 3 × 80 + 3 × 40 + 90
    assert rows["OPENING"]["quantity_in"] == D("150")


def test_cash_sessions_over_short_per_cashier(shop):
    from cashdesk.models import CashSession
    from cashdesk.services import session_close

    session = CashSession.objects.get(cashier=shop.akinyi)
    # Expected: float 1000 + cash 400 - change 18 = 1382. Counted 1300: short 82.
    session_close(session=session, closed_by=shop.akinyi, closing_total=D("1300.00"), when=at(NEXT, 1))
    rows = selectors.cash_sessions_by_cashier(period=main_only(shop))
    assert len(rows) == 1
    row = rows[0]
    assert (row["expected"], row["counted"], row["short"], row["over"], row["net"]) == (
        D("1382.00"), D("1300.00"), D("82.00"), D("0.00"), D("-82.00"))


def test_exceptions_per_cashier_from_the_audit_log_and_the_sales(shop):
    from pos.sales.services import sale_add_product, sale_get_or_open, sale_line_override_price, sale_line_remove

    manager = _manager(shop)
    sale = sale_get_or_open(cashier=shop.akinyi)
    line = sale_add_product(sale=sale, product=shop.sugar, user=shop.akinyi, quantity=D("2"))
    sale_line_override_price(
        line=line, unit_price=D("100.00"), user=shop.akinyi, authorised_by=manager, reason="Dented"
    )
    line2 = sale_add_product(sale=sale, product=shop.flour, user=shop.akinyi)
    sale_line_remove(line=line2, user=shop.akinyi, reason="Changed mind", authorised_by=manager)
    from cashdesk.services import Tender, sale_checkout

    sale_checkout(sale=sale, user=shop.akinyi, tenders=[Tender("CASH", D("200.00"))], idempotency_key="ex-1")
    today = dt.date.today()
    period = Period(start=DAY, end=today + dt.timedelta(days=1), branch_ids=(shop.main.pk,))
    rows = {r["name"]: r for r in selectors.exceptions_by_cashier(period=period)}
    akinyi = rows["Akinyi Atieno"]
    assert akinyi["price_overrides"] == 1
    assert akinyi["override_amount"] == D("32.00")  # (116 - 100) × 2
    assert akinyi["sales"] == 4
    assert "Baraka Westlands" not in rows


def test_customer_balances_aged_and_top_customers(shop):
    rows = selectors.customer_balances(period=Period(start=NEXT, end=NEXT + dt.timedelta(days=40)))
    assert len(rows) == 1
    row = rows[0]
    assert row["name"] == "Mutua Hardware" and row["balance"] == D("116.00")
    assert (row["age_0_30"], row["age_31_60"]) == (D("0.00"), D("116.00"))  # 40 days old on the last day
    top = selectors.top_customers(period=main_only(shop))
    assert [(r["customer__name"], r["count"], r["sales"]) for r in top] == [("Mutua Hardware", 1, D("116.00"))]


def test_loyalty_points_earned(shop):
    rows = selectors.loyalty_summary(period=main_only(shop))
    assert [r["customer__name"] for r in rows] == ["Mutua Hardware"]
    assert rows[0]["earned"] == D("1.16")  # 1 point per KES 100 of 116.00


def test_no_sales_gives_empty_rows_not_errors(db):
    empty = Period(start=dt.date(2020, 1, 1), end=dt.date(2020, 1, 31))
    for fetch in (selectors.sales_by_day, selectors.sales_by_product, selectors.vat_by_tax_class,
                  selectors.cash_sessions_by_cashier, selectors.exceptions_by_cashier, selectors.top_customers):
        assert fetch(period=empty) == []
    assert all(r["count"] == 0 for r in selectors.sales_by_hour(period=empty))


def test_dashboard_today_against_the_same_weekday_last_week(shop):
    figures = selectors.dashboard(today=DAY + dt.timedelta(days=7), branch_ids=(shop.main.pk,))
    assert figures["week_ago"].sales == D("490.00") and figures["week_ago"].count == 2
    assert figures["week_ago"].average == D("245.00")
    # net 490 - 40 = 450; cost 280 + 90 = 370; profit 80; margin 17.8 %
    assert (figures["week_ago"].profit, figures["week_ago"].margin) == (D("80.00"), D("17.8"))
    assert figures["today"].sales == D("0.00") and figures["changes"]["sales"] == D("-100.0")
    assert sum(h["week_ago"] for h in figures["hours"]) == D("490.00")
    assert len(figures["open_sessions"]) == 1  # Akinyi's; Baraka's is at Westlands
