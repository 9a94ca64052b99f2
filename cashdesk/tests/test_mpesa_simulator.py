"""M-Pesa end to end over real HTTP: our tasks call the local Daraja simulator, which posts real
callbacks to the live test server. The customer's behaviour is chosen by the phone number."""

import time
from decimal import Decimal as D

import httpx
import pytest
from django.core.management import call_command

from cashdesk.models import Payment, PaymentStatus
from cashdesk.mpesa import services as mpesa
from cashdesk.mpesa.daraja.config import SANDBOX_PASSKEY, SANDBOX_SHORTCODE
from cashdesk.mpesa.daraja.simulator import DarajaSimulator
from cashdesk.mpesa.models import C2BPayment, C2BStatus, InboxOutcome, MpesaInbox, StkRequest, StkStatus
from cashdesk.services import Tender
from cashdesk.tests.factories import open_session, ring_up
from inventory.models import StockMovement
from pos.sales.models import Sale, SaleStatus
from pos.sales.selectors import sale_pay_reference

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def simulator():
    sim = DarajaSimulator("127.0.0.1", 0, callback_delay=0.2).start()
    yield sim
    sim.stop()


@pytest.fixture
def sim_settings(settings, simulator, live_server):
    settings.MPESA_ENVIRONMENT = "simulator"
    settings.MPESA_BASE_URL = simulator.base_url
    settings.MPESA_SHORTCODE = SANDBOX_SHORTCODE
    settings.MPESA_PASSKEY = SANDBOX_PASSKEY
    settings.MPESA_CALLBACK_BASE_URL = live_server.url
    settings.MPESA_VERIFY_CALLBACKS = True  # the real path: confirm a paid callback with the STK query
    return settings


