"""M-Pesa, money first: nothing pays a sale until Daraja confirms it; late or surplus money becomes an
overpayment a manager resolves; the STK+C2B same receipt is counted once; odd callbacks reach a manager;
account references cannot be guessed; bodies are bounded; the day is reconciled."""

import json
from datetime import timedelta
from decimal import Decimal as D

import httpx
import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from cashdesk.models import Payment, PaymentStatus
from cashdesk.mpesa import services as mpesa
from cashdesk.mpesa.models import (
    C2BPayment,
    C2BStatus,
    InboxOutcome,
    MpesaInbox,
    MpesaReconciliation,
    ReconciliationStatus,
    StkRequest,
    StkStatus,
)
from cashdesk.services import Tender, sale_checkout
from cashdesk.tests.factories import open_session, ring_up
from cashdesk.tests.mpesa_support import FakeDaraja, callback_url, sample, sample_bytes, stk_callback_body
from pos.customers.models import Customer
from pos.people.audit import AuditAction
from pos.people.models import AuditLog, ShopSettings
from pos.people.selectors import SHOP_SETTINGS_CACHE_KEY
from pos.sales.models import SaleStatus
from pos.sales.selectors import sale_id_from_pay_reference, sale_pay_reference
from pos.tests.factories import CustomerFactory
from reports.notifications.models import Notification
from reports.notifications.services import c2b_unmatched_too_long, notify_c2b_needs_a_manager

pytestmark = pytest.mark.django_db

SUCCESS_ID = "ws_CO_191220191020363925"
RECEIPT = "NLJ7RT61SV"  # the success sample's MpesaReceiptNumber
SAFARICOM = "196.201.214.200"


@pytest.fixture
def daraja():
    with FakeDaraja() as fake:
        yield fake


@pytest.fixture
def verify(settings):
    settings.MPESA_VERIFY_CALLBACKS = True  # the production path: confirm with Daraja first


@pytest.fixture
def sale_1650(employee, branch):
    open_session(employee, "1000")
    return ring_up(employee, branch, ("1650", "1"))


def shop(**fields):
    ShopSettings.objects.filter(pk=1).update(**fields)
    cache.delete(SHOP_SETTINGS_CACHE_KEY)


def post(client, body: bytes, name: str = "stk", **extra):
    return client.post(callback_url(name), data=body, content_type="application/json", **extra)


def query_says(daraja, code: str):
    body = sample("stk_query_response_success")
    body["ResultCode"] = code
    daraja.query_answer = (200, body)


def c2b(**changes) -> bytes:
    body = sample("c2b_confirmation_paybill")
    body.update(changes)
    return json.dumps(body).encode()


def confirmed_mpesa(sale) -> D:
    return sum((p.amount for p in Payment.objects.filter(sale=sale, method="MPESA", status=PaymentStatus.CONFIRMED)),
               D("0"))


# ---------------------------------------------------------------------------- a late success is an overpayment
def test_a_late_success_after_the_query_gave_up_and_cash_was_taken_is_an_overpayment(
    daraja, sale_1650, employee, manager, client, django_capture_on_commit_callbacks
):
    stk = mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    StkRequest.objects.filter(pk=stk.pk).update(sent_at=timezone.now() - timedelta(minutes=10))
    mpesa.mpesa_stk_query_settle(stk_request_id=stk.pk)  # Daraja still "processing": given up, 1037
    assert StkRequest.objects.get(pk=stk.pk).status == StkStatus.TIMED_OUT
    sale = sale_checkout(sale=sale_1650, user=employee, tenders=[Tender("CASH", D("1650"))], idempotency_key="cash")
    assert sale.status == SaleStatus.COMPLETED
    with django_capture_on_commit_callbacks(execute=True):
        post(client, sample_bytes("stk_callback_success"))
    stk.refresh_from_db()
    assert stk.status == StkStatus.OVERPAID and "refunds it or keeps it" in stk.message
    assert confirmed_mpesa(sale) == 0  # never a silent second payment
    assert Notification.objects.filter(user=manager, key__startswith=f"stk:{stk.pk}").exists()
    page = client_for_manager(manager).get(reverse("cashdesk:mpesa_flagged")).content.decode()
    assert RECEIPT in page


