"""Money rules of the till: on account, loyalty, returns with refunds, voids of completed sales, the drawer."""

from decimal import Decimal as D

import pytest
from django.db import IntegrityError, transaction

from cashdesk.models import Payment, PaymentMethod, PaymentStatus
from cashdesk.refund_services import plan_refund, sale_return_refund, sale_void_completed
from cashdesk.services import PaymentConflictError, PaymentError, Tender, sale_checkout, session_expected_cash
from cashdesk.tests.factories import open_session
from inventory.models import MovementKind, StockMovement
from inventory.selectors import stock_on_hand
from inventory.tests.factories import ProductFactory, stock_in
from pos.customers.models import LoyaltyEntry, LoyaltyKind
from pos.people.audit import AuditAction
from pos.people.models import AuditLog, ShopSettings
from pos.sales.models import Refund, RefundMethod, SaleLine, SaleReturn, SaleStatus
from pos.sales.services import (
    AuthorisationRequired,
    ReturnItem,
    SaleConflictError,
    SaleError,
    sale_add_product,
    sale_get_or_open,
    sale_set_customer,
)
from pos.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def set_shop(**values):
    """Change the owner's settings the way the settings page does (the cached copy is dropped)."""
    from django.core.cache import cache

    from pos.people.selectors import SHOP_SETTINGS_CACHE_KEY

    ShopSettings.objects.filter(pk=1).update(**values)
    cache.delete(SHOP_SETTINGS_CACHE_KEY)


@pytest.fixture
def shelf(branch):
    soap = ProductFactory(selling_price=D("116.00"), name="Bar soap", cost_price=D("80.00"))
    bread = ProductFactory(selling_price=D("60.00"), name="Bread", tax_class="A", cost_price=D("45.00"))
    stock_in(soap, branch, 20)
    stock_in(bread, branch, 20)
    return soap, bread


def ring_up(cashier, *items, customer=None):
    sale = sale_get_or_open(cashier=cashier)
    for product, quantity in items:
        sale_add_product(sale=sale, product=product, user=cashier, quantity=D(quantity))
    if customer is not None:
        sale_set_customer(sale=sale, customer=customer, user=cashier)
    sale.refresh_from_db()
    return sale


def test_refund_methods_are_payment_methods():
    assert set(RefundMethod.values) <= set(PaymentMethod.values)


# ---------------------------------------------------------------------------- on account
def test_on_account_raises_the_balance(employee, shelf):
    soap, _ = shelf
    open_session(employee)
    customer = CustomerFactory(credit_limit=D("1000.00"), balance=D("100.00"))
    sale = ring_up(employee, (soap, "2"), customer=customer)
    sale = sale_checkout(
        sale=sale, user=employee, tenders=[Tender("CUSTOMER_CREDIT", D("232.00"))], idempotency_key="a1"
    )
    customer.refresh_from_db()
    assert sale.status == SaleStatus.COMPLETED and customer.balance == D("332.00")


@pytest.mark.parametrize("limit,balance", [(D("0.00"), D("0.00")), (D("300.00"), D("100.00"))])
def test_on_account_past_the_limit_is_refused(employee, shelf, branch, limit, balance):
    soap, _ = shelf
    open_session(employee)
    customer = CustomerFactory(credit_limit=limit, balance=balance)
    sale = ring_up(employee, (soap, "2"), customer=customer)
    with pytest.raises(PaymentError, match="credit limit") as info:
        sale_checkout(sale=sale, user=employee, tenders=[Tender("CUSTOMER_CREDIT", D("232.00"))], idempotency_key="a2")
    assert info.value.code == "credit_limit"
    customer.refresh_from_db()
    sale.refresh_from_db()
    assert customer.balance == balance and sale.status == SaleStatus.OPEN
    assert not Payment.objects.exists() and stock_on_hand(product_id=soap.pk, branch_id=branch.pk) == D("20")


