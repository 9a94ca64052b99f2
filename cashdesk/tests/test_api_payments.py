"""The cash desk API: the split payment (all or nothing), one payment, Idempotency-Key, and
every kind of bad input answered with a 4xx that writes nothing."""

from decimal import Decimal as D

import pytest
from django.urls import reverse

from cashdesk.models import CashSession, Payment
from cashdesk.services import session_close
from cashdesk.tests.factories import open_session, ring_up
from core.models import ApiIdempotencyKey
from core.roles import Role
from inventory.models import StockLevel, StockMovement
from pos.sales.models import Sale, SaleStatus
from pos.tests.api_support import api_client
from pos.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SPLIT = reverse("sales-payment-split")
PAYMENTS = reverse("sales-payment-list")


@pytest.fixture
def session(employee):
    return open_session(employee, "1000.00")


@pytest.fixture
def sale(employee, branch, session):
    return ring_up(employee, branch, ("1750", "1"))  # KES 1,750 due


def split_body(sale, session, *payments):
    payments = payments or (
        {"method": "CASH", "amount": 500.00},
        {"method": "CARD", "amount": 1250.00, "reference": "TX-123"},
    )
    return {"sales_header": str(sale.pk), "session": str(session.pk), "payments": list(payments)}


def nothing_written(sale):
    sale.refresh_from_db()
    assert sale.status == SaleStatus.OPEN
    assert not Payment.objects.filter(sale=sale).exists()
    assert not StockMovement.objects.filter(kind="SALE").exists()


