"""Role matrix for the cash desk's URLs (see pos/tests/matrix.py).

The world has a cashier of its own ("Drawer Cashier") with an open session, an open sale, an STK push
waiting for a PIN and a flagged one, and an unmatched incoming M-Pesa payment; the matrix's employee,
manager and owner have no session. So a cashier gets 404 for another cashier's session, sale or push
(they are not shown that they exist), managers see their branch's.

The callbacks are public but secret-pathed: the right secret answers everyone, a wrong one 404.
"""

from decimal import Decimal

from pos.tests.matrix import (
    LOGIN,
    NOT_FOUND,
    OK,
    Case,
    everyone_but_anonymous,
    managers_and_owners,
    owners_only,
    public,
)

WRONG_SECRET = "not-the-secret-0000000000000000000000000"


def _secret(world) -> list:
    from django.conf import settings

    return [settings.MPESA_CALLBACK_SECRET]


def prepare(world):
    import uuid

    from django.utils import timezone

    from cashdesk.models import Payment
    from cashdesk.mpesa.models import C2BPayment, C2BStatus, StkRequest, StkStatus
    from cashdesk.services import session_open
    from core.roles import Role
    from inventory.tests.factories import ProductFactory, stock_in
    from pos.sales.services import sale_add_product, sale_get_or_open
    from pos.tests.factories import UserFactory

    cashier = UserFactory(role=Role.EMPLOYEE, branch=world.branch, full_name="Drawer Cashier")
    world.drawer_session = session_open(cashier=cashier, opening_float=Decimal("500"))
    product = ProductFactory(selling_price=Decimal("300.00"))
    stock_in(product, world.branch, 10)
    sale = sale_get_or_open(cashier=cashier)
    sale_add_product(sale=sale, product=product, user=cashier)
    world.drawer_sale = sale

    def push(status, checkout_id, **extra):
        payment = Payment.objects.create(
            sale=sale,
            session=world.drawer_session,
            method="MPESA",
            status="PENDING",
            amount=Decimal("100"),
            received_by=cashier,
        )
        return StkRequest.objects.create(
            sale=sale,
            payment=payment,
            branch=world.branch,
            requested_by=cashier,
            phone="254708374149",
            amount=Decimal("100"),
            status=status,
            checkout_request_id=checkout_id,
            sent_at=timezone.now(),
            **extra,
        )

    tag = uuid.uuid4().hex[:8].upper()  # fresh worlds in one test need fresh ids
    world.stk_flagged = push(StkStatus.MISMATCH, f"ws_CO_F{tag}", paid_amount=Decimal("99"), message="Amount differs.")
    world.stk_waiting = push(StkStatus.SENT, f"ws_CO_W{tag}")
    from cashdesk.models import CustomerReceipt, Expense, ExpenseCategory
    from pos.tests.factories import CustomerFactory

    customer = CustomerFactory(balance=Decimal("100.00"), credit_limit=Decimal("1000.00"))
    world.receipt_customer = customer
    world.receipt = CustomerReceipt.objects.create(
        customer=customer,
        branch=world.branch,
        method="BANK",
        amount=Decimal("50"),
        reference="EQ-1",
        balance_before=Decimal("150"),
        balance_after=Decimal("100"),
        received_by=cashier,
        number=f"RC-M{tag}",
    )
    category = ExpenseCategory.objects.get_or_create(name="Matrix category")[0]
    world.expense = Expense.objects.create(
        category=category,
        branch=world.branch,
        method="BANK",
        amount=Decimal("10"),
        description="x",
        spent_on=timezone.localdate(),
        recorded_by=cashier,
        reference="r",
    )
    from cashdesk.etims.models import EtimsDevice, EtimsPurchase, EtimsSubmission

    world.etims_device = EtimsDevice.objects.get_or_create(branch=world.branch)[0]  # off: nothing leaves
    world.etims_refused = EtimsSubmission.objects.create(
        device=world.etims_device, kind="SALE", status="REJECTED", document_key=f"S:matrix-{tag}",
        occurred_at=timezone.now(), result_cd="910", result_msg="Request parameter error",
    )
    world.etims_purchase = EtimsPurchase.objects.create(
        device=world.etims_device, supplier_tin="P000111222Q", supplier_name="Matrix supplier",
        supplier_invc_no=abs(hash(tag)) % 100000, total=Decimal("116"), tax_total=Decimal("16"), data={"itemList": []},
    )
    from cashdesk.printing.models import PrintJob, PrintJobKind, PrintJobStatus, ReceiptPrinter

    # The branch's counter printer sits on a port nothing answers (the discard port): jobs fail at once.
    world.printer = ReceiptPrinter.objects.update_or_create(
        branch=world.branch, defaults={"host": "127.0.0.1", "port": 9}
    )[0]
    world.print_failed = PrintJob.objects.create(
        printer=world.printer, kind=PrintJobKind.DRAWER, open_drawer=True, reason="Change",
        status=PrintJobStatus.FAILED, error="The printer refused the connection.", requested_by=cashier,
    )
    world.c2b = C2BPayment.objects.create(
        trans_id=f"MX{tag}",
        transaction_type="Buy Goods",
        trans_time=timezone.now(),
        amount=Decimal("50"),
        shortcode="174379",
        msisdn="2547 ***** 149",
        branch=world.branch,
    )
    world.c2b_unverified = C2BPayment.objects.create(
        trans_id=f"MU{tag}",
        transaction_type="Buy Goods",
        trans_time=timezone.now(),
        amount=Decimal("60"),
        shortcode="174379",
        msisdn="2547 ***** 149",
        branch=world.branch,
        status=C2BStatus.UNVERIFIED,
    )


