"""M-Pesa: STK push, the callback (every sample payload replayed), the query, C2B, mismatches."""

import json
import logging
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from cashdesk.models import Payment, PaymentStatus
from cashdesk.mpesa import services as mpesa
from cashdesk.mpesa.models import C2BPayment, C2BStatus, InboxKind, InboxOutcome, MpesaInbox, StkRequest, StkStatus
from cashdesk.services import PaymentConflictError, PaymentError, Tender, session_close
from cashdesk.tests.factories import open_session, ring_up
from cashdesk.tests.mpesa_support import FakeDaraja, callback_url, sample, sample_bytes, stk_callback_body
from inventory.models import StockMovement
from pos.people.audit import AuditAction
from pos.people.models import AuditLog
from pos.sales.models import SaleStatus
from pos.sales.selectors import sale_pay_reference
from pos.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SUCCESS_ID = "ws_CO_191220191020363925"


@pytest.fixture
def daraja():
    with FakeDaraja() as fake:
        yield fake


@pytest.fixture
def sale_1650(employee, branch):
    open_session(employee, "1000")
    return ring_up(employee, branch, ("1650", "1"))


def post_callback(client, body: bytes, name: str = "stk"):
    return client.post(callback_url(name), data=body, content_type="application/json")


# ---------------------------------------------------------------------------- starting a push
def test_push_is_sent_with_the_right_fields(daraja, sale_1650, employee):
    stk = mpesa.mpesa_stk_start(sale=sale_1650, phone="0708 374 149", user=employee)
    stk.refresh_from_db()
    assert stk.status == StkStatus.SENT and stk.checkout_request_id == SUCCESS_ID
    assert stk.phone == "254708374149" and stk.amount == D("1650.00")
    assert stk.payment.status == PaymentStatus.PENDING and stk.payment.method == "MPESA"
    push = daraja.pushes[0]
    assert push["PartyA"] == push["PhoneNumber"] == "254708374149"
    assert push["Amount"] == 1650 and push["AccountReference"] == sale_pay_reference(sale_1650)
    url = push["CallBackURL"].lower()
    assert "test-callback-secret" in url
    assert not any(word in url for word in ("mpesa", "safaricom", "query", "sql"))


@pytest.mark.parametrize("phone", ["0708374149", "+254 708 374 149", "708-374-149", "254708374149", "0708 374 149"])
def test_any_kenyan_format_is_normalised(daraja, sale_1650, employee, phone):
    assert mpesa.mpesa_stk_start(sale=sale_1650, phone=phone, user=employee).phone == "254708374149"


def test_a_safaricom_01_number_is_normalised(daraja, sale_1650, employee):
    assert mpesa.mpesa_stk_start(sale=sale_1650, phone="0110 123 456", user=employee).phone == "254110123456"


@pytest.mark.parametrize("phone", ["+1 555 123 4567", "0812 345 678", "12345", "", "+255712345678", "07123456789"])
def test_a_non_kenyan_phone_is_refused_and_nothing_changes(daraja, sale_1650, employee, phone):
    with pytest.raises(PaymentError, match="Kenyan mobile number"):
        mpesa.mpesa_stk_start(sale=sale_1650, phone=phone, user=employee)
    assert not StkRequest.objects.exists() and not Payment.objects.exists() and not daraja.pushes


@pytest.mark.parametrize(
    "amount,message",
    [
        (D("1650.50"), "whole shillings only"),
        (D("0"), "more than zero"),
        (D("-10"), "more than zero"),
        (D("1651"), "more than the KES 1650.00 still to pay"),
        ("abc", "shillings"),
    ],
)
def test_bad_amounts_are_refused(daraja, sale_1650, employee, amount, message):
    with pytest.raises(PaymentError, match=message):
        mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee, amount=amount)
    assert not StkRequest.objects.exists() and not Payment.objects.exists()


def test_cents_are_refused_and_the_default_leaves_them_for_cash(daraja, employee, branch):
    open_session(employee)
    sale = ring_up(employee, branch, ("99.50", "1"))
    with pytest.raises(PaymentError, match="ask for KES 99 by M-Pesa and take KES 0.50 in cash"):
        mpesa.mpesa_stk_start(sale=sale, phone="0708374149", user=employee, amount=D("99.50"))
    stk = mpesa.mpesa_stk_start(sale=sale, phone="0708374149", user=employee)
    assert stk.amount == D("99.00")


