"""Checkout: payments and stock in one transaction, exactly once, paid in full."""

from decimal import Decimal as D

import pytest

from cashdesk.models import Payment
from cashdesk.services import PaymentConflictError, PaymentError, Tender, sale_checkout
from cashdesk.tests.factories import open_session
from inventory.errors import StockShortError
from inventory.models import StockMovement
from inventory.selectors import stock_on_hand
from inventory.tests.factories import ProductFactory, stock_in
from pos.sales.models import SaleSequence, SaleStatus
from pos.sales.services import SaleError, sale_add_product, sale_get_or_open
from pos.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ringing(employee, branch):
    """A cashier with an open session and a sale of 2 × KES 116 + 1 × KES 50 (total 282)."""
    open_session(employee)
    sale = sale_get_or_open(cashier=employee)
    soap, bread = (
        ProductFactory(selling_price=D("116.00"), name="Soap"),
        ProductFactory(selling_price=D("50.00"), name="Bread"),
    )
    stock_in(soap, branch, 10)
    stock_in(bread, branch, 10)
    sale_add_product(sale=sale, product=soap, user=employee, quantity=D("2"))
    sale_add_product(sale=sale, product=bread, user=employee)
    sale.refresh_from_db()
    return sale, soap, bread


def test_cash_with_change(ringing, employee, branch):
    sale, soap, bread = ringing
    done = sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D("500"))], idempotency_key="k1")
    assert done.status == SaleStatus.COMPLETED
    assert done.number == f"{branch.code}-000001"
    assert (done.total, done.paid_total, done.change_given) == (D("282.00"), D("500.00"), D("218.00"))
    payment = Payment.objects.get(sale=done)
    assert payment.change_given == D("218.00") and payment.session.cashier == employee
    assert done.paid_total - done.change_given == done.total
    assert stock_on_hand(product_id=soap.pk, branch_id=branch.pk) == D("8")
    movement = StockMovement.objects.get(product=soap, kind="SALE")
    assert movement.reference == done and movement.reference_label == done.number
    assert done.open_for_cashier is None


def test_split_cash_and_card(ringing, employee):
    sale, *_ = ringing
    done = sale_checkout(
        sale=sale,
        user=employee,
        tenders=[Tender("CARD", D("200"), "TX-123"), Tender("CASH", D("100"))],
        idempotency_key="k2",
    )
    payments = {p.method: p for p in done.payments.all()}
    assert payments["CARD"].reference == "TX-123" and payments["CARD"].change_given == D("0")
    assert payments["CASH"].change_given == D("18.00")
    assert done.change_given == D("18.00")


def test_double_tap_returns_the_same_sale(ringing, employee):
    sale, soap, _ = ringing
    first = sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D("300"))], idempotency_key="tap")
    again = sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D("300"))], idempotency_key="tap")
    assert again.pk == first.pk
    assert Payment.objects.filter(sale=first).count() == 1
    assert StockMovement.objects.filter(product=soap, kind="SALE").count() == 1


def test_a_completed_sale_cannot_be_paid_with_another_key(ringing, employee):
    sale, *_ = ringing
    sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D("300"))], idempotency_key="a")
    with pytest.raises(PaymentConflictError):
        sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D("300"))], idempotency_key="b")


@pytest.mark.parametrize(
    "tenders,message",
    [
        ([Tender("CASH", D("200"))], "still to pay"),
        ([Tender("CARD", D("300"), "T-1")], "only cash can be given change"),
        ([Tender("CASH", D("0"))], "more than zero"),
        ([Tender("CASH", D("-5"))], "more than zero"),
        ([Tender("BITCOIN", D("300"))], "Unknown payment method"),
        ([Tender("MPESA", D("300"))], "send a payment request"),
        ([], "still to pay"),
    ],
)
def test_bad_payments_change_nothing(ringing, employee, branch, tenders, message):
    sale, soap, _ = ringing
    with pytest.raises(PaymentError, match=message):
        sale_checkout(sale=sale, user=employee, tenders=tenders, idempotency_key="bad")
    sale.refresh_from_db()
    assert sale.status == SaleStatus.OPEN and sale.number is None
    assert not Payment.objects.exists()
    assert stock_on_hand(product_id=soap.pk, branch_id=branch.pk) == D("10")


def test_no_payment_without_an_open_session(branch):
    cashier = UserFactory()
    sale = sale_get_or_open(cashier=cashier)
    product = ProductFactory()
    stock_in(product, branch, 1)
    sale_add_product(sale=sale, product=product, user=cashier)
    with pytest.raises(PaymentConflictError, match="Open a cash session"):
        sale_checkout(sale=sale, user=cashier, tenders=[Tender("CASH", D("100"))], idempotency_key="x")


