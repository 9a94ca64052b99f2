"""A whole stock flow that ends with `check_stock` clean, and the stock admin that changes nothing.
(The demo shop itself is checked in pos/tests/test_demo_seed.py.)"""

from decimal import Decimal as D
from io import StringIO

import pytest
from django.core.management import call_command

from inventory.models import MovementKind, StockLevel, StockMovement

pytestmark = pytest.mark.django_db


def test_every_kind_of_change_then_check_stock_is_clean(manager, employee, branch, other_branch, owner):
    """Sales, purchases, adjustments, a count, a transfer and an import: the ledger and the stored
    stock still agree for every product and branch."""
    from inventory.adjustment_services import (
        stock_adjustment_approve,
        stock_adjustment_request,
        stock_count_enter,
        stock_count_post,
        stock_count_start,
    )
    from inventory.import_services import product_import_confirm, product_import_preview
    from inventory.ledger_services import StockLine, stock_move
    from inventory.models import AdjustmentReason
    from inventory.purchase_services import (
        purchase_create,
        purchase_line_set,
        purchase_order,
        purchase_receive,
        transfer_create,
        transfer_dispatch,
        transfer_line_set,
        transfer_receive,
    )
    from inventory.tests.factories import CategoryFactory, ProductFactory, SupplierFactory, UnitFactory, stock_in
    from pos.tests.factories import UserFactory

    drinks = CategoryFactory(name="Drinks")
    soda, water = ProductFactory(name="Soda", category=drinks), ProductFactory(name="Water", category=drinks)
    stock_in(soda, branch, 50)
    stock_move(
        branch=branch,
        lines=[StockLine(soda.pk, D("-7")), StockLine(water.pk, D("-1"))],
        kind=MovementKind.SALE,
        allow_negative=True,
    )
    purchase = purchase_create(user=manager, supplier=SupplierFactory(), branch=branch)
    purchase_line_set(user=manager, purchase=purchase, product=water, quantity=D("24"), unit_cost=D("40"))
    purchase_order(user=manager, purchase=purchase)
    purchase_receive(user=manager, purchase=purchase, quantities={purchase.lines.get().pk: D("24")})
    adjustment = stock_adjustment_request(
        user=employee, product=soda, branch=branch, reason=AdjustmentReason.THEFT, delta=D("-2")
    )
    stock_adjustment_approve(adjustment=adjustment, user=manager)
    count = stock_count_start(user=employee, branch=branch, category=drinks)
    stock_count_enter(count=count, product=water, counted_quantity=D("22"), user=employee)
    stock_count_post(count=count, user=manager)
    transfer = transfer_create(user=manager, from_branch=branch, to_branch=other_branch)
    transfer_line_set(user=manager, transfer=transfer, product=soda, quantity=D("5"))
    transfer_dispatch(user=manager, transfer=transfer)
    transfer_receive(user=UserFactory(role="MANAGER", branch=other_branch), transfer=transfer)
    UnitFactory()
    preview = product_import_preview(
        user=owner,
        branch=branch,
        file_name="new.csv",
        raw=b"sku,name,category,unit,selling_price,opening_stock\nNEW-1,New,Drinks,pc,10,6\n",
    )
    product_import_confirm(user=owner, product_import=preview)

    from inventory.selectors import reference_url

    links = {m.kind: reference_url(m) for m in StockMovement.objects.select_related("reference_type")}
    assert links[MovementKind.ADJUSTMENT] == adjustment.get_absolute_url()
    assert links[MovementKind.COUNT] == count.get_absolute_url()
    assert links[MovementKind.PURCHASE_RECEIPT] == purchase.get_absolute_url()
    assert links[MovementKind.TRANSFER_IN] == links[MovementKind.TRANSFER_OUT] == transfer.get_absolute_url()
    assert links[MovementKind.SALE] is None  # no reference given here

    out = StringIO()
    call_command("check_stock", stdout=out)
    assert "matches the ledger" in out.getvalue()
    assert StockLevel.objects.get(product=soda, branch=branch).quantity == D("36")
    assert StockLevel.objects.get(product=soda, branch=other_branch).quantity == D("5")
    assert StockLevel.objects.get(product=water, branch=branch).quantity == D("22")


def test_admin_lists_stock_but_changes_nothing(owner_client, branch):
    from inventory.tests.factories import ProductFactory, stock_in

    product = ProductFactory(name="Admin visible")
    stock_in(product, branch, 3)
    for name in ("product", "stockmovement", "stocklevel", "stockadjustment", "purchase", "transfer", "stockalert"):
        assert owner_client.get(f"/admin/inventory/{name}/").status_code == 200, name
    assert b"Admin visible" in owner_client.get("/admin/inventory/product/").content
    assert owner_client.get("/admin/inventory/product/add/").status_code == 403
    movement = StockMovement.objects.get(product=product)
    assert owner_client.post(f"/admin/inventory/stockmovement/{movement.pk}/delete/").status_code == 403