def test_a_split_whose_parts_exceed_the_total_is_refused(daraja, sale_1650, employee):
    with pytest.raises(PaymentError, match="more than the KES 1650.00 still to pay"):
        mpesa.mpesa_stk_start(
            sale=sale_1650,
            phone="0708374149",
            user=employee,
            amount=D("1000"),
            other_tenders=[Tender("CARD", D("700"), "R1")],
        )
    assert not Payment.objects.exists()


def test_a_split_that_does_not_cover_the_total_is_refused(daraja, sale_1650, employee):
    with pytest.raises(PaymentError, match="leave KES 150.00 unpaid"):
        mpesa.mpesa_stk_start(
            sale=sale_1650,
            phone="0708374149",
            user=employee,
            amount=D("1000"),
            other_tenders=[Tender("CASH", D("500"))],
        )


def test_default_amount_is_what_is_left_after_the_cash_part(daraja, sale_1650, employee):
    stk = mpesa.mpesa_stk_start(
        sale=sale_1650, phone="0708374149", user=employee, other_tenders=[Tender("CASH", D("650"))]
    )
    assert stk.amount == D("1000.00") and stk.other_tenders == [{"method": "CASH", "amount": "650.00", "reference": ""}]


def test_no_payment_without_an_open_session(daraja, employee, branch):
    session = open_session(employee)
    sale = ring_up(employee, branch, ("100", "1"))
    session_close(session=session, closed_by=employee, closing_total=D("1000"))
    with pytest.raises(PaymentConflictError, match="Open a cash session"):
        mpesa.mpesa_stk_start(sale=sale, phone="0708374149", user=employee)
    assert not Payment.objects.exists()


def test_one_waiting_push_per_sale(daraja, sale_1650, employee):
    mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee, amount=D("100"))
    with pytest.raises(PaymentConflictError, match="already waiting"):
        mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee, amount=D("100"))


def test_another_cashiers_sale_is_refused(daraja, sale_1650):
    other = UserFactory()
    open_session(other)
    with pytest.raises(PaymentError, match="another cashier"):
        mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=other)


def test_daraja_refusing_the_push_fails_it_in_plain_words(daraja, sale_1650, employee):
    daraja.push_answer = (400, sample("stk_push_error"))
    stk = mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    stk.refresh_from_db()
    assert stk.status == StkStatus.FAILED and "Invalid PhoneNumber" in stk.message and "Try again" in stk.message
    assert stk.payment.status == PaymentStatus.FAILED


def test_checkout_waits_while_a_push_is_waiting(daraja, sale_1650, employee):
    from cashdesk.services import sale_checkout

    mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee, amount=D("100"))
    with pytest.raises(PaymentConflictError, match="still waiting for the customer's PIN"):
        sale_checkout(sale=sale_1650, user=employee, tenders=[Tender("CASH", D("1650"))], idempotency_key="k")


# ---------------------------------------------------------------------------- replaying the samples
def test_success_sample_confirms_the_payment_and_completes_the_sale(daraja, sale_1650, employee, client, branch):
    stk = mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    response = post_callback(client, sample_bytes("stk_callback_success"))
    assert response.status_code == 200 and response.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
    stk.refresh_from_db()
    assert stk.status == StkStatus.PAID and stk.receipt_number == "NLJ7RT61SV"
    assert stk.paid_amount == D("1650.00") and stk.paid_phone == "254708374149" and stk.answered_by == "callback"
    payment = stk.payment
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CONFIRMED and payment.mpesa_receipt == "NLJ7RT61SV"
    sale_1650.refresh_from_db()
    assert sale_1650.status == SaleStatus.COMPLETED and sale_1650.paid_total == D("1650.00")
    inbox = MpesaInbox.objects.get()
    assert inbox.outcome == InboxOutcome.APPLIED and inbox.checkout_request_id == SUCCESS_ID
    assert inbox.raw_body == sample_bytes("stk_callback_success").decode()


