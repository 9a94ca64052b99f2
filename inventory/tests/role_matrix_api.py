"""Role matrix for the stock side of the JSON API (inventory/api.py). Uses the world of role_matrix.py
(world.product, world.supplier, world.purchase, world.ordered, world.adjustment…), built before this one.

`api=True`: each role calls with a JWT; anonymous expects 401.
"""

from pos.tests.matrix import FORBIDDEN, LOGIN, OK, Case

EVERYONE = {"anonymous": LOGIN, "employee": OK, "manager": OK, "owner": OK}
MANAGERS = {"anonymous": LOGIN, "employee": FORBIDDEN, "manager": OK, "owner": OK}


def prepare(world):
    from decimal import Decimal as D

    from inventory.adjustment_services import stock_adjustment_request
    from inventory.models import AdjustmentReason, StockMovement
    from inventory.tests.factories import ProductFactory

    world.api_movement = StockMovement.objects.filter(product=world.product).first()
    world.api_alert = world.product.alerts.filter(open_marker=True).first()
    world.api_loose_product = ProductFactory(name="API never used", category=world.category)
    world.api_adjustment = stock_adjustment_request(
        user=world.users["employee"], product=world.product, branch=world.branch,
        reason=AdjustmentReason.DAMAGED, delta=D("-1"),
    )


def P(name):  # noqa: N802
    return lambda w: [getattr(w, name).pk]


def _product_body(w):
    return {"name": "API soda", "sku": f"API-{w.api_loose_product.pk}", "category": w.category.pk,
            "unit": w.unit.pk, "price": "50.00"}