def test_an_empty_sale_cannot_be_completed(employee):
    open_session(employee)
    sale = sale_get_or_open(cashier=employee)
    with pytest.raises(SaleError, match="empty"):
        sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D("10"))], idempotency_key="e")
    assert not Payment.objects.exists()


def test_short_stock_writes_nothing_and_gives_the_number_back(ringing, employee, branch):
    sale, soap, bread = ringing
    from inventory.ledger_services import StockLine, stock_move
    from inventory.models import MovementKind

    stock_move(
        branch=branch, lines=[StockLine(soap.pk, D("-9"))], kind=MovementKind.ADJUSTMENT
    )  # 1 soap left, 2 in cart
    with pytest.raises(StockShortError, match="Soap: 1 in stock, 2 needed"):
        sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D("300"))], idempotency_key="short")
    sale.refresh_from_db()
    assert sale.status == SaleStatus.OPEN and not Payment.objects.exists()
    assert not SaleSequence.objects.filter(last_number__gt=0).exists()
    assert stock_on_hand(product_id=bread.pk, branch_id=branch.pk) == D("10")


def test_sale_numbers_are_consecutive_per_branch(employee, other_branch, branch):
    cashier_b = UserFactory(branch=other_branch)
    product = ProductFactory(selling_price=D("10.00"))
    stock_in(product, branch, 10)
    stock_in(product, other_branch, 10)
    numbers = []
    for cashier in (employee, cashier_b, employee, cashier_b, employee):
        if not hasattr(cashier, "_session"):
            cashier._session = open_session(cashier)
        sale = sale_get_or_open(cashier=cashier)
        sale_add_product(sale=sale, product=product, user=cashier)
        numbers.append(
            sale_checkout(
                sale=sale, user=cashier, tenders=[Tender("CASH", D("10"))], idempotency_key=f"n{len(numbers)}"
            ).number
        )
    assert numbers == ["MAIN-000001", "WSTL-000001", "MAIN-000002", "WSTL-000002", "MAIN-000003"]


def test_checkout_query_count_does_not_grow_with_lines(employee, branch, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    open_session(employee)
    counts = []
    for size in (1, 2, 10):  # the first warms the content-type cache
        sale = sale_get_or_open(cashier=employee)
        for _ in range(size):
            product = ProductFactory(selling_price=D("10.00"))
            stock_in(product, branch, 5)
            sale_add_product(sale=sale, product=product, user=employee)
        with CaptureQueriesContext(connection) as ctx:
            sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D(size * 10))], idempotency_key=f"q{size}")
        counts.append(len(ctx))
    assert counts[1] == counts[2], counts
    assert counts[2] <= 32


# ---------------------------------------------------------------------------- what is left to pay
def _confirmed_mpesa(sale, amount, status="CONFIRMED"):
    from cashdesk.models import PaymentMethod

    return Payment.objects.create(sale=sale, method=PaymentMethod.MPESA, status=status, amount=D(amount))


def test_amount_due_counts_only_confirmed_payments_net_of_change(ringing):
    from pos.sales.selectors import sale_amount_due, sale_amount_paid

    sale, *_ = ringing
    assert sale_amount_due(sale=sale) == D("282.00")
    _confirmed_mpesa(sale, "100.00")
    _confirmed_mpesa(sale, "50.00", status="PENDING")
    _confirmed_mpesa(sale, "60.00", status="FAILED")
    assert sale_amount_paid(sale=sale) == D("100.00")
    assert sale_amount_due(sale=sale) == D("182.00")
    _confirmed_mpesa(sale, "500.00")
    assert sale_amount_due(sale=sale) == D("0.00")  # never below nothing


def test_nothing_is_due_once_the_sale_is_completed(ringing, employee):
    from pos.sales.selectors import sale_amount_due

    sale, *_ = ringing
    done = sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D("300"))], idempotency_key="due-1")
    assert sale_amount_due(sale=done) == D("0.00")


def test_checkout_takes_only_what_an_earlier_mpesa_payment_left(ringing, employee):
    sale, *_ = ringing
    _confirmed_mpesa(sale, "200.00")
    with pytest.raises(PaymentError, match="KES 32.00 is still to pay"):
        sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D("50"))], idempotency_key="due-2")
    done = sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D("100"))], idempotency_key="due-3")
    assert done.change_given == D("18.00")


def test_checkout_refuses_a_sale_whose_payments_exceed_its_total(ringing, employee):
    sale, *_ = ringing
    _confirmed_mpesa(sale, "300.00")
    with pytest.raises(PaymentConflictError, match="more than this sale's total"):
        sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D("10"))], idempotency_key="due-4")
    assert Payment.objects.filter(sale=sale).count() == 1