def test_on_account_needs_a_customer(employee, shelf):
    soap, _ = shelf
    open_session(employee)
    sale = ring_up(employee, (soap, "1"))
    with pytest.raises(PaymentError, match="Attach a customer"):
        sale_checkout(sale=sale, user=employee, tenders=[Tender("CUSTOMER_CREDIT", D("116.00"))], idempotency_key="a3")


def test_split_cash_and_account(employee, shelf):
    soap, _ = shelf
    open_session(employee)
    customer = CustomerFactory(credit_limit=D("200.00"))
    sale = ring_up(employee, (soap, "2"), customer=customer)
    sale = sale_checkout(
        sale=sale,
        user=employee,
        tenders=[Tender("CUSTOMER_CREDIT", D("200")), Tender("CASH", D("50"))],
        idempotency_key="a4",
    )
    customer.refresh_from_db()
    assert customer.balance == D("200.00") and sale.change_given == D("18.00")


# ---------------------------------------------------------------------------- loyalty
def test_points_are_earned_at_the_owners_rate(employee, shelf):
    soap, _ = shelf
    open_session(employee)
    set_shop(loyalty_points_per_100=D("2.50"))
    customer = CustomerFactory()
    sale = ring_up(employee, (soap, "3"), customer=customer)  # 348.00
    sale = sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D("400"))], idempotency_key="l1")
    customer.refresh_from_db()
    assert sale.loyalty_points_earned == D("8.70") == customer.loyalty_points
    entry = LoyaltyEntry.objects.get()
    assert (entry.kind, entry.points, entry.balance_after, entry.sale) == (
        LoyaltyKind.EARNED,
        D("8.70"),
        D("8.70"),
        sale,
    )


def test_no_customer_no_points(employee, shelf):
    soap, _ = shelf
    open_session(employee)
    sale = sale_checkout(
        sale=ring_up(employee, (soap, "1")), user=employee, tenders=[Tender("CASH", D("116"))], idempotency_key="l2"
    )
    assert sale.loyalty_points_earned == D("0") and not LoyaltyEntry.objects.exists()


def test_paying_with_points(employee, shelf):
    soap, _ = shelf
    open_session(employee)
    set_shop(loyalty_point_value=D("0.50"))
    customer = CustomerFactory(loyalty_points=D("100.00"))
    sale = ring_up(employee, (soap, "1"), customer=customer)
    sale = sale_checkout(
        sale=sale,
        user=employee,
        tenders=[Tender("LOYALTY", D("40.00")), Tender("CASH", D("76.00"))],
        idempotency_key="l3",
    )
    customer.refresh_from_db()
    # 80 points paid KES 40; 0.76 earned on the KES 76 paid in cash (1 point per KES 100)
    assert customer.loyalty_points == D("20.76")
    payment = sale.payments.get(method="LOYALTY")
    assert payment.reference == "80 points"
    redeemed = LoyaltyEntry.objects.get(kind=LoyaltyKind.REDEEMED)
    assert (redeemed.points, redeemed.amount) == (D("-80.00"), D("40.00"))


def test_too_few_points_are_refused(employee, shelf):
    soap, _ = shelf
    open_session(employee)
    customer = CustomerFactory(loyalty_points=D("10.00"))
    sale = ring_up(employee, (soap, "1"), customer=customer)
    with pytest.raises(PaymentError, match="has 10 points"):
        sale_checkout(sale=sale, user=employee, tenders=[Tender("LOYALTY", D("116.00"))], idempotency_key="l4")
    customer.refresh_from_db()
    assert customer.loyalty_points == D("10.00") and not LoyaltyEntry.objects.exists()


def test_points_never_go_negative_in_the_database():
    customer = CustomerFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        type(customer).objects.filter(pk=customer.pk).update(loyalty_points=D("-1"))


# ---------------------------------------------------------------------------- returns
@pytest.fixture
def paid_sale(employee, shelf):
    soap, bread = shelf
    open_session(employee, "2000.00")
    sale = ring_up(employee, (soap, "3"), (bread, "2"))  # 348 + 120 = 468
    return sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D("500"))], idempotency_key="p1")