@pytest.mark.parametrize(
    "name,status,words",
    [
        ("stk_callback_cancelled", StkStatus.CANCELLED, "cancelled the M-Pesa prompt"),
        ("stk_callback_timeout", StkStatus.TIMED_OUT, "No answer from the customer's phone"),
        ("stk_callback_insufficient", StkStatus.FAILED, "does not have enough money"),
    ],
)
def test_failure_samples(daraja, sale_1650, employee, client, name, status, words):
    checkout_id = sample(name)["Body"]["stkCallback"]["CheckoutRequestID"]
    daraja.next_checkout_ids = [checkout_id]
    stk = mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    post_callback(client, sample_bytes(name))
    stk.refresh_from_db()
    assert (
        stk.status == status
        and words in stk.message
        and stk.result_code == str(sample(name)["Body"]["stkCallback"]["ResultCode"])
    )
    assert stk.payment.status == PaymentStatus.FAILED
    sale_1650.refresh_from_db()
    assert sale_1650.status == SaleStatus.OPEN


def test_a_repeated_callback_is_recorded_and_ignored(daraja, sale_1650, employee, client, branch):
    mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    for _ in range(3):
        assert post_callback(client, sample_bytes("stk_callback_success")).status_code == 200
    outcomes = list(MpesaInbox.objects.order_by("pk").values_list("outcome", flat=True))
    assert outcomes == [InboxOutcome.APPLIED, InboxOutcome.DUPLICATE, InboxOutcome.DUPLICATE]
    assert Payment.objects.filter(status=PaymentStatus.CONFIRMED).count() == 1
    assert StockMovement.objects.filter(kind="SALE").count() == 1


def test_an_amount_mismatch_is_flagged_not_accepted(daraja, sale_1650, employee, client):
    stk = mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    post_callback(client, stk_callback_body("stk_callback_success", amount="1649"))
    stk.refresh_from_db()
    assert stk.status == StkStatus.MISMATCH and "received KES 1649.00, not the KES 1650.00" in stk.message
    assert stk.payment.status == PaymentStatus.FAILED and stk.payment.mpesa_receipt is None
    sale_1650.refresh_from_db()
    assert sale_1650.status == SaleStatus.OPEN
    assert MpesaInbox.objects.get().outcome == InboxOutcome.MISMATCH


def test_a_manager_accepts_the_amount_received(daraja, sale_1650, employee, manager, client):
    stk = mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    post_callback(client, stk_callback_body("stk_callback_success", amount="1649"))
    stk = mpesa.mpesa_mismatch_resolve(stk=stk, user=manager, accept=True, note="Customer short by 1")
    payment = Payment.objects.get(pk=stk.payment_id)
    assert stk.status == StkStatus.PAID and payment.status == PaymentStatus.CONFIRMED and payment.amount == D("1649.00")
    assert payment.mpesa_receipt == "NLJ7RT61SV"
    entry = AuditLog.objects.get(action=AuditAction.MPESA_MISMATCH_RESOLVED)
    assert entry.user == manager and "Customer short by 1" in entry.reason
    sale_1650.refresh_from_db()
    assert sale_1650.status == SaleStatus.OPEN  # KES 1 still to pay


def test_a_manager_rejects_a_mismatch(daraja, sale_1650, employee, manager, client):
    stk = mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    post_callback(client, stk_callback_body("stk_callback_success", amount="1649"))
    stk = mpesa.mpesa_mismatch_resolve(stk=stk, user=manager, accept=False)
    assert "reverse KES 1649.00" in stk.message
    payment = Payment.objects.get(pk=stk.payment_id)
    assert payment.status == PaymentStatus.FAILED and payment.mpesa_receipt == "NLJ7RT61SV"
    with pytest.raises(PaymentConflictError, match="already decided"):
        mpesa.mpesa_mismatch_resolve(stk=stk, user=manager, accept=True)


def test_a_cashier_cannot_resolve_a_mismatch(daraja, sale_1650, employee, client):
    stk = mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    post_callback(client, stk_callback_body("stk_callback_success", amount="1649"))
    with pytest.raises(PaymentError, match="Only a manager"):
        mpesa.mpesa_mismatch_resolve(stk=stk, user=employee, accept=True)


def test_malformed_json_is_stored_and_changes_nothing(daraja, sale_1650, employee, client):
    stk = mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    for body in (b"{not json", b'{"Body": {"stkCallback": {"CheckoutRequestID": "x"}}}', b"[]"):
        response = post_callback(client, body)
        assert response.status_code == 200
    assert list(MpesaInbox.objects.values_list("outcome", flat=True)) == [InboxOutcome.MALFORMED] * 3
    assert MpesaInbox.objects.filter(raw_body="{not json").exists()
    stk.refresh_from_db()
    assert stk.status == StkStatus.SENT and stk.payment.status == PaymentStatus.PENDING