# A cashier asking for another cashier's session, sale or push: 404 (not 403: we do not confirm it exists).
def others_hidden(**overrides) -> dict:
    expect = {"anonymous": LOGIN, "employee": NOT_FOUND, "manager": OK, "owner": OK}
    expect.update(overrides)
    return expect


CASES = [
    # the drawer
    Case("cashdesk:index", everyone_but_anonymous()),
    Case("cashdesk:index", everyone_but_anonymous(), htmx=True, id="htmx:cashdesk:index"),
    Case(
        "cashdesk:session_open",
        everyone_but_anonymous(),
        method="post",
        fresh_world=True,
        data=lambda w: {"opening_float": "250"},
    ),
    Case(
        "cashdesk:movement_create",
        everyone_but_anonymous(),
        method="post",
        data=lambda w: {"kind": "PAID_IN", "amount": "10", "reason": "x"},
    ),
    Case("cashdesk:session_close", everyone_but_anonymous()),
    Case("cashdesk:session_list", everyone_but_anonymous()),
    Case("cashdesk:session_list", everyone_but_anonymous(), htmx=True, id="htmx:cashdesk:session_list"),
    Case("cashdesk:session_report", others_hidden(), args=lambda w: [w.drawer_session.pk]),
    Case(
        "cashdesk:session_report",
        others_hidden(),
        args=lambda w: [w.drawer_session.pk],
        htmx=True,
        id="htmx:cashdesk:session_report",
    ),
    Case("cashdesk:session_report_pdf", others_hidden(), args=lambda w: [w.drawer_session.pk]),
    Case("cashdesk:session_force_close", managers_and_owners(), args=lambda w: [w.drawer_session.pk]),
    # the counter's printer and the cash drawer
    Case("cashdesk:drawer_open", everyone_but_anonymous(), method="post", data=lambda w: {"reason": "Change"}),
    Case(
        "cashdesk:print_job_retry",
        everyone_but_anonymous(),
        method="post",
        fresh_world=True,
        args=lambda w: [w.print_failed.pk],
    ),
    Case("cashdesk:print_status", others_hidden(), args=lambda w: [w.drawer_sale.pk]),
    Case("cashdesk:print_status", others_hidden(), args=lambda w: [w.drawer_sale.pk], htmx=True,
         id="htmx:cashdesk:print_status"),
    # M-Pesa on the pay panel
    Case("cashdesk:mpesa_panel", others_hidden(), args=lambda w: [w.drawer_sale.pk]),
    Case(
        "cashdesk:mpesa_panel",
        others_hidden(),
        args=lambda w: [w.drawer_sale.pk],
        htmx=True,
        id="htmx:cashdesk:mpesa_panel",
    ),
    Case(
        "cashdesk:mpesa_stk_start",
        others_hidden(),
        args=lambda w: [w.drawer_sale.pk],
        method="post",
        htmx=True,
        data=lambda w: {"mpesa_phone": "0708374149"},
    ),
    Case(
        "cashdesk:mpesa_code_attach",
        others_hidden(),
        args=lambda w: [w.drawer_sale.pk],
        method="post",
        htmx=True,
        data=lambda w: {"mpesa_code": "NOSUCHCODE1"},
    ),
    Case("cashdesk:mpesa_status", others_hidden(), args=lambda w: [w.stk_waiting.pk], htmx=True),
    Case(
        "cashdesk:mpesa_stop",
        others_hidden(),
        args=lambda w: [w.stk_waiting.pk],
        method="post",
        htmx=True,
        fresh_world=True,
    ),
    Case("cashdesk:mpesa_flagged", managers_and_owners()),
    Case("cashdesk:mpesa_resolve", managers_and_owners(), args=lambda w: [w.stk_flagged.pk]),
    Case("cashdesk:c2b_list", everyone_but_anonymous()),
    Case("cashdesk:c2b_list", everyone_but_anonymous(), htmx=True, query="q=149", id="htmx:cashdesk:c2b_list"),
    Case(
        "cashdesk:c2b_attach",
        everyone_but_anonymous(),
        args=lambda w: [w.c2b.pk],
        method="post",
        data=lambda w: {"sale_number": ""},
    ),
    Case("cashdesk:c2b_set_aside", managers_and_owners(), args=lambda w: [w.c2b.pk]),
    Case("cashdesk:c2b_confirm", managers_and_owners(), args=lambda w: [w.c2b_unverified.pk]),
    Case("cashdesk:mpesa_reconciliation", managers_and_owners()),
    # money in and out beyond sales
    Case("cashdesk:receipt_list", everyone_but_anonymous()),
    Case("cashdesk:receipt_list", everyone_but_anonymous(), htmx=True, id="htmx:cashdesk:receipt_list"),
    Case("cashdesk:receipt_create", everyone_but_anonymous()),
    Case(
        "cashdesk:receipt_create",
        everyone_but_anonymous(),
        method="post",
        fresh_world=True,
        data=lambda w: {"customer": w.receipt_customer.pk, "amount": "10", "method": "BANK", "reference": "EQ-2"},
    ),
    Case("cashdesk:receipt_customer_sales", everyone_but_anonymous(), htmx=True, query="customer=1"),
    Case("cashdesk:receipt_detail", everyone_but_anonymous(), args=lambda w: [w.receipt.pk]),
    Case("cashdesk:receipt_pdf", everyone_but_anonymous(), args=lambda w: [w.receipt.pk]),
    Case("cashdesk:supplier_payment_list", managers_and_owners()),
    Case("cashdesk:supplier_payment_create", managers_and_owners()),
    Case("cashdesk:expense_list", managers_and_owners()),
    Case("cashdesk:expense_create", managers_and_owners()),
    Case(
        "cashdesk:expense_category_create", managers_and_owners(), method="post", data=lambda w: {"name": "Matrix new"}
    ),
    # (the world's expense has no bill attached: managers pass the permission check and get 404)
    Case(
        "cashdesk:expense_attachment",
        managers_and_owners(manager=NOT_FOUND, owner=NOT_FOUND),
        args=lambda w: [w.expense.pk],
    ),
    # KRA eTIMS
    Case("etims:queue", managers_and_owners()),
    Case("etims:queue", managers_and_owners(), htmx=True, id="htmx:etims:queue"),
    Case("etims:settings", owners_only()),
    Case("etims:resume", managers_and_owners(), args=lambda w: [w.etims_device.pk], method="post"),
    Case("etims:retry", managers_and_owners(), args=lambda w: [w.etims_refused.pk], method="post", fresh_world=True),
    Case("etims:classification_search", managers_and_owners(), query="kra_item_code=maize", htmx=True),
    Case("etims:pin_check", everyone_but_anonymous(), query="kra_pin=A123456789Z", htmx=True),
    Case("etims:purchases", managers_and_owners()),
    Case("etims:purchase_decide", managers_and_owners(), args=lambda w: [w.etims_purchase.pk]),
    # What Safaricom posts to: public with the secret, 404 for everyone without it.
    Case("cashdesk:stk_callback", public(), args=_secret, method="post", data=lambda w: {"not": "json"}),
    Case(
        "cashdesk:stk_callback",
        public(anonymous=405, employee=405, manager=405, owner=405),
        args=_secret,
        id="get:cashdesk:stk_callback",
    ),
    Case(
        "cashdesk:stk_callback",
        public(anonymous=NOT_FOUND, employee=NOT_FOUND, manager=NOT_FOUND, owner=NOT_FOUND),
        args=lambda w: [WRONG_SECRET],
        method="post",
        data=lambda w: {},
        id="wrong-secret:cashdesk:stk_callback",
    ),
    Case("cashdesk:c2b_validation", public(), args=_secret, method="post", data=lambda w: {}),
    Case(
        "cashdesk:c2b_validation",
        public(anonymous=NOT_FOUND, employee=NOT_FOUND, manager=NOT_FOUND, owner=NOT_FOUND),
        args=lambda w: [WRONG_SECRET],
        method="post",
        data=lambda w: {},
        id="wrong-secret:cashdesk:c2b_validation",
    ),
    Case("cashdesk:c2b_confirmation", public(), args=_secret, method="post", data=lambda w: {}),
    Case(
        "cashdesk:c2b_confirmation",
        public(anonymous=NOT_FOUND, employee=NOT_FOUND, manager=NOT_FOUND, owner=NOT_FOUND),
        args=lambda w: [WRONG_SECRET],
        method="post",
        data=lambda w: {},
        id="wrong-secret:cashdesk:c2b_confirmation",
    ),
    Case("cashdesk:mpesa_status_result", public(), args=_secret, method="post", data=lambda w: {}),
    Case(
        "cashdesk:mpesa_status_result",
        public(anonymous=NOT_FOUND, employee=NOT_FOUND, manager=NOT_FOUND, owner=NOT_FOUND),
        args=lambda w: [WRONG_SECRET],
        method="post",
        data=lambda w: {},
        id="wrong-secret:cashdesk:mpesa_status_result",
    ),
    Case("cashdesk:mpesa_result_timeout", public(), args=_secret, method="post", data=lambda w: {}),
    Case(
        "cashdesk:mpesa_result_timeout",
        public(anonymous=NOT_FOUND, employee=NOT_FOUND, manager=NOT_FOUND, owner=NOT_FOUND),
        args=lambda w: [WRONG_SECRET],
        method="post",
        data=lambda w: {},
        id="wrong-secret:cashdesk:mpesa_result_timeout",
    ),
]

EXEMPT: list = []
