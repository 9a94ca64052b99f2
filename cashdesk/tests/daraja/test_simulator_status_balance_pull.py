"""The simulator speaks Daraja's Transaction Status, Account Balance and Pull Transactions APIs with the
real payload shapes, and our client and parsers read them."""

import json
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from django.utils import timezone

from cashdesk.mpesa.daraja.callbacks import parse_account_balance, parse_result
from cashdesk.mpesa.daraja.client import DarajaClient, DarajaInputError

pytestmark = pytest.mark.sqlite_only

RESULT = "/hooks/s3cr3t/result/"
TIMEOUT = "/hooks/s3cr3t/result/timeout/"


@pytest.fixture
def sim_client(simulator_settings):
    with DarajaClient() as client:
        yield client


def _paid_c2b(simulator, receiver, amount=420):
    simulator.register_urls({"ShortCode": "174379", "ResponseType": "Completed",
                             "ConfirmationURL": receiver.url("/hooks/s3cr3t/c2b/confirm/"),
                             "ValidationURL": receiver.url("/hooks/s3cr3t/c2b/validate/")}, "v2")
    answer = httpx.post(f"{simulator.base_url}/simulator/c2b/pay",
                        json={"phone": "254708374149", "amount": amount, "bill_ref": "12-KQTX"}).json()
    receiver.wait_for("/hooks/s3cr3t/c2b/confirm/")
    return answer["TransID"]


def test_transaction_status_confirms_a_real_receipt(simulator, receiver, sim_client):
    receipt = _paid_c2b(simulator, receiver)
    accepted = sim_client.transaction_status(receipt, result_url=receiver.url(RESULT),
                                             timeout_url=receiver.url(TIMEOUT))
    assert accepted.response_code == "0" and accepted.conversation_id.startswith("AG_")
    body = receiver.wait_for(RESULT)[0].body
    raw = json.loads(body)
    assert set(raw["Result"]) >= {"ResultType", "ResultCode", "ResultDesc", "OriginatorConversationID",
                                  "ConversationID", "TransactionID", "ResultParameters", "ReferenceData"}
    result = parse_result(body)
    assert result.is_success and result.conversation_id == accepted.conversation_id
    assert result.parameters["ReceiptNo"] == receipt and Decimal(str(result.parameters["Amount"])) == 420
    assert result.parameters["TransactionStatus"] == "Completed"


def test_transaction_status_of_an_unknown_receipt_says_so(simulator, receiver, sim_client):
    sim_client.transaction_status("SXX0000000", result_url=receiver.url(RESULT), timeout_url=receiver.url(TIMEOUT))
    result = parse_result(receiver.wait_for(RESULT)[0].body)
    assert not result.is_success and result.result_code == "2001"


def test_transaction_status_refuses_a_bad_receipt_before_sending(sim_client, receiver):
    with pytest.raises(DarajaInputError):
        sim_client.transaction_status("x", result_url=receiver.url(RESULT), timeout_url=receiver.url(TIMEOUT))


def test_account_balance_is_posted_in_dajaras_format(simulator, receiver, sim_client):
    _paid_c2b(simulator, receiver, amount=700)
    accepted = sim_client.account_balance(result_url=receiver.url(RESULT), timeout_url=receiver.url(TIMEOUT))
    assert accepted.response_code == "0"
    result = parse_result(receiver.wait_for(RESULT)[0].body)
    balances = parse_account_balance(result.parameters["AccountBalance"])
    assert balances["Working Account"] == Decimal("700.00")


def test_pull_returns_the_statement(simulator, receiver, sim_client):
    receipt = _paid_c2b(simulator, receiver, amount=250)
    assert sim_client.pull_register(callback_url=receiver.url("/hooks/s3cr3t/pull/"),
                                    nominated_number="0708374149")["ResponseStatus"] == "1000"
    lines = sim_client.pull_transactions(start=timezone.now() - timedelta(hours=1), end=timezone.now())
    assert [(line.transaction_id, line.amount) for line in lines] == [(receipt, Decimal("250"))]


def test_async_requests_need_an_initiator(simulator, sim_client, receiver):
    token = sim_client.get_token()
    response = httpx.post(f"{simulator.base_url}/mpesa/transactionstatus/v1/query",
                          headers={"Authorization": f"Bearer {token}"},
                          json={"CommandID": "TransactionStatusQuery", "TransactionID": "SAB3XK91LM"})
    assert response.status_code == 400 and response.json()["errorCode"] == "400.002.02"