def test_an_unknown_checkout_request_id_is_stored_and_changes_nothing(daraja, sale_1650, employee, client):
    stk = mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    post_callback(client, stk_callback_body("stk_callback_success", checkout_request_id="ws_CO_UNKNOWN"))
    inbox = MpesaInbox.objects.get()
    assert inbox.outcome == InboxOutcome.UNKNOWN and inbox.checkout_request_id == "ws_CO_UNKNOWN"
    stk.refresh_from_db()
    assert stk.status == StkStatus.SENT and not Payment.objects.filter(status=PaymentStatus.CONFIRMED).exists()


def test_a_wrong_secret_is_a_404_and_logged(client, caplog):
    with caplog.at_level(logging.WARNING, logger="cashdesk.mpesa"):
        response = client.post(
            callback_url("stk", secret="guessed-secret"),
            data=sample_bytes("stk_callback_success"),
            content_type="application/json",
        )
    assert response.status_code == 404
    assert not MpesaInbox.objects.exists()
    assert any("wrong secret" in record.getMessage() for record in caplog.records)
    assert not any("guessed-secret" in record.getMessage() for record in caplog.records)
    for name in ("validate", "confirm"):
        assert (
            client.post(callback_url(name, secret="nope"), data=b"{}", content_type="application/json").status_code
            == 404
        )


def test_callbacks_answer_only_post(client):
    assert client.get(callback_url("stk")).status_code == 405


def test_a_push_the_cashier_stopped_waiting_for_but_paid_is_flagged(daraja, sale_1650, employee, client):
    stk = mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    mpesa.mpesa_stk_stop_waiting(stk=stk, user=employee)
    post_callback(client, sample_bytes("stk_callback_success"))
    stk.refresh_from_db()
    assert stk.status == StkStatus.OVERPAID and "after the push was given up" in stk.message
    assert not Payment.objects.filter(status=PaymentStatus.CONFIRMED).exists()


def test_the_split_completes_with_the_cash_part_once_mpesa_confirms(daraja, employee, branch, client):
    open_session(employee, "1000")
    sale = ring_up(employee, branch, ("1282", "1"))
    mpesa.mpesa_stk_start(
        sale=sale, phone="0708374149", user=employee, amount=D("1000"), other_tenders=[Tender("CASH", D("300"))]
    )
    post_callback(client, stk_callback_body("stk_callback_success", amount="1000"))
    sale.refresh_from_db()
    assert sale.status == SaleStatus.COMPLETED
    assert (sale.paid_total, sale.change_given) == (D("1300.00"), D("18.00"))
    cash = Payment.objects.get(sale=sale, method="CASH")
    assert cash.amount == D("300.00") and cash.change_given == D("18.00")


def test_paid_but_not_covered_leaves_the_rest_to_the_till(daraja, sale_1650, employee, client):
    from cashdesk.services import sale_checkout

    mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee, amount=D("1000"))
    post_callback(client, stk_callback_body("stk_callback_success", amount="1000"))
    sale_1650.refresh_from_db()
    assert sale_1650.status == SaleStatus.OPEN
    done = sale_checkout(sale=sale_1650, user=employee, tenders=[Tender("CASH", D("700"))], idempotency_key="rest")
    assert done.status == SaleStatus.COMPLETED and done.change_given == D("50.00")


def test_a_payment_confirmed_after_its_session_closed_moves_to_the_open_session(daraja, employee, branch, client):
    first = open_session(employee)
    sale = ring_up(employee, branch, ("1650", "1"))
    stk = mpesa.mpesa_stk_start(sale=sale, phone="0708374149", user=employee, amount=D("1000"))
    session_close(session=first, closed_by=employee, closing_total=D("1000"))
    second = open_session(employee)
    frozen = type(first).objects.get(pk=first.pk).report
    post_callback(client, stk_callback_body("stk_callback_success", amount="1000"))
    payment = Payment.objects.get(pk=stk.payment_id)
    assert payment.status == PaymentStatus.CONFIRMED and payment.session_id == second.pk
    assert type(first).objects.get(pk=first.pk).report == frozen


def test_callback_verification_refuses_a_callback_the_query_contradicts(daraja, sale_1650, employee, client, settings):
    settings.MPESA_VERIFY_CALLBACKS = True
    daraja.query_answer = (200, sample("stk_query_response_cancelled"))
    stk = mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    post_callback(client, sample_bytes("stk_callback_success"))
    assert MpesaInbox.objects.get().outcome == InboxOutcome.REJECTED
    stk.refresh_from_db()
    assert stk.status == StkStatus.SENT and not Payment.objects.filter(status=PaymentStatus.CONFIRMED).exists()


