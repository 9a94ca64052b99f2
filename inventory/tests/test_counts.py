"""Stock counts: snapshot, scanner-friendly entry, variances, posting as one approved batch."""

from decimal import Decimal as D

import pytest
from django.db import IntegrityError, transaction

from inventory.adjustment_services import (
    stock_count_cancel,
    stock_count_enter,
    stock_count_post,
    stock_count_scan,
    stock_count_start,
)
from inventory.errors import StockConflictError, StockError
from inventory.ledger_services import StockLine, stock_move
from inventory.models import AdjustmentStatus, CountStatus, MovementKind, StockCount, StockMovement
from inventory.selectors import stock_on_hand
from inventory.tests.factories import CategoryFactory, KilogramFactory, ProductFactory, stock_in
from pos.people.audit import AuditAction
from pos.people.models import AuditLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf(branch):
    drinks = CategoryFactory(name="Drinks")
    soda = ProductFactory(name="Soda 500ml", category=drinks)
    water = ProductFactory(name="Water 1l", category=drinks)
    juice = ProductFactory(name="Juice 1l", category=drinks)
    bread = ProductFactory(name="Bread", category=CategoryFactory(name="Bakery"))
    for product, quantity in ((soda, 24), (water, 12), (juice, 6), (bread, 10)):
        stock_in(product, branch, quantity)
    ProductFactory(name="Old stock", category=drinks, is_active=False)
    return {"drinks": drinks, "soda": soda, "water": water, "juice": juice, "bread": bread}


def on_hand(product, branch):
    return stock_on_hand(product_id=product.pk, branch_id=branch.pk)


def test_start_snapshots_the_category(employee, branch, shelf):
    count = stock_count_start(user=employee, branch=branch, category=shelf["drinks"])
    lines = {line.product.name: line.expected_quantity for line in count.lines.select_related("product")}
    assert lines == {"Soda 500ml": D("24"), "Water 1l": D("12"), "Juice 1l": D("6")}
    whole = None
    with pytest.raises(StockError, match="Finish or cancel"):
        whole = stock_count_start(user=employee, branch=branch)
    with pytest.raises(StockError, match="already open"):
        stock_count_start(user=employee, branch=branch, category=shelf["drinks"])
    assert whole is None


def test_one_open_count_per_scope_is_a_database_rule(employee, branch, shelf):
    count = stock_count_start(user=employee, branch=branch, category=shelf["drinks"])
    with pytest.raises(IntegrityError), transaction.atomic():
        StockCount.objects.create(
            branch=branch, category=shelf["drinks"], started_by=employee, open_marker=count.open_marker
        )


def test_enter_scan_and_post(employee, manager, branch, shelf):
    count = stock_count_start(user=employee, branch=branch, category=shelf["drinks"])
    stock_count_enter(count=count, product=shelf["soda"], counted_quantity=D("22"), user=employee)
    stock_count_enter(count=count, product=shelf["water"], counted_quantity=D("12"), user=employee)
    for _ in range(3):
        stock_count_scan(
            count=count, code=shelf["bread"].barcode, user=employee, add_one=True
        )  # not on the sheet: added
    line = stock_count_scan(count=count, code=shelf["juice"].sku.lower(), user=employee)  # focus only
    assert line.counted_quantity is None
    assert on_hand(shelf["soda"], branch) == D("24")  # counting changes nothing
    with pytest.raises(StockError):
        stock_count_post(count=count, user=employee)  # cashiers count; managers post
    adjustments = stock_count_post(count=count, user=manager)
    assert sorted((a.product.name, a.delta) for a in adjustments) == [("Bread", D("-7")), ("Soda 500ml", D("-2"))]
    assert all(a.status == AdjustmentStatus.APPROVED and a.decided_by == manager for a in adjustments)
    assert on_hand(shelf["soda"], branch) == D("22") and on_hand(shelf["bread"], branch) == D("3")
    assert on_hand(shelf["juice"], branch) == D("6")  # not counted: left alone
    movements = StockMovement.objects.filter(kind=MovementKind.COUNT)
    assert movements.count() == 2 and all(m.reference == count for m in movements)
    count.refresh_from_db()
    assert count.status == CountStatus.POSTED and count.open_marker is None
    entry = AuditLog.objects.get(action=AuditAction.STOCK_COUNT_POSTED)
    assert entry.before_data[shelf["soda"].sku] == "24.000" and entry.after_data[shelf["soda"].sku] == "22.000"
    with pytest.raises(StockConflictError):
        stock_count_enter(count=count, product=shelf["soda"], counted_quantity=D("1"), user=employee)


def test_sales_while_counting_are_not_variance(employee, manager, branch, shelf):
    count = stock_count_start(user=employee, branch=branch, category=shelf["drinks"])
    stock_move(branch=branch, lines=[StockLine(shelf["soda"].pk, D("-4"))], kind=MovementKind.SALE)
    stock_count_enter(count=count, product=shelf["soda"], counted_quantity=D("20"), user=employee)  # 24 - 4 sold
    assert stock_count_post(count=count, user=manager) == []
    assert on_hand(shelf["soda"], branch) == D("20")


def test_bad_counts(employee, branch, shelf):
    count = stock_count_start(user=employee, branch=branch, category=shelf["drinks"])
    with pytest.raises(StockError, match="whole numbers"):
        stock_count_enter(count=count, product=shelf["soda"], counted_quantity=D("1.5"), user=employee)
    with pytest.raises(StockError, match="cannot be negative"):
        stock_count_enter(count=count, product=shelf["soda"], counted_quantity=D("-1"), user=employee)
    with pytest.raises(StockError, match="No active product"):
        stock_count_scan(count=count, code="6160000000000", user=employee)
    with pytest.raises(StockError, match="Nothing has been counted"):
        from pos.tests.factories import UserFactory

        stock_count_post(count=count, user=UserFactory(role="MANAGER", branch=branch))


def test_loose_goods_count_in_decimals(employee, manager, branch):
    tomatoes = ProductFactory(name="Tomatoes", unit=KilogramFactory())
    stock_in(tomatoes, branch, D("12.5"))
    count = stock_count_start(user=employee, branch=branch)
    stock_count_enter(count=count, product=tomatoes, counted_quantity=D("11.75"), user=employee)
    stock_count_post(count=count, user=manager)
    assert on_hand(tomatoes, branch) == D("11.75")


def test_cancel_changes_nothing(employee, manager, branch, shelf):
    count = stock_count_start(user=employee, branch=branch, category=shelf["drinks"])
    stock_count_enter(count=count, product=shelf["soda"], counted_quantity=D("1"), user=employee)
    stock_count_cancel(count=count, user=employee)
    count.refresh_from_db()
    assert count.status == CountStatus.CANCELLED and on_hand(shelf["soda"], branch) == D("24")
    stock_count_start(user=employee, branch=branch, category=shelf["drinks"])  # a new one may start
