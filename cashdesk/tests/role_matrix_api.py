"""Role matrix for the cash desk's API (`cashdesk/api.py`; see pos/tests/matrix.py).

Uses the cash desk's world (cashdesk/tests/role_matrix.py): the "Drawer Cashier" with an open
session, an open sale and an STK push waiting. The matrix's own users have no session, so paying
or pushing as them is refused with a 4xx that says why; a cashier never sees another's session,
sale or push (404 / 400 naming the field).
"""

from decimal import Decimal

from pos.tests.matrix import LOGIN, NOT_FOUND, OK, Case, everyone_but_anonymous, managers_and_owners


def prepare(world):
    from django.utils import timezone

    from cashdesk.models import ExpenseCategory, SupplierPayment
    from inventory.tests.factories import SupplierFactory

    world.api_supplier = SupplierFactory()
    world.supplier_payment = SupplierPayment.objects.create(
        supplier=world.api_supplier,
        branch=world.branch,
        method="BANK",
        amount=Decimal("20"),
        reference="EFT-1",
        paid_by=world.users["manager"],
    )
    world.api_expense_category = ExpenseCategory.objects.get_or_create(name="API matrix")[0]
    world.today = timezone.localdate().isoformat()


def others_hidden(**overrides) -> dict:
    expect = {"anonymous": LOGIN, "employee": NOT_FOUND, "manager": OK, "owner": OK}
    expect.update(overrides)
    return expect


def _pay(world, **extra):
    return {"sales_header": world.drawer_sale.pk, "session": world.drawer_session.pk, **extra}


CASES = [
    # cash sessions
    Case("cash-session-list", everyone_but_anonymous(), api=True),
    Case(
        "cash-session-list",
        everyone_but_anonymous(),
        api=True,
        method="post",
        data=lambda w: {"opening_float": "100.00"},
        id="api:post:cash-session-list",
    ),
    Case("cash-session-detail", others_hidden(), api=True, args=lambda w: [w.drawer_session.pk]),
    Case("cash-session-report", others_hidden(), api=True, args=lambda w: [w.drawer_session.pk]),
    # a manager closing the drawer cashier's session force-closes it (and approves the difference)
    Case(
        "cash-session-close",
        others_hidden(),
        api=True,
        method="post",
        fresh_world=True,
        args=lambda w: [w.drawer_session.pk],
        data=lambda w: {"closing_total": "500.00", "note": "cashier went home"},
    ),
    # sales payments: the matrix users have no drawer of their own, and the session is not theirs
    Case("sales-payment-list", everyone_but_anonymous(), api=True),
    Case("sales-payment-detail", others_hidden(), api=True, args=lambda w: [w.stk_waiting.payment_id]),
    Case(
        "sales-payment-list",
        {"anonymous": LOGIN, "employee": 400, "manager": 400, "owner": 400},
        api=True,
        method="post",
        data=lambda w: _pay(w, method="CASH", amount="300.00"),
        id="api:post:sales-payment-list",
    ),
    Case(
        "sales-payment-split",
        {"anonymous": LOGIN, "employee": 400, "manager": 400, "owner": 400},
        api=True,
        method="post",
        data=lambda w: _pay(
            w, payments=[{"method": "CASH", "amount": "100"}, {"method": "CARD", "amount": "200", "reference": "TX-9"}]
        ),
    ),
    # M-Pesa: a cashier cannot push for another's sale; a manager has no open session
    Case(
        "mpesa-stk-push-list",
        {"anonymous": LOGIN, "employee": 400, "manager": 409, "owner": 409},
        api=True,
        method="post",
        data=lambda w: {"sales_header": w.drawer_sale.pk, "phone": "0708374149"},
    ),
    Case("mpesa-stk-push-detail", others_hidden(), api=True, args=lambda w: [w.stk_waiting.pk]),
    Case(
        "mpesa-stk-push-stop",
        others_hidden(),
        api=True,
        method="post",
        fresh_world=True,
        args=lambda w: [w.stk_waiting.pk],
    ),
    # money in and out
    Case("supplier-payment-list", managers_and_owners(), api=True),
    Case("supplier-payment-detail", managers_and_owners(), api=True, args=lambda w: [w.supplier_payment.pk]),
    Case(
        "supplier-payment-list",
        managers_and_owners(),
        api=True,
        method="post",
        data=lambda w: {"supplier": w.api_supplier.pk, "amount": "15.00", "method": "BANK", "reference": "EFT-2"},
        id="api:post:supplier-payment-list",
    ),
    Case("customer-receipt-list", everyone_but_anonymous(), api=True),
    Case("customer-receipt-detail", everyone_but_anonymous(), api=True, args=lambda w: [w.receipt.pk]),
    Case(
        "customer-receipt-list",
        everyone_but_anonymous(),
        api=True,
        method="post",
        data=lambda w: {"customer": w.receipt_customer.pk, "amount": "10.00", "method": "BANK", "reference": "EQ-3"},
        id="api:post:customer-receipt-list",
    ),
    Case("expense-list", managers_and_owners(), api=True),
    Case("expense-detail", managers_and_owners(), api=True, args=lambda w: [w.expense.pk]),
    Case(
        "expense-list",
        managers_and_owners(),
        api=True,
        method="post",
        data=lambda w: {
            "category": w.api_expense_category.pk,
            "amount": "5.00",
            "method": "BANK",
            "description": "matrix",
            "spent_on": w.today,
            "reference": "R-1",
        },
        id="api:post:expense-list",
    ),
]