def test_callback_verification_lets_a_confirmed_callback_through(daraja, sale_1650, employee, client, settings):
    settings.MPESA_VERIFY_CALLBACKS = True
    daraja.query_answer = (200, sample("stk_query_response_success"))
    mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    post_callback(client, sample_bytes("stk_callback_success"))
    assert MpesaInbox.objects.get().outcome == InboxOutcome.APPLIED and len(daraja.queries) == 1


# ---------------------------------------------------------------------------- no callback: the query
def _sent(daraja, sale, employee, *, minutes_ago=2):
    stk = mpesa.mpesa_stk_start(sale=sale, phone="0708374149", user=employee)
    StkRequest.objects.filter(pk=stk.pk).update(sent_at=timezone.now() - timedelta(minutes=minutes_ago))
    return stk


def test_stale_requests_are_found(daraja, sale_1650, employee):
    stk = _sent(daraja, sale_1650, employee)
    assert mpesa.mpesa_stale_requests() == [stk.pk]
    StkRequest.objects.filter(pk=stk.pk).update(sent_at=timezone.now())
    assert mpesa.mpesa_stale_requests() == []


def test_the_query_settles_a_paid_push_with_no_callback(daraja, sale_1650, employee):
    stk = _sent(daraja, sale_1650, employee)
    daraja.query_answer = (200, sample("stk_query_response_success"))
    from cashdesk.mpesa.tasks import mpesa_settle_stale_requests

    mpesa_settle_stale_requests.call_local()
    stk.refresh_from_db()
    assert stk.status == StkStatus.PAID and stk.answered_by == "query" and stk.query_count == 1
    sale_1650.refresh_from_db()
    assert sale_1650.status == SaleStatus.COMPLETED


def test_the_query_settles_a_cancelled_push(daraja, sale_1650, employee):
    stk = _sent(daraja, sale_1650, employee)
    daraja.query_answer = (200, sample("stk_query_response_cancelled"))
    stk = mpesa.mpesa_stk_query_settle(stk_request_id=stk.pk)
    assert stk.status == StkStatus.CANCELLED and stk.payment.status == PaymentStatus.FAILED


def test_a_pending_query_waits_then_gives_up(daraja, sale_1650, employee, settings):
    stk = _sent(daraja, sale_1650, employee, minutes_ago=2)
    assert mpesa.mpesa_stk_query_settle(stk_request_id=stk.pk).status == StkStatus.SENT
    StkRequest.objects.filter(pk=stk.pk).update(sent_at=timezone.now() - timedelta(minutes=10))
    stk = mpesa.mpesa_stk_query_settle(stk_request_id=stk.pk)
    assert stk.status == StkStatus.TIMED_OUT and "being processed" in stk.result_desc


def test_a_late_callback_after_the_query_adds_the_receipt(daraja, sale_1650, employee, client):
    stk = _sent(daraja, sale_1650, employee)
    daraja.query_answer = (200, sample("stk_query_response_success"))
    mpesa.mpesa_stk_query_settle(stk_request_id=stk.pk)
    post_callback(client, sample_bytes("stk_callback_success"))
    post_callback(client, sample_bytes("stk_callback_success"))
    stk.refresh_from_db()
    assert stk.receipt_number == "NLJ7RT61SV" and Payment.objects.get(pk=stk.payment_id).mpesa_receipt == "NLJ7RT61SV"
    assert list(MpesaInbox.objects.order_by("pk").values_list("outcome", flat=True)) == [
        InboxOutcome.APPLIED,
        InboxOutcome.DUPLICATE,
    ]


# ---------------------------------------------------------------------------- C2B
def c2b_body(name: str, **changes) -> bytes:
    body = sample(name)
    body.update(changes)
    return json.dumps(body).encode()


def test_validation_accepts_a_good_request_and_rejects_a_malformed_one(client):
    response = post_callback(client, sample_bytes("c2b_validation"), "validate")
    assert response.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
    response = post_callback(client, b'{"TransID": 5}', "validate")
    assert response.json()["ResultCode"] == "C2B00016"
    assert list(MpesaInbox.objects.order_by("pk").values_list("kind", "outcome")) == [
        (InboxKind.C2B_VALIDATION, InboxOutcome.ACCEPTED),
        (InboxKind.C2B_VALIDATION, InboxOutcome.MALFORMED),
    ]