def client_for_manager(manager):
    from django.test import Client

    browser = Client()
    browser.force_login(manager)
    return browser


def _overpaid(daraja, sale_1650, employee, client):
    stk = mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    mpesa.mpesa_stk_stop_waiting(stk=stk, user=employee)
    sale_checkout(sale=sale_1650, user=employee, tenders=[Tender("CASH", D("1650"))], idempotency_key="cash")
    post(client, sample_bytes("stk_callback_success"))
    stk.refresh_from_db()
    assert stk.status == StkStatus.OVERPAID
    return stk


def test_an_overpayment_refunded_by_a_manager_is_audited(daraja, sale_1650, employee, manager, client):
    stk = _overpaid(daraja, sale_1650, employee, client)
    response = client_for_manager(manager).post(reverse("cashdesk:mpesa_resolve", args=[stk.pk]),
                                                {"decision": "refund", "note": "customer called"})
    assert response.status_code == 302
    stk.refresh_from_db()
    assert stk.resolved_by == manager and stk.resolution.startswith("Refunded")
    row = AuditLog.objects.get(action=AuditAction.MPESA_OVERPAYMENT_RESOLVED)
    assert row.after_data["action"] == "refund" and row.after_data["receipt"] == RECEIPT
    assert Payment.objects.get(pk=stk.payment_id).mpesa_receipt == RECEIPT  # it can pay nothing else
    assert confirmed_mpesa(sale_1650) == 0


def test_an_overpayment_kept_as_credit_lowers_what_the_customer_owes(daraja, sale_1650, employee, manager, client):
    customer = CustomerFactory(phone_number="+254722333444")
    stk = _overpaid(daraja, sale_1650, employee, client)
    response = client_for_manager(manager).post(
        reverse("cashdesk:mpesa_resolve", args=[stk.pk]), {"decision": "credit", "customer_phone": "0722 333 444"}
    )
    assert response.status_code == 302
    assert Customer.objects.get(pk=customer.pk).balance == D("-1650.00")
    row = AuditLog.objects.get(action=AuditAction.MPESA_OVERPAYMENT_RESOLVED)
    assert row.after_data["customer"] == customer.pk and row.after_data["action"] == "credit"


def test_credit_needs_a_customer(daraja, sale_1650, employee, manager, client):
    stk = _overpaid(daraja, sale_1650, employee, client)
    response = client_for_manager(manager).post(reverse("cashdesk:mpesa_resolve", args=[stk.pk]),
                                                {"decision": "credit"})
    assert response.status_code == 400 and "Choose the customer" in response.content.decode()
    assert StkRequest.objects.get(pk=stk.pk).resolved_at is None


# ---------------------------------------------------------------------------- verified before it pays
def test_a_success_daraja_cannot_confirm_yet_is_received_confirming_and_pays_nothing(
    daraja, verify, sale_1650, employee, client
):
    stk = mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    post(client, sample_bytes("stk_callback_success"))  # the query still says "being processed"
    stk.refresh_from_db()
    assert stk.status == StkStatus.CONFIRMING and stk.payment.status == PaymentStatus.PENDING
    assert MpesaInbox.objects.get().outcome == InboxOutcome.CONFIRMING
    sale_1650.refresh_from_db()
    assert sale_1650.status == SaleStatus.OPEN and confirmed_mpesa(sale_1650) == 0
    panel = client_for_manager(employee).get(reverse("cashdesk:mpesa_status", args=[stk.pk]),
                                            HTTP_HX_REQUEST="true").content.decode()
    assert "Received, confirming with M-Pesa" in panel and 'hx-trigger="every 1s"' in panel
    query_says(daraja, "0")
    mpesa.mpesa_stk_confirm(stk_request_id=stk.pk)
    stk.refresh_from_db()
    sale_1650.refresh_from_db()
    assert stk.status == StkStatus.PAID and sale_1650.status == SaleStatus.COMPLETED
    assert Payment.objects.get(pk=stk.payment_id).mpesa_receipt == RECEIPT


