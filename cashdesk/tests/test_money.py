"""Money in and out beyond sales: customer receipts, supplier payments, expenses — and the drawer."""

import subprocess
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cashdesk import money_services as money
from cashdesk.models import CustomerReceipt, Expense, ExpenseCategory, SupplierPayment
from cashdesk.mpesa.models import C2BPayment, C2BStatus
from cashdesk.selectors import session_cash_figures, unpaid_account_sales
from cashdesk.services import (
    PaymentConflictError,
    PaymentError,
    Tender,
    cash_movement_record,
    sale_checkout,
    session_expected_cash,
)
from cashdesk.tests.factories import open_session, ring_up
from cashdesk.tests.mpesa_support import callback_url, sample_bytes
from inventory.tests.factories import SupplierFactory
from pos.customers.models import Customer
from pos.people.audit import AuditAction
from pos.people.models import AuditLog, ShopSettings
from pos.tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def debtor(employee, branch):
    """A customer who bought twice on account: 300 (older) and 500 (newer)."""
    customer = CustomerFactory(name="Wanjiru Kamau", credit_limit=D("5000.00"))
    open_session(employee, "1000")
    for index, price in enumerate(("300", "500")):
        sale = ring_up(employee, branch, (price, "1"), customer=customer)
        sale_checkout(
            sale=sale, user=employee, tenders=[Tender("CUSTOMER_CREDIT", D(price))], idempotency_key=f"acc{index}"
        )
    # (the till's checkout raises the balance itself; set it here so this test does not depend on it)
    Customer.objects.filter(pk=customer.pk).update(balance=D("800.00"))
    customer.refresh_from_db()
    return customer


# ---------------------------------------------------------------------------- customer receipts
def test_unpaid_account_sales_oldest_first(debtor):
    sales = unpaid_account_sales(customer=debtor)
    assert [s.outstanding for s in sales] == [D("300.00"), D("500.00")]


def test_a_cash_receipt_lowers_the_balance_settles_oldest_first_and_fills_the_drawer(debtor, employee):
    session = employee.cash_sessions.get(status="OPEN")
    before = session_expected_cash(session=session)
    receipt = money.customer_receipt_record(customer=debtor, amount=D("450"), method="CASH", user=employee)
    debtor.refresh_from_db()
    assert (
        debtor.balance == D("350.00") and receipt.balance_before == D("800.00") and receipt.balance_after == D("350.00")
    )
    assert receipt.number == f"RC-{receipt.pk:06d}" and receipt.session == session
    assert [(a.sale.total, a.amount) for a in receipt.allocations.all()] == [
        (D("300.00"), D("300.00")),
        (D("500.00"), D("150.00")),
    ]
    assert session_expected_cash(session=session) == before + D("450.00")
    assert [s.outstanding for s in unpaid_account_sales(customer=debtor)] == [D("350.00")]
    assert AuditLog.objects.filter(action=AuditAction.CUSTOMER_RECEIPT).exists()


def test_chosen_sales_are_settled_first(debtor, employee):
    newer = unpaid_account_sales(customer=debtor)[1]
    receipt = money.customer_receipt_record(
        customer=debtor, amount=D("500"), method="BANK", reference="EQ-7781", user=employee, sales=[newer]
    )
    assert [(a.sale_id, a.amount) for a in receipt.allocations.all()] == [(newer.pk, D("500.00"))]
    assert receipt.session is None


@pytest.mark.parametrize(
    "amount,method,reference,message",
    [
        (D("801"), "CASH", "", "owes only KES 800.00"),
        (D("0"), "CASH", "", "more than zero"),
        (D("-5"), "CASH", "", "more than zero"),
        (D("100"), "CHEQUE", "", "cheque number"),
        (D("100"), "CARD", "4111111111111111", "looks like a card number"),
        (D("100"), "MPESA", "QWE123RTY9", "has not told us about QWE123RTY9"),
        (D("100"), "GOATS", "", "Unknown way of paying"),
    ],
)
def test_bad_receipts_change_nothing(debtor, employee, amount, method, reference, message):
    with pytest.raises(PaymentError, match=message):
        money.customer_receipt_record(customer=debtor, amount=amount, method=method, reference=reference, user=employee)
    debtor.refresh_from_db()
    assert debtor.balance == D("800.00") and not CustomerReceipt.objects.exists()


