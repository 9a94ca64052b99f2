"""Adjustments with approval: a request changes nothing; approval writes the movement and the audit."""

from decimal import Decimal as D

import pytest

from inventory.adjustment_services import (
    stock_adjustment_approve,
    stock_adjustment_reject,
    stock_adjustment_request,
    stock_adjustments_decide,
)
from inventory.errors import StockConflictError, StockError
from inventory.ledger_services import StockLine, stock_move
from inventory.models import AdjustmentReason, AdjustmentStatus, MovementKind, StockAdjustment, StockMovement
from inventory.selectors import pending_adjustments, stock_on_hand
from inventory.tests.factories import KilogramFactory, ProductFactory, stock_in
from pos.people.audit import AuditAction
from pos.people.models import AuditLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def sugar(branch):
    product = ProductFactory(name="Sugar 2kg", reorder_level=D("2"))
    stock_in(product, branch, 10)
    return product


def on_hand(product, branch):
    return stock_on_hand(product_id=product.pk, branch_id=branch.pk)


def test_a_request_changes_no_stock(employee, branch, sugar):
    adjustment = stock_adjustment_request(
        user=employee, product=sugar, branch=branch, reason=AdjustmentReason.DAMAGED, delta=D("-2"), note="torn bags"
    )
    assert adjustment.status == AdjustmentStatus.PENDING and adjustment.expected_quantity == D("10")
    assert on_hand(sugar, branch) == D("10")
    assert StockMovement.objects.filter(kind=MovementKind.ADJUSTMENT).count() == 0


def test_counted_quantity_becomes_a_delta_and_later_sales_are_kept(employee, manager, branch, sugar):
    adjustment = stock_adjustment_request(
        user=employee, product=sugar, branch=branch, reason=AdjustmentReason.COUNT_CORRECTION, counted_quantity=D("8")
    )
    assert adjustment.delta == D("-2")
    stock_move(branch=branch, lines=[StockLine(sugar.pk, D("-3"))], kind=MovementKind.SALE)  # sold while waiting
    stock_adjustment_approve(adjustment=adjustment, user=manager)
    assert on_hand(sugar, branch) == D("5")  # 8 counted, 3 sold since


def test_approval_writes_one_movement_and_an_audit_entry(employee, manager, branch, sugar):
    adjustment = stock_adjustment_request(
        user=employee, product=sugar, branch=branch, reason=AdjustmentReason.EXPIRED, delta=D("-4")
    )
    stock_adjustment_approve(adjustment=adjustment, user=manager, note="seen the bin")
    adjustment.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.APPROVED and adjustment.decided_by == manager
    assert (adjustment.quantity_before, adjustment.quantity_after) == (D("10"), D("6"))
    movement = adjustment.movement
    assert (movement.kind, movement.quantity, movement.balance_after) == (MovementKind.ADJUSTMENT, D("-4"), D("6"))
    assert movement.reference == adjustment and movement.user == manager
    entry = AuditLog.objects.get(action=AuditAction.ADJUSTMENT_APPROVED)
    assert entry.before_data["stock"] == "10.000" and entry.after_data["stock"] == "6.000"
    assert entry.after_data["own_request"] is False and entry.user == manager
    with pytest.raises(StockConflictError, match="already approved by Mark Manager"):
        stock_adjustment_approve(adjustment=adjustment, user=manager)
    assert StockMovement.objects.filter(kind=MovementKind.ADJUSTMENT).count() == 1


def test_a_managers_own_request_still_needs_the_click(manager, branch, sugar):
    adjustment = stock_adjustment_request(
        user=manager, product=sugar, branch=branch, reason=AdjustmentReason.THEFT, delta=D("-1")
    )
    assert on_hand(sugar, branch) == D("10")
    stock_adjustment_approve(adjustment=adjustment, user=manager)
    assert on_hand(sugar, branch) == D("9")
    assert AuditLog.objects.get(action=AuditAction.ADJUSTMENT_APPROVED).after_data["own_request"] is True


def test_rejection_records_who_and_why(employee, manager, branch, sugar):
    adjustment = stock_adjustment_request(
        user=employee, product=sugar, branch=branch, reason=AdjustmentReason.OTHER, delta=D("3"), note="found"
    )
    with pytest.raises(StockError, match="Say why"):
        stock_adjustment_reject(adjustment=adjustment, user=manager, note=" ")
    stock_adjustment_reject(adjustment=adjustment, user=manager, note="They were on the delivery, not found")
    adjustment.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.REJECTED and adjustment.decided_by == manager
    assert adjustment.movement is None and on_hand(sugar, branch) == D("10")
    assert AuditLog.objects.filter(action=AuditAction.ADJUSTMENT_REJECTED, user=manager).exists()


def test_cashiers_cannot_approve(employee, branch, sugar):
    adjustment = stock_adjustment_request(
        user=employee, product=sugar, branch=branch, reason=AdjustmentReason.DAMAGED, delta=D("-1")
    )
    with pytest.raises(StockError):
        stock_adjustment_approve(adjustment=adjustment, user=employee)
    assert on_hand(sugar, branch) == D("10")


