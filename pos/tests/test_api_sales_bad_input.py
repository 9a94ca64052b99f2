"""Ids no database can hold, unknown ids and nonsense filters on the sales and cash-desk API: always a
4xx with a message, never a 500 (what schemathesis would otherwise find)."""

import pytest
from django.urls import reverse

from pos.sales.models import Sale
from pos.tests.api_support import api_client

pytestmark = pytest.mark.django_db

HUGE = 10**30


@pytest.mark.parametrize(
    "name, body",
    [
        ("salesheader-list", {"details": [{"product": HUGE, "quantity": "1"}]}),
        ("salesheader-list", {"details": [{"product": 1, "quantity": "1"}], "customer": HUGE}),
        ("salesheader-list", {"details": [{"product": 1, "quantity": "1e400"}]}),
        ("salesheader-list", {"details": [{"product": 1, "quantity": "NaN"}]}),
        ("sales-payment-split", {"sales_header": HUGE, "session": 1, "payments": [{"method": "CASH", "amount": "1"}]}),
        ("sales-payment-split", {"sales_header": 1, "session": HUGE, "payments": [{"method": "CASH", "amount": "1"}]}),
        (
            "sales-payment-split",
            {"sales_header": 1, "session": 1, "payments": [{"method": "CASH", "amount": "Infinity"}]},
        ),
        ("sales-payment-list", {"sales_header": 1, "session": 1, "method": "CASH", "amount": "-1"}),
        ("mpesa-stk-push-list", {"sales_header": HUGE, "phone": "0708374149"}),
        ("salesdetail-list", {"sales_header": HUGE, "product": 1}),
        ("cash-session-list", {"opening_float": "1e20"}),
        (
            "expense-list",
            {
                "category": HUGE,
                "amount": "1",
                "method": "BANK",
                "description": "x",
                "spent_on": "2020-01-01",
                "reference": "r",
            },
        ),
        ("supplier-payment-list", {"supplier": HUGE, "amount": "1", "method": "BANK", "reference": "r"}),
        ("customer-receipt-list", {"customer": HUGE, "amount": "1", "method": "BANK", "reference": "r"}),
    ],
)
def test_bad_ids_and_amounts_are_400s(owner, name, body):
    response = api_client(owner).post(reverse(name), body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["detail"] and response.json()["errors"]
    assert not Sale.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        "cashier=99999999999999999999999",
        "customer=-1",
        "date_from=abc",
        "status=NOPE",
        "sale=99999999999999999999999",
        "sales_header=99999999999999999999999",
        "session=abc",
    ],
)
def test_nonsense_filters_are_400s(owner, query):
    for name in ("salesheader-list", "salesdetail-list", "sales-payment-list"):
        response = api_client(owner).get(f"{reverse(name)}?{query}")
        assert response.status_code in (200, 400), (name, response.status_code)
        if response.status_code == 400:
            assert response.json()["errors"]


def test_unknown_ids_in_the_path_are_404s(owner):
    for name in ("salesheader-detail", "salesdetail-detail", "cash-session-detail", "mpesa-stk-push-detail",
                 "sales-payment-detail", "cash-session-report", "expense-detail"):
        assert api_client(owner).get(reverse(name, args=[HUGE])).status_code == 404, name
    for name in ("salesheader-void", "cash-session-close"):
        assert api_client(owner).post(reverse(name, args=[HUGE]), {"reason": "x"}, format="json").status_code == 404