def test_a_customer_who_owes_nothing(employee):
    with pytest.raises(PaymentError, match="owes the shop nothing"):
        money.customer_receipt_record(customer=CustomerFactory(), amount=D("10"), method="CASH", user=employee)


def test_cash_receipt_needs_an_open_session(debtor):
    with pytest.raises(PaymentConflictError, match="Open your cash session"):
        money.customer_receipt_record(customer=debtor, amount=D("10"), method="CASH", user=UserFactory())


def test_an_mpesa_receipt_uses_an_incoming_payment_once(debtor, employee, client):
    client.post(
        callback_url("confirm"), data=sample_bytes("c2b_confirmation_till"), content_type="application/json"
    )  # KES 420
    with pytest.raises(PaymentError, match="was KES 420.00, not KES 400"):
        money.customer_receipt_record(
            customer=debtor, amount=D("400"), method="MPESA", reference="SAB3XK91LM", user=employee
        )
    receipt = money.customer_receipt_record(
        customer=debtor, amount=D("420"), method="MPESA", reference="sab3xk91lm", user=employee
    )
    assert receipt.c2b_payment.status == C2BStatus.RECEIPT and receipt.reference == "SAB3XK91LM"
    with pytest.raises(PaymentConflictError, match="already used"):
        money.customer_receipt_record(
            customer=debtor, amount=D("420"), method="MPESA", reference="SAB3XK91LM", user=employee
        )


def test_receipt_pages_and_pdf(debtor, employee_client, employee, tmp_path):
    page = employee_client.get(reverse("cashdesk:receipt_create"), {"customer": debtor.pk})
    assert page.status_code == 200 and b"Wanjiru Kamau owes KES 800.00" in page.content
    fragment = employee_client.get(
        reverse("cashdesk:receipt_customer_sales"), {"customer": debtor.pk}, HTTP_HX_REQUEST="true"
    )
    assert b'id="customer-sales"' in fragment.content and b"<html" not in fragment.content
    newer = unpaid_account_sales(customer=debtor)[1]
    response = employee_client.post(
        reverse("cashdesk:receipt_create"),
        {"customer": debtor.pk, "amount": "200", "method": "CASH", "sales": [str(newer.pk)]},
    )
    receipt = CustomerReceipt.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("cashdesk:receipt_detail", args=[receipt.pk])
    assert receipt.allocations.get().sale_id == newer.pk
    assert employee_client.get(reverse("cashdesk:receipt_list")).status_code == 200
    assert b"RC-" in employee_client.get(reverse("cashdesk:receipt_list"), HTTP_HX_REQUEST="true").content
    pdf = employee_client.get(reverse("cashdesk:receipt_pdf", args=[receipt.pk]))
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert receipt.number in text and "Wanjiru Kamau" in text and "Amount received: KES 200.00" in text
    assert "Still owed" in text and "600.00" in text and newer.number in text


def test_receipt_form_error_keeps_the_customer(debtor, employee_client):
    response = employee_client.post(
        reverse("cashdesk:receipt_create"), {"customer": debtor.pk, "amount": "9000", "method": "CASH"}
    )
    assert (
        response.status_code == 400
        and b"owes only KES 800.00" in response.content
        and b"Wanjiru Kamau owes" in response.content
    )


