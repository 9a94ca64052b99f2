"""M-Pesa under concurrency on MariaDB: two copies of one callback at the same moment apply once."""


import pytest
from django.db import connection

from cashdesk.models import Payment, PaymentStatus
from cashdesk.mpesa import services as mpesa
from cashdesk.mpesa.models import C2BPayment, InboxKind, InboxOutcome, MpesaInbox, StkRequest, StkStatus
from cashdesk.tests.factories import open_session, ring_up
from cashdesk.tests.mpesa_support import FakeDaraja, sample_bytes
from inventory.models import StockMovement
from pos.sales.models import Sale, SaleStatus
from pos.sales.selectors import sale_pay_reference
from pos.tests.concurrency import run_together
from pos.tests.factories import UserFactory

pytestmark = [pytest.mark.mysql_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_mysql():
    if connection.vendor != "mysql":
        pytest.skip("needs MariaDB/MySQL row locks")


def test_two_copies_of_a_callback_at_once_apply_once(branch):
    cashier = UserFactory(branch=branch)
    open_session(cashier)
    sale = ring_up(cashier, branch, ("1650", "1"))
    with FakeDaraja():
        stk = mpesa.mpesa_stk_start(sale=sale, phone="0708374149", user=cashier)
    stk.refresh_from_db()
    assert stk.status == StkStatus.SENT
    copies = [
        mpesa.mpesa_inbox_store(kind=InboxKind.STK_CALLBACK, raw_body=sample_bytes("stk_callback_success"))
        for _ in range(4)
    ]

    results = run_together(*[lambda inbox=inbox: mpesa.mpesa_stk_callback_apply(inbox_id=inbox.pk) for inbox in copies])

    assert all(isinstance(r, MpesaInbox) for r in results), results
    outcomes = sorted(MpesaInbox.objects.values_list("outcome", flat=True))
    assert outcomes.count(InboxOutcome.APPLIED) == 1 and outcomes.count(InboxOutcome.DUPLICATE) == 3
    assert MpesaInbox.objects.filter(applied_key__isnull=False).count() == 1
    assert Payment.objects.filter(sale=sale, status=PaymentStatus.CONFIRMED).count() == 1
    assert Payment.objects.get(pk=stk.payment_id).mpesa_receipt == "NLJ7RT61SV"
    sale.refresh_from_db()
    assert sale.status == SaleStatus.COMPLETED
    assert StockMovement.objects.filter(kind="SALE").count() == 1


def test_a_callback_and_the_query_racing_settle_once(branch, settings):
    cashier = UserFactory(branch=branch)
    open_session(cashier)
    sale = ring_up(cashier, branch, ("1650", "1"))
    with FakeDaraja() as daraja:
        stk = mpesa.mpesa_stk_start(sale=sale, phone="0708374149", user=cashier)
        from cashdesk.tests.mpesa_support import sample

        daraja.query_answer = (200, sample("stk_query_response_success"))
        inbox = mpesa.mpesa_inbox_store(kind=InboxKind.STK_CALLBACK, raw_body=sample_bytes("stk_callback_success"))
        results = run_together(
            lambda: mpesa.mpesa_stk_callback_apply(inbox_id=inbox.pk),
            lambda: mpesa.mpesa_stk_query_settle(stk_request_id=stk.pk),
        )
    assert not any(isinstance(r, Exception) for r in results), results
    stk.refresh_from_db()
    assert stk.status == StkStatus.PAID
    assert Payment.objects.filter(sale=sale, status=PaymentStatus.CONFIRMED).count() == 1
    assert Sale.objects.get(pk=sale.pk).status == SaleStatus.COMPLETED
    assert StockMovement.objects.filter(kind="SALE").count() == 1


def test_two_copies_of_a_c2b_confirmation_record_one_payment(branch):
    cashier = UserFactory(branch=branch)
    open_session(cashier)
    sale = ring_up(cashier, branch, ("1650", "1"))
    import json

    body = json.loads(sample_bytes("c2b_confirmation_paybill"))
    body["BillRefNumber"] = sale_pay_reference(sale)
    raw = json.dumps(body).encode()
    copies = [mpesa.mpesa_inbox_store(kind=InboxKind.C2B_CONFIRMATION, raw_body=raw) for _ in range(3)]
    results = run_together(
        *[lambda inbox=inbox: mpesa.mpesa_c2b_confirmation_apply(inbox_id=inbox.pk) for inbox in copies]
    )
    assert not any(isinstance(r, Exception) for r in results), results
    assert C2BPayment.objects.count() == 1
    assert Payment.objects.filter(sale=sale, status=PaymentStatus.CONFIRMED).count() == 1
    assert Sale.objects.get(pk=sale.pk).status == SaleStatus.COMPLETED
    assert StkRequest.objects.count() == 0
