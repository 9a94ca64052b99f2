"""The checkout and the M-Pesa callback feed the metrics and the logs: sales completed, checkout time,
M-Pesa outcomes, and log lines that carry the sale they touch."""

import io
import json
import logging
import uuid
from decimal import Decimal as D

import pytest
from prometheus_client import REGISTRY
from structlog.contextvars import clear_contextvars

from cashdesk.mpesa import services as mpesa
from cashdesk.mpesa.models import InboxOutcome, MpesaInbox
from cashdesk.tests.factories import open_session, ring_up
from cashdesk.tests.mpesa_support import FakeDaraja, callback_url, sample_bytes
from core.ops.logs import formatter
from pos.sales.models import Sale, SaleStatus

pytestmark = pytest.mark.django_db


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def json_log():
    """Every log line written during the test, as parsed JSON objects (the production formatter)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter("json"))
    root = logging.getLogger()
    root.addHandler(handler)
    clear_contextvars()

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]

    yield lines
    root.removeHandler(handler)
    clear_contextvars()


@pytest.fixture
def daraja():
    with FakeDaraja() as fake:
        yield fake


def checkout(client, sale: Sale, key: str, cash):
    return client.post("/till/checkout/", {"sale": sale.pk, "idempotency_key": key, "cash": str(cash)},
                       HTTP_HX_REQUEST="true")


def test_a_till_checkout_counts_one_sale_and_its_time_once(employee, employee_client, branch,
                                                           django_capture_on_commit_callbacks):
    open_session(employee)
    sale = ring_up(employee, branch, ("120", "2"), ("80", "1"))
    sales_before = value("asiria_sales_completed_total", branch="MAIN")
    timed_before = value("asiria_checkout_duration_seconds_count", channel="till")
    key = uuid.uuid4().hex
    with django_capture_on_commit_callbacks(execute=True):
        first = checkout(employee_client, sale, key, "500")
    with django_capture_on_commit_callbacks(execute=True):
        again = checkout(employee_client, sale, key, "500")  # a retried request: the same sale, not a second
    assert first["HX-Redirect"] == again["HX-Redirect"]
    assert value("asiria_sales_completed_total", branch="MAIN") == sales_before + 1
    assert value("asiria_checkout_duration_seconds_count", channel="till") == timed_before + 1
    assert value("asiria_checkout_duration_seconds_sum", channel="till") > 0


def test_a_refused_checkout_counts_nothing(employee, employee_client, branch, django_capture_on_commit_callbacks):
    open_session(employee)
    sale = ring_up(employee, branch, ("120", "2"))
    before = value("asiria_sales_completed_total", branch="MAIN")
    with django_capture_on_commit_callbacks(execute=True):
        response = checkout(employee_client, sale, uuid.uuid4().hex, "100")  # KES 140 short
    assert "still to pay" in response.content.decode()
    sale.refresh_from_db()
    assert sale.status == SaleStatus.OPEN
    assert value("asiria_sales_completed_total", branch="MAIN") == before


@pytest.mark.django_db(transaction=True)  # real commits: on_commit runs inside the request, as in production
def test_the_sale_completed_line_and_the_request_line_carry_the_sale(employee, employee_client, branch, json_log):
    open_session(employee)
    sale = ring_up(employee, branch, ("250", "1"))
    checkout(employee_client, sale, uuid.uuid4().hex, "300")
    sale.refresh_from_db()
    assert sale.number
    completed = [x for x in json_log() if x["event"] == "sale_completed"]
    assert len(completed) == 1
    line = completed[0]
    assert line["sale_id"] == sale.pk and line["sale_number"] == sale.number
    assert line["total"] == "250.00" and line["change"] == "50.00" and line["methods"] == ["CASH"]
    assert line["user_id"] == employee.pk and line["request_id"]
    finished = [x for x in json_log() if x["event"] == "request_finished" and x["path"] == "/till/checkout/"]
    assert finished and finished[-1]["sale_id"] == sale.pk and finished[-1]["sale_number"] == sale.number


def test_mpesa_callbacks_count_their_outcome_once_and_log_the_sale(daraja, employee, branch, client, json_log,
                                                                   django_capture_on_commit_callbacks):
    open_session(employee)
    sale = ring_up(employee, branch, ("1650", "1"))
    stk = mpesa.mpesa_stk_start(sale=sale, phone="0708374149", user=employee)
    success = value("asiria_mpesa_outcomes_total", kind="stk_callback", status="success")
    duplicate = value("asiria_mpesa_outcomes_total", kind="stk_callback", status="duplicate")
    by_mpesa = value("asiria_checkout_duration_seconds_count", channel="mpesa")
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):  # Safaricom repeats itself
            client.post(callback_url(), data=sample_bytes("stk_callback_success"), content_type="application/json")
    assert list(MpesaInbox.objects.order_by("pk").values_list("outcome", flat=True)) == [
        InboxOutcome.APPLIED, InboxOutcome.DUPLICATE]
    assert value("asiria_mpesa_outcomes_total", kind="stk_callback", status="success") == success + 1
    assert value("asiria_mpesa_outcomes_total", kind="stk_callback", status="duplicate") == duplicate + 1
    assert value("asiria_mpesa_outcomes_total", kind="stk_push", status="accepted") >= 1
    assert value("asiria_checkout_duration_seconds_count", channel="mpesa") == by_mpesa + 1
    sale.refresh_from_db()
    assert sale.status == SaleStatus.COMPLETED and sale.paid_total == D("1650.00")
    completed = [x for x in json_log() if x["event"] == "sale_completed"]
    assert len(completed) == 1 and completed[0]["sale_number"] == sale.number
    assert completed[0]["channel"] == "mpesa"
    applied = [x for x in json_log() if x["event"] == "request_finished" and x.get("mpesa_inbox_id")]
    assert [(x["sale_id"], x["payment_id"], x["stk_request_id"]) for x in applied] == [
        (sale.pk, stk.payment_id, stk.pk)] * 2


def test_a_failed_push_counts_its_outcome(daraja, employee, branch, client, django_capture_on_commit_callbacks):
    from cashdesk.tests.mpesa_support import sample

    open_session(employee)
    sale = ring_up(employee, branch, ("1650", "1"))
    daraja.next_checkout_ids = [sample("stk_callback_cancelled")["Body"]["stkCallback"]["CheckoutRequestID"]]
    mpesa.mpesa_stk_start(sale=sale, phone="0708374149", user=employee)
    before = value("asiria_mpesa_outcomes_total", kind="stk_callback", status="cancelled")
    client.post(callback_url(), data=sample_bytes("stk_callback_cancelled"), content_type="application/json")
    assert value("asiria_mpesa_outcomes_total", kind="stk_callback", status="cancelled") == before + 1
