"""Purchases: draft → ordered → received (partly or fully), moving-average cost, reorder suggestions."""

from decimal import Decimal as D

import pytest

from inventory.errors import StockConflictError, StockError
from inventory.ledger_services import StockLine, stock_move
from inventory.models import MovementKind, PurchaseLine, PurchaseStatus, StockMovement
from inventory.purchase_services import (
    moving_average_cost,
    purchase_cancel,
    purchase_close,
    purchase_create,
    purchase_line_remove,
    purchase_line_set,
    purchase_order,
    purchase_receive,
    purchases_from_suggestions,
)
from inventory.selectors import reorder_suggestions, stock_on_hand
from inventory.tests.factories import KilogramFactory, ProductFactory, SupplierFactory, stock_in
from pos.people.audit import AuditAction
from pos.people.models import AuditLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def supplier():
    return SupplierFactory(name="Bidco Africa")


@pytest.fixture
def oil():
    return ProductFactory(name="Elianto 1L", cost_price=D("100.00"), reorder_level=D("5"), reorder_quantity=D("24"))


def ordered(manager, supplier, branch, *lines):
    purchase = purchase_create(user=manager, supplier=supplier, branch=branch)
    for product, quantity, cost in lines:
        purchase_line_set(user=manager, purchase=purchase, product=product, quantity=D(quantity), unit_cost=D(cost))
    return purchase_order(user=manager, purchase=purchase)


def test_draft_lines_and_totals(manager, supplier, branch, oil):
    purchase = purchase_create(user=manager, supplier=supplier, branch=branch)
    line = purchase_line_set(user=manager, purchase=purchase, product=oil, quantity=D("10"), unit_cost=D("95.50"))
    purchase_line_set(
        user=manager, purchase=purchase, product=oil, quantity=D("12"), unit_cost=D("95.50")
    )  # same product: one line
    purchase.refresh_from_db()
    assert purchase.lines.count() == 1 and purchase.total_ordered == D("1146.00")
    purchase_line_remove(user=manager, purchase=purchase, line_id=line.pk)
    purchase.refresh_from_db()
    assert purchase.total_ordered == D("0.00")
    with pytest.raises(StockError, match="at least one product"):
        purchase_order(user=manager, purchase=purchase)


def test_lines_are_fixed_once_ordered(manager, supplier, branch, oil):
    purchase = ordered(manager, supplier, branch, (oil, "10", "100"))
    assert purchase.status == PurchaseStatus.ORDERED and purchase.ordered_by == manager
    with pytest.raises(StockConflictError):
        purchase_line_set(user=manager, purchase=purchase, product=oil, quantity=D("5"))


def test_receiving_partly_then_fully(manager, supplier, branch, oil):
    sugar = ProductFactory(name="Sugar", cost_price=D("200.00"))
    purchase = ordered(manager, supplier, branch, (oil, "10", "100"), (sugar, "5", "210"))
    lines = {line.product_id: line for line in purchase.lines.all()}
    purchase_receive(user=manager, purchase=purchase, quantities={lines[oil.pk].pk: D("6")})
    purchase.refresh_from_db()
    assert purchase.status == PurchaseStatus.PARTLY_RECEIVED
    assert stock_on_hand(product_id=oil.pk, branch_id=branch.pk) == D("6")
    purchase_receive(user=manager, purchase=purchase, quantities={lines[oil.pk].pk: D("4"), lines[sugar.pk].pk: D("5")})
    purchase.refresh_from_db()
    assert purchase.status == PurchaseStatus.RECEIVED and purchase.total_received == D("2050.00")
    movements = StockMovement.objects.filter(kind=MovementKind.PURCHASE_RECEIPT).order_by("id")
    assert [(m.product_id, m.quantity, m.unit_cost) for m in movements] == [
        (oil.pk, D("6"), D("100.00")),
        (oil.pk, D("4"), D("100.00")),
        (sugar.pk, D("5"), D("210.00")),
    ]
    assert all(m.reference == purchase for m in movements)
    with pytest.raises(StockConflictError):
        purchase_receive(user=manager, purchase=purchase, quantities={lines[oil.pk].pk: D("1")})


def test_moving_average_cost(manager, supplier, branch, oil):
    stock_in(oil, branch, 10)  # 10 at 100.00
    purchase = ordered(manager, supplier, branch, (oil, "30", "120"))
    purchase_receive(user=manager, purchase=purchase, quantities={purchase.lines.get().pk: D("30")})
    oil.refresh_from_db()
    assert oil.cost_price == D("115.00")  # (10×100 + 30×120) / 40
    entry = AuditLog.objects.get(action=AuditAction.PURCHASE_RECEIVED)
    assert entry.before_data["cost_price"] == {oil.sku: "100.00"} and entry.after_data["cost_price"] == {
        oil.sku: "115.00"
    }


def test_moving_average_rules():
    assert moving_average_cost(on_hand=D("0"), current_cost=D("50"), quantity=D("5"), unit_cost=D("60.00")) == D(
        "60.00"
    )
    assert moving_average_cost(on_hand=D("-3"), current_cost=D("50"), quantity=D("5"), unit_cost=D("60.00")) == D(
        "60.00"
    )
    assert moving_average_cost(on_hand=D("3"), current_cost=D("10.00"), quantity=D("0.5"), unit_cost=D("11.00")) == D(
        "10.14"
    )


def test_cost_at_receipt_may_differ_from_the_order(manager, supplier, branch, oil):
    purchase = ordered(manager, supplier, branch, (oil, "10", "100"))
    line = purchase.lines.get()
    purchase_receive(user=manager, purchase=purchase, quantities={line.pk: D("10")}, unit_costs={line.pk: D("104.00")})
    line.refresh_from_db()
    oil.refresh_from_db()
    assert line.unit_cost == D("104.00") and oil.cost_price == D("104.00")