# ---------------------------------------------------------------------------- supplier payments
def test_supplier_paid_in_cash_leaves_the_drawer(employee, manager):
    session = open_session(manager, "2000")
    supplier = SupplierFactory(name="Bidco Africa")
    payment = money.supplier_payment_record(
        supplier=supplier, amount=D("1500"), method="CASH", user=manager, purchase_reference="INV-88"
    )
    assert payment.session == session and session_cash_figures(session=session).supplier_payments == D("1500.00")
    assert session_expected_cash(session=session) == D("500.00")
    # blind close (the default): the refusal does not say what should be in the drawer
    with pytest.raises(PaymentError, match="KES 501.00 is more than should be in the drawer"):
        money.supplier_payment_record(supplier=supplier, amount=D("501"), method="CASH", user=manager)
    shop = ShopSettings.load()
    shop.blind_close = False
    shop.save()
    with pytest.raises(PaymentError, match="Only KES 500.00 should be in the drawer"):
        money.supplier_payment_record(supplier=supplier, amount=D("501"), method="CASH", user=manager)
    assert SupplierPayment.objects.count() == 1


@pytest.mark.parametrize(
    "method,reference,message",
    [("CHEQUE", "", "cheque number"), ("MPESA", " ", "M-Pesa code"), ("BANK", "", "bank reference")],
)
def test_supplier_payment_references(manager, method, reference, message):
    with pytest.raises(PaymentError, match=message):
        money.supplier_payment_record(
            supplier=SupplierFactory(), amount=D("10"), method=method, reference=reference, user=manager
        )


def test_an_inactive_supplier_is_refused(manager):
    supplier = SupplierFactory(is_active=False)
    with pytest.raises(PaymentError, match="no longer an active supplier"):
        money.supplier_payment_record(supplier=supplier, amount=D("10"), method="BANK", reference="x", user=manager)


def test_supplier_payment_pages(manager_client, manager):
    supplier = SupplierFactory(name="Kapa Oil")
    assert manager_client.get(reverse("cashdesk:supplier_payment_create")).status_code == 200
    response = manager_client.post(
        reverse("cashdesk:supplier_payment_create"),
        {
            "supplier": supplier.pk,
            "amount": "2500",
            "method": "CHEQUE",
            "reference": "000123",
            "purchase_reference": "PO-9",
        },
    )
    assert response.status_code == 302
    listing = manager_client.get(reverse("cashdesk:supplier_payment_list")).content.decode()
    assert "Kapa Oil" in listing and "2500" in listing.replace(",", "")
    bad = manager_client.post(
        reverse("cashdesk:supplier_payment_create"), {"supplier": supplier.pk, "amount": "10", "method": "CASH"}
    )
    assert bad.status_code == 400 and b"Open your cash session" in bad.content


# ---------------------------------------------------------------------------- expenses
@pytest.fixture
def rent(db):
    return ExpenseCategory.objects.create(name="Rent")


def test_an_expense_in_cash_leaves_the_drawer(manager, rent):
    session = open_session(manager, "1000")
    expense = money.expense_record(
        category=rent,
        amount=D("600"),
        method="CASH",
        description="Stall rent, March",
        spent_on=timezone.localdate(),
        user=manager,
    )
    assert expense.session == session and session_expected_cash(session=session) == D("400.00")


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"spent_on": timezone.localdate() + timedelta(days=1)}, "future"),
        ({"description": " "}, "Say what the money was spent on"),
        ({"amount": D("0")}, "more than zero"),
        ({"method": "MPESA"}, "M-Pesa code"),
    ],
)
def test_bad_expenses_change_nothing(manager, rent, changes, message):
    open_session(manager, "1000")
    data = {
        "category": rent,
        "amount": D("100"),
        "method": "CASH",
        "description": "Water",
        "spent_on": timezone.localdate(),
        "user": manager,
    }
    data.update(changes)
    with pytest.raises(PaymentError, match=message):
        money.expense_record(**data)
    assert not Expense.objects.exists()