def test_a_success_daraja_denies_pays_nothing(daraja, verify, sale_1650, employee, client):
    stk = mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    post(client, sample_bytes("stk_callback_success"))
    query_says(daraja, "1032")
    mpesa.mpesa_stk_confirm(stk_request_id=stk.pk)
    stk.refresh_from_db()
    assert stk.status == StkStatus.CANCELLED and confirmed_mpesa(sale_1650) == 0


def test_a_confirmation_that_never_comes_goes_to_the_managers_list(
    daraja, verify, sale_1650, employee, manager, client, django_capture_on_commit_callbacks
):
    shop(mpesa_confirm_wait_seconds=30)
    stk = mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    post(client, sample_bytes("stk_callback_success"))
    StkRequest.objects.filter(pk=stk.pk).update(confirm_by=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        mpesa.mpesa_stk_confirm(stk_request_id=stk.pk)
    stk.refresh_from_db()
    assert stk.status == StkStatus.UNVERIFIED and confirmed_mpesa(sale_1650) == 0
    assert Notification.objects.filter(user=manager, key=f"stk:{stk.pk}:UNVERIFIED").exists()
    response = client_for_manager(manager).post(reverse("cashdesk:mpesa_resolve", args=[stk.pk]),
                                                {"decision": "confirmed", "note": "seen on the portal"})
    assert response.status_code == 302
    sale_1650.refresh_from_db()
    assert sale_1650.status == SaleStatus.COMPLETED and confirmed_mpesa(sale_1650) == D("1650.00")


def test_the_wait_is_the_owners_setting(daraja, verify, sale_1650, employee, client):
    shop(mpesa_confirm_wait_seconds=300)
    stk = mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    post(client, sample_bytes("stk_callback_success"))
    stk.refresh_from_db()
    assert timedelta(seconds=290) < stk.confirm_by - timezone.now() <= timedelta(seconds=300)


def test_safaricoms_addresses_pay_at_once_only_when_the_owner_says_so(daraja, verify, sale_1650, employee, client):
    stk = mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    post(client, sample_bytes("stk_callback_success"), REMOTE_ADDR=SAFARICOM)
    assert StkRequest.objects.get(pk=stk.pk).status == StkStatus.CONFIRMING  # off by default


def test_safaricoms_addresses_accepted_by_the_owners_setting(daraja, verify, sale_1650, employee, client, settings):
    shop(mpesa_accept_safaricom_addresses=True)
    stk = mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    post(client, sample_bytes("stk_callback_success"), REMOTE_ADDR="41.90.1.2")  # not Safaricom's
    assert StkRequest.objects.get(pk=stk.pk).status == StkStatus.CONFIRMING
    assert daraja.queries  # asked Daraja


def test_safaricoms_address_with_the_setting_on_pays_without_asking(daraja, verify, sale_1650, employee, client):
    shop(mpesa_accept_safaricom_addresses=True)
    stk = mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    post(client, sample_bytes("stk_callback_success"), REMOTE_ADDR=SAFARICOM)
    assert StkRequest.objects.get(pk=stk.pk).status == StkStatus.PAID
    assert not daraja.queries


def test_a_forged_x_forwarded_for_is_not_safaricoms_address(daraja, verify, sale_1650, employee, client):
    shop(mpesa_accept_safaricom_addresses=True)
    stk = mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    post(client, sample_bytes("stk_callback_success"), HTTP_X_FORWARDED_FOR=SAFARICOM)
    assert StkRequest.objects.get(pk=stk.pk).status == StkStatus.CONFIRMING
    assert MpesaInbox.objects.get().remote_addr == "127.0.0.1"


# ---------------------------------------------------------------------------- C2B: verified, not guessable
def test_a_forged_confirmation_with_a_sequential_account_number_pays_nothing(employee, branch, client):
    open_session(employee)
    sale = ring_up(employee, branch, ("1650", "1"))
    post(client, c2b(BillRefNumber=f"S-{sale.pk:06d}", TransAmount="1650.00"), "confirm")
    sale.refresh_from_db()
    assert sale.status == SaleStatus.OPEN and C2BPayment.objects.get().status == C2BStatus.UNMATCHED


def test_a_c2b_confirmation_is_confirmed_with_daraja_before_it_pays(verify, employee, branch, client):
    open_session(employee)
    sale = ring_up(employee, branch, ("1650", "1"))
    with FakeDaraja() as fake:
        statuses = []
        fake.router.post("/mpesa/transactionstatus/v1/query").mock(side_effect=lambda request: (
            statuses.append(json.loads(request.content)),
            httpx.Response(200, json={"ConversationID": "AG_20261207_000001", "OriginatorConversationID": "1-2-3",
                                      "ResponseCode": "0", "ResponseDescription": "Accept the service request"}),
        )[1])
        post(client, c2b(BillRefNumber=sale_pay_reference(sale), TransAmount="1650.00"), "confirm")
    row = C2BPayment.objects.get()
    assert row.status == C2BStatus.CONFIRMING and row.verify_conversation_id == "AG_20261207_000001"
    assert statuses[0]["TransactionID"] == row.trans_id and statuses[0]["CommandID"] == "TransactionStatusQuery"
    assert "/hooks/" in statuses[0]["ResultURL"]
    sale.refresh_from_db()
    assert sale.status == SaleStatus.OPEN  # not on the confirmation alone
    result = {"Result": {"ResultType": 0, "ResultCode": 0, "ResultDesc": "ok", "OriginatorConversationID": "1-2-3",
                         "ConversationID": "AG_20261207_000001", "TransactionID": row.trans_id,
                         "ResultParameters": {"ResultParameter": [
                             {"Key": "ReceiptNo", "Value": row.trans_id}, {"Key": "Amount", "Value": 1650.0},
                             {"Key": "TransactionStatus", "Value": "Completed"}]}}}
    assert client.post(reverse("cashdesk:mpesa_status_result", args=[callback_secret()]), data=json.dumps(result),
                       content_type="application/json").status_code == 200
    row.refresh_from_db()
    sale.refresh_from_db()
    assert row.status == C2BStatus.MATCHED and row.verified_by == "transaction status"
    assert sale.status == SaleStatus.COMPLETED


def callback_secret():
    from cashdesk.tests.mpesa_support import CALLBACK_SECRET

    return CALLBACK_SECRET


def test_a_c2b_payment_daraja_does_not_know_goes_to_a_manager(
    verify, employee, branch, manager, client, django_capture_on_commit_callbacks
):
    open_session(employee)
    sale = ring_up(employee, branch, ("1650", "1"))
    with FakeDaraja() as fake:
        fake.router.post("/mpesa/transactionstatus/v1/query").respond(
            200, json={"ConversationID": "AG_X", "OriginatorConversationID": "9", "ResponseCode": "0"})
        post(client, c2b(BillRefNumber=sale_pay_reference(sale), TransAmount="1650.00"), "confirm")
    result = {"Result": {"ResultType": 0, "ResultCode": 2001, "ResultDesc": "The transaction does not exist.",
                         "OriginatorConversationID": "9", "ConversationID": "AG_X", "TransactionID": ""}}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("cashdesk:mpesa_status_result", args=[callback_secret()]), data=json.dumps(result),
                    content_type="application/json")
    row = C2BPayment.objects.get()
    sale.refresh_from_db()
    assert row.status == C2BStatus.UNVERIFIED and sale.status == SaleStatus.OPEN
    assert Notification.objects.filter(user=manager, key=f"c2b:{row.pk}:UNVERIFIED").exists()
    assert row.trans_id in client_for_manager(manager).get(reverse("cashdesk:mpesa_flagged")).content.decode()


