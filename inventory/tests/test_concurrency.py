"""Row locks on MariaDB: concurrent stock changes all land, and none oversells."""

from decimal import Decimal as D

import pytest
from django.db import connection

from inventory.errors import StockShortError
from inventory.ledger_services import StockLine, stock_move
from inventory.models import MovementKind, StockMovement
from inventory.selectors import stock_on_hand
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
    for quantity, balance_after in (
        StockMovement.objects.filter(product=product).order_by("id").values_list("quantity", "balance_after")
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


def test_two_concurrent_approvals_of_the_same_product_both_land(branch, employee, manager, owner):
    from inventory.adjustment_services import stock_adjustment_approve, stock_adjustment_request
    from inventory.models import AdjustmentReason, AdjustmentStatus, StockAdjustment
    from pos.people.audit import AuditAction
    from pos.people.models import AuditLog

    product = ProductFactory(reorder_level=D("3"))
    stock_in(product, branch, 20)
    damaged = stock_adjustment_request(
        user=employee, product=product, branch=branch, reason=AdjustmentReason.DAMAGED, delta=D("-4")
    )
    found = stock_adjustment_request(
        user=employee,
        product=product,
        branch=branch,
        reason=AdjustmentReason.OTHER,
        delta=D("7"),
        note="found in the store",
    )

    results = run_together(
        lambda: stock_adjustment_approve(adjustment=damaged, user=manager),
        lambda: stock_adjustment_approve(adjustment=found, user=owner),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert stock_on_hand(product_id=product.pk, branch_id=branch.pk) == D("23")
    assert set(StockAdjustment.objects.values_list("status", flat=True)) == {AdjustmentStatus.APPROVED}
    # each approval saw the other's result: before/after chain up
    befores_afters = sorted(StockAdjustment.objects.values_list("quantity_before", "quantity_after"))
    assert befores_afters[0][1] == befores_afters[1][0] or befores_afters[1][1] == befores_afters[0][0]
    assert AuditLog.objects.filter(action=AuditAction.ADJUSTMENT_APPROVED).count() == 2


def test_one_request_approved_twice_at_once_lands_once(branch, employee, manager, owner):
    from inventory.adjustment_services import stock_adjustment_approve, stock_adjustment_request
    from inventory.errors import StockConflictError
    from inventory.models import AdjustmentReason

    product = ProductFactory()
    stock_in(product, branch, 10)
    adjustment = stock_adjustment_request(
        user=employee, product=product, branch=branch, reason=AdjustmentReason.DAMAGED, delta=D("-2")
    )
    results = run_together(
        lambda: stock_adjustment_approve(adjustment=adjustment, user=manager),
        lambda: stock_adjustment_approve(adjustment=adjustment, user=owner),
    )
    assert sum(1 for r in results if isinstance(r, StockConflictError)) == 1, results
    assert stock_on_hand(product_id=product.pk, branch_id=branch.pk) == D("8")
    assert StockMovement.objects.filter(kind=MovementKind.ADJUSTMENT).count() == 1


def test_concurrent_sales_keep_one_alert(branch):
    from inventory.models import StockAlert

    product = ProductFactory(reorder_level=D("10"))
    stock_in(product, branch, 14)

    def sell():
        return stock_move(branch=branch, lines=[StockLine(product.pk, D("-1"))], kind=MovementKind.SALE)

    results = run_together(*[sell for _ in range(6)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert StockAlert.objects.filter(product=product, open_marker=True).count() == 1