def wait_for(condition, timeout: float = 10.0):
    """Wait on the simulator's own state, never on the database: the test database is SQLite in
    shared memory, where a read from this thread can lock out the live server's write."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def delivered(simulator, checkout_request_id: str, count: int = 1):
    """The simulator has posted the callback `count` times and our server has answered each."""
    return lambda: len(simulator.stk_transaction(checkout_request_id)["deliveries"]) >= count


def checkout_id(stk) -> str:
    stk.refresh_from_db()
    assert stk.checkout_request_id, stk.message
    return stk.checkout_request_id


@pytest.fixture
def cashier_sale(employee, branch):
    open_session(employee, "1000")
    return ring_up(employee, branch, ("1282", "1"))


def test_customer_pays_and_the_split_sale_completes(sim_settings, simulator, employee, cashier_sale):
    stk = mpesa.mpesa_stk_start(
        sale=cashier_sale,
        phone="0708 374 149",
        user=employee,
        amount=D("782"),
        other_tenders=[Tender("CASH", D("500"))],
    )
    wait_for(delivered(simulator, checkout_id(stk)))
    assert Sale.objects.get(pk=cashier_sale.pk).status == SaleStatus.COMPLETED
    stk.refresh_from_db()
    assert stk.status == StkStatus.PAID and stk.receipt_number and stk.paid_amount == D("782.00")
    transaction = simulator.stk_transaction(stk.checkout_request_id)
    assert transaction["receipt_number"] == stk.receipt_number and transaction["deliveries"][0]["status"] == 200
    assert transaction["deliveries"][0]["response"] == {"ResultCode": 0, "ResultDesc": "Accepted"}
    sale = Sale.objects.get(pk=cashier_sale.pk)
    assert sorted(sale.payments.values_list("method", "amount")) == [("CASH", D("500.00")), ("MPESA", D("782.00"))]


def test_customer_cancels(sim_settings, simulator, employee, cashier_sale):
    stk = mpesa.mpesa_stk_start(sale=cashier_sale, phone="0700 000 001", user=employee)
    wait_for(delivered(simulator, checkout_id(stk)))
    stk.refresh_from_db()
    assert stk.status == StkStatus.CANCELLED and stk.result_code == "1032"
    assert Sale.objects.get(pk=cashier_sale.pk).status == SaleStatus.OPEN


def test_not_enough_money(sim_settings, simulator, employee, cashier_sale):
    stk = mpesa.mpesa_stk_start(sale=cashier_sale, phone="0700000003", user=employee)
    wait_for(delivered(simulator, checkout_id(stk)))
    assert StkRequest.objects.get(pk=stk.pk).status == StkStatus.FAILED


def test_a_lost_callback_is_settled_by_the_query(sim_settings, simulator, employee, cashier_sale):
    stk = mpesa.mpesa_stk_start(sale=cashier_sale, phone="0700000005", user=employee)
    wait_for(lambda: simulator.stk_transaction(checkout_id(stk))["state"] == "final")
    assert StkRequest.objects.get(pk=stk.pk).status == StkStatus.SENT  # no callback came
    stk = mpesa.mpesa_stk_query_settle(stk_request_id=stk.pk)
    assert stk.status == StkStatus.PAID and stk.answered_by == "query"
    assert Sale.objects.get(pk=cashier_sale.pk).status == SaleStatus.COMPLETED


def test_a_callback_delivered_twice_applies_once(sim_settings, simulator, employee, cashier_sale):
    stk = mpesa.mpesa_stk_start(sale=cashier_sale, phone="0700000008", user=employee)
    wait_for(delivered(simulator, checkout_id(stk), 2))
    assert sorted(MpesaInbox.objects.values_list("outcome", flat=True)) == [
        InboxOutcome.APPLIED,
        InboxOutcome.DUPLICATE,
    ]
    simulator.deliver_stk_callback(stk.checkout_request_id)  # and a third time, late
    assert MpesaInbox.objects.count() == 3 and not MpesaInbox.objects.filter(processed_at__isnull=True).exists()
    assert Payment.objects.filter(status=PaymentStatus.CONFIRMED, method="MPESA").count() == 1
    assert StockMovement.objects.filter(kind="SALE").count() == 1


def test_a_different_amount_is_flagged(sim_settings, simulator, employee, cashier_sale):
    stk = mpesa.mpesa_stk_start(sale=cashier_sale, phone="0700000006", user=employee)
    wait_for(delivered(simulator, checkout_id(stk)))
    stk.refresh_from_db()
    assert stk.status == StkStatus.MISMATCH and stk.paid_amount == D("1281.00")
    assert Sale.objects.get(pk=cashier_sale.pk).status == SaleStatus.OPEN


def test_c2b_registered_and_paid_with_the_sale_reference(sim_settings, simulator, employee, cashier_sale):
    call_command("register_c2b_urls")
    registration = simulator.registration(SANDBOX_SHORTCODE)
    assert registration and "/cash/hooks/" in registration["confirmation_url"]
    reference = sale_pay_reference(cashier_sale)
    answer = httpx.post(
        f"{simulator.base_url}/simulator/c2b/pay", json={"phone": "254708374149", "amount": 1282, "bill_ref": reference}
    ).json()
    wait_for(
        lambda: (
            simulator.c2b_transaction(answer["TransID"])["state"] == "confirmed"
            and len(simulator.c2b_transaction(answer["TransID"])["deliveries"]) == 2
        )
    )
    # Confirmed with Daraja (Transaction Status, answered to our result URL) before it pays the sale.
    wait_for(lambda: Sale.objects.get(pk=cashier_sale.pk).status == SaleStatus.COMPLETED)
    row = C2BPayment.objects.get(trans_id=answer["TransID"])
    assert row.status == C2BStatus.MATCHED and row.payment.sale_id == cashier_sale.pk
    kinds = sorted(MpesaInbox.objects.values_list("kind", "outcome"))
    assert kinds == [
        ("C2B_CONFIRMATION", InboxOutcome.MATCHED),
        ("C2B_VALIDATION", InboxOutcome.ACCEPTED),
        ("STATUS_RESULT", InboxOutcome.APPLIED),
    ]
    assert row.verified_by == "transaction status"