@pytest.mark.parametrize("typed", ["{ref}", "{ref_lower}", " {ref_spaced} ", "S{ref_plain}"])
def test_the_account_reference_reads_back_however_it_is_typed(employee, branch, typed):
    open_session(employee)
    sale = ring_up(employee, branch, ("10", "1"))
    ref = sale_pay_reference(sale)
    text = typed.format(ref=ref, ref_lower=ref.lower(), ref_spaced=ref.replace("-", " "),
                        ref_plain=ref.replace("-", ""))
    assert sale_id_from_pay_reference(text) == sale.pk


def test_an_account_reference_cannot_be_guessed_from_the_sale_id(employee, branch):
    open_session(employee)
    sale = ring_up(employee, branch, ("10", "1"))
    ref = sale_pay_reference(sale)
    assert len(ref) <= 12 and ref.startswith(f"{sale.pk}-")
    assert sale_id_from_pay_reference(f"S-{sale.pk:06d}") is None
    assert sale_id_from_pay_reference(f"{sale.pk + 1}-{ref.split('-')[1]}") is None  # the next sale's letters differ
    wrong = ref[:-1] + ("A" if ref[-1] != "A" else "C")
    assert sale_id_from_pay_reference(wrong) is None


def test_the_pay_panel_and_an_on_account_receipt_print_the_reference(employee_client, employee, branch):
    open_session(employee)
    sale = ring_up(employee, branch, ("10", "1"))
    html = employee_client.get(reverse("cashdesk:mpesa_panel", args=[sale.pk])).content.decode()
    assert sale_pay_reference(sale) in html