def test_expense_with_an_attachment_and_its_private_download(manager_client, manager, rent, client_for, other_branch):
    upload = SimpleUploadedFile("kplc-bill.pdf", PDF_BYTES, content_type="application/pdf")
    response = manager_client.post(
        reverse("cashdesk:expense_create"),
        {
            "category": rent.pk,
            "amount": "1200",
            "method": "BANK",
            "reference": "EQ-1",
            "description": "Power",
            "spent_on": timezone.localdate().isoformat(),
            "attachment": upload,
        },
    )
    assert response.status_code == 302
    expense = Expense.objects.get()
    assert expense.attachment.name.endswith(".pdf")
    download = manager_client.get(reverse("cashdesk:expense_attachment", args=[expense.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    from core.roles import Role

    elsewhere = UserFactory(role=Role.MANAGER, branch=other_branch)
    assert client_for(elsewhere).get(reverse("cashdesk:expense_attachment", args=[expense.pk])).status_code == 404
    expense.attachment.delete(save=False)


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("bill.exe", b"MZ\x90\x00", "File extension"),
        ("bill.pdf", b"MZ\x90\x00 not a pdf", "not really a PDF"),
        ("photo.png", PDF_BYTES, "not really a PNG"),
        ("big.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024), "at most 5 MB"),
    ],
)
def test_bad_attachments_are_refused(manager_client, manager, rent, name, content, message):
    response = manager_client.post(
        reverse("cashdesk:expense_create"),
        {
            "category": rent.pk,
            "amount": "50",
            "method": "BANK",
            "reference": "r",
            "description": "x",
            "spent_on": timezone.localdate().isoformat(),
            "attachment": SimpleUploadedFile(name, content),
        },
    )
    assert response.status_code == 400 and message.encode() in response.content
    assert not Expense.objects.exists()


def test_expense_list_and_categories(manager_client):
    response = manager_client.post(reverse("cashdesk:expense_category_create"), {"name": "Security"})
    assert response.status_code == 302 and ExpenseCategory.objects.filter(name="Security").exists()
    manager_client.post(reverse("cashdesk:expense_category_create"), {"name": "security"})
    assert ExpenseCategory.objects.filter(name__iexact="security").count() == 1
    assert manager_client.get(reverse("cashdesk:expense_list")).status_code == 200
    assert b'id="expense-table"' in manager_client.get(reverse("cashdesk:expense_list"), HTTP_HX_REQUEST="true").content


# ---------------------------------------------------------------------------- the whole drawer
def test_expected_cash_counts_every_kind_of_money(debtor, employee, rent, branch):
    session = employee.cash_sessions.get(status="OPEN")  # float 1000
    sale = ring_up(employee, branch, ("282", "1"))
    sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D("500"))], idempotency_key="all")  # +500 −218
    cash_movement_record(session=session, kind="PAID_IN", amount=D("200"), reason="coins", user=employee)  # +200
    cash_movement_record(session=session, kind="PAID_OUT", amount=D("50"), reason="tea", user=employee)  # −50
    money.customer_receipt_record(customer=debtor, amount=D("300"), method="CASH", user=employee)  # +300
    money.supplier_payment_record(supplier=SupplierFactory(), amount=D("400"), method="CASH", user=employee)  # −400
    money.expense_record(
        category=rent, amount=D("100"), method="CASH", description="Water", spent_on=timezone.localdate(), user=employee
    )  # −100
    money.expense_record(
        category=rent,
        amount=D("999"),
        method="BANK",
        reference="b",
        description="Rent",
        spent_on=timezone.localdate(),
        user=employee,
    )
    assert session_expected_cash(session=session) == D("1000") + 500 - 218 + 200 - 50 + 300 - 400 - 100
    from cashdesk.selectors import session_report

    movements = [m["kind"] for m in session_report(session=session)["movements"]]
    assert sorted(movements) == sorted(["Paid in", "Paid out", "Customer receipt", "Supplier payment", "Expense"])
    assert C2BPayment.objects.count() == 0


