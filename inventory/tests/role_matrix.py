"""Role matrix for the stock pages (see pos/tests/matrix.py). Cashiers look products up, request
adjustments, count stock and see alerts; managers and owners do the rest."""

from decimal import Decimal as D

from pos.tests.matrix import FORBIDDEN, LOGIN, OK, Case, everyone_but_anonymous, managers_and_owners

CASHIER_CANNOT = managers_and_owners()


def prepare(world):
    from inventory.adjustment_services import stock_adjustment_request, stock_count_start
    from inventory.models import AdjustmentReason
    from inventory.purchase_services import (
        purchase_create,
        purchase_line_set,
        purchase_order,
        transfer_create,
        transfer_line_set,
    )
    from inventory.tests.factories import CategoryFactory, ProductFactory, SupplierFactory, UnitFactory, stock_in
    from pos.tests.factories import BranchFactory

    manager = world.users["manager"]
    world.other_branch = BranchFactory(name="Westlands", code="WSTL")
    world.category = CategoryFactory(name="Matrix drinks")
    world.unit = UnitFactory()
    from inventory.models import CountStatus, StockCount, Supplier

    # fresh_world cases build the world again in the same database: reuse what must be unique
    world.supplier = Supplier.objects.filter(name="Matrix Supplier Ltd").first() or SupplierFactory(
        name="Matrix Supplier Ltd"
    )
    world.product = ProductFactory(
        name="Matrix soda", category=world.category, reorder_level=D("5"), default_supplier=world.supplier
    )
    world.spare_product = ProductFactory(name="Matrix spare", category=world.category)
    stock_in(world.product, world.branch, 40)
    stock_in(world.product, world.branch, -37, kind="SALE")  # low: opens an alert
    world.adjustment = stock_adjustment_request(
        user=world.users["employee"],
        product=world.product,
        branch=world.branch,
        reason=AdjustmentReason.DAMAGED,
        delta=D("-1"),
    )
    world.count = StockCount.objects.filter(branch=world.branch, status=CountStatus.OPEN).first() or stock_count_start(
        user=manager, branch=world.branch, category=world.category
    )
    world.count_line = world.count.lines.filter(product__category=world.category).first()
    world.purchase = purchase_create(user=manager, supplier=world.supplier, branch=world.branch)
    purchase_line_set(user=manager, purchase=world.purchase, product=world.product, quantity=D("10"), unit_cost=D("50"))
    world.purchase_line = world.purchase.lines.get()
    world.ordered = purchase_create(user=manager, supplier=world.supplier, branch=world.branch)
    purchase_line_set(user=manager, purchase=world.ordered, product=world.product, quantity=D("5"), unit_cost=D("50"))
    purchase_order(user=manager, purchase=world.ordered)
    world.transfer = transfer_create(user=manager, from_branch=world.branch, to_branch=world.other_branch)
    world.transfer_line = transfer_line_set(
        user=manager, transfer=world.transfer, product=world.product, quantity=D("1")
    )
    from inventory.import_services import product_import_preview

    world.product_import = product_import_preview(
        user=manager,
        branch=world.branch,
        file_name="m.csv",
        raw=f"sku,name,category,unit,selling_price\nMX-NEW,New thing,{world.category.name},pc,10\n".encode(),
    )


def P(name):  # noqa: N802 - reads like a constant path
    return lambda w: [getattr(w, name).pk]