def _lines(sale):
    return {line.product_name: line for line in sale.lines.all()}


def test_a_partial_return_restocks_refunds_cash_and_is_audited(paid_sale, employee, manager, branch, shelf):
    soap, _ = shelf
    session = paid_sale.payments.get().session
    drawer_before = session_expected_cash(session=session)
    line = _lines(paid_sale)["Bar soap"]
    sale_return = sale_return_refund(
        sale=paid_sale, items=[ReturnItem(line.pk, D("1"))], user=employee, authorised_by=manager, reason="wrong scent"
    )
    assert (
        sale_return.number == "MAIN-CN-000001"
        and sale_return.total == D("116.00")
        and sale_return.tax_total == D("16.00")
    )
    line.refresh_from_db()
    assert line.returned_quantity == D("1")
    assert stock_on_hand(product_id=soap.pk, branch_id=branch.pk) == D("18")
    movement = StockMovement.objects.get(kind=MovementKind.SALE_RETURN)
    assert movement.quantity == D("1") and movement.reference_label == "MAIN-CN-000001"
    refund = Refund.objects.get()
    assert (refund.method, refund.amount, refund.cash_session) == ("CASH", D("116.00"), session)
    assert session_expected_cash(session=session) == drawer_before - D("116.00")
    entry = AuditLog.objects.get(action=AuditAction.REFUND)
    assert (entry.user, entry.authorised_by) == (employee, manager)
    assert entry.after_data["lines"][0]["quantity"] == "1"


def test_a_return_needs_refund_permission(paid_sale, employee):
    line = _lines(paid_sale)["Bar soap"]
    with pytest.raises(AuthorisationRequired):
        sale_return_refund(sale=paid_sale, items=[ReturnItem(line.pk, D("1"))], user=employee, reason="x")
    assert not SaleReturn.objects.exists()


def test_more_than_sold_net_of_returns_is_refused(paid_sale, manager, branch, shelf):
    soap, _ = shelf
    open_session(manager)
    line = _lines(paid_sale)["Bar soap"]
    sale_return_refund(sale=paid_sale, items=[ReturnItem(line.pk, D("2"))], user=manager, reason="first")
    with pytest.raises(SaleError, match="1 can still be returned"):
        sale_return_refund(sale=paid_sale, items=[ReturnItem(line.pk, D("2"))], user=manager, reason="second")
    assert SaleReturn.objects.count() == 1 and Refund.objects.count() == 1
    assert stock_on_hand(product_id=soap.pk, branch_id=branch.pk) == D("19")
    # and the database refuses it too
    with pytest.raises(IntegrityError), transaction.atomic():
        SaleLine.objects.filter(pk=line.pk).update(returned_quantity=D("4"))


@pytest.mark.parametrize("quantity,message", [("0", "at least one"), ("-1", "negative"), ("0.5", "whole numbers")])
def test_bad_return_quantities(paid_sale, manager, quantity, message):
    open_session(manager)
    line = _lines(paid_sale)["Bar soap"]
    with pytest.raises(SaleError, match=message):
        sale_return_refund(sale=paid_sale, items=[ReturnItem(line.pk, D(quantity))], user=manager, reason="x")
    assert not SaleReturn.objects.exists()


def test_returning_everything_in_parts_refunds_exactly_the_line_total(employee, manager, shelf, branch):
    soap, _ = shelf
    open_session(manager, "1000")
    open_session(employee)
    sale = ring_up(employee, (soap, "3"))
    from pos.sales.services import sale_set_cart_discount

    sale_set_cart_discount(sale=sale, kind="AMOUNT", value=D("1.00"), user=employee)  # 347.00 over 3 units
    sale = sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D("347"))], idempotency_key="parts")
    line = sale.lines.get()
    totals = [
        sale_return_refund(sale=sale, items=[ReturnItem(line.pk, D("1"))], user=manager, reason="r").total
        for _ in range(3)
    ]
    assert totals == [D("115.67"), D("115.67"), D("115.66")] and sum(totals) == line.line_total


