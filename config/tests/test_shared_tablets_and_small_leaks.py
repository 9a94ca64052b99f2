"""Smaller holes: the payments API's `?sale=` filter, the number of split parts, private pages on shared
tablets (no-store, camera only on the till), and other branches' sale numbers in a loyalty history."""

from decimal import Decimal

import pytest
from django.urls import reverse

from cashdesk.models import Payment, PaymentMethod, PaymentStatus
from cashdesk.services import MAX_SPLIT_PARTS, PaymentError, Tender, sale_checkout
from cashdesk.tests.factories import open_session, ring_up
from core.roles import Role
from pos.customers.models import LoyaltyEntry
from pos.tests.api_support import api_client
from pos.tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


def _paid_sale(cashier, branch, price="100.00", key="k"):
    open_session(cashier)
    sale = ring_up(cashier, branch, (price, "1"))
    return sale_checkout(sale=sale, user=cashier, tenders=[Tender(PaymentMethod.CASH, Decimal(price))],
                         idempotency_key=key)


def test_the_sale_filter_of_the_payments_api_filters(owner, employee, branch):
    first = _paid_sale(employee, branch, "100.00", "a")
    sale_checkout(sale=ring_up(employee, branch, ("250.00", "1")), user=employee,
                  tenders=[Tender(PaymentMethod.CASH, Decimal("250.00"))], idempotency_key="b")
    assert Payment.objects.filter(status=PaymentStatus.CONFIRMED).count() == 2
    body = api_client(owner).get("/api/sales-payments/", {"sale": first.pk}).json()
    assert [row["sales_header"] for row in body["results"]] == [first.pk]


def test_a_split_has_at_most_ten_parts(employee, branch):
    open_session(employee)
    sale = ring_up(employee, branch, ("110.00", "1"))
    parts = [Tender(PaymentMethod.CASH, Decimal("10.00")) for _ in range(MAX_SPLIT_PARTS + 1)]
    with pytest.raises(PaymentError) as refused:
        sale_checkout(sale=sale, user=employee, tenders=parts, idempotency_key="split")
    assert "at most 10" in refused.value.message
    assert not Payment.objects.exists()
    session = employee.cash_sessions.get() if hasattr(employee, "cash_sessions") else None
    response = api_client(employee).post("/api/sales-payments/split/", {
        "sales_header": sale.pk, "session": session.pk if session else 1,
        "payments": [{"method": "CASH", "amount": "10.00"} for _ in range(MAX_SPLIT_PARTS + 1)],
    }, format="json", HTTP_IDEMPOTENCY_KEY="split-api")
    assert response.status_code == 400 and "payments" in response.json()["errors"]


def test_logged_in_pages_pdfs_and_csvs_are_never_stored(owner_client):
    for url in (reverse("home"), reverse("reports:report_pdf", args=["sales-by-day"]),
                reverse("reports:report_csv", args=["sales-by-day"])):
        response = owner_client.get(url, {"preset": "today"})
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url


def test_api_answers_are_never_stored(owner):
    assert "no-store" in api_client(owner).get("/api/clients/")["Cache-Control"]


def test_only_the_till_may_use_the_camera(employee_client, client):
    assert employee_client.get(reverse("till:index"))["Permissions-Policy"].startswith("camera=(self)")
    assert "camera=()" in employee_client.get(reverse("sales:list"))["Permissions-Policy"]
    assert "camera=()" in client.get(reverse("account_login"))["Permissions-Policy"]


def test_loyalty_history_hides_other_branches_sale_numbers(client_for, branch, other_branch):
    customer = CustomerFactory()
    elsewhere = UserFactory(role=Role.EMPLOYEE, branch=other_branch)
    here = UserFactory(role=Role.EMPLOYEE, branch=branch)
    open_session(elsewhere)
    far_sale = ring_up(elsewhere, other_branch, ("500.00", "1"))
    far_sale = sale_checkout(sale=far_sale, user=elsewhere, tenders=[Tender(PaymentMethod.CASH, Decimal("500.00"))],
                             idempotency_key="far")
    LoyaltyEntry.objects.create(customer=customer, sale=far_sale, kind="EARNED", points=Decimal("5"),
                                balance_after=Decimal("5"))
    html = client_for(here).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert far_sale.number and far_sale.number not in html
    assert "A sale at another branch" in html
