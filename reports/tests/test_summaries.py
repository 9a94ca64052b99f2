"""Report summaries (reports/summaries.py): every report gives the same rows from the summaries as from
the sales themselves, over whole months, month edges, Nairobi midnights and today; a late void is
summed again at once; the check finds a summary that disagrees; the Huey task and the command."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from reports import selectors
from reports.registry import REPORTS
from reports.selectors import Period
from reports.summaries import (
    month_end,
    summaries_catch_up,
    summaries_check,
    summaries_rebuild,
    summaries_sale_voided,
    summarized_through,
)
from reports.summary_models import ProductSalesSummary, SalesHourSummary, Span, StockMovementSummary, SummaryState
from reports.tests.conftest import at, sell

pytestmark = pytest.mark.django_db
D = Decimal


def _forget():
    SummaryState.objects.update(summarized_through=None)


@pytest.fixture
def months(branch, other_branch):
    """Sales over four months at two branches, on both sides of Nairobi midnight and of month ends,
    stock received and adjusted on those days, and sales today (never summed)."""
    from cashdesk.services import session_open
    from core.roles import Role
    from inventory.ledger_services import StockLine, stock_move
    from inventory.tests.factories import CategoryFactory, KilogramFactory, ProductFactory
    from pos.tests.factories import CustomerFactory, UserFactory

    today = timezone.localdate()
    first = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)  # the 1st of last month
    first = (first - dt.timedelta(days=1)).replace(day=1)  # ... of the month before
    before = first - dt.timedelta(days=1)  # the last day of the month before that
    food = CategoryFactory(name="Food")
    sugar = ProductFactory(
        name="Sugar 1kg", category=food, selling_price=D("116.00"), cost_price=D("80.00"), tax_class="B"
    )
    rice = ProductFactory(name="Rice 1kg (loose)", category=food, selling_price=D("190.00"), cost_price=D("152.35"),
                          tax_class="A", unit=KilogramFactory())
    gas = ProductFactory(name="Cooking gas 6kg", selling_price=D("108.00"), cost_price=D("90.00"), tax_class="E")
    opened = at(before - dt.timedelta(days=1), 7)
    for where in (branch, other_branch):
        stock_move(branch=where, lines=[StockLine(p.pk, D("500"), p.cost_price) for p in (sugar, rice, gas)],
                   kind="OPENING", reason="opening", when=opened)
    akinyi = UserFactory(role=Role.EMPLOYEE, branch=branch, full_name="Akinyi Atieno")
    baraka = UserFactory(role=Role.EMPLOYEE, branch=other_branch, full_name="Baraka Westlands")
    manager = UserFactory(role=Role.MANAGER, branch=branch, full_name="Wanjiru Manager")
    mutua = CustomerFactory(name="Mutua Hardware", credit_limit=D("100000.00"))
    session_open(cashier=akinyi, opening_float=D("1000.00"), when=opened)
    session_open(cashier=baraka, opening_float=D("500.00"), when=opened)
    session_open(cashier=manager, opening_float=D("5000.00"), when=opened)
    sales = []
    days = [before, first, first + dt.timedelta(days=14), month_end(first), month_end(first) + dt.timedelta(days=1),
            today.replace(day=1) - dt.timedelta(days=1), today - dt.timedelta(days=1)]
    for n, day in enumerate(days):
        # 23:45 and 00:15 Nairobi time: the same UTC day, two local days (UTC+3).
        sales.append(sell(akinyi, [(sugar, 2), (rice, "1.375")], when=at(day, 0, 15), tenders=[("CASH", "700.00", "")]))
        sales.append(
            sell(
                akinyi,
                [(gas, 1 + n % 2), (sugar, 1)],
                when=at(day, 23, 45),
                tenders=[("CASH", "100.00", ""), ("CARD", str(D("108.00") * (1 + n % 2) + D("16.00")), f"S{n}")],
            )
        )
        sales.append(sell(baraka, [(rice, "0.5"), (sugar, 3)], when=at(day, 12, 5),
                          tenders=[("CARD", "443.00", f"SLIP{n}")]))
        sales.append(
            sell(akinyi, [(sugar, 1)], when=at(day, 9), tenders=[("CUSTOMER_CREDIT", "116.00", "")], customer=mutua)
        )
        stock_move(branch=branch, lines=[StockLine(gas.pk, D("-2"), gas.cost_price)], kind="ADJUSTMENT",
                   reason="leak", when=at(day, 18))
    sales.append(sell(akinyi, [(sugar, 4)], when=timezone.now(), tenders=[("CASH", "500.00", "")]))
    return SimpleNamespace(main=branch, westlands=other_branch, sugar=sugar, rice=rice, gas=gas, akinyi=akinyi,
                           manager=manager, sales=sales, days=days, first=first, before=before, today=today)


def _periods(m):
    today = m.today
    return [
        Period(start=m.before - dt.timedelta(days=40), end=today),  # months, edges and today
        Period(start=m.first, end=month_end(m.first)),  # one whole month
        Period(start=m.before, end=m.first, branch_ids=(m.main.pk,)),  # across a month end, one branch
        Period(start=m.first + dt.timedelta(days=3), end=today - dt.timedelta(days=1), branch_ids=(m.westlands.pk,)),
        Period(start=today, end=today),  # only live
        Period(start=today - dt.timedelta(days=1), end=today - dt.timedelta(days=1)),  # yesterday: summed
    ]


def _all_reports(periods):
    return {(slug, i): report.fetch(period) for slug, report in REPORTS.items() for i, period in enumerate(periods)}


def test_every_report_gives_the_same_rows_from_the_summaries_as_from_the_sales(months):
    periods = _periods(months)
    live = _all_reports(periods)
    assert summarized_through() is None
    result = summaries_catch_up()
    assert result.through == months.today - dt.timedelta(days=1)
    assert ProductSalesSummary.objects.filter(span=Span.MONTH).exists()
    assert StockMovementSummary.objects.filter(span=Span.MONTH).exists()
    assert ProductSalesSummary.objects.filter(span=Span.MONTH, branch__isnull=True).exists()  # every branch together
    assert not ProductSalesSummary.objects.filter(span=Span.DAY, branch__isnull=True).exists()  # months only
    summed = _all_reports(periods)
    for key in live:
        assert summed[key] == live[key], key
        # ... and of the same types (a count must not come back as a Decimal from MariaDB's SUM).
        assert [{k: type(v) for k, v in row.items()} for row in summed[key]] == [
            {k: type(v) for k, v in row.items()} for row in live[key]
        ], key
    # The figures are not empty: the comparison means something.
    year = live[("sales-by-product", 0)]
    assert {r["product__name"] for r in year} == {"Sugar 1kg", "Rice 1kg (loose)", "Cooking gas 6kg"}
    assert sum(r["units"] for r in year if r["product__name"] == "Sugar 1kg") == 7 * 7 + 4
    assert summaries_check() == []


def test_a_month_is_read_from_its_month_rows(months, django_assert_max_num_queries):
    summaries_catch_up()
    # Take the day rows of the whole month away: the month's report still has every figure.
    whole = Period(start=months.first, end=month_end(months.first))
    expected = selectors.sales_by_product(period=whole)
    ProductSalesSummary.objects.filter(
        span=Span.DAY, starts_on__gte=months.first, starts_on__lte=month_end(months.first)
    ).delete()
    assert selectors.sales_by_product(period=whole) == expected
    assert selectors.period_parts(whole).months == (months.first,)
    assert selectors.period_parts(whole).day_ranges == ()
    # ... and the check notices that the days are gone.
    assert any("product sales" in problem for problem in summaries_check())


def test_catch_up_sums_yesterday_once_and_never_today(months):
    first = summaries_catch_up()
    assert first.days > 60
    assert summaries_catch_up().days == 0  # nothing new
    assert summaries_catch_up(until=months.today + dt.timedelta(days=5)).through == months.today - dt.timedelta(days=1)
    assert not ProductSalesSummary.objects.filter(starts_on=months.today, span=Span.DAY).exists()
    assert not SalesHourSummary.objects.filter(day=months.today).exists()


def test_the_current_months_row_holds_its_days_so_far(months):
    summaries_catch_up()
    yesterday = months.today - dt.timedelta(days=1)
    this_month = Period(start=yesterday.replace(day=1), end=months.today)
    parts = selectors.period_parts(this_month)
    assert parts.months == (yesterday.replace(day=1),)
    assert parts.day_ranges == ()
    assert parts.live == Period(start=months.today, end=months.today)
    expected = selectors.sales_by_product(period=this_month)
    _forget()
    assert selectors.sales_by_product(period=this_month) == expected


def test_a_shop_with_no_sales_yet_is_summed_through_yesterday(db):
    result = summaries_catch_up()
    assert result == type(result)(0, timezone.localdate() - dt.timedelta(days=1))
    assert selectors.sales_by_day(period=Period(start=dt.date(2026, 1, 1), end=timezone.localdate())) == []


def test_voiding_a_sale_of_a_summed_day_sums_that_day_and_month_again(months):
    from cashdesk.refund_services import sale_void_completed

    summaries_catch_up()
    sale = months.sales[4 * 1 + 1]  # the 1st of the month before last, 23:45, cash + card: 2 gas + 1 sugar
    day = timezone.localtime(sale.completed_at).date()
    whole = Period(start=months.first, end=month_end(months.first), branch_ids=(months.main.pk,))
    before = {r["product_id"]: r for r in selectors.sales_by_product(period=whole)}
    sale_void_completed(sale=sale, user=months.manager, reason="Rang up twice", reference="REV-1")
    after = {r["product_id"]: r for r in selectors.sales_by_product(period=whole)}
    assert after[months.sugar.pk]["units"] == before[months.sugar.pk]["units"] - 1
    assert after[months.gas.pk]["sales"] == before[months.gas.pk]["sales"] - D("216.00")
    # Read only from the day rows and the month rows: both were summed again.
    assert selectors.period_parts(whole).months == (months.first,)
    by_day = {
        r["day"]: r for r in selectors.sales_by_day(period=Period(start=day, end=day, branch_ids=(months.main.pk,)))
    }
    assert by_day[day]["count"] == 2
    assert summaries_check() == []
    # The same figures as the sales give without any summary.
    summed = selectors.sales_by_payment_method(period=whole)
    _forget()
    assert selectors.sales_by_payment_method(period=whole) == summed


def test_voiding_todays_sale_sums_nothing(months):
    from cashdesk.refund_services import sale_void_completed

    summaries_catch_up()
    rows_before = ProductSalesSummary.objects.count()
    sale_void_completed(sale=months.sales[-1], user=months.manager, reason="Wrong customer")
    assert ProductSalesSummary.objects.count() == rows_before
    months.sales[-1].refresh_from_db()
    assert summaries_sale_voided(months.sales[-1]) is False
    assert summaries_check() == []


def test_a_void_that_fails_leaves_the_summaries_as_they_were(months, monkeypatch):
    from cashdesk import refund_services
    from cashdesk.refund_services import sale_void_completed

    summaries_catch_up()
    sale = months.sales[0]
    rows = sorted(ProductSalesSummary.objects.values_list("starts_on", "product_id", "lines", "sales"))

    def broken(**kwargs):
        raise RuntimeError("printer on fire")

    monkeypatch.setattr(refund_services, "_pay_back", broken)
    with pytest.raises(RuntimeError):
        sale_void_completed(sale=sale, user=months.manager, reason="Test")
    assert sorted(ProductSalesSummary.objects.values_list("starts_on", "product_id", "lines", "sales")) == rows
    sale.refresh_from_db()
    assert sale.status == "COMPLETED"


def test_check_finds_a_wrong_row_and_rebuild_mends_it(months):
    summaries_catch_up()
    assert summaries_check() == []
    row = ProductSalesSummary.objects.filter(span=Span.DAY).first()
    ProductSalesSummary.objects.filter(pk=row.pk).update(sales=row.sales + 1)
    problems = summaries_check()
    # the day, and its month's rows (the branch's and every branch's) no longer the sum of its days
    assert len(problems) == 3, problems
    assert str(row.starts_on) in problems[0]
    assert any("branch all" in problem for problem in problems)
    with pytest.raises(CommandError, match="3 difference"):
        call_command("report_summaries", "--check")
    summaries_rebuild()
    assert summaries_check() == []
    call_command("report_summaries", "--check")


def test_back_dated_history_loaded_after_summing_needs_a_rebuild(months):
    """Sales are never back-dated by the till; a bulk load is, and `--rebuild` takes it in."""
    summaries_catch_up()
    sell(months.akinyi, [(months.sugar, 1)], when=at(months.first, 10), tenders=[("CASH", "116.00", "")])
    assert summaries_check()  # the new sale is not in the summaries
    call_command("report_summaries", "--rebuild")
    assert summaries_check() == []


def test_a_years_report_reads_a_fixed_number_of_queries(months, django_assert_max_num_queries):
    summaries_catch_up()
    year = Period(start=months.today - dt.timedelta(days=365), end=months.today)
    with django_assert_max_num_queries(4):  # state, summaries, today's lines, names
        rows = selectors.sales_by_product(period=year)
    assert len(rows) == 3
    with django_assert_max_num_queries(3):
        selectors.sales_by_payment_method(period=year)
    with django_assert_max_num_queries(5):  # state, summaries, today's movements, pairs moved both sides
        selectors.stock_movement_summary(period=year)


def test_the_task_runs_every_quarter_hour_and_sums(months):
    from reports.tasks import report_summaries_catch_up

    task = report_summaries_catch_up.task_class()
    assert task.validate_datetime(dt.datetime(2026, 11, 24, 0, 15))
    assert not task.validate_datetime(dt.datetime(2026, 11, 24, 0, 7))
    assert report_summaries_catch_up.call_local() == str(months.today - dt.timedelta(days=1))
    assert summarized_through() == months.today - dt.timedelta(days=1)


def test_the_command_sums_and_says_how_far(months, capsys):
    call_command("report_summaries")
    out = capsys.readouterr().out
    assert f"now through {months.today - dt.timedelta(days=1)}" in out
    call_command("report_summaries", "--check")
    assert "agree" in capsys.readouterr().out
