"""Cash sessions, M-Pesa STK push and money in/out through the API."""

from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone

from cashdesk.models import CashSession, Expense, ExpenseCategory, SessionStatus, SupplierPayment
from cashdesk.mpesa.models import StkRequest, StkStatus
from cashdesk.services import Tender, sale_checkout
from cashdesk.tests.factories import open_session, ring_up
from cashdesk.tests.mpesa_support import FakeDaraja, callback_url, sample_bytes
from core.roles import Role
from inventory.tests.factories import SupplierFactory
from pos.people.audit import AuditAction
from pos.people.models import AuditLog
from pos.sales.models import SaleStatus
from pos.tests.api_support import api_client
from pos.tests.factories import DEFAULT_PIN, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

SESSIONS = reverse("cash-session-list")


def close_url(session):
    return reverse("cash-session-close", args=[session.pk])


# ---------------------------------------------------------------------------- sessions
def test_open_sell_and_close_a_session(employee, manager, branch):
    client = api_client(employee)
    opened = client.post(SESSIONS, {"opening_float": "1000.00"}, format="json")
    assert opened.status_code == 201, opened.json()
    session = CashSession.objects.get(pk=opened.json()["id"])
    assert opened.json()["status"] == "OPEN" and opened.json()["opening_float"] == "1000.00"
    sale = ring_up(employee, branch, ("500", "1"))
    sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D("500"))], idempotency_key="s-1")
    # blind close (the default): the cashier counts before seeing the figures; a manager may read them
    refused = client.get(reverse("cash-session-report", args=[session.pk]))
    assert refused.status_code == 403 and "Blind close" in str(refused.json())
    x_report = api_client(manager).get(reverse("cash-session-report", args=[session.pk])).json()
    assert x_report["kind"] == "X" and x_report["report"]["cash"]["expected"] == "1500.00"
    assert AuditLog.objects.get(action=AuditAction.X_REPORT_READ).user == manager
    closed = client.post(close_url(session), {"closing_total": 1500.00}, format="json")
    assert closed.status_code == 200, closed.json()
    assert closed.json()["status"] == "CLOSED"
    assert closed.json()["expected_cash"] == "1500.00" and closed.json()["difference"] == "0.00"
    z_report = client.get(reverse("cash-session-report", args=[session.pk])).json()
    assert z_report["kind"] == "Z" and z_report["report"] == CashSession.objects.get(pk=session.pk).report
    assert AuditLog.objects.filter(action=AuditAction.SESSION_CLOSED).count() == 1


