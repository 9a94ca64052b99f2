"""Transfers: out at the source when sent, in at the destination when received, in transit between."""

from decimal import Decimal as D

import pytest

from core.roles import Role
from inventory.errors import StockConflictError, StockError
from inventory.models import MovementKind, StockMovement, TransferStatus
from inventory.purchase_services import (
    transfer_cancel,
    transfer_create,
    transfer_dispatch,
    transfer_line_remove,
    transfer_line_set,
    transfer_receive,
)
from inventory.selectors import product_stock_by_branch, stock_in_transit, stock_on_hand, transfer_list
from inventory.tests.factories import ProductFactory, stock_in
from pos.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def far_manager(other_branch):
    return UserFactory(role=Role.MANAGER, branch=other_branch, full_name="Westlands Manager")


def on_hand(product, branch):
    return stock_on_hand(product_id=product.pk, branch_id=branch.pk)


def test_send_and_receive(manager, far_manager, owner, branch, other_branch):
    soda = ProductFactory(name="Soda")
    stock_in(soda, branch, 30)
    transfer = transfer_create(user=manager, from_branch=branch, to_branch=other_branch, note="weekend stock")
    line = transfer_line_set(user=manager, transfer=transfer, product=soda, quantity=D("12"))
    transfer_dispatch(user=manager, transfer=transfer)
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.IN_TRANSIT
    assert on_hand(soda, branch) == D("18") and on_hand(soda, other_branch) == D("0")
    assert stock_in_transit(product_id=soda.pk) == D("12")
    rows = {row["branch"].code: row for row in product_stock_by_branch(product_id=soda.pk, user=owner)}
    assert rows["WSTL"]["in_transit"] == D("12")
    assert transfer_list(viewer=far_manager).count() == 1  # they see what is coming to them
    with pytest.raises(StockError, match="not yours"):
        transfer_receive(user=manager, transfer=transfer)  # only the destination receives
    transfer_receive(user=far_manager, transfer=transfer)
    transfer.refresh_from_db()
    line.refresh_from_db()
    assert transfer.status == TransferStatus.RECEIVED and line.quantity_received == D("12")
    assert on_hand(soda, other_branch) == D("12") and stock_in_transit(product_id=soda.pk) == D("0")
    kinds = list(StockMovement.objects.filter(product=soda).order_by("id").values_list("kind", "quantity"))
    assert kinds[-2:] == [(MovementKind.TRANSFER_OUT, D("-12")), (MovementKind.TRANSFER_IN, D("12"))]
    with pytest.raises(StockConflictError):
        transfer_receive(user=far_manager, transfer=transfer)


def test_short_delivery_needs_a_note(manager, far_manager, branch, other_branch):
    soda = ProductFactory(name="Soda")
    stock_in(soda, branch, 30)
    transfer = transfer_create(user=manager, from_branch=branch, to_branch=other_branch)
    line = transfer_line_set(user=manager, transfer=transfer, product=soda, quantity=D("10"))
    transfer_dispatch(user=manager, transfer=transfer)
    with pytest.raises(StockError, match="Say what happened"):
        transfer_receive(user=far_manager, transfer=transfer, quantities={line.pk: D("8")})
    with pytest.raises(StockError, match="only 10 were sent"):
        transfer_receive(user=far_manager, transfer=transfer, quantities={line.pk: D("11")})
    assert on_hand(soda, other_branch) == D("0")
    transfer_receive(user=far_manager, transfer=transfer, quantities={line.pk: D("8")}, note="2 crushed in the matatu")
    assert on_hand(soda, other_branch) == D("8")


def test_cannot_send_what_is_not_there(manager, branch, other_branch):
    soda = ProductFactory(name="Soda")
    stock_in(soda, branch, 3)
    transfer = transfer_create(user=manager, from_branch=branch, to_branch=other_branch)
    transfer_line_set(user=manager, transfer=transfer, product=soda, quantity=D("5"))
    with pytest.raises(StockConflictError, match="Soda: 3 in stock, 5 needed"):
        transfer_dispatch(user=manager, transfer=transfer)
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.DRAFT and on_hand(soda, branch) == D("3")


def test_bad_transfers(manager, employee, branch, other_branch):
    soda = ProductFactory(name="Soda")
    with pytest.raises(StockError, match="another branch"):
        transfer_create(user=manager, from_branch=branch, to_branch=branch)
    with pytest.raises(StockError):
        transfer_create(user=employee, from_branch=branch, to_branch=other_branch)
    with pytest.raises(StockError, match="not yours"):
        transfer_create(user=manager, from_branch=other_branch, to_branch=branch)
    transfer = transfer_create(user=manager, from_branch=branch, to_branch=other_branch)
    with pytest.raises(StockError, match="whole numbers"):
        transfer_line_set(user=manager, transfer=transfer, product=soda, quantity=D("0.5"))
    with pytest.raises(StockError, match="at least one product"):
        transfer_dispatch(user=manager, transfer=transfer)
    line = transfer_line_set(user=manager, transfer=transfer, product=soda, quantity=D("1"))
    transfer_line_remove(user=manager, transfer=transfer, line_id=line.pk)
    transfer_cancel(user=manager, transfer=transfer)
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.CANCELLED