def test_write_off_does_not_restock(paid_sale, manager, shelf, branch):
    _, bread = shelf
    open_session(manager)
    line = _lines(paid_sale)["Bread"]
    sale_return_refund(
        sale=paid_sale, items=[ReturnItem(line.pk, D("1"), restock=False)], user=manager, reason="mouldy"
    )
    assert stock_on_hand(product_id=bread.pk, branch_id=branch.pk) == D("18")
    assert not StockMovement.objects.filter(kind=MovementKind.SALE_RETURN).exists()


def test_a_cash_refund_needs_an_open_session(paid_sale, manager):
    line = _lines(paid_sale)["Bread"]
    with pytest.raises(PaymentConflictError, match="open a cash session"):
        sale_return_refund(sale=paid_sale, items=[ReturnItem(line.pk, D("1"))], user=manager, reason="x")
    line.refresh_from_db()
    assert line.returned_quantity == 0 and not SaleReturn.objects.exists()


def test_refund_to_the_original_methods(employee, manager, shelf):
    soap, bread = shelf
    open_session(employee)
    open_session(manager, "0")
    customer = CustomerFactory(credit_limit=D("500"))
    sale = ring_up(employee, (soap, "2"), (bread, "1"), customer=customer)  # 292.00
    sale = sale_checkout(
        sale=sale,
        user=employee,
        tenders=[Tender("CUSTOMER_CREDIT", D("100")), Tender("CARD", D("150"), "TX-1"), Tender("CASH", D("50"))],
        idempotency_key="mix",
    )
    plan = plan_refund(sale=sale, amount=D("200.00"), refund_to="ORIGINAL")
    assert [(p.method, p.amount) for p in plan] == [("CUSTOMER_CREDIT", D("100.00")), ("CARD", D("100.00"))]
    line = _lines(sale)["Bar soap"]
    with pytest.raises(PaymentError, match="type its reference"):
        sale_return_refund(sale=sale, items=[ReturnItem(line.pk, D("2"))], user=manager, reason="x")
    sale_return_refund(sale=sale, items=[ReturnItem(line.pk, D("2"))], user=manager, reason="x", reference="REV-9")
    customer.refresh_from_db()
    assert customer.balance == D("0.00")
    card = Refund.objects.get(method="CARD")
    assert (card.amount, card.reference, card.cash_session) == (D("132.00"), "REV-9", None)
    # what is left to refund by card is 150 - 132; the rest of a later return goes to cash
    plan = plan_refund(sale=sale, amount=D("60.00"), refund_to="ORIGINAL")
    assert [(p.method, p.amount) for p in plan] == [("CARD", D("18.00")), ("CASH", D("42.00"))]
    assert [(p.method, p.amount) for p in plan_refund(sale=sale, amount=D("60"), refund_to="CASH")] == [
        ("CASH", D("60.00"))
    ]


def test_a_drawer_cannot_pay_back_more_than_it_holds(paid_sale, manager):
    open_session(manager, "10.00")
    line = _lines(paid_sale)["Bar soap"]
    with pytest.raises(PaymentError, match="should hold only KES 10.00"):
        sale_return_refund(sale=paid_sale, items=[ReturnItem(line.pk, D("1"))], user=manager, reason="x")


def test_points_earned_are_taken_back_on_return(employee, manager, shelf):
    soap, _ = shelf
    open_session(employee)
    open_session(manager)
    customer = CustomerFactory()
    sale = ring_up(employee, (soap, "5"), customer=customer)  # 580 → 5.80 points
    sale = sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D("580"))], idempotency_key="pts")
    line = sale.lines.get()
    sale_return_refund(sale=sale, items=[ReturnItem(line.pk, D("2"))], user=manager, reason="x")
    customer.refresh_from_db()
    assert customer.loyalty_points == D("3.48")
    assert LoyaltyEntry.objects.get(kind=LoyaltyKind.TAKEN_BACK).points == D("-2.32")


