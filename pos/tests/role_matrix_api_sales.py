"""Role matrix for the sales API (`pos/till/sales_api.py`; see pos/tests/matrix.py).

The world adds a cashier of their own ("API Cashier") with a completed sale paid by card. With the
cash desk's "Drawer Cashier" and their open sale (cashdesk/tests/role_matrix.py), a cashier gets 404
for someone else's sale or line (they are not shown that it exists); managers and owners see it but
may not change another cashier's open cart (409).
"""

from decimal import Decimal

from pos.tests.matrix import LOGIN, NOT_FOUND, OK, Case, everyone_but_anonymous


def prepare(world):
    import uuid

    from cashdesk.services import Tender, sale_checkout, session_open
    from core.roles import Role
    from inventory.tests.factories import ProductFactory, stock_in
    from pos.sales.services import sale_add_product, sale_get_or_open
    from pos.tests.factories import UserFactory

    cashier = UserFactory(role=Role.EMPLOYEE, branch=world.branch, full_name="API Cashier")
    session_open(cashier=cashier, opening_float=Decimal("100"))
    world.api_product = ProductFactory(selling_price=Decimal("250.00"))
    stock_in(world.api_product, world.branch, 50)
    sale = sale_get_or_open(cashier=cashier)
    sale_add_product(sale=sale, product=world.api_product, user=cashier, quantity=Decimal("2"))
    world.card_sale = sale_checkout(
        sale=sale, user=cashier, tenders=[Tender("CARD", Decimal("500.00"), "TX-M1")], idempotency_key=uuid.uuid4().hex
    )
    world.card_line = world.card_sale.lines.get()


def others_hidden(**overrides) -> dict:
    expect = {"anonymous": LOGIN, "employee": NOT_FOUND, "manager": OK, "owner": OK}
    expect.update(overrides)
    return expect


def _drawer_line(world):
    return world.drawer_sale.lines.first().pk


CASES = [
    Case("salesheader-list", everyone_but_anonymous(), api=True),
    Case(
        "salesheader-list",
        everyone_but_anonymous(),
        api=True,
        query="status=COMPLETED",
        id="api:salesheader-list?status",
    ),
    Case(
        "salesheader-list",
        everyone_but_anonymous(),
        api=True,
        method="post",
        data=lambda w: {"details": [{"product": w.api_product.pk, "quantity": "1"}]},
        id="api:post:salesheader-list",
    ),
    Case("salesheader-detail", others_hidden(), api=True, args=lambda w: [w.card_sale.pk]),
    # the drawer cashier's open cart: managers see it but do not void another cashier's cart
    Case(
        "salesheader-void",
        others_hidden(manager=409, owner=409),
        api=True,
        method="post",
        args=lambda w: [w.drawer_sale.pk],
        data=lambda w: {"reason": "matrix"},
        id="api:salesheader-void:open",
    ),
    Case(
        "salesheader-void",
        others_hidden(),
        api=True,
        method="post",
        fresh_world=True,
        args=lambda w: [w.card_sale.pk],
        data=lambda w: {"reason": "matrix", "reference": "REV-1"},
    ),
    # a colleague's completed sale: a cashier may start the return, but the refund needs a manager
    Case(
        "salesheader-returns",
        everyone_but_anonymous(employee=403),
        api=True,
        method="post",
        fresh_world=True,
        args=lambda w: [w.card_sale.pk],
        data=lambda w: {
            "reason": "matrix",
            "reference": "REV-2",
            "items": [{"detail": w.card_line.pk, "quantity": "1"}],
        },
    ),
    Case(
        "salesheader-returns",
        others_hidden(),
        api=True,
        args=lambda w: [w.card_sale.pk],
        id="api:get:salesheader-returns",
    ),
    Case("salesdetail-list", everyone_but_anonymous(), api=True),
    Case(
        "salesdetail-list",
        {"anonymous": LOGIN, "employee": 400, "manager": 409, "owner": 409},
        api=True,
        method="post",
        data=lambda w: {"sales_header": w.drawer_sale.pk, "product": w.api_product.pk, "quantity": "1"},
        id="api:post:salesdetail-list",
    ),
    Case("salesdetail-detail", others_hidden(), api=True, args=lambda w: [w.card_line.pk]),
    Case(
        "salesdetail-detail",
        others_hidden(manager=409, owner=409),
        api=True,
        method="patch",
        args=lambda w: [_drawer_line(w)],
        data=lambda w: {"unit_price": "1.00", "reason": "matrix"},
        id="api:patch:salesdetail-detail",
    ),
    Case(
        "salesdetail-detail",
        others_hidden(manager=409, owner=409),
        api=True,
        method="delete",
        args=lambda w: [_drawer_line(w)],
        query="reason=matrix",
        id="api:delete:salesdetail-detail",
    ),
]
