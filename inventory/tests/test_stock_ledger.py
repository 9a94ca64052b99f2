"""The stock ledger: every change is a movement, stored stock equals the ledger, no oversell."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from inventory.errors import StockError, StockShortError
from inventory.ledger_services import StockLine, quantity_problem, stock_move
from inventory.models import MovementKind, StockLevel, StockMovement
from inventory.selectors import stock_on_hand
from inventory.tests.factories import KilogramFactory, ProductFactory, stock_in

pytestmark = pytest.mark.django_db


def test_movement_in_and_out_keeps_balance(branch, employee):
    product = ProductFactory()
    stock_in(product, branch, 10)
    stock_move(branch=branch, lines=[StockLine(product.pk, Decimal("-3"))], kind=MovementKind.SALE, user=employee)
    assert stock_on_hand(product_id=product.pk, branch_id=branch.pk) == Decimal("7")
    movements = list(StockMovement.objects.filter(product=product).order_by("id"))
    assert [m.quantity for m in movements] == [Decimal("10"), Decimal("-3")]
    assert [m.balance_after for m in movements] == [Decimal("10"), Decimal("7")]
    assert movements[1].user == employee
    assert movements[1].unit_cost == product.cost_price


def test_lines_for_the_same_product_are_merged(branch):
    product = ProductFactory()
    stock_in(product, branch, 10)
    movements = stock_move(
        branch=branch,
        lines=[StockLine(product.pk, Decimal("-2")), StockLine(product.pk, Decimal("-3"))],
        kind=MovementKind.SALE,
    )
    assert len(movements) == 1 and movements[0].quantity == Decimal("-5")


def test_short_stock_refuses_the_whole_batch_and_names_every_short_product(branch):
    plenty, short_a, short_b = (
        ProductFactory(name="Plenty"),
        ProductFactory(name="Sugar 2kg"),
        ProductFactory(name="Salt"),
    )
    stock_in(plenty, branch, 50)
    stock_in(short_a, branch, 1)
    before = StockMovement.objects.count()
    with pytest.raises(StockShortError) as exc:
        stock_move(
            branch=branch,
            lines=[
                StockLine(plenty.pk, Decimal("-5")),
                StockLine(short_a.pk, Decimal("-2")),
                StockLine(short_b.pk, Decimal("-1")),
            ],
            kind=MovementKind.SALE,
        )
    assert {s.product_name for s in exc.value.shortages} == {"Sugar 2kg", "Salt"}
    assert "Sugar 2kg: 1 in stock, 2 needed" in exc.value.message
    assert exc.value.status_code == 409
    assert StockMovement.objects.count() == before
    assert stock_on_hand(product_id=plenty.pk, branch_id=branch.pk) == Decimal("50")


def test_negative_stock_when_the_business_allows_it(branch):
    product = ProductFactory()
    stock_move(branch=branch, lines=[StockLine(product.pk, Decimal("-2"))], kind=MovementKind.SALE, allow_negative=True)
    assert stock_on_hand(product_id=product.pk, branch_id=branch.pk) == Decimal("-2")


def test_shop_setting_allows_negative_stock(branch, owner):
    from pos.people.services import shop_settings_update

    shop_settings_update(actor=owner, data={"allow_negative_stock": True})
    product = ProductFactory()
    stock_move(branch=branch, lines=[StockLine(product.pk, Decimal("-1"))], kind=MovementKind.SALE)
    assert stock_on_hand(product_id=product.pk, branch_id=branch.pk) == Decimal("-1")


def test_products_that_do_not_track_stock_are_skipped(branch):
    service = ProductFactory(track_stock=False, name="Gift wrapping")
    assert stock_move(branch=branch, lines=[StockLine(service.pk, Decimal("-1"))], kind=MovementKind.SALE) == []
    assert not StockLevel.objects.filter(product=service).exists()


def test_stock_is_per_branch(branch, other_branch):
    product = ProductFactory()
    stock_in(product, branch, 5)
    with pytest.raises(StockShortError):
        stock_move(branch=other_branch, lines=[StockLine(product.pk, Decimal("-1"))], kind=MovementKind.SALE)
    assert stock_on_hand(product_id=product.pk, branch_id=other_branch.pk) == Decimal("0")


def test_bad_calls_are_refused(branch):
    product = ProductFactory()
    with pytest.raises(StockError):
        stock_move(branch=branch, lines=[StockLine(product.pk, 1.5)], kind=MovementKind.SALE)  # float
    with pytest.raises(StockError):
        stock_move(branch=branch, lines=[StockLine(product.pk, Decimal("1"))], kind="GIFT")
    with pytest.raises(StockError):
        stock_move(branch=branch, lines=[StockLine(999999, Decimal("1"))], kind=MovementKind.OPENING)
    assert stock_move(branch=branch, lines=[StockLine(product.pk, Decimal("0"))], kind=MovementKind.OPENING) == []


def test_movements_are_insert_only(branch):
    product = ProductFactory()
    stock_in(product, branch, 3)
    movement = StockMovement.objects.get(product=product)
    with pytest.raises(PermissionError):
        movement.reason = "tamper"
        movement.save()
    with pytest.raises(PermissionError):
        movement.delete()


def test_quantity_decimals_follow_the_unit():
    assert (
        quantity_problem(quantity=Decimal("0.5"), decimal_places=0, unit_name="Piece")
        == "Piece is counted in whole numbers."
    )
    assert quantity_problem(quantity=Decimal("0.125"), decimal_places=3) is None
    assert "at most 2" in quantity_problem(quantity=Decimal("0.125"), decimal_places=2)
    assert quantity_problem(quantity=Decimal("2.000"), decimal_places=0) is None


def test_half_a_kilo_sells(branch):
    flour = ProductFactory(unit=KilogramFactory(), name="Loose rice")
    stock_in(flour, branch, Decimal("10"))
    stock_move(branch=branch, lines=[StockLine(flour.pk, Decimal("-0.5"))], kind=MovementKind.SALE)
    assert stock_on_hand(product_id=flour.pk, branch_id=branch.pk) == Decimal("9.5")


def test_check_stock_is_clean_and_catches_drift(branch):
    product = ProductFactory()
    stock_in(product, branch, 8)
    out = StringIO()
    call_command("check_stock", stdout=out)
    assert "matches the ledger" in out.getvalue()
    StockLevel.objects.filter(product=product).update(quantity=Decimal("9"))  # drift behind the ledger's back
    err = StringIO()
    with pytest.raises(CommandError, match="1 product/branch pair"):
        call_command("check_stock", stdout=StringIO(), stderr=err)
    assert "stored 9.000 but ledger says 8.000" in err.getvalue()