def test_closing_twice_is_a_conflict_and_changes_nothing(employee):
    session = open_session(employee)
    client = api_client(employee)
    assert client.post(close_url(session), {"closing_total": "1000"}, format="json").status_code == 200
    again = client.post(close_url(session), {"closing_total": "5"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "session_closed"
    session.refresh_from_db()
    assert session.closing_total == D("1000.00")
    assert AuditLog.objects.filter(action=AuditAction.SESSION_CLOSED).count() == 1


@pytest.mark.parametrize(
    "body, field",
    [({}, "closing_total"), ({"closing_total": "-5"}, "closing_total"), ({"closing_total": "abc"}, "closing_total"),
     ({"denominations": {"3": 1}}, "denominations")],
)
def test_bad_closes_are_400s(employee, body, field):
    session = open_session(employee)
    response = api_client(employee).post(close_url(session), body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    session.refresh_from_db()
    assert session.status == SessionStatus.OPEN


def test_a_big_difference_needs_a_manager(employee, manager):
    session = open_session(employee)
    client = api_client(employee)
    refused = client.post(close_url(session), {"closing_total": "500"}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "needs_approval"
    approved = client.post(close_url(session), {"closing_total": "500", "authoriser": manager.pk, "pin": DEFAULT_PIN},
                           format="json")
    assert approved.status_code == 200, approved.json()
    session.refresh_from_db()
    assert session.close_approved_by == manager and session.difference == D("-500.00")


def test_opening_twice_and_bad_floats(employee):
    client = api_client(employee)
    assert client.post(SESSIONS, {"opening_float": "-1"}, format="json").status_code == 400
    assert client.post(SESSIONS, {}, format="json").status_code == 400
    assert client.post(SESSIONS, {"opening_float": "100"}, format="json").status_code == 201
    again = client.post(SESSIONS, {"opening_float": "100"}, format="json")
    assert again.status_code == 409
    assert CashSession.objects.count() == 1


def test_a_manager_force_closes_with_a_reason_a_cashier_sees_only_their_own(employee, manager, branch):
    session = open_session(employee)
    colleague = UserFactory(role=Role.EMPLOYEE, branch=branch)
    assert api_client(colleague).get(reverse("cash-session-detail", args=[session.pk])).status_code == 404
    assert api_client(colleague).post(close_url(session), {"closing_total": "1000"}, format="json").status_code == 404
    assert api_client(colleague).get(SESSIONS).json()["count"] == 0
    client = api_client(manager)
    assert client.get(SESSIONS).json()["count"] == 1
    no_reason = client.post(close_url(session), {"closing_total": "1000"}, format="json")
    assert no_reason.status_code == 400
    done = client.post(close_url(session), {"closing_total": "1000", "note": "Went home"}, format="json")
    assert done.status_code == 200 and done.json()["force_closed"] is True
    assert client.post(close_url(CashSession(pk=99999)), {"closing_total": "1"}, format="json").status_code == 404


def test_the_sessions_list_does_not_grow_queries(manager, branch, django_assert_max_num_queries):
    for _ in range(5):
        open_session(UserFactory(role=Role.EMPLOYEE, branch=branch))
    with django_assert_max_num_queries(5):
        response = api_client(manager).get(SESSIONS)
    assert response.json()["count"] == 5


# ---------------------------------------------------------------------------- M-Pesa
@pytest.fixture
def daraja():
    with FakeDaraja() as fake:
        yield fake


def test_an_stk_push_is_started_and_its_status_followed(daraja, employee, branch, client):
    open_session(employee)
    sale = ring_up(employee, branch, ("1650", "1"))
    api = api_client(employee)
    response = api.post(
        reverse("mpesa-stk-push-list"), {"sales_header": sale.pk, "phone": "0708 374 149"}, format="json"
    )
    assert response.status_code == 202, response.json()
    stk_id = response.json()["id"]
    assert response.json()["amount"] == "1650.00"
    status_url = reverse("mpesa-stk-push-detail", args=[stk_id])
    assert api.get(status_url).json()["status"] == StkStatus.SENT
    client.post(callback_url("stk"), data=sample_bytes("stk_callback_success"), content_type="application/json")
    body = api.get(status_url).json()
    assert body["status"] == StkStatus.PAID and body["payment_status"] == "CONFIRMED"
    assert body["sale_status"] == SaleStatus.COMPLETED and body["receipt_number"] == "NLJ7RT61SV"


@pytest.mark.parametrize(
    "body, status",
    [({"phone": "0708374149"}, 400), ({"sales_header": "SALE", "phone": "12345"}, 400),
     ({"sales_header": "SALE", "phone": "0708374149", "amount": "10.50"}, 400),
     ({"sales_header": "SALE", "phone": "0708374149", "amount": "-1"}, 400)],
)
def test_bad_pushes_write_nothing(daraja, employee, branch, body, status):
    open_session(employee)
    sale = ring_up(employee, branch, ("1650", "1"))
    body = {key: (sale.pk if value == "SALE" else value) for key, value in body.items()}
    response = api_client(employee).post(reverse("mpesa-stk-push-list"), body, format="json")
    assert response.status_code == status
    assert not StkRequest.objects.exists() and not daraja.pushes


def test_a_repeated_push_with_the_same_key_is_sent_once(daraja, employee, branch):
    open_session(employee)
    sale = ring_up(employee, branch, ("500", "1"))
    api = api_client(employee)
    body = {"sales_header": sale.pk, "phone": "0708374149"}
    first = api.post(reverse("mpesa-stk-push-list"), body, format="json", HTTP_IDEMPOTENCY_KEY="push-1")
    again = api.post(reverse("mpesa-stk-push-list"), body, format="json", HTTP_IDEMPOTENCY_KEY="push-1")
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert StkRequest.objects.count() == 1 and len(daraja.pushes) == 1


def test_stopping_a_push_fails_its_payment_and_frees_the_sale(daraja, employee, branch):
    open_session(employee)
    sale = ring_up(employee, branch, ("500", "1"))
    api = api_client(employee)
    stk_id = api.post(reverse("mpesa-stk-push-list"), {"sales_header": sale.pk, "phone": "0708374149"},
                      format="json").json()["id"]
    colleague = UserFactory(role=Role.EMPLOYEE, branch=branch)
    assert api_client(colleague).post(reverse("mpesa-stk-push-stop", args=[stk_id])).status_code == 404
    stopped = api.post(reverse("mpesa-stk-push-stop", args=[stk_id]))
    assert stopped.status_code == 200
    assert stopped.json()["status"] == StkStatus.FAILED and stopped.json()["payment_status"] == "FAILED"
    assert AuditLog.objects.filter(action=AuditAction.MPESA_STOPPED_WAITING).count() == 1
    session = CashSession.objects.get(cashier=employee)
    paid = api.post(reverse("sales-payment-split"), {"sales_header": sale.pk, "session": session.pk,
                                                     "payments": [{"method": "CASH", "amount": "500"}]}, format="json")
    assert paid.status_code == 201, paid.json()


def test_a_push_without_a_session_is_a_conflict(daraja, employee, branch):
    sale = ring_up(employee, branch, ("100", "1"))
    response = api_client(employee).post(
        reverse("mpesa-stk-push-list"), {"sales_header": sale.pk, "phone": "0708374149"}, format="json"
    )
    assert response.status_code == 409 and not StkRequest.objects.exists()


# ---------------------------------------------------------------------------- money in and out
def test_a_supplier_paid_in_cash_from_the_drawer(manager):
    open_session(manager, "500")
    supplier = SupplierFactory()
    client = api_client(manager)
    response = client.post(reverse("supplier-payment-list"),
                           {"supplier": supplier.pk, "amount": "200", "method": "CASH"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["session"] is not None
    too_much = client.post(reverse("supplier-payment-list"),
                           {"supplier": supplier.pk, "amount": "400", "method": "CASH"}, format="json")
    assert too_much.status_code == 400 and "drawer" in too_much.json()["detail"]
    no_ref = client.post(
        reverse("supplier-payment-list"), {"supplier": supplier.pk, "amount": "5", "method": "BANK"}, format="json"
    )
    assert no_ref.status_code == 400 and "reference" in no_ref.json()["errors"]
    negative = client.post(reverse("supplier-payment-list"),
                           {"supplier": supplier.pk, "amount": "-5", "method": "BANK", "reference": "x"}, format="json")
    assert negative.status_code == 400 and "amount" in negative.json()["errors"]
    assert SupplierPayment.objects.count() == 1
    assert client.get(reverse("supplier-payment-list")).json()["count"] == 1
    body = {"supplier": supplier.pk, "amount": "50", "method": "BANK", "reference": "EFT-9"}
    first = client.post(reverse("supplier-payment-list"), body, format="json", HTTP_IDEMPOTENCY_KEY="sp-1")
    again = client.post(reverse("supplier-payment-list"), body, format="json", HTTP_IDEMPOTENCY_KEY="sp-1")
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert SupplierPayment.objects.count() == 2


def test_a_customer_pays_off_their_account(employee):
    customer = CustomerFactory(balance=D("300.00"), credit_limit=D("1000"))
    client = api_client(employee)
    url = reverse("customer-receipt-list")
    response = client.post(
        url, {"customer": customer.pk, "amount": "100", "method": "BANK", "reference": "EQ-1"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["balance_after"] == "200.00"
    too_much = client.post(
        url, {"customer": customer.pk, "amount": "900", "method": "BANK", "reference": "EQ-2"}, format="json"
    )
    assert too_much.status_code == 400
    cash_without_drawer = client.post(url, {"customer": customer.pk, "amount": "10", "method": "CASH"}, format="json")
    assert cash_without_drawer.status_code == 409
    unknown = client.post(url, {"customer": 99999, "amount": "10", "method": "BANK", "reference": "x"}, format="json")
    assert unknown.status_code == 400 and "customer" in unknown.json()["errors"]
    customer.refresh_from_db()
    assert customer.balance == D("200.00")


def test_expenses(manager, employee):
    category = ExpenseCategory.objects.create(name="Transport")
    url = reverse("expense-list")
    body = {"category": category.pk, "amount": "150", "method": "MPESA", "reference": "QW12", "description": "Boda",
            "spent_on": timezone.localdate().isoformat()}
    assert api_client(employee).post(url, body, format="json").status_code == 403
    response = api_client(manager).post(url, body, format="json")
    assert response.status_code == 201, response.json()
    future = api_client(manager).post(url, {**body, "spent_on": "2999-01-01"}, format="json")
    assert future.status_code == 400 and "spent_on" in future.json()["errors"]
    assert Expense.objects.count() == 1
    assert api_client(manager).get(url).json()["count"] == 1


def test_money_lists_do_not_grow_queries(manager, branch, django_assert_max_num_queries):
    supplier = SupplierFactory()
    category = ExpenseCategory.objects.create(name="Rent")
    for index in range(5):
        SupplierPayment.objects.create(supplier=supplier, branch=branch, method="BANK", amount=D("10"),
                                       reference=f"E{index}", paid_by=manager)
        Expense.objects.create(category=category, branch=branch, method="BANK", amount=D("5"), description="x",
                               spent_on=timezone.localdate(), reference=f"R{index}", recorded_by=manager)
        customer = CustomerFactory(balance=D("100"), credit_limit=D("500"))
        api_client(manager).post(
            reverse("customer-receipt-list"),
            {"customer": customer.pk, "amount": "10", "method": "BANK", "reference": f"Q{index}"},
            format="json",
        )
    client = api_client(manager)
    for name in ("supplier-payment-list", "expense-list", "customer-receipt-list"):
        with django_assert_max_num_queries(5):
            response = client.get(reverse(name))
        assert response.json()["count"] == 5, name
