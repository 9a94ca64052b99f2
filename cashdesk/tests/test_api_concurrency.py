"""The API's Idempotency-Key under concurrency on MariaDB: the same request sent three times at once
makes one sale and one set of payments, and every caller gets the same answer."""

from decimal import Decimal as D

import pytest
from django.db import connection
from django.urls import reverse

from cashdesk.models import Payment
from cashdesk.tests.factories import open_session, ring_up
from inventory.models import StockMovement
from inventory.tests.factories import ProductFactory, stock_in
from pos.sales.models import Sale, SaleLine
from pos.tests.api_support import api_client
from pos.tests.concurrency import run_together
from pos.tests.factories import UserFactory

pytestmark = [pytest.mark.mysql_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_mysql():
    if connection.vendor != "mysql":
        pytest.skip("needs MariaDB/MySQL row locks")


def test_the_same_split_sent_three_times_at_once_pays_once(branch):
    cashier = UserFactory(branch=branch)
    session = open_session(cashier)
    sale = ring_up(cashier, branch, ("1750", "1"))
    body = {
        "sales_header": sale.pk,
        "session": session.pk,
        "payments": [{"method": "CASH", "amount": "500"}, {"method": "CARD", "amount": "1250", "reference": "TX-1"}],
    }

    def pay():
        return api_client(cashier).post(
            reverse("sales-payment-split"), body, format="json", HTTP_IDEMPOTENCY_KEY="race-1"
        )

    responses = run_together(pay, pay, pay)
    assert [r.status_code for r in responses] == [201, 201, 201], [getattr(r, "content", r) for r in responses]
    assert len({r.content for r in responses}) == 1
    assert Payment.objects.filter(sale=sale).count() == 2
    assert StockMovement.objects.filter(kind="SALE").count() == 1


def test_the_same_sale_created_three_times_at_once_is_one_sale(branch):
    cashier = UserFactory(branch=branch)
    product = ProductFactory(selling_price=D("60"))
    stock_in(product, branch, 10)
    body = {"details": [{"product": product.pk, "quantity": "2"}]}

    def create():
        return api_client(cashier).post(reverse("salesheader-list"), body, format="json", HTTP_IDEMPOTENCY_KEY="race-2")

    responses = run_together(create, create, create)
    assert [r.status_code for r in responses] == [201, 201, 201], [getattr(r, "content", r) for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert Sale.objects.count() == 1 and SaleLine.objects.count() == 1
