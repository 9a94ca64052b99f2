"""Low / out-of-stock alerts: kept right by the ledger on every movement, notified by a Huey task."""

from decimal import Decimal as D

import pytest
from django.db import IntegrityError, transaction

from inventory.catalogue_services import product_set_active, product_update
from inventory.ledger_services import StockLine, stock_move
from inventory.models import AlertKind, MovementKind, StockAlert
from inventory.selectors import low_stock_products, open_alert_badge_count, out_of_stock_products
from inventory.signals import stock_alert_raised
from inventory.tests.factories import ProductFactory, stock_in

pytestmark = pytest.mark.django_db


def sell(product, branch, quantity):
    return stock_move(branch=branch, lines=[StockLine(product.pk, -D(str(quantity)))], kind=MovementKind.SALE)


def open_alerts_of(product):
    return list(StockAlert.objects.filter(product=product, open_marker=True))


def test_a_sale_to_the_reorder_level_opens_one_low_alert(branch):
    product = ProductFactory(reorder_level=D("5"))
    stock_in(product, branch, 20)
    sell(product, branch, 14)
    assert open_alerts_of(product) == []
    sell(product, branch, 1)  # 5 left: at the level
    [alert] = open_alerts_of(product)
    assert (alert.kind, alert.balance, alert.reorder_level) == (AlertKind.LOW, D("5"), D("5"))
    sell(product, branch, 1)
    sell(product, branch, 2)
    assert StockAlert.objects.filter(product=product).count() == 1  # no duplicates while open


def test_running_out_escalates_and_restocking_resolves(branch):
    product = ProductFactory(reorder_level=D("5"))
    stock_in(product, branch, 6)
    sell(product, branch, 2)
    sell(product, branch, 4)
    [alert] = open_alerts_of(product)
    assert alert.kind == AlertKind.OUT and alert.balance == D("0")
    stock_in(product, branch, 3, kind=MovementKind.PURCHASE_RECEIPT)  # 3: still low
    alert.refresh_from_db()
    assert alert.is_open and alert.kind == AlertKind.LOW
    stock_in(product, branch, 10, kind=MovementKind.PURCHASE_RECEIPT)  # 13: above the level
    alert.refresh_from_db()
    assert not alert.is_open and alert.resolved_balance == D("13")
    sell(product, branch, 9)  # a new episode opens a new alert
    assert len(open_alerts_of(product)) == 1
    assert StockAlert.objects.filter(product=product).count() == 2


def test_alerts_are_per_branch(branch, other_branch):
    product = ProductFactory(reorder_level=D("5"))
    stock_in(product, branch, 3)
    stock_in(product, other_branch, 30)
    assert [a.branch_id for a in open_alerts_of(product)] == [branch.pk]


def test_the_database_refuses_a_second_open_alert(branch):
    product = ProductFactory(reorder_level=D("5"))
    stock_in(product, branch, 2)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockAlert.objects.create(
            product=product,
            branch=branch,
            kind=AlertKind.LOW,
            balance=D("2"),
            reorder_level=D("5"),
            opened_at=StockAlert.objects.get().opened_at,
        )


def test_reorder_level_change_and_deactivation_refresh_alerts(branch, manager):
    product = ProductFactory(reorder_level=D("5"))
    stock_in(product, branch, 8)
    assert open_alerts_of(product) == []
    product_update(actor=manager, product=product, data={"reorder_level": D("10")})
    assert [a.kind for a in open_alerts_of(product)] == [AlertKind.LOW]
    product_update(actor=manager, product=product, data={"reorder_level": D("2")})
    assert open_alerts_of(product) == []
    product_update(actor=manager, product=product, data={"reorder_level": D("10")})
    product_set_active(actor=manager, product=product, active=False)
    assert open_alerts_of(product) == []


def test_a_plain_sale_above_the_level_costs_no_alert_query(branch, django_assert_num_queries):
    product = ProductFactory(reorder_level=D("5"))
    stock_in(product, branch, 50)
    from pos.people.selectors import shop_settings

    shop_settings()  # cached, like on a warm server
    # product, lock, update levels, insert movements, and the savepoint pair of the test's transaction
    with django_assert_num_queries(6) as captured:
        sell(product, branch, 1)
    assert not any("inventory_stockalert" in q["sql"] for q in captured.captured_queries)


def test_the_task_notifies_once_and_feeds_the_badge(branch, employee, django_capture_on_commit_callbacks):
    product = ProductFactory(reorder_level=D("5"))
    received = []

    def receiver(sender, alert_id, **kwargs):
        received.append(alert_id)

    stock_alert_raised.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            stock_in(product, branch, 2)
        alert = StockAlert.objects.get(product=product)
        assert open_alert_badge_count(viewer=employee) == 0  # not told yet
        for callback in callbacks:
            callback()  # Huey runs immediately in tests
        assert received == [alert.pk]
        assert open_alert_badge_count(viewer=employee) == 1
        from inventory.tasks import notify_stock_alert

        assert notify_stock_alert.call_local(alert.pk) is False  # a second run tells nobody again
        assert received == [alert.pk]
        with django_capture_on_commit_callbacks(execute=True):
            sell(product, branch, 2)  # ran out: escalation is news
        assert received == [alert.pk, alert.pk]
        with django_capture_on_commit_callbacks(execute=True):
            stock_in(product, branch, 50, kind=MovementKind.PURCHASE_RECEIPT)
        assert open_alert_badge_count(viewer=employee) == 0
    finally:
        stock_alert_raised.disconnect(receiver)


def test_low_and_out_of_stock_selectors(branch):
    low = ProductFactory(name="Low one", reorder_level=D("5"))
    out = ProductFactory(name="Out one", reorder_level=D("5"))
    fine = ProductFactory(name="Fine one", reorder_level=D("5"))
    never = ProductFactory(name="Never stocked", reorder_level=D("0"))
    untracked = ProductFactory(name="Service", track_stock=False)
    stock_in(low, branch, 4)
    stock_in(out, branch, 1)
    sell(out, branch, 1)
    stock_in(fine, branch, 40)
    assert [p.name for p in low_stock_products(branch_id=branch.pk)] == ["Low one"]
    assert sorted(p.name for p in out_of_stock_products(branch_id=branch.pk)) == ["Never stocked", "Out one"]
    assert untracked not in out_of_stock_products(branch_id=branch.pk)
    assert never.pk