def test_a_till_payment_waits_unmatched_then_the_cashier_attaches_it(employee, branch, client):
    open_session(employee)
    sale = ring_up(employee, branch, ("420", "1"))
    response = post_callback(client, sample_bytes("c2b_confirmation_till"), "confirm")
    assert response.json() == {"ResultCode": 0, "ResultDesc": "Success"}
    row = C2BPayment.objects.get()
    assert row.status == C2BStatus.UNMATCHED and row.trans_id == "SAB3XK91LM" and row.amount == D("420.00")
    payment, done = mpesa.mpesa_c2b_attach(sale=sale, user=employee, code=" sab3xk91lm ")
    assert payment.mpesa_receipt == "SAB3XK91LM" and payment.status == PaymentStatus.CONFIRMED
    assert done.status == SaleStatus.COMPLETED
    row.refresh_from_db()
    assert row.status == C2BStatus.MATCHED and row.matched_by == employee
    assert AuditLog.objects.filter(action=AuditAction.MPESA_ATTACHED).exists()


def test_a_paybill_payment_with_the_sale_reference_is_matched_by_itself(employee, branch, client):
    open_session(employee)
    sale = ring_up(employee, branch, ("1650", "1"))
    body = c2b_body("c2b_confirmation_paybill", BillRefNumber=sale_pay_reference(sale).lower())
    post_callback(client, body, "confirm")
    row = C2BPayment.objects.get()
    assert row.status == C2BStatus.MATCHED and row.payment.sale == sale
    sale.refresh_from_db()
    assert sale.status == SaleStatus.COMPLETED


def test_the_paybill_sample_for_an_unknown_sale_waits(client):
    post_callback(client, sample_bytes("c2b_confirmation_paybill"), "confirm")
    assert C2BPayment.objects.get().status == C2BStatus.UNMATCHED
    assert MpesaInbox.objects.get().outcome == InboxOutcome.UNMATCHED


def test_a_repeated_confirmation_is_recorded_once(client):
    for _ in range(2):
        post_callback(client, sample_bytes("c2b_confirmation_till"), "confirm")
    assert C2BPayment.objects.count() == 1
    assert sorted(MpesaInbox.objects.values_list("outcome", flat=True)) == [
        InboxOutcome.DUPLICATE,
        InboxOutcome.UNMATCHED,
    ]


def test_stk_then_c2b_of_the_same_receipt_is_one_payment(daraja, sale_1650, employee, client):
    mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    post_callback(client, sample_bytes("stk_callback_success"))
    post_callback(client, c2b_body("c2b_confirmation_paybill", TransID="NLJ7RT61SV"), "confirm")
    row = C2BPayment.objects.get()
    assert row.status == C2BStatus.STK and row.payment.mpesa_receipt == "NLJ7RT61SV"
    assert Payment.objects.filter(mpesa_receipt__isnull=False).count() == 1


def test_c2b_then_stk_of_the_same_receipt_is_one_payment(daraja, sale_1650, employee, client, branch):
    mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    post_callback(client, c2b_body("c2b_confirmation_till", TransID="NLJ7RT61SV", TransAmount="1650.00"), "confirm")
    assert C2BPayment.objects.get().status == C2BStatus.UNMATCHED
    post_callback(client, sample_bytes("stk_callback_success"))
    row = C2BPayment.objects.get()
    assert row.status == C2BStatus.STK and row.payment.status == PaymentStatus.CONFIRMED
    another = ring_up(employee, branch, ("1650", "1"))
    with pytest.raises(PaymentConflictError, match="already used for"):
        mpesa.mpesa_c2b_attach(sale=another, user=employee, code="NLJ7RT61SV")


def test_a_code_not_received_yet_is_a_clear_error(employee, branch):
    open_session(employee)
    sale = ring_up(employee, branch, ("420", "1"))
    with pytest.raises(PaymentError, match="has not told us about QWERTY1234 yet"):
        mpesa.mpesa_c2b_attach(sale=sale, user=employee, code="QWERTY1234")
    with pytest.raises(PaymentError, match="10 letters and digits"):
        mpesa.mpesa_c2b_attach(sale=sale, user=employee, code="12")