def test_the_briefs_split_payload_completes_the_sale(employee, sale, session, branch):
    product_id = sale.lines.get().product_id
    response = api_client(employee).post(SPLIT, split_body(sale, session), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "COMPLETED" and body["number"] and body["amount_due"] == "0.00"
    assert sorted((p["method"], p["amount"], p["reference"]) for p in body["payments"]) == [
        ("CARD", "1250.00", "TX-123"), ("CASH", "500.00", ""),
    ]
    assert all(p["session"] == session.pk for p in body["payments"])
    assert StockLevel.objects.get(product_id=product_id, branch=branch).quantity == D("99")


def test_cash_over_what_is_due_gives_change(employee, sale, session):
    body = split_body(
        sale, session, {"method": "CASH", "amount": "1000"}, {"method": "CARD", "amount": "1250", "reference": "T-1"}
    )
    response = api_client(employee).post(SPLIT, body, format="json")
    assert response.status_code == 201
    assert response.json()["change_given"] == "500.00"


def test_a_repeat_with_the_same_key_returns_the_first_result(employee, sale, session):
    client = api_client(employee)
    first = client.post(SPLIT, split_body(sale, session), format="json", HTTP_IDEMPOTENCY_KEY="pay-1")
    again = client.post(SPLIT, split_body(sale, session), format="json", HTTP_IDEMPOTENCY_KEY="pay-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert Payment.objects.filter(sale=sale).count() == 2
    assert StockMovement.objects.filter(kind="SALE").count() == 1


def test_without_a_key_a_second_payment_of_a_completed_sale_is_a_conflict(employee, sale, session):
    client = api_client(employee)
    assert client.post(SPLIT, split_body(sale, session), format="json").status_code == 201
    again = client.post(SPLIT, split_body(sale, session), format="json")
    assert again.status_code == 409
    assert Payment.objects.filter(sale=sale).count() == 2


def test_one_payment(employee, sale, session):
    body = {"sales_header": sale.pk, "session": session.pk, "method": "CASH", "amount": "2000"}
    response = api_client(employee).post(PAYMENTS, body, format="json", HTTP_IDEMPOTENCY_KEY="one-1")
    assert response.status_code == 201
    assert response.json()["change_given"] == "250.00"
    listed = api_client(employee).get(PAYMENTS, {"sales_header": sale.pk}).json()
    assert listed["count"] == 1 and listed["results"][0]["method"] == "CASH"


@pytest.mark.parametrize(
    "payments, status, words",
    [
        (
            [{"method": "CASH", "amount": "500"}, {"method": "CARD", "amount": "1000", "reference": "T"}],
            400,
            "still to pay",
        ),
        ([{"method": "CARD", "amount": "2000", "reference": "T"}], 400, "only cash can be given change"),
        (
            [{"method": "CASH", "amount": "-500"}, {"method": "CARD", "amount": "2250", "reference": "T"}],
            400,
            "more than zero",
        ),
        ([{"method": "CASH"}], 400, "required"),
        ([{"amount": "1750"}], 400, "required"),
        ([{"method": "BITCOIN", "amount": "1750"}], 400, "not a valid choice"),
        ([{"method": "CARD", "amount": "1750"}], 400, "reference"),
        ([{"method": "MPESA", "amount": "1750"}], 400, "M-Pesa"),
        ([{"method": "CARD", "amount": "1750", "reference": "4111 1111 1111 1111"}], 400, "card number"),
        ([{"method": "CASH", "amount": "abc"}], 400, "valid number"),
        ([], 400, "empty"),
    ],
)
def test_a_split_that_does_not_add_up_or_is_malformed_writes_nothing(employee, sale, session, payments, status, words):
    body = {"sales_header": sale.pk, "session": session.pk, "payments": payments}
    response = api_client(employee).post(SPLIT, body, format="json", HTTP_IDEMPOTENCY_KEY="bad-1")
    assert response.status_code == status, response.json()
    assert words.lower() in str(response.json()).lower()
    nothing_written(sale)
    assert not ApiIdempotencyKey.objects.exists()


@pytest.mark.parametrize("missing", ["sales_header", "session", "payments"])
def test_a_split_with_a_missing_field_is_a_400(employee, sale, session, missing):
    body = split_body(sale, session)
    del body[missing]
    response = api_client(employee).post(SPLIT, body, format="json")
    assert response.status_code == 400
    assert missing in response.json()["errors"]
    nothing_written(sale)


def test_unknown_ids_are_400s_naming_the_field(employee, sale, session):
    client = api_client(employee)
    unknown_sale = client.post(SPLIT, {**split_body(sale, session), "sales_header": 999999}, format="json")
    assert unknown_sale.status_code == 400 and "sales_header" in unknown_sale.json()["errors"]
    unknown_session = client.post(SPLIT, {**split_body(sale, session), "session": 999999}, format="json")
    assert unknown_session.status_code == 400 and "session" in unknown_session.json()["errors"]
    text_id = client.post(SPLIT, {**split_body(sale, session), "session": "abc"}, format="json")
    assert text_id.status_code == 400
    nothing_written(sale)


def test_a_payment_for_another_branchs_sale_is_refused(employee, sale, session, other_branch):
    elsewhere = UserFactory(role=Role.EMPLOYEE, branch=other_branch)
    far_sale = ring_up(elsewhere, other_branch, ("100", "1"))
    body = split_body(far_sale, session, {"method": "CASH", "amount": "100"})
    response = api_client(employee).post(SPLIT, body, format="json")
    assert response.status_code == 400
    assert "another branch" in response.json()["detail"]
    nothing_written(far_sale)


def test_an_owner_paying_another_branchs_sale_from_their_drawer_is_a_conflict(owner, other_branch):
    session = open_session(owner)
    elsewhere = UserFactory(role=Role.EMPLOYEE, branch=other_branch)
    far_sale = ring_up(elsewhere, other_branch, ("100", "1"))
    response = api_client(owner).post(
        SPLIT, split_body(far_sale, session, {"method": "CASH", "amount": "100"}), format="json"
    )
    assert response.status_code == 409 and "another branch" in response.json()["detail"]
    nothing_written(far_sale)


def test_a_closed_session_is_a_conflict(employee, sale, session):
    session_close(session=session, closed_by=employee, closing_total=D("1000"))
    response = api_client(employee).post(SPLIT, split_body(sale, session), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "session_closed"
    nothing_written(sale)


def test_someone_elses_session_is_refused(employee, sale, session, branch):
    colleague = UserFactory(role=Role.EMPLOYEE, branch=branch)
    open_session(colleague)
    colleague_sale = ring_up(colleague, branch, ("100", "1"))
    response = api_client(colleague).post(
        SPLIT, split_body(colleague_sale, session, {"method": "CASH", "amount": "100"}), format="json"
    )
    assert response.status_code == 400 and "session" in response.json()["errors"]
    nothing_written(colleague_sale)


def test_malformed_json_is_a_400(employee):
    response = api_client(employee).post(SPLIT, data='{"sales_header": 1,', content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"


def test_stock_short_is_a_conflict_and_writes_nothing(employee, branch, session):
    from inventory.tests.factories import ProductFactory, stock_in
    from pos.sales.services import sale_add_product, sale_get_or_open

    product = ProductFactory(selling_price=D("10"))
    stock_in(product, branch, 1)
    sale = sale_get_or_open(cashier=employee)
    sale_add_product(sale=sale, product=product, user=employee, quantity=D("3"))
    response = api_client(employee).post(
        SPLIT, split_body(sale, session, {"method": "CASH", "amount": "30"}), format="json"
    )
    assert response.status_code == 409, response.json()
    nothing_written(sale)


def test_payments_list_is_scoped_and_does_not_grow_queries(manager, branch, django_assert_max_num_queries):
    from cashdesk.services import Tender, sale_checkout

    for index in range(5):
        cashier = UserFactory(role=Role.EMPLOYEE, branch=branch)
        open_session(cashier)
        sale = ring_up(cashier, branch, ("100", "1"))
        sale_checkout(sale=sale, user=cashier, tenders=[Tender("CASH", D("60")), Tender("CARD", D("40"), "T")],
                      idempotency_key=f"list-{index}")
    client = api_client(manager)
    with django_assert_max_num_queries(6):
        response = client.get(PAYMENTS)
    assert response.json()["count"] == 10
    assert api_client(UserFactory(role=Role.EMPLOYEE, branch=branch)).get(PAYMENTS).json()["count"] == 0


def test_the_completed_sale_shows_in_the_sales_list(employee, sale, session):
    api_client(employee).post(SPLIT, split_body(sale, session), format="json")
    rows = api_client(employee).get(reverse("salesheader-list"), {"status": "COMPLETED"}).json()["results"]
    assert [row["id"] for row in rows] == [sale.pk]
    assert Sale.objects.get(pk=sale.pk).paid_total == D("1750.00")
    assert CashSession.objects.get(pk=session.pk).payments.count() == 2
