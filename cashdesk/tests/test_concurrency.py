"""Checkout under concurrency on MariaDB: a double submit makes one sale; two tills never oversell."""

from decimal import Decimal as D

import pytest
from django.db import connection

from cashdesk.models import Payment
from cashdesk.services import Tender, sale_checkout
from cashdesk.tests.factories import open_session
from inventory.errors import StockShortError
from inventory.models import StockMovement
from inventory.selectors import stock_on_hand
from inventory.tests.factories import ProductFactory, stock_in
from pos.sales.models import Sale, SaleStatus
from pos.sales.services import sale_add_product, sale_get_or_open
from pos.tests.concurrency import run_together
from pos.tests.factories import UserFactory

pytestmark = [pytest.mark.mysql_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_mysql():
    if connection.vendor != "mysql":
        pytest.skip("needs MariaDB/MySQL row locks")


def test_the_same_checkout_sent_twice_at_once_makes_one_sale(branch):
    cashier = UserFactory(branch=branch)
    open_session(cashier)
    product = ProductFactory(selling_price=D("99.00"))
    stock_in(product, branch, 5)
    sale = sale_get_or_open(cashier=cashier)
    sale_add_product(sale=sale, product=product, user=cashier)

    def pay():
        return sale_checkout(sale=sale, user=cashier, tenders=[Tender("CASH", D("100"))], idempotency_key="same-key")

    results = run_together(pay, pay, pay)
    assert all(isinstance(r, Sale) and r.pk == sale.pk for r in results), results
    assert Payment.objects.filter(sale=sale).count() == 1
    assert StockMovement.objects.filter(product=product, kind="SALE").count() == 1
    assert stock_on_hand(product_id=product.pk, branch_id=branch.pk) == D("4")


def test_two_tills_race_for_the_last_unit(branch):
    product = ProductFactory(selling_price=D("10.00"))
    stock_in(product, branch, 1)
    sales = []
    for _ in range(2):
        cashier = UserFactory(branch=branch)
        open_session(cashier)
        sale = sale_get_or_open(cashier=cashier)
        sale_add_product(sale=sale, product=product, user=cashier)
        sales.append((sale, cashier))

    def pay(sale, cashier):
        return lambda: sale_checkout(
            sale=sale, user=cashier, tenders=[Tender("CASH", D("10"))], idempotency_key=f"t{sale.pk}"
        )

    results = run_together(*[pay(s, c) for s, c in sales])
    assert sum(isinstance(r, Sale) for r in results) == 1
    assert sum(isinstance(r, StockShortError) for r in results) == 1
    assert Sale.objects.filter(status=SaleStatus.COMPLETED).count() == 1
    assert Payment.objects.count() == 1
    assert stock_on_hand(product_id=product.pk, branch_id=branch.pk) == D("0")
    assert list(Sale.objects.filter(status=SaleStatus.COMPLETED).values_list("number", flat=True)) == ["MAIN-000001"]


def test_two_counts_sent_at_once_keep_one_first_count(branch):
    """A double submit of the close form with different counts (two tablets, a retried request): one
    becomes the first count, the other is a recount and is refused without a manager."""
    from cashdesk.models import CashSession
    from cashdesk.services import PaymentError, session_count_record

    cashier = UserFactory(branch=branch)
    session = open_session(cashier, "1000")

    def count(amount):
        return lambda: session_count_record(session=session, counted_by=cashier, counted=D(amount))

    results = run_together(count("900"), count("950"))
    session = CashSession.objects.get(pk=session.pk)
    assert session.first_count in (D("900.00"), D("950.00"))
    refused = [r for r in results if isinstance(r, PaymentError)]
    assert len(refused) == 1 and refused[0].code == "needs_approval", results
