"""API clients racing each other on MariaDB's row locks: whatever InnoDB does to the losers (deadlock
victim, lock wait), every client gets an answer — a 2xx, or a 409 when a shop rule refuses — never a
500; sale numbers stay gap-free and stock never goes below zero."""

import threading
import time
from decimal import Decimal as D

import pytest
from django.db import connection
from django.urls import reverse

from cashdesk.models import CashSession, Payment, SessionStatus
from cashdesk.tests.factories import open_session
from inventory.models import StockLevel
from inventory.selectors import stock_on_hand
from inventory.tests.factories import ProductFactory, stock_in
from pos.people.models import ShopSettings
from pos.sales.models import Sale, SaleStatus
from pos.tests.api_support import api_client
from pos.tests.concurrency import run_together
from pos.tests.factories import UserFactory

pytestmark = [pytest.mark.mysql_only, pytest.mark.django_db(transaction=True)]

SALES = reverse("salesheader-list")
SPLIT = reverse("sales-payment-split")


@pytest.fixture(autouse=True)
def _needs_mysql():
    if connection.vendor != "mysql":
        pytest.skip("needs MariaDB/MySQL row locks")


def _client(user):
    client = api_client(user)
    client.raise_request_exception = False  # a 500 is an answer the test counts, not a crash of the thread
    return client


def _status(call) -> int:
    """The response's status; an exception that escaped the view counts as the 500 it would have been."""
    try:
        return call().status_code
    except Exception:  # noqa: BLE001 - anything escaping the stack is what a client would see as a 500
        return 500


def _assert_numbers_gap_free(branch):
    numbers = sorted(Sale.objects.filter(branch=branch, status=SaleStatus.COMPLETED).values_list("sequence", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))


def test_eight_api_clients_selling_hot_products_for_ten_seconds_never_get_a_500(branch):
    hot = [ProductFactory(selling_price=D("50.00") + i) for i in range(4)]
    for product in hot:
        stock_in(product, branch, 100000)
    tills = []
    for _ in range(8):
        cashier = UserFactory(branch=branch)
        tills.append((cashier, open_session(cashier), _client(cashier)))
    statuses: list[int] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + 10

    def till(cashier, session, client, index):
        def sell():
            n = 0
            while time.monotonic() < stop_at:
                n += 1
                details = [{"product": p.pk, "quantity": "1"} for p in (hot[n % 4], hot[(n + index) % 4], hot[3])]
                key = f"{cashier.pk}-{n}"
                created = client.post(SALES, {"details": details}, format="json", HTTP_IDEMPOTENCY_KEY=f"s-{key}")
                codes = [created.status_code]
                if created.status_code == 201:
                    body = {"sales_header": created.json()["id"], "session": session.pk,
                            "payments": [{"method": "CASH", "amount": "1000"}]}
                    codes.append(_status(lambda b=body, k=key: client.post(
                        SPLIT, b, format="json", HTTP_IDEMPOTENCY_KEY=f"p-{k}")))
                with lock:
                    statuses.extend(codes)
        return sell

    results = run_together(*[till(c, s, api, i) for i, (c, s, api) in enumerate(tills)], timeout=60)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert statuses and all(200 <= code < 300 or code == 409 for code in statuses), sorted(set(statuses))
    completed = Sale.objects.filter(status=SaleStatus.COMPLETED)
    assert completed.count() >= 8  # the race was run, not skipped
    assert Payment.objects.filter(sale__in=completed).count() == completed.count()
    assert not Payment.objects.exclude(sale__in=completed).exists()
    _assert_numbers_gap_free(branch)
    assert not StockLevel.objects.filter(quantity__lt=0).exists()


def test_closing_a_drawer_while_a_payment_goes_into_it_ends_in_success_or_409(branch):
    settings = ShopSettings.load()
    settings.max_cash_difference = D("100000.00")  # the close is about the race, not the count
    settings.save()
    product = ProductFactory(selling_price=D("40.00"))
    stock_in(product, branch, 1000)
    outcomes = []
    for round_ in range(6):
        cashier = UserFactory(branch=branch)
        session = open_session(cashier)
        client, closer = _client(cashier), _client(cashier)
        created = client.post(SALES, {"details": [{"product": product.pk, "quantity": "1"}]}, format="json")
        assert created.status_code == 201, created.json()
        sale_id = created.json()["id"]
        pay_body = {"sales_header": sale_id, "session": session.pk, "payments": [{"method": "CASH", "amount": "40"}]}

        def pay(body=pay_body, c=client, r=round_):
            return _status(lambda: c.post(SPLIT, body, format="json", HTTP_IDEMPOTENCY_KEY=f"race-{r}"))

        def close(c=closer, pk=session.pk):
            return _status(lambda: c.post(reverse("cash-session-close", args=[pk]), {"closing_total": "1040"},
                                          format="json"))

        paid, closed = run_together(pay, close)
        assert paid in (201, 409) and closed in (200, 409), (paid, closed)
        session = CashSession.objects.get(pk=session.pk)
        sale = Sale.objects.get(pk=sale_id)
        assert session.status == (SessionStatus.CLOSED if closed == 200 else SessionStatus.OPEN)
        if paid == 201:  # the payment went in first: the drawer's count expected it
            assert sale.status == SaleStatus.COMPLETED and sale.payments.get().session_id == session.pk
            assert closed != 200 or session.expected_cash == D("1040.00")
        else:  # the drawer closed first: nothing was taken
            assert sale.status == SaleStatus.OPEN and not sale.payments.exists()
            assert session.expected_cash == D("1000.00")
        outcomes.append((paid, closed))
    assert all(closed == 200 for _, closed in outcomes)  # a close never loses to a payment; it waits for it


def test_twenty_checkouts_racing_for_the_last_unit_sell_it_once(branch):
    last = ProductFactory(selling_price=D("250.00"))
    stock_in(last, branch, 1)
    payers = []
    for n in range(20):
        cashier = UserFactory(branch=branch)
        session = open_session(cashier)
        client = _client(cashier)
        created = client.post(SALES, {"details": [{"product": last.pk, "quantity": "1"}]}, format="json")
        assert created.status_code == 201, created.json()
        body = {"sales_header": created.json()["id"], "session": session.pk,
                "payments": [{"method": "CASH", "amount": "250"}]}
        payers.append(lambda c=client, b=body, k=f"last-{n}": _status(
            lambda: c.post(SPLIT, b, format="json", HTTP_IDEMPOTENCY_KEY=k)))

    statuses = run_together(*payers, timeout=60)
    assert sorted(statuses) == [201] + [409] * 19, statuses
    assert Sale.objects.filter(status=SaleStatus.COMPLETED).count() == 1
    assert Payment.objects.count() == 1
    assert stock_on_hand(product_id=last.pk, branch_id=branch.pk) == D("0")
    _assert_numbers_gap_free(branch)