CASES = [
    # catalogue: everyone looks up, managers and owners change
    Case("inventory:product_list", everyone_but_anonymous()),
    Case("inventory:product_list", everyone_but_anonymous(), htmx=True, id="htmx:inventory:product_list"),
    Case("inventory:product_detail", everyone_but_anonymous(), args=P("product")),
    Case("inventory:product_lookup", everyone_but_anonymous(), query="q=soda"),
    Case("inventory:low_stock", everyone_but_anonymous()),
    Case("inventory:out_of_stock", everyone_but_anonymous()),
    Case("inventory:out_of_stock", everyone_but_anonymous(), htmx=True, id="htmx:inventory:out_of_stock"),
    Case("inventory:product_create", managers_and_owners()),
    Case(
        "inventory:product_create",
        managers_and_owners(),
        method="post",
        fresh_world=True,
        id="post:inventory:product_create",
        data=lambda w: {
            "name": "Posted product",
            "sku": "POSTED-1",
            "category": w.category.pk,
            "unit": w.unit.pk,
            "selling_price": "10.00",
            "cost_price": "5.00",
            "tax_class": "B",
            "reorder_level": "0",
            "reorder_quantity": "0",
            "track_stock": "on",
        },
    ),
    Case("inventory:product_edit", managers_and_owners(), args=P("product")),
    Case(
        "inventory:product_active",
        managers_and_owners(),
        args=P("product"),
        method="post",
        fresh_world=True,
        data=lambda w: {"reason": "matrix"},
    ),
    Case("inventory:product_delete", managers_and_owners(), args=P("spare_product"), method="post", fresh_world=True),
    Case("inventory:product_export", managers_and_owners()),
    Case("inventory:import_upload", managers_and_owners()),
    Case("inventory:import_template", managers_and_owners()),
    Case("inventory:import_detail", managers_and_owners(), args=P("product_import")),
    Case(
        "inventory:import_detail",
        managers_and_owners(),
        args=P("product_import"),
        query="progress=1",
        htmx=True,
        id="htmx:inventory:import_detail",
    ),
    # the owner did not upload the matrix file but may confirm it (all branches); the manager who did may
    Case("inventory:import_confirm", managers_and_owners(), args=P("product_import"), method="post", fresh_world=True),
    Case("inventory:category_list", managers_and_owners()),
    Case("inventory:category_create", managers_and_owners()),
    Case("inventory:category_edit", managers_and_owners(), args=P("category")),
    Case("inventory:unit_create", managers_and_owners()),
    Case("inventory:unit_edit", managers_and_owners(), args=P("unit")),
    # ledger and alerts
    Case("inventory:movement_list", managers_and_owners()),
    Case("inventory:movement_list", managers_and_owners(), htmx=True, id="htmx:inventory:movement_list"),
    Case("inventory:alert_list", everyone_but_anonymous()),
    Case("inventory:alert_list", everyone_but_anonymous(), htmx=True, id="htmx:inventory:alert_list"),
    # adjustments: anyone with the till requests; managers and owners decide
    Case("inventory:adjustment_list", everyone_but_anonymous()),
    Case("inventory:adjustment_request", everyone_but_anonymous()),
    Case(
        "inventory:adjustment_request",
        everyone_but_anonymous(),
        method="post",
        fresh_world=True,
        id="post:inventory:adjustment_request",
        data=lambda w: {
            "product": w.product.barcode,
            "mode": "delta",
            "quantity": "-1",
            "reason": "DAMAGED",
            "branch": w.branch.pk,
        },
    ),
    Case("inventory:adjustment_detail", everyone_but_anonymous(), args=P("adjustment")),
    Case("inventory:approvals", managers_and_owners()),
    Case("inventory:approvals", managers_and_owners(), htmx=True, id="htmx:inventory:approvals"),
    Case(
        "inventory:adjustment_approve",
        managers_and_owners(),
        args=P("adjustment"),
        method="post",
        fresh_world=True,
        htmx=True,
    ),
    Case(
        "inventory:adjustment_reject",
        managers_and_owners(),
        args=P("adjustment"),
        method="post",
        fresh_world=True,
        data=lambda w: {f"note-{w.adjustment.pk}": "no"},
    ),
    Case(
        "inventory:approvals_bulk",
        managers_and_owners(),
        method="post",
        fresh_world=True,
        data=lambda w: {"ids": [w.adjustment.pk], "decision": "approve"},
    ),
    # counts: anyone counts; managers and owners post
    Case("inventory:count_list", everyone_but_anonymous()),
    Case("inventory:count_start", everyone_but_anonymous()),
    Case("inventory:count_detail", everyone_but_anonymous(), args=P("count")),
    Case(
        "inventory:count_detail", everyone_but_anonymous(), args=P("count"), htmx=True, id="htmx:inventory:count_detail"
    ),
    Case(
        "inventory:count_scan",
        everyone_but_anonymous(),
        args=P("count"),
        method="post",
        htmx=True,
        data=lambda w: {"code": w.product.barcode},
    ),
    Case(
        "inventory:count_line",
        everyone_but_anonymous(),
        args=lambda w: [w.count.pk, w.count_line.pk],
        method="post",
        htmx=True,
        data=lambda w: {"counted": "3"},
    ),
    Case("inventory:count_post", managers_and_owners(), args=P("count"), method="post", fresh_world=True),
    Case("inventory:count_cancel", everyone_but_anonymous(), args=P("count"), method="post", fresh_world=True),
    # suppliers and purchases
    Case("inventory:supplier_list", managers_and_owners()),
    Case("inventory:supplier_detail", managers_and_owners(), args=P("supplier")),
    Case("inventory:supplier_create", managers_and_owners()),
    Case("inventory:supplier_edit", managers_and_owners(), args=P("supplier")),
    Case("inventory:purchase_list", managers_and_owners()),
    Case("inventory:purchase_list", managers_and_owners(), htmx=True, id="htmx:inventory:purchase_list"),
    Case("inventory:purchase_create", managers_and_owners()),
    Case("inventory:purchase_detail", managers_and_owners(), args=P("purchase")),
    Case("inventory:purchase_edit", managers_and_owners(), args=P("purchase")),
    Case(
        "inventory:purchase_line_add",
        managers_and_owners(),
        args=P("purchase"),
        method="post",
        htmx=True,
        data=lambda w: {"product": w.spare_product.sku, "quantity": "2"},
    ),
    Case(
        "inventory:purchase_line_remove",
        managers_and_owners(),
        args=lambda w: [w.purchase.pk, w.purchase_line.pk],
        method="post",
        fresh_world=True,
    ),
    Case("inventory:purchase_order", managers_and_owners(), args=P("purchase"), method="post", fresh_world=True),
    Case("inventory:purchase_receive", managers_and_owners(), args=P("ordered")),
    Case("inventory:purchase_cancel", managers_and_owners(), args=P("ordered"), method="post", fresh_world=True),
    Case(
        "inventory:purchase_close",
        managers_and_owners(),
        args=P("ordered"),
        method="post",
        fresh_world=True,
        data=lambda w: {"reason": "x"},
    ),
    Case("inventory:purchase_pdf", managers_and_owners(), args=P("ordered")),
    Case("inventory:reorder", managers_and_owners()),
    # transfers
    Case("inventory:transfer_list", managers_and_owners()),
    Case("inventory:transfer_create", managers_and_owners()),
    Case("inventory:transfer_detail", managers_and_owners(), args=P("transfer")),
    Case(
        "inventory:transfer_line_add",
        managers_and_owners(),
        args=P("transfer"),
        method="post",
        htmx=True,
        data=lambda w: {"product": w.product.sku, "quantity": "2"},
    ),
    Case(
        "inventory:transfer_line_remove",
        managers_and_owners(),
        args=lambda w: [w.transfer.pk, w.transfer_line.pk],
        method="post",
        fresh_world=True,
    ),
    Case("inventory:transfer_dispatch", managers_and_owners(), args=P("transfer"), method="post", fresh_world=True),
    Case("inventory:transfer_receive", managers_and_owners(), args=P("transfer")),
    Case("inventory:transfer_cancel", managers_and_owners(), args=P("transfer"), method="post", fresh_world=True),
]

__all__ = ["CASES", "prepare", "FORBIDDEN", "LOGIN", "OK", "CASHIER_CANNOT"]