def test_goods_returned_off_the_account_are_no_longer_owed(debtor, employee, manager):
    from cashdesk.refund_services import sale_return_refund
    from pos.sales.services import ReturnItem

    older = unpaid_account_sales(customer=debtor)[0]
    sale_return_refund(
        sale=older,
        items=[ReturnItem(older.lines.get().pk, D("1"))],
        user=employee,
        reason="Expired",
        authorised_by=manager,
    )
    outstanding = {s.pk: s.outstanding for s in unpaid_account_sales(customer=debtor)}
    assert older.pk not in outstanding  # the whole 300 came back off the account
    debtor.refresh_from_db()
    assert debtor.balance == D("500.00")


# ---------------------------------------------------------------------------- payments against purchases
@pytest.fixture
def received_purchase(manager, branch):
    from inventory.models import Purchase
    from inventory.purchase_services import purchase_create, purchase_line_set, purchase_order, purchase_receive
    from inventory.tests.factories import ProductFactory

    supplier = SupplierFactory(name="Bidco Africa")
    purchase = purchase_create(user=manager, supplier=supplier, branch=branch)
    product = ProductFactory(cost_price=D("80.00"))
    line = purchase_line_set(user=manager, purchase=purchase, product=product, quantity=D("10"), unit_cost=D("80.00"))
    purchase_order(user=manager, purchase=purchase)
    purchase_receive(user=manager, purchase=purchase, quantities={line.pk: D("6")})
    return Purchase.objects.get(pk=purchase.pk)


def test_pay_a_received_purchase_up_to_what_is_owed(manager, received_purchase):
    from cashdesk.selectors import purchase_amount_owed

    assert purchase_amount_owed(purchase=received_purchase) == D("480.00")  # 6 received × 80
    money.supplier_payment_record(
        supplier=received_purchase.supplier,
        purchase=received_purchase,
        amount=D("300"),
        method="BANK",
        reference="EQ-1",
        user=manager,
    )
    assert purchase_amount_owed(purchase=received_purchase) == D("180.00")
    with pytest.raises(PaymentError, match="owed only KES 180.00"):
        money.supplier_payment_record(
            supplier=received_purchase.supplier,
            purchase=received_purchase,
            amount=D("181"),
            method="BANK",
            reference="EQ-2",
            user=manager,
        )
    assert SupplierPayment.objects.filter(purchase=received_purchase).count() == 1


def test_a_purchase_of_another_supplier_or_a_draft_is_refused(manager, branch, received_purchase):
    from inventory.purchase_services import purchase_create

    with pytest.raises(PaymentError, match="is not from"):
        money.supplier_payment_record(
            supplier=SupplierFactory(),
            purchase=received_purchase,
            amount=D("10"),
            method="BANK",
            reference="x",
            user=manager,
        )
    draft = purchase_create(user=manager, supplier=received_purchase.supplier, branch=branch)
    with pytest.raises(PaymentError, match="is draft"):
        money.supplier_payment_record(
            supplier=draft.supplier, purchase=draft, amount=D("10"), method="BANK", reference="x", user=manager
        )
    assert not SupplierPayment.objects.exists()


def test_pay_from_a_purchase_page_link(manager_client, received_purchase):
    page = manager_client.get(reverse("cashdesk:supplier_payment_create"), {"purchase": received_purchase.pk})
    assert page.status_code == 200 and b'value="480.00"' in page.content
    response = manager_client.post(
        reverse("cashdesk:supplier_payment_create"),
        {
            "supplier": received_purchase.supplier_id,
            "purchase": received_purchase.pk,
            "amount": "480",
            "method": "CHEQUE",
            "reference": "000777",
        },
    )
    assert response.status_code == 302
    assert received_purchase.number.encode() in manager_client.get(reverse("cashdesk:supplier_payment_list")).content