def test_below_zero_is_refused_at_request(employee, branch, sugar):
    with pytest.raises(StockError, match="below zero: 10 in stock, 11 to remove"):
        stock_adjustment_request(
            user=employee, product=sugar, branch=branch, reason=AdjustmentReason.THEFT, delta=D("-11")
        )
    with pytest.raises(StockError, match="cannot be negative"):
        stock_adjustment_request(
            user=employee, product=sugar, branch=branch, reason=AdjustmentReason.THEFT, counted_quantity=D("-1")
        )
    assert not StockAdjustment.objects.exists()


def test_below_zero_is_refused_at_approval_with_a_clear_message(employee, manager, branch, sugar):
    adjustment = stock_adjustment_request(
        user=employee, product=sugar, branch=branch, reason=AdjustmentReason.DAMAGED, delta=D("-8")
    )
    stock_move(branch=branch, lines=[StockLine(sugar.pk, D("-5"))], kind=MovementKind.SALE)
    with pytest.raises(StockConflictError) as exc:
        stock_adjustment_approve(adjustment=adjustment, user=manager)
    assert "would take Sugar 2kg below zero (5 in stock now, 8 to remove)" in exc.value.message
    adjustment.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.PENDING and on_hand(sugar, branch) == D("5")
    assert not AuditLog.objects.filter(action=AuditAction.ADJUSTMENT_APPROVED).exists()


def test_adjustments_below_zero_are_refused_even_when_the_shop_allows_negative_sales(
    employee, manager, owner, branch, sugar
):
    from pos.people.services import shop_settings_update

    shop_settings_update(actor=owner, data={"allow_negative_stock": True})
    adjustment = stock_adjustment_request(
        user=employee, product=sugar, branch=branch, reason=AdjustmentReason.DAMAGED, delta=D("-8")
    )
    stock_move(branch=branch, lines=[StockLine(sugar.pk, D("-5"))], kind=MovementKind.SALE)
    with pytest.raises(StockConflictError):
        stock_adjustment_approve(adjustment=adjustment, user=manager)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"delta": D("0.5")}, "whole numbers"),
        ({"counted_quantity": D("10")}, "nothing to adjust"),
        ({"delta": D("0")}, "zero adjusts nothing"),
        ({}, "either the quantity"),
        ({"delta": D("1"), "counted_quantity": D("1")}, "either the quantity"),
        ({"delta": D("1"), "reason": AdjustmentReason.OTHER}, "Say what happened"),
        ({"delta": D("1"), "reason": "LOST_AT_SEA"}, "Choose a reason"),
    ],
)
def test_bad_requests_are_refused(employee, branch, sugar, kwargs, message):
    kwargs.setdefault("reason", AdjustmentReason.DAMAGED)
    with pytest.raises(StockError, match=message):
        stock_adjustment_request(user=employee, product=sugar, branch=branch, **kwargs)
    assert not StockAdjustment.objects.exists()


def test_half_a_kilo_is_fine_for_loose_goods(employee, branch):
    rice = ProductFactory(unit=KilogramFactory(), name="Pishori loose")
    stock_in(rice, branch, D("10"))
    adjustment = stock_adjustment_request(
        user=employee, product=rice, branch=branch, reason=AdjustmentReason.DAMAGED, delta=D("-0.5")
    )
    assert adjustment.delta == D("-0.5")


def test_other_branches_are_not_yours(employee, branch, other_branch, sugar, manager):
    with pytest.raises(StockError, match="not yours"):
        stock_adjustment_request(
            user=employee, product=sugar, branch=other_branch, reason=AdjustmentReason.DAMAGED, delta=D("1")
        )
    from pos.tests.factories import UserFactory

    far_manager = UserFactory(role="MANAGER", branch=other_branch)
    adjustment = stock_adjustment_request(
        user=employee, product=sugar, branch=branch, reason=AdjustmentReason.DAMAGED, delta=D("-1")
    )
    with pytest.raises(StockError, match="not yours"):
        stock_adjustment_approve(adjustment=adjustment, user=far_manager)
    assert pending_adjustments(viewer=far_manager).count() == 0
    assert pending_adjustments(viewer=manager).count() == 1


def test_several_at_once_each_on_its_own(employee, manager, branch, sugar):
    ok = stock_adjustment_request(
        user=employee, product=sugar, branch=branch, reason=AdjustmentReason.DAMAGED, delta=D("-2")
    )
    too_big = stock_adjustment_request(
        user=employee, product=sugar, branch=branch, reason=AdjustmentReason.DAMAGED, delta=D("-9")
    )
    results = stock_adjustments_decide(adjustment_ids=[ok.pk, too_big.pk], user=manager, approve=True)
    assert [(r.adjustment_id, r.ok) for r in results] == [(ok.pk, True), (too_big.pk, False)]
    assert "below zero" in results[1].message
    assert on_hand(sugar, branch) == D("8")
    results = stock_adjustments_decide(adjustment_ids=[too_big.pk], user=manager, approve=False, note="recount")
    assert results[0].ok
    too_big.refresh_from_db()
    assert too_big.status == AdjustmentStatus.REJECTED


def test_employees_see_only_their_own_requests(employee, manager, branch, sugar):
    from inventory.selectors import adjustment_list

    stock_adjustment_request(
        user=employee, product=sugar, branch=branch, reason=AdjustmentReason.DAMAGED, delta=D("-1")
    )
    stock_adjustment_request(user=manager, product=sugar, branch=branch, reason=AdjustmentReason.DAMAGED, delta=D("-1"))
    assert adjustment_list(viewer=employee).count() == 1
    assert adjustment_list(viewer=manager).count() == 2
