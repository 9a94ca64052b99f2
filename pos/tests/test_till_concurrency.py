"""The till's money under concurrency on MariaDB: a credit limit and loyalty points hold when two tills
charge the same customer at once; a line cannot be returned twice by two managers at once."""

from decimal import Decimal as D

import pytest
from django.db import connection

from cashdesk.refund_services import sale_return_refund
from cashdesk.services import PaymentError, Tender, sale_checkout
from cashdesk.tests.factories import open_session
from core.roles import Role
from inventory.tests.factories import ProductFactory, stock_in
from pos.sales.models import Sale, SaleReturn
from pos.sales.services import ReturnItem, SaleError, sale_add_product, sale_get_or_open, sale_set_customer
from pos.tests.concurrency import run_together
from pos.tests.factories import CustomerFactory, UserFactory

pytestmark = [pytest.mark.mysql_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_mysql():
    if connection.vendor != "mysql":
        pytest.skip("needs MariaDB/MySQL row locks")


def _two_carts(branch, customer, price):
    product = ProductFactory(selling_price=price)
    stock_in(product, branch, 10)
    carts = []
    for _ in range(2):
        cashier = UserFactory(branch=branch)
        open_session(cashier)
        sale = sale_get_or_open(cashier=cashier)
        sale_add_product(sale=sale, product=product, user=cashier)
        sale_set_customer(sale=sale, customer=customer, user=cashier)
        carts.append((sale, cashier))
    return carts


def test_two_tills_cannot_both_pass_the_credit_limit(branch):
    customer = CustomerFactory(credit_limit=D("150.00"))
    carts = _two_carts(branch, customer, D("100.00"))

    def pay(sale, cashier):
        return lambda: sale_checkout(sale=sale, user=cashier, tenders=[Tender("CUSTOMER_CREDIT", D("100"))],
                                     idempotency_key=f"acct-{sale.pk}")

    results = run_together(*(pay(sale, cashier) for sale, cashier in carts))
    assert sorted(type(r).__name__ for r in results) == ["PaymentError", "Sale"], results
    customer.refresh_from_db()
    assert customer.balance == D("100.00")


def test_two_tills_cannot_spend_the_same_points(branch):
    customer = CustomerFactory(loyalty_points=D("100"))
    carts = _two_carts(branch, customer, D("80.00"))

    def pay(sale, cashier):
        return lambda: sale_checkout(sale=sale, user=cashier, tenders=[Tender("LOYALTY", D("80"))],
                                     idempotency_key=f"pts-{sale.pk}")

    results = run_together(*(pay(sale, cashier) for sale, cashier in carts))
    assert sum(isinstance(r, Sale) for r in results) == 1, results
    assert sum(isinstance(r, PaymentError) for r in results) == 1, results
    customer.refresh_from_db()
    assert customer.loyalty_points == D("20.00")  # no points are earned on what points paid


def test_a_line_is_not_returned_twice_at_once(branch):
    cashier = UserFactory(branch=branch)
    open_session(cashier)
    product = ProductFactory(selling_price=D("50.00"))
    stock_in(product, branch, 5)
    sale = sale_get_or_open(cashier=cashier)
    line = sale_add_product(sale=sale, product=product, user=cashier, quantity=D("2"))
    sale.refresh_from_db()
    sale = sale_checkout(sale=sale, user=cashier, tenders=[Tender("CASH", D("100"))], idempotency_key="ret")
    managers = [UserFactory(branch=branch, role=Role.MANAGER) for _ in range(2)]
    for manager in managers:
        open_session(manager)

    def give_back(manager):
        return lambda: sale_return_refund(sale=sale, items=[ReturnItem(line.pk, D("2"))], user=manager, reason="race")

    results = run_together(*(give_back(m) for m in managers))
    assert sum(isinstance(r, SaleReturn) for r in results) == 1, results
    assert sum(isinstance(r, SaleError) for r in results) == 1, results
    line.refresh_from_db()
    assert line.returned_quantity == D("2")


@pytest.mark.parametrize("cart_exists", [False, True])
def test_two_tabs_scanning_at_once_fill_one_sale(branch, cart_exists):
    """The scan locks the cashier's open sale as it reads it: two tabs scanning together (the first item
    of a sale too) put both items on one sale, at positions 1 and 2 after what was there."""
    cashier = UserFactory(branch=branch)
    first, second, earlier = (ProductFactory() for _ in range(3))
    for product in (first, second, earlier):
        stock_in(product, branch, 10)
    if cart_exists:
        sale_add_product(product=earlier, user=cashier)

    results = run_together(
        lambda: sale_add_product(product=first, user=cashier),
        lambda: sale_add_product(product=second, user=cashier),
    )
    assert all(not isinstance(result, BaseException) for result in results), results
    sale = Sale.objects.get(open_for_cashier=cashier.pk)
    products = [line.product_id for line in sale.lines.order_by("position")]
    assert sorted(products[-2:]) == sorted([first.pk, second.pk])
    assert [line.position for line in sale.lines.order_by("position")] == list(range(1, len(products) + 1))
    assert Sale.objects.filter(cashier=cashier).count() == 1
    assert sale.total == sum(line.line_total for line in sale.lines.all())
