"""Each analytics computation against figures worked out by hand."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.utils import timezone

from core.roles import Role
from inventory.errors import StockError
from inventory.models import Purchase, PurchaseStatus
from inventory.tests.factories import ProductFactory, SupplierFactory, UnitFactory, stock_in
from pos.tests.factories import CustomerFactory, UserFactory
from reports import analytics
from reports.analytics_models import BasketPair, ProductForecast
from reports.tests.analytics_support import completed_sale, local_dt

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 30)  # a Monday


def _forecast(product, branch, *, daily, **extra):
    daily = [D(str(x)) for x in daily]
    return ProductForecast.objects.create(
        product=product, branch=branch, computed_at=timezone.now(), as_of=TODAY - dt.timedelta(days=1),
        method="HW", history_days=90, next_7=sum(daily[:7]), next_30=sum(daily[:30]),
        daily=[str(x) for x in daily], **extra,
    )


# ---------------------------------------------------------------------------- daily history and forecasts
def test_daily_sales_use_the_shops_local_day_and_net_of_returns(branch, cashier):
    product = ProductFactory()
    day = dt.date(2026, 3, 10)
    completed_sale(branch=branch, cashier=cashier, when=local_dt(day, 23, 30), items=[(product, 2)])
    # 00:30 Nairobi is 21:30 UTC the day before: it still counts for the 11th.
    sale = completed_sale(branch=branch, cashier=cashier, when=local_dt(day + dt.timedelta(days=1), 0, 30),
                          items=[(product, 5)])
    line = sale.lines.get()
    line.returned_quantity = D("1")
    line.save()
    history = analytics.daily_sales_by_product(branch_id=branch.pk, start=day, end=day + dt.timedelta(days=1))
    assert history == {product.pk: {day: 2.0, day + dt.timedelta(days=1): 4.0}}


def test_other_branches_and_unfinished_sales_do_not_count(branch, other_branch, cashier):
    product = ProductFactory()
    day = dt.date(2026, 3, 10)
    completed_sale(branch=other_branch, cashier=cashier, when=local_dt(day), items=[(product, 2)])
    sale = completed_sale(branch=branch, cashier=cashier, when=local_dt(day), items=[(product, 3)])
    sale.status = "VOIDED"
    sale.save(update_fields=["status"])
    assert analytics.daily_sales_by_product(branch_id=branch.pk, start=day, end=day) == {}


def test_forecasts_refresh_stores_one_row_per_product_sold(branch, cashier):
    steady, short = ProductFactory(name="Steady"), ProductFactory(name="Short")
    for i in range(1, 57):  # 8 weeks up to yesterday, 3 a day, 9 on Saturdays
        day = TODAY - dt.timedelta(days=i)
        completed_sale(branch=branch, cashier=cashier, when=local_dt(day),
                       items=[(steady, 9 if day.weekday() == 5 else 3)])
    completed_sale(branch=branch, cashier=cashier, when=local_dt(TODAY - dt.timedelta(days=3)), items=[(short, 4)])
    completed_sale(branch=branch, cashier=cashier, when=local_dt(TODAY), items=[(short, 100)])  # today: not used
    ProductForecast.objects.create(  # a stale row of a product that stopped selling goes away
        product=ProductFactory(), branch=branch, computed_at=timezone.now(), as_of=TODAY, method="AVG",
    )

    assert analytics.forecasts_refresh(today=TODAY) == 2

    rows = {f.product.name: f for f in ProductForecast.objects.filter(branch=branch).select_related("product")}
    assert set(rows) == {"Steady", "Short"}
    s = rows["Steady"]
    assert s.method == "HW" and s.history_days == 56 and s.as_of == TODAY - dt.timedelta(days=1)
    assert s.next_7 == pytest.approx(D("27"), abs=D("1"))  # 6 × 3 + 9
    assert s.sold_last_28 == D("108")  # 4 weeks × 27
    assert s.holdout_days == 14 and s.wape is not None and s.wape < 5
    assert len(s.daily) == 30
    # "Short": one sale of 4, three days ago → 3 days of history (4, 0, 0), flat average 4/3 a day.
    f = rows["Short"]
    assert f.method == "AVG" and f.history_days == 3
    assert f.next_7 == D("9.333")
    assert f.mae is None


def test_forecast_accuracy_weights_the_error_by_units_sold(branch):
    a, b = ProductFactory(), ProductFactory()
    # a: 14 held-out days, mean |error| 1 → 14 units of error over 70 sold; b: 7 days, 2 → 14 over 10.
    _forecast(a, branch, daily=[1] * 30, holdout_days=14, holdout_sold=D("70"), mae=D("1"), wape=D("20"))
    _forecast(b, branch, daily=[1] * 30, holdout_days=7, holdout_sold=D("10"), mae=D("2"), wape=D("140"))
    accuracy = analytics.forecast_accuracy(branch_id=branch.pk)
    assert accuracy["wape"] == D("35.0")  # (14 + 14) / (70 + 10)
    assert accuracy["count"] == 2


# ---------------------------------------------------------------------------- reorder
@pytest.mark.parametrize(
    ("need", "level", "on_hand", "on_order", "pack", "places", "expected"),
    [
        (D("30"), D("5"), D("10"), D("0"), D("0"), 0, D("25")),  # 30 + 5 − 10
        (D("30"), D("5"), D("10"), D("8"), D("0"), 0, D("17")),  # less what is on order
        (D("30.2"), D("0"), D("10"), D("0"), D("0"), 0, D("21")),  # rounded up to whole units
        (D("30.2"), D("0"), D("10"), D("0"), D("0"), 1, D("20.2")),  # kg to one decimal place
        (D("30"), D("5"), D("10"), D("0"), D("12"), 0, D("36")),  # 25 → 3 packs of 12
        (D("10"), D("5"), D("20"), D("0"), D("12"), 0, D("0")),  # covered
    ],
)
def test_order_quantity_by_hand(need, level, on_hand, on_order, pack, places, expected):
    assert analytics.order_quantity(
        need=need, reorder_level=level, on_hand=on_hand, on_order=on_order, reorder_quantity=pack,
        decimal_places=places,
    ) == expected


@pytest.fixture
def stocked(branch, manager, settings):
    settings.REORDER_LEAD_DAYS = 7
    settings.REORDER_COVER_DAYS = 7
    unit = UnitFactory(decimal_places=0)
    bidco, kapa = SupplierFactory(name="Bidco"), SupplierFactory(name="Kapa")
    def product(name, supplier, level, pack, cost="70.00"):
        return ProductFactory(name=name, unit=unit, default_supplier=supplier, reorder_level=D(level),
                              reorder_quantity=D(pack), cost_price=D(cost))

    oil = product("Oil 1l", bidco, "4", "0", "250.00")
    soap = product("Soap", bidco, "0", "10", "40.00")
    salt = product("Salt", kapa, "0", "0")
    loose = product("Loose", None, "0", "0")
    stock_in(oil, branch, 10)
    stock_in(soap, branch, 3)
    stock_in(salt, branch, 100)
    _forecast(oil, branch, daily=[2] * 30)  # 14 days → 28 needed
    _forecast(soap, branch, daily=[1] * 30)  # 14 needed
    _forecast(salt, branch, daily=[1] * 30)  # 14 needed, 100 on hand: nothing
    _forecast(loose, branch, daily=[D("0.5")] * 30)  # 7 needed, none on hand
    return {"bidco": bidco, "kapa": kapa, "oil": oil, "soap": soap, "salt": salt, "loose": loose}


def test_reorder_suggestions_by_hand(branch, stocked):
    groups = analytics.reorder_suggestions(branch_id=branch.pk)
    assert [g.supplier.name if g.supplier else None for g in groups] == ["Bidco", None]
    bidco = {s.product.name: s for s in groups[0].suggestions}
    # Oil: 28 + level 4 − 10 = 22. Days left: 10 on hand / 2 a day = 5.
    assert bidco["Oil 1l"].quantity == D("22") and bidco["Oil 1l"].days_left == D("5.0")
    # Soap: 14 − 3 = 11 → 2 packs of 10 = 20.
    assert bidco["Soap"].quantity == D("20")
    assert groups[0].total_cost == D("22") * D("250.00") + D("20") * D("40.00")
    assert [s.product.name for s in groups[1].suggestions] == ["Loose"]
    assert groups[1].suggestions[0].quantity == D("7") and groups[1].suggestions[0].days_left == D("0.0")


def test_one_click_draft_purchase_through_the_purchase_service(branch, manager, stocked):
    purchase = analytics.reorder_draft_purchase(user=manager, branch=branch, supplier=stocked["bidco"])
    assert purchase.status == PurchaseStatus.DRAFT and purchase.supplier == stocked["bidco"]
    lines = {line.product.name: (line.quantity_ordered, line.unit_cost) for line in purchase.lines.all()}
    assert lines == {"Oil 1l": (D("22"), D("250.00")), "Soap": (D("20"), D("40.00"))}
    assert purchase.total_ordered == D("6300.00")
    # What is now on order counts: a second click finds nothing left to order.
    with pytest.raises(StockError, match="Nothing to order"):
        analytics.reorder_draft_purchase(user=manager, branch=branch, supplier=stocked["bidco"])
    assert Purchase.objects.count() == 1


def test_a_cashier_cannot_draft_a_purchase(branch, cashier, stocked):
    with pytest.raises(StockError):
        analytics.reorder_draft_purchase(user=cashier, branch=branch, supplier=stocked["bidco"])
    assert Purchase.objects.count() == 0


# ---------------------------------------------------------------------------- trends
def test_rising_and_falling_by_hand(branch, cashier):
    up, down, new, tiny = (ProductFactory(name=n) for n in ("Up", "Down", "New", "Tiny"))
    recent = TODAY - dt.timedelta(days=3)  # in the last 28 full days
    before = TODAY - dt.timedelta(days=40)  # in the 28 before
    completed_sale(branch=branch, cashier=cashier, when=local_dt(before), items=[(up, 10), (down, 20), (tiny, 1)])
    completed_sale(branch=branch, cashier=cashier, when=local_dt(recent),
                   items=[(up, 25), (down, 5), (new, 6), (tiny, 3)])
    completed_sale(branch=branch, cashier=cashier, when=local_dt(TODAY), items=[(down, 50)])  # today: not counted
    rising, falling = analytics.product_trends(branch_ids=[branch.pk], today=TODAY)
    assert [(t.name, t.previous, t.recent, t.change) for t in rising] == [
        ("Up", D("10"), D("25"), D("15")),
        ("New", D("0"), D("6"), D("6")),
    ]
    assert rising[0].change_percent == D("150.0") and rising[1].change_percent is None
    assert [(t.name, t.change, t.change_percent) for t in falling] == [("Down", D("-15"), D("-75.0"))]


# ---------------------------------------------------------------------------- basket
def test_basket_pairs_support_confidence_lift_by_hand(branch, cashier):
    bread, milk, jam, eggs = (ProductFactory(name=n) for n in ("Bread", "Milk", "Jam", "Eggs"))
    day = local_dt(TODAY - dt.timedelta(days=5))
    baskets = [
        [bread, milk], [bread, milk], [bread, milk, jam], [bread, jam], [milk], [eggs], [eggs], [bread, milk, eggs],
    ]
    for items in baskets:
        completed_sale(branch=branch, cashier=cashier, when=day, items=[(p, 1) for p in items])
    assert analytics.basket_pairs_refresh(today=TODAY, min_pair_count=2) == 2
    pairs = {(p.product_a.name, p.product_b.name) if p.product_a.pk == min(p.product_a.pk, p.product_b.pk) else None: p
             for p in BasketPair.objects.select_related("product_a", "product_b")}
    bm = pairs[("Bread", "Milk")]
    # 8 sales; bread in 5, milk in 5, both in 4.
    assert (bm.sales_count, bm.count_a, bm.count_b, bm.pair_count) == (8, 5, 5, 4)
    assert bm.support == D("0.50000")
    assert bm.confidence_a_b == D("0.80000") and bm.confidence_b_a == D("0.80000")
    assert bm.lift == D("1.280")  # 0.5 / (5/8 · 5/8)
    bj = pairs[("Bread", "Jam")]
    assert (bj.pair_count, bj.count_b) == (2, 2)
    assert bj.confidence_a_b == D("0.40000") and bj.confidence_b_a == D("1.00000")
    assert bj.lift == D("1.600")  # 0.25 / (5/8 · 2/8)
    assert list(analytics.basket_pair_list(branch_ids=[branch.pk])) == [bj, bm]  # highest lift first


# ---------------------------------------------------------------------------- customers (RFM)
def test_quintile_scores():
    assert analytics.quintile_scores([10, 20, 30, 40, 50]) == [1, 2, 3, 4, 5]
    assert analytics.quintile_scores([10, 20, 30, 40, 50], higher_is_better=False) == [5, 4, 3, 2, 1]
    assert analytics.quintile_scores([7, 7, 7]) == [3, 3, 3]  # all tied: the middle
    assert analytics.quintile_scores([42]) == [3]
    # ties: 1 + ⌊5 · (0 + 2/2) / 4⌋ = 2; the 5: 1 + ⌊5 · 2.5 / 4⌋ = 4; the 9: 1 + ⌊5 · 3.5 / 4⌋ = 5
    assert analytics.quintile_scores([1, 1, 5, 9]) == [2, 2, 4, 5]
    assert analytics.quintile_scores([]) == []


def test_customer_segments_by_hand(branch, cashier):
    names = ["Amina", "Baraka", "Chege", "Dalia", "Eddie"]
    people = {n: CustomerFactory(name=n) for n in names}
    product = ProductFactory(selling_price=D("100.00"))
    # (days ago of each sale, units per sale): Amina recent, often, big; Eddie long ago, once, small.
    plan = {
        "Amina": ([1, 5, 9, 12, 20], 10),
        "Baraka": ([2, 30, 60, 90], 2),
        "Chege": ([200, 210, 220], 8),
        "Dalia": ([3], 1),
        "Eddie": ([300], 1),
    }
    for name, (days_ago, units) in plan.items():
        for d in days_ago:
            completed_sale(branch=branch, cashier=cashier, customer=people[name],
                           when=local_dt(TODAY - dt.timedelta(days=d)), items=[(product, units)])
    scores = {c.name: c for c in analytics.customer_segments(branch_ids=[branch.pk], today=TODAY)}
    a = scores["Amina"]
    assert (a.recency_days, a.frequency, a.monetary) == (1, 5, D("5000.00"))
    # Recency ranks (best first): Amina 1, Baraka 2, Dalia 3, Chege 200, Eddie 300.
    assert {n: (s.r, s.f, s.m) for n, s in scores.items()} == {
        "Amina": (5, 5, 5),
        "Baraka": (4, 4, 3),  # spent 800
        "Dalia": (3, 2, 2),  # frequency 1 ties with Eddie's: mid-rank (0 + 1) / 5 → 2; spend 100 ties too
        "Chege": (2, 3, 4),  # spent 2400
        "Eddie": (1, 2, 2),
    }
    assert {n: s.segment for n, s in scores.items()} == {
        "Amina": "Champions", "Baraka": "Champions", "Dalia": "Regular", "Chege": "At risk", "Eddie": "Lost",
    }


# ---------------------------------------------------------------------------- anomalies
def test_robust_z_by_hand():
    # median 2, |deviations| 0,1,1,0,8 → MAD 1; 10 → 0.6745 · 8 = 5.396
    assert analytics.robust_z([2, 1, 3, 2, 10]) == pytest.approx([0, -0.6745, 0.6745, 0, 5.396])
    # MAD 0 (most equal): the mean absolute deviation stands in: (0+0+0+6)/4 = 1.5 → 6 / (1.2533 · 1.5)
    assert analytics.robust_z([1, 1, 1, 7])[3] == pytest.approx(6 / (1.2533 * 1.5))
    assert analytics.robust_z([4, 4, 4]) == [0, 0, 0]
    assert analytics.robust_z([1, 100]) == [0, 0]  # two people are not a crowd


def test_cashier_anomalies_flag_the_one_who_voids_far_more(branch, other_branch):
    from cashdesk.models import CashSession, SessionStatus
    from pos.people.audit import AuditAction, audit_record

    today = timezone.localdate()  # audit rows are stamped now

    cashiers = [UserFactory(role=Role.EMPLOYEE, branch=branch, full_name=f"Cashier {c}") for c in "ABCDE"]
    product = ProductFactory()
    day = today - dt.timedelta(days=2)
    for person in cashiers:
        for _ in range(10):
            completed_sale(branch=branch, cashier=person, when=local_dt(day), items=[(product, 1)])
    voids = {"A": 1, "B": 0, "C": 1, "D": 2, "E": 9}
    for person in cashiers:
        for _ in range(voids[person.full_name[-1]]):
            audit_record(action=AuditAction.SALE_VOID, user=person, branch=branch, model_name="pos.Sale", object_id=1)
    # Over/short: A closes 600 short, the others within 20.
    for person, diff in zip(cashiers, ["-600", "10", "-20", "0", "5"], strict=True):
        CashSession.objects.create(
            cashier=person, branch=branch, status=SessionStatus.CLOSED, opened_at=local_dt(day, 8),
            opening_float=D("1000"), closed_at=local_dt(day, 18), closing_total=D("1000") + D(diff),
            expected_cash=D("1000"), difference=D(diff),
        )
    other = UserFactory(role=Role.EMPLOYEE, branch=other_branch, full_name="Elsewhere")  # another branch stays out
    audit_record(action=AuditAction.SALE_VOID, user=other, branch=other_branch, model_name="pos.Sale", object_id=2)
    people = analytics.cashier_anomalies(branch_ids=[branch.pk], start=today - dt.timedelta(days=29), end=today)
    assert other.pk not in {c.cashier_id for c in people}
    by_name = {c.name: c for c in people}
    e, a = by_name["Cashier E"], by_name["Cashier A"]
    # Voids per 100 sales: 10, 0, 10, 20, 90 → median 10, MAD 10 → E: 0.6745 · 80 / 10 = 5.40
    assert e.metrics["voids"] == 90 and e.z["voids"] == pytest.approx(5.40)
    assert e.flags == ["voids"]
    # |over/short|: 600, 10, 20, 0, 5 → median 10, MAD 10 → A: 0.6745 · 590 / 10 = 39.8
    assert a.abs_difference == D("600") and a.net_difference == D("-600")
    assert a.flags == ["over_short"] and a.z["over_short"] == pytest.approx(39.80, abs=0.01)
    assert by_name["Cashier B"].flags == [] and by_name["Cashier D"].flags == []
    assert people[0].name == "Cashier A"  # the one standing out most comes first


# ---------------------------------------------------------------------------- the nightly task and the command
def test_nightly_task_and_command_refresh_both(branch, cashier):
    from io import StringIO

    from django.core.management import CommandError, call_command

    from reports.tasks import nightly_analytics

    a, b = ProductFactory(), ProductFactory()
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    for _ in range(3):
        completed_sale(branch=branch, cashier=cashier, when=local_dt(yesterday), items=[(a, 1), (b, 2)])
    assert nightly_analytics.call_local() == {"forecasts": 2, "basket_pairs": 1}
    out = StringIO()
    call_command("analytics_refresh", "--branch", branch.code, stdout=out)
    assert "forecasts: 2 stored" in out.getvalue() and "basket pairs: 1 stored" in out.getvalue()
    with pytest.raises(CommandError, match="Unknown branch code"):
        call_command("analytics_refresh", "--branch", "NOPE")
    assert ProductForecast.objects.count() == 2 and BasketPair.objects.count() == 1


def test_periodic_tasks_fire_at_shop_time(settings):
    from reports.notifications.tasks import daily_summary
    from reports.tasks import nightly_analytics

    # 18:00 UTC is 21:00 in Nairobi: the daily summary's default; 22:30 UTC is 01:30, the analytics'.
    summary, nightly = daily_summary.task_class(), nightly_analytics.task_class()
    assert summary.validate_datetime(dt.datetime(2026, 3, 30, 18, 0))
    assert not summary.validate_datetime(dt.datetime(2026, 3, 30, 21, 0))
    assert nightly.validate_datetime(dt.datetime(2026, 3, 30, 22, 30))