# ---------------------------------------------------------------------------- the same receipt by STK and C2B
def test_stk_and_c2b_with_the_same_receipt_complete_the_sale_once_with_no_refund_advice(
    daraja, sale_1650, employee, client
):
    stk = mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    post(client, c2b(BillRefNumber=sale_pay_reference(sale_1650), TransAmount="1650.00", TransID=RECEIPT), "confirm")
    post(client, sample_bytes("stk_callback_success"))
    stk.refresh_from_db()
    sale_1650.refresh_from_db()
    assert stk.status == StkStatus.PAID and "reverse" not in stk.message.lower()
    assert sale_1650.status == SaleStatus.COMPLETED
    assert confirmed_mpesa(sale_1650) == D("1650.00")
    assert not StkRequest.objects.filter(status__in=[StkStatus.MISMATCH, StkStatus.OVERPAID]).exists()


# ---------------------------------------------------------------------------- odd callbacks reach a manager
def test_unknown_and_malformed_callbacks_notify_managers(client, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, stk_callback_body("stk_callback_success", checkout_request_id="ws_CO_NOBODY"))
        post(client, b'{"Body": {"stkCallback": 5}}')
    outcomes = dict(MpesaInbox.objects.values_list("outcome", "pk"))
    assert set(outcomes) == {InboxOutcome.UNKNOWN, InboxOutcome.MALFORMED}
    keys = set(Notification.objects.filter(user=manager).values_list("key", flat=True))
    assert {f"inbox:{outcomes[InboxOutcome.UNKNOWN]}", f"inbox:{outcomes[InboxOutcome.MALFORMED]}"} <= keys


def test_an_unmatched_c2b_older_than_ten_minutes_notifies_managers(client, manager):
    post(client, sample_bytes("c2b_confirmation_paybill"), "confirm")
    row = C2BPayment.objects.get()
    assert c2b_unmatched_too_long() == []
    C2BPayment.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(minutes=11))
    assert c2b_unmatched_too_long() == [row.pk]
    notify_c2b_needs_a_manager(c2b_id=row.pk)
    assert Notification.objects.filter(user=manager, key=f"c2b:{row.pk}:UNMATCHED").exists()