def test_receiving_more_than_ordered_needs_the_tick_and_a_reason(manager, supplier, branch, oil):
    purchase = ordered(manager, supplier, branch, (oil, "10", "100"))
    line = purchase.lines.get()
    for kwargs in ({}, {"over_receive": True}, {"over_receive_reason": "bonus"}):
        with pytest.raises(StockError, match="more than was ordered") as exc:
            purchase_receive(user=manager, purchase=purchase, quantities={line.pk: D("12")}, **kwargs)
        assert exc.value.field == "over_receive"
    assert stock_on_hand(product_id=oil.pk, branch_id=branch.pk) == D("0")
    purchase.refresh_from_db()
    assert purchase.status == PurchaseStatus.ORDERED
    purchase_receive(
        user=manager,
        purchase=purchase,
        quantities={line.pk: D("12")},
        over_receive=True,
        over_receive_reason="Supplier's promotion: 2 free",
    )
    assert stock_on_hand(product_id=oil.pk, branch_id=branch.pk) == D("12")
    assert "over-received: Supplier's promotion" in StockMovement.objects.get(product=oil).reason


def test_bad_receipts_change_nothing(manager, supplier, branch):
    rice = ProductFactory(name="Rice loose", unit=KilogramFactory())
    soap = ProductFactory(name="Soap")
    purchase = ordered(manager, supplier, branch, (rice, "25", "150"), (soap, "10", "50"))
    lines = {line.product_id: line.pk for line in purchase.lines.all()}
    with pytest.raises(StockError, match="whole numbers"):
        purchase_receive(
            user=manager, purchase=purchase, quantities={lines[rice.pk]: D("2.5"), lines[soap.pk]: D("1.5")}
        )
    with pytest.raises(StockError, match="cannot be negative"):
        purchase_receive(user=manager, purchase=purchase, quantities={lines[soap.pk]: D("-1")})
    with pytest.raises(StockError, match="at least one line"):
        purchase_receive(user=manager, purchase=purchase, quantities={})
    with pytest.raises(StockError, match="cannot be negative"):
        purchase_receive(
            user=manager, purchase=purchase, quantities={lines[soap.pk]: D("1")}, unit_costs={lines[soap.pk]: D("-2")}
        )
    assert not StockMovement.objects.exists()
    purchase_receive(user=manager, purchase=purchase, quantities={lines[rice.pk]: D("2.5")})
    assert stock_on_hand(product_id=rice.pk, branch_id=branch.pk) == D("2.5")


def test_cancel_and_close_short(manager, supplier, branch, oil):
    purchase = ordered(manager, supplier, branch, (oil, "10", "100"))
    purchase_receive(user=manager, purchase=purchase, quantities={purchase.lines.get().pk: D("4")})
    with pytest.raises(StockConflictError):
        purchase_cancel(user=manager, purchase=purchase)
    with pytest.raises(StockError, match="Say why"):
        purchase_close(user=manager, purchase=purchase, reason="")
    purchase_close(user=manager, purchase=purchase, reason="Out of stock at Bidco")
    purchase.refresh_from_db()
    assert purchase.status == PurchaseStatus.RECEIVED
    other = ordered(manager, supplier, branch, (oil, "1", "100"))
    purchase_cancel(user=manager, purchase=other, reason="ordered twice")
    other.refresh_from_db()
    assert other.status == PurchaseStatus.CANCELLED


def test_cashiers_cannot_buy(employee, supplier, branch):
    with pytest.raises(StockError):
        purchase_create(user=employee, supplier=supplier, branch=branch)


def test_reorder_suggestions_group_by_last_supplier(manager, branch):
    bidco, kapa, unused = SupplierFactory(name="Bidco"), SupplierFactory(name="Kapa"), SupplierFactory(name="Unused")
    oil = ProductFactory(name="Oil", reorder_level=D("5"), reorder_quantity=D("24"), default_supplier=unused)
    soap = ProductFactory(name="Soap", reorder_level=D("10"), reorder_quantity=D("0"), default_supplier=kapa)
    ProductFactory(name="Salt", reorder_level=D("5"), reorder_quantity=D("12"))  # no supplier at all
    plenty = ProductFactory(name="Plenty", reorder_level=D("5"), default_supplier=kapa)
    ProductFactory(name="Never reordered", reorder_level=D("0"), reorder_quantity=D("0"), default_supplier=kapa)
    stock_in(plenty, branch, 50)
    stock_in(soap, branch, 4)
    # oil was last bought from Bidco: that wins over its default supplier
    purchase = ordered(manager, bidco, branch, (oil, "2", "100"))
    purchase_receive(user=manager, purchase=purchase, quantities={purchase.lines.get().pk: D("2")})
    stock_move(branch=branch, lines=[StockLine(oil.pk, D("-2"))], kind=MovementKind.SALE)
    groups = reorder_suggestions(branch_id=branch.pk)
    summary = {
        (g.supplier.name if g.supplier else None): [(s.product.name, s.quantity) for s in g.suggestions] for g in groups
    }
    assert summary == {"Bidco": [("Oil", D("24"))], "Kapa": [("Soap", D("6"))], None: [("Salt", D("12"))]}
    created = purchases_from_suggestions(user=manager, branch=branch)
    assert sorted(p.supplier.name for p in created) == ["Bidco", "Kapa"]
    assert all(p.status == PurchaseStatus.DRAFT for p in created)
    soap_line = PurchaseLine.objects.get(product=soap)
    assert soap_line.quantity_ordered == D("6") and soap_line.unit_cost == soap.cost_price
    # what is on order is not suggested again
    assert {g.supplier.name if g.supplier else None for g in reorder_suggestions(branch_id=branch.pk)} == {None}