CASES = [
    Case("product-list", EVERYONE, api=True),
    Case("product-detail", EVERYONE, api=True, args=P("product")),
    Case("product-low-stock", EVERYONE, api=True),
    Case("product-out-of-stock", EVERYONE, api=True),
    Case("product-by-barcode", EVERYONE, api=True, args=lambda w: [w.product.barcode]),
    Case(
        "product-list", MANAGERS, api=True, method="post", fresh_world=True, id="post:product-list", data=_product_body
    ),
    Case(
        "product-detail",
        MANAGERS,
        api=True,
        method="patch",
        args=P("product"),
        id="patch:product-detail",
        data=lambda w: {"price": "120.00"},
    ),
    Case(
        "product-detail",
        MANAGERS,
        api=True,
        method="put",
        args=P("product"),
        id="put:product-detail",
        data=lambda w: {
            "name": "Matrix soda",
            "sku": w.product.sku,
            "category": w.category.pk,
            "unit": w.unit.pk,
            "price": "110.00",
        },
    ),
    Case(
        "product-detail",
        MANAGERS,
        api=True,
        method="delete",
        args=P("api_loose_product"),
        fresh_world=True,
        id="delete:product-detail",
    ),
    Case("category-list", EVERYONE, api=True),
    Case("category-detail", EVERYONE, api=True, args=P("category")),
    Case(
        "category-list",
        MANAGERS,
        api=True,
        method="post",
        fresh_world=True,
        id="post:category-list",
        data=lambda w: {"name": f"API cat {w.api_loose_product.pk}"},
    ),
    Case(
        "category-detail",
        MANAGERS,
        api=True,
        method="patch",
        args=P("category"),
        id="patch:category-detail",
        data=lambda w: {"description": "Cold"},
    ),
    Case(
        "category-detail",
        MANAGERS,
        api=True,
        method="put",
        args=P("category"),
        id="put:category-detail",
        data=lambda w: {"name": w.category.name},
    ),
    Case("unit-list", EVERYONE, api=True),
    Case("unit-detail", EVERYONE, api=True, args=P("unit")),
    Case(
        "unit-list",
        MANAGERS,
        api=True,
        method="post",
        fresh_world=True,
        id="post:unit-list",
        data=lambda w: {"name": f"Api unit {w.api_loose_product.pk}", "code": f"u{w.api_loose_product.pk}"[-10:]},
    ),
    Case(
        "unit-detail",
        MANAGERS,
        api=True,
        method="patch",
        args=P("unit"),
        id="patch:unit-detail",
        data=lambda w: {"name": "Piece"},
    ),
    Case(
        "unit-detail",
        MANAGERS,
        api=True,
        method="put",
        args=P("unit"),
        id="put:unit-detail",
        data=lambda w: {"name": "Piece", "code": "pc", "decimal_places": 0},
    ),
    Case("supplier-list", MANAGERS, api=True),
    Case("supplier-detail", MANAGERS, api=True, args=P("supplier")),
    Case(
        "supplier-list",
        MANAGERS,
        api=True,
        method="post",
        fresh_world=True,
        id="post:supplier-list",
        data=lambda w: {"name": f"API Supplier {w.api_loose_product.pk}", "phone_number": "0722 000 111"},
    ),
    Case(
        "supplier-detail",
        MANAGERS,
        api=True,
        method="patch",
        args=P("supplier"),
        id="patch:supplier-detail",
        data=lambda w: {"contact_person": "Achieng"},
    ),
    Case(
        "supplier-detail",
        MANAGERS,
        api=True,
        method="put",
        args=P("supplier"),
        id="put:supplier-detail",
        data=lambda w: {"name": w.supplier.name},
    ),
    Case("purchaseheader-list", MANAGERS, api=True),
    Case("purchaseheader-detail", MANAGERS, api=True, args=P("purchase")),
    Case(
        "purchaseheader-list",
        MANAGERS,
        api=True,
        method="post",
        fresh_world=True,
        id="post:purchaseheader-list",
        data=lambda w: {"supplier": w.supplier.pk, "details": [{"product": w.product.pk, "quantity": "3"}]},
    ),
    Case(
        "purchaseheader-detail",
        MANAGERS,
        api=True,
        method="patch",
        args=P("purchase"),
        id="patch:purchaseheader-detail",
        data=lambda w: {"notes": "Call first"},
    ),
    Case(
        "purchaseheader-detail",
        MANAGERS,
        api=True,
        method="put",
        args=P("purchase"),
        id="put:purchaseheader-detail",
        data=lambda w: {"supplier": w.supplier.pk, "notes": "Put"},
    ),
    Case(
        "purchaseheader-receive",
        MANAGERS,
        api=True,
        method="post",
        args=P("ordered"),
        fresh_world=True,
        data=lambda w: {},
    ),
    Case("purchaseheader-order", MANAGERS, api=True, method="post", args=P("purchase"), fresh_world=True),
    Case(
        "purchaseheader-cancel",
        MANAGERS,
        api=True,
        method="post",
        args=P("purchase"),
        fresh_world=True,
        data=lambda w: {"reason": "Not needed"},
    ),
    Case("stockmovement-list", MANAGERS, api=True),
    Case("stockmovement-detail", MANAGERS, api=True, args=P("api_movement")),
    # Employees see their own requests only (the world's adjustments were requested by the employee).
    Case("stockadjustment-list", EVERYONE, api=True),
    Case("stockadjustment-detail", EVERYONE, api=True, args=P("api_adjustment")),
    Case(
        "stockadjustment-list",
        EVERYONE,
        api=True,
        method="post",
        id="post:stockadjustment-list",
        data=lambda w: {"product": w.product.pk, "reason": "DAMAGED", "delta": "-1"},
    ),
    Case(
        "stockadjustment-approve",
        MANAGERS,
        api=True,
        method="post",
        args=P("api_adjustment"),
        fresh_world=True,
        data=lambda w: {},
    ),
    Case(
        "stockadjustment-reject",
        MANAGERS,
        api=True,
        method="post",
        args=P("api_adjustment"),
        fresh_world=True,
        data=lambda w: {"note": "Miscounted"},
    ),
    Case("stockalert-list", EVERYONE, api=True),
    Case("stockalert-detail", EVERYONE, api=True, args=P("api_alert")),
]