def test_a_body_above_64_kb_is_refused_in_darajas_format_and_logged_by_size(client, caplog):
    body = json.dumps({"Body": {"stkCallback": {"pad": "x" * 70_000}}}).encode()
    response = post(client, body)
    assert response.status_code == 413
    assert set(response.json()) == {"requestId", "errorCode", "errorMessage"}
    assert not MpesaInbox.objects.exists()
    assert str(len(body)) in caplog.text and "xxxx" not in caplog.text


def test_a_merchant_request_id_that_is_not_the_pushs_changes_nothing(daraja, sale_1650, employee, client):
    stk = mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    body = sample("stk_callback_success")
    body["Body"]["stkCallback"]["MerchantRequestID"] = "99999-99999999-9"
    post(client, json.dumps(body).encode())
    stk.refresh_from_db()
    assert stk.status == StkStatus.SENT and MpesaInbox.objects.get().outcome == InboxOutcome.REJECTED


# ---------------------------------------------------------------------------- the daily reconciliation
def test_the_daily_reconciliation_lists_differences_for_a_manager(
    daraja, sale_1650, employee, manager, client, settings
):
    settings.MPESA_PULL_ENABLED = True
    mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    post(client, sample_bytes("stk_callback_success"))
    assert Payment.objects.get(mpesa_receipt=RECEIPT).status == PaymentStatus.CONFIRMED
    today = timezone.localdate()
    daraja.router.post("/pulltransactions/v1/query").respond(200, json={
        "ResponseRefID": "x", "ResponseCode": "1000", "ResponseMessage": "Success",
        "Response": [[
            {"transactionId": RECEIPT, "trxDate": f"{today}T10:00:00", "msisdn": 254708374149,
             "transactiontype": "c2b-pay-bill-debit", "billreference": "x", "amount": "1650"},
            {"transactionId": "QZZ0000001", "trxDate": f"{today}T11:00:00", "msisdn": 254708374149,
             "transactiontype": "c2b-pay-bill-debit", "billreference": "", "amount": "300"},
        ]],
    })
    daraja.router.post("/mpesa/accountbalance/v1/query").respond(
        200, json={"ConversationID": "AG_BAL", "OriginatorConversationID": "b-1", "ResponseCode": "0"})
    day = mpesa.mpesa_reconcile(day=today)
    assert day.source == "pull" and day.status == ReconciliationStatus.DIFFERENCES
    assert [d["receipt"] for d in day.differences] == ["QZZ0000001"]
    balance = {"Result": {"ResultType": 0, "ResultCode": 0, "ResultDesc": "ok", "OriginatorConversationID": "b-1",
                          "ConversationID": "AG_BAL", "TransactionID": "X1",
                          "ResultParameters": {"ResultParameter": [
                              {"Key": "AccountBalance",
                               "Value": "Working Account|KES|1950.00|1950.00|0.00|0.00"
                                        "&Utility Account|KES|0.00|0.00|0.00|0.00"}]}}}
    client.post(reverse("cashdesk:mpesa_status_result", args=[callback_secret()]), data=json.dumps(balance),
                content_type="application/json")
    assert MpesaReconciliation.objects.get(day=today).balance == D("1950.00")
    page = client_for_manager(manager).get(reverse("cashdesk:mpesa_reconciliation")).content.decode()
    assert "QZZ0000001" in page and "not on the statement" not in page


def test_without_the_pull_api_the_callbacks_are_the_statement(daraja, sale_1650, employee, client):
    mpesa.mpesa_stk_start(sale=sale_1650, phone="0708374149", user=employee)
    post(client, sample_bytes("stk_callback_success"))
    post(client, sample_bytes("c2b_confirmation_paybill"), "confirm")  # nobody matched it
    C2BPayment.objects.update(trans_time=timezone.now())
    daraja.router.post("/mpesa/accountbalance/v1/query").respond(
        200, json={"ConversationID": "AG_BAL", "OriginatorConversationID": "b-1", "ResponseCode": "0"})
    day = mpesa.mpesa_reconcile(day=timezone.localdate())
    assert day.source == "callbacks"
    assert [d["receipt"] for d in day.differences] == [C2BPayment.objects.get().trans_id]