def test_only_completed_sales_are_returned(employee, manager, shelf):
    soap, _ = shelf
    sale = ring_up(employee, (soap, "1"))
    with pytest.raises(SaleConflictError, match="open"):
        sale_return_refund(sale=sale, items=[ReturnItem(sale.lines.get().pk, D("1"))], user=manager, reason="x")


# ---------------------------------------------------------------------------- void of a completed sale
def test_voiding_a_completed_sale(paid_sale, employee, manager, branch, shelf):
    soap, bread = shelf
    session = paid_sale.payments.get().session
    drawer_before = session_expected_cash(session=session)
    with pytest.raises(AuthorisationRequired):
        sale_void_completed(sale=paid_sale, user=employee, reason="rang up the wrong customer")
    sale = sale_void_completed(
        sale=paid_sale, user=employee, reason="rang up the wrong customer", authorised_by=manager
    )
    assert sale.status == SaleStatus.VOIDED and sale.voided_by == manager
    assert stock_on_hand(product_id=soap.pk, branch_id=branch.pk) == D("20")
    assert stock_on_hand(product_id=bread.pk, branch_id=branch.pk) == D("20")
    assert StockMovement.objects.filter(kind=MovementKind.VOID).count() == 2
    assert list(Payment.objects.values_list("status", flat=True)) == [PaymentStatus.REFUNDED]
    refund = Refund.objects.get()
    assert (refund.method, refund.amount, refund.cash_session) == ("CASH", D("468.00"), session)
    # the cash came in (500 less 32 change) and went out again
    assert session_expected_cash(session=session) == drawer_before - D("468.00")
    assert session_expected_cash(session=session) == session.opening_float
    entry = AuditLog.objects.get(action=AuditAction.SALE_VOID)
    assert (entry.user, entry.authorised_by, entry.before_data["number"]) == (employee, manager, "MAIN-000001")


def test_a_partly_returned_sale_is_not_voided(paid_sale, manager):
    open_session(manager)
    line = _lines(paid_sale)["Bread"]
    sale_return_refund(sale=paid_sale, items=[ReturnItem(line.pk, D("1"))], user=manager, reason="x")
    with pytest.raises(SaleConflictError, match="return the rest"):
        sale_void_completed(sale=paid_sale, user=manager, reason="y")


def test_voiding_an_on_account_sale_lowers_the_balance_and_points(employee, manager, shelf):
    soap, _ = shelf
    open_session(employee)
    customer = CustomerFactory(credit_limit=D("1000"))
    sale = ring_up(employee, (soap, "2"), customer=customer)
    sale = sale_checkout(sale=sale, user=employee, tenders=[Tender("CUSTOMER_CREDIT", D("232"))], idempotency_key="v")
    customer.refresh_from_db()
    assert customer.balance == D("232.00") and customer.loyalty_points == D("2.32")
    sale_void_completed(sale=sale, user=manager, reason="duplicate")  # no cash: no session needed
    customer.refresh_from_db()
    assert customer.balance == D("0.00") and customer.loyalty_points == D("0.00")
    with pytest.raises(SaleConflictError, match="voided"):
        sale_void_completed(sale=sale, user=manager, reason="again")


def test_checkout_with_a_customer_costs_the_same_for_2_10_and_30_lines(employee, branch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    open_session(employee)
    customer = CustomerFactory(credit_limit=D("100000"))
    counts = {}
    for size in (1, 2, 10, 30):  # the first one warms the content-type cache
        sale = sale_get_or_open(cashier=employee)
        for _ in range(size):
            product = ProductFactory(selling_price=D("10.00"))
            stock_in(product, branch, 5)
            sale_add_product(sale=sale, product=product, user=employee)
        sale_set_customer(sale=sale, customer=customer, user=employee)
        with CaptureQueriesContext(connection) as ctx:
            sale_checkout(sale=sale, user=employee, tenders=[Tender("CUSTOMER_CREDIT", D(size * 10))],
                          idempotency_key=f"size-{size}")
        counts[size] = len(ctx)
    assert counts[2] == counts[10] == counts[30] <= 33, counts  # +1: the stock-alert check, +1: the counter printer