def test_an_incoming_payment_bigger_than_the_sale_is_refused(employee, branch, client):
    open_session(employee)
    sale = ring_up(employee, branch, ("400", "1"))
    post_callback(client, sample_bytes("c2b_confirmation_till"), "confirm")
    with pytest.raises(PaymentError, match="cannot give change"):
        mpesa.mpesa_c2b_attach(sale=sale, user=employee, code="SAB3XK91LM")
    assert C2BPayment.objects.get().status == C2BStatus.UNMATCHED and not Payment.objects.exists()


def test_a_manager_sets_an_incoming_payment_aside(manager, employee, client):
    post_callback(client, sample_bytes("c2b_confirmation_till"), "confirm")
    row = C2BPayment.objects.get()
    with pytest.raises(PaymentError, match="Only a manager"):
        mpesa.mpesa_c2b_set_aside(c2b=row, user=employee, note="x")
    with pytest.raises(PaymentError, match="Say why"):
        mpesa.mpesa_c2b_set_aside(c2b=row, user=manager, note=" ")
    row = mpesa.mpesa_c2b_set_aside(c2b=row, user=manager, note="Paid twice, reversed")
    assert row.status == C2BStatus.IGNORED


def test_unmatched_list_search(employee, client_for):
    from cashdesk.mpesa.selectors import c2b_unmatched

    client = client_for(employee)
    for name in ("c2b_confirmation_till", "c2b_confirmation_paybill"):
        client.post(callback_url("confirm"), data=sample_bytes(name), content_type="application/json")
    assert [r.trans_id for r in c2b_unmatched(viewer=employee, query="149")] == ["SAB3XK91LM", "RKTQDM7W6S"]
    assert [r.trans_id for r in c2b_unmatched(viewer=employee, query="0708 374 149")] == ["SAB3XK91LM", "RKTQDM7W6S"]
    assert [r.trans_id for r in c2b_unmatched(viewer=employee, query="rktqdm7w6s")] == ["RKTQDM7W6S"]
    assert [r.trans_id for r in c2b_unmatched(viewer=employee, amount=D("420"))] == ["SAB3XK91LM"]
    assert [r.trans_id for r in c2b_unmatched(viewer=employee, query="jane")] == ["SAB3XK91LM"]


def test_with_the_simulator_the_callback_goes_back_to_the_server_in_use(daraja, sale_1650, employee, rf, settings):
    settings.MPESA_CALLBACK_BASE_URL = "http://127.0.0.1:8000"  # SITE_URL of another port
    request = rf.post("/", HTTP_HOST="127.0.0.1:8601")
    mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee, request=request)
    assert daraja.pushes[-1]["CallBackURL"].startswith("http://127.0.0.1:8601/cash/hooks/")


def test_outside_the_simulator_the_callback_base_is_the_setting(daraja, sale_1650, employee, rf, settings):
    settings.MPESA_ENVIRONMENT = "sandbox"
    settings.MPESA_CONSUMER_KEY, settings.MPESA_CONSUMER_SECRET = "key", "secret"
    settings.MPESA_CALLBACK_BASE_URL = "https://pos.example.co.ke"
    request = rf.post("/", HTTP_HOST="127.0.0.1:8601")
    mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee, request=request)
    assert daraja.pushes[-1]["CallBackURL"].startswith("https://pos.example.co.ke/cash/hooks/")


def test_register_c2b_urls_base_url_is_for_the_simulator_only(settings):
    from django.core.management import CommandError, call_command

    settings.MPESA_ENVIRONMENT = "sandbox"
    settings.MPESA_CONSUMER_KEY, settings.MPESA_CONSUMER_SECRET = "key", "secret"
    with pytest.raises(CommandError, match="for the local simulator"):
        call_command("register_c2b_urls", "--base-url", "http://127.0.0.1:8601")


def test_register_c2b_urls_sends_secret_paths(daraja, settings, capsys):
    from django.core.management import call_command

    sent = []
    daraja.router.post("/mpesa/c2b/v2/registerurl").mock(
        side_effect=lambda request: (
            sent.append(json.loads(request.content))
            or __import__("httpx").Response(200, json={"ResponseCode": "0", "ResponseDescription": "Success"})
        )
    )
    call_command("register_c2b_urls", "--base-url", "http://127.0.0.1:8601")
    assert (
        sent[0]["ConfirmationURL"].startswith("http://127.0.0.1:8601/cash/hooks/") and sent[0]["ShortCode"] == "174379"
    )
    assert settings.MPESA_CALLBACK_SECRET not in capsys.readouterr().out
