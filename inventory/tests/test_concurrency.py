"""Row locks on MariaDB: concurrent stock changes all land, and none oversells."""

from decimal import Decimal as D

import pytest
from django.db import connection

from inventory.models import MovementKind, StockMovement
from inventory.selectors import stock_on_hand
from inventory.services import StockLine, StockShortError, stock_move
from inventory.tests.factories import ProductFactory, stock_in
from pos.tests.concurrency import run_together

pytestmark = [pytest.mark.mysql_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_mysql():
    if connection.vendor != "mysql":
        pytest.skip("needs MariaDB/MySQL row locks")


def test_two_concurrent_adjustments_both_land(branch):
    product = ProductFactory()
    stock_in(product, branch, 10)

    def adjust(delta):
        return lambda: stock_move(branch=branch, lines=[StockLine(product.pk, D(delta))], kind=MovementKind.ADJUSTMENT)

    results = run_together(adjust("5"), adjust("-3"), adjust("7"), adjust("-2"))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert stock_on_hand(product_id=product.pk, branch_id=branch.pk) == D("17")
    running = D("0")
    for quantity, balance_after in StockMovement.objects.filter(product=product).order_by("id").values_list(
        "quantity", "balance_after"
    ):
        running += quantity
        assert balance_after == running  # each movement saw the one before it


def test_the_last_unit_is_sold_once(branch):
    product = ProductFactory()
    stock_in(product, branch, 1)

    def take():
        return stock_move(branch=branch, lines=[StockLine(product.pk, D("-1"))], kind=MovementKind.SALE)

    results = run_together(take, take, take)
    assert sum(1 for r in results if isinstance(r, list)) == 1
    assert sum(1 for r in results if isinstance(r, StockShortError)) == 2
    assert stock_on_hand(product_id=product.pk, branch_id=branch.pk) == D("0")


def test_opposite_order_batches_do_not_deadlock(branch):
    a, b = ProductFactory(), ProductFactory()
    stock_in(a, branch, 100)
    stock_in(b, branch, 100)

    def batch(first, second):
        return lambda: stock_move(
            branch=branch,
            lines=[StockLine(first.pk, D("-1")), StockLine(second.pk, D("-1"))],
            kind=MovementKind.SALE,
        )

    results = run_together(*[batch(a, b) if i % 2 else batch(b, a) for i in range(6)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert stock_on_hand(product_id=a.pk, branch_id=branch.pk) == D("94")
