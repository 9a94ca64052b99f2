"""The local Daraja simulator driven over real HTTP by our client; callbacks land in a test receiver."""

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from cashdesk.mpesa.daraja.callbacks import StkStatus, parse_c2b_confirmation, parse_c2b_validation, parse_stk_callback
from cashdesk.mpesa.daraja.client import DarajaClient, DarajaError, daraja_timestamp, stk_password
from cashdesk.mpesa.daraja.config import SANDBOX_PASSKEY
from cashdesk.mpesa.daraja.responses import c2b_validation_rejected
from cashdesk.mpesa.daraja.simulator import DEMO_PHONES, Behaviour, DarajaSimulator

pytestmark = pytest.mark.sqlite_only

ROOT = Path(__file__).resolve().parents[3]
STK_PATH = "/hooks/s3cr3t/stk/"


def push(client, receiver, phone="0708 374 149", amount=Decimal("150.00"), reference="S-000123"):
    return client.stk_push(phone, amount, reference, "Sale S-000123", receiver.url(STK_PATH))


def wait_final(client, checkout_request_id, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = client.stk_query(checkout_request_id)
        if not result.pending:
            return result
        time.sleep(0.05)
    raise AssertionError("the STK query never became final")


def raw_token(simulator, key="someone"):
    response = httpx.get(
        simulator.base_url + "/oauth/v1/generate",
        params={"grant_type": "client_credentials"},
        auth=(key, "secret"),
    )
    return response.json()["access_token"]


def raw_push(simulator, **overrides):
    timestamp = daraja_timestamp()
    body = {
        "BusinessShortCode": "174379",
        "Password": stk_password("174379", SANDBOX_PASSKEY, timestamp),
        "Timestamp": timestamp,
        "TransactionType": "CustomerPayBillOnline",
        "Amount": 10,
        "PartyA": "254708374149",
        "PartyB": "174379",
        "PhoneNumber": "254708374149",
        "CallBackURL": "http://127.0.0.1:9/hooks/x/",
        "AccountReference": "S-1",
        "TransactionDesc": "Sale S-1",
    }
    body.update(overrides)
    return httpx.post(
        simulator.base_url + "/mpesa/stkpush/v1/processrequest",
        json=body,
        headers={"Authorization": f"Bearer {raw_token(simulator)}"},
    )


# ---------------------------------------------------------------------------- STK push end to end


def test_push_callback_and_query_agree(sim_client, simulator, receiver):
    result = push(sim_client, receiver)
    assert result.response_code == "0"
    assert result.checkout_request_id.startswith("ws_CO_")
    assert result.customer_message == "Success. Request accepted for processing"

    first = sim_client.stk_query(result.checkout_request_id)
    assert first.pending is True  # the customer has not typed the PIN yet

    (received,) = receiver.wait_for(STK_PATH)
    callback = parse_stk_callback(received.body)
    assert callback.checkout_request_id == result.checkout_request_id
    assert callback.merchant_request_id == result.merchant_request_id
    assert callback.result_code == "0"
    assert callback.amount == Decimal("150.00")
    assert callback.phone == "254708374149"
    assert callback.balance is None
    assert len(callback.receipt_number) == 10 and callback.receipt_number.isalnum()
    assert abs(callback.transaction_date - datetime.now(UTC)).total_seconds() < 60

    final = sim_client.stk_query(result.checkout_request_id)
    assert (final.pending, final.result_code, final.merchant_request_id) == (
        False,
        "0",
        result.merchant_request_id,
    )
    assert sim_client.stk_query(result.checkout_request_id) == final  # asked again: the same answer
    state = simulator.stk_transaction(result.checkout_request_id)
    assert state["deliveries"][0]["status"] == 200
    assert state["deliveries"][0]["response"] == {"ResultCode": 0, "ResultDesc": "Accepted"}


@pytest.mark.parametrize(
    "phone, code, status",
    [
        ("0700 000 001", "1032", StkStatus.CANCELLED),
        ("0700 000 002", "1037", StkStatus.TIMED_OUT),
        ("0700 000 003", "1", StkStatus.FAILED),
        ("0700 000 004", "2001", StkStatus.FAILED),
        ("0700 000 007", "1025", StkStatus.FAILED),
    ],
)
def test_customers_who_do_not_pay(sim_client, receiver, phone, code, status):
    result = push(sim_client, receiver, phone=phone)
    (received,) = receiver.wait_for(STK_PATH)
    callback = parse_stk_callback(received.body)
    assert callback.checkout_request_id == result.checkout_request_id
    assert callback.result_code == code
    assert callback.amount is None and callback.receipt_number is None
    assert callback.outcome.status == status
    final = wait_final(sim_client, result.checkout_request_id)
    assert final.result_code == code
    assert final.outcome.status == status


def test_lost_callback_only_the_query_tells(sim_client, simulator, receiver):
    result = push(sim_client, receiver, phone="0700000005")
    final = wait_final(sim_client, result.checkout_request_id)
    assert final.result_code == "0" and final.is_paid
    time.sleep(0.3)
    assert receiver.matching(STK_PATH) == []
    # A late delivery (Safaricom sometimes sends it after all) through the re-send endpoint:
    response = httpx.post(f"{simulator.base_url}/simulator/stk/{result.checkout_request_id}/resend")
    assert response.status_code == 200 and response.json()["status"] == 200
    (late,) = receiver.wait_for(STK_PATH)
    assert parse_stk_callback(late.body).result_code == "0"


def test_amount_mismatch(sim_client, receiver):
    push(sim_client, receiver, phone="0700000006", amount=500)
    (received,) = receiver.wait_for(STK_PATH)
    callback = parse_stk_callback(received.body)
    assert callback.is_success
    assert callback.amount == Decimal("499.00")


def test_duplicate_delivery(sim_client, receiver):
    push(sim_client, receiver, phone="0700000008")
    first, second = receiver.wait_for(STK_PATH, count=2)
    assert first.body == second.body
    assert parse_stk_callback(first.body).is_success


def test_resend_repeats_the_same_callback(sim_client, simulator, receiver):
    result = push(sim_client, receiver)
    (original,) = receiver.wait_for(STK_PATH)
    response = httpx.post(f"{simulator.base_url}/simulator/stk/{result.checkout_request_id}/resend")
    assert response.status_code == 200
    _, again = receiver.wait_for(STK_PATH, count=2)
    assert again.body == original.body
    assert len(simulator.stk_transaction(result.checkout_request_id)["deliveries"]) == 2


def test_resend_before_the_customer_answered_is_refused(settings, receiver):
    with DarajaSimulator("127.0.0.1", 0, callback_delay=30) as slow:
        settings.MPESA_ENVIRONMENT = "simulator"
        settings.MPESA_BASE_URL = slow.base_url
        with DarajaClient() as client:
            result = push(client, receiver)
        response = httpx.post(f"{slow.base_url}/simulator/stk/{result.checkout_request_id}/resend")
        assert response.status_code == 409
        assert httpx.post(f"{slow.base_url}/simulator/stk/ws_CO_nope/resend").status_code == 404


def test_unreachable_callback_url_is_recorded(sim_client, simulator):
    result = sim_client.stk_push("0708374149", 10, "S-1", "Sale", "http://127.0.0.1:9/hooks/x/")
    assert wait_final(sim_client, result.checkout_request_id).is_paid
    time.sleep(0.2)
    (delivery,) = simulator.stk_transaction(result.checkout_request_id)["deliveries"]
    assert delivery["status"] is None and delivery["error"]


def test_phone_busy_with_another_prompt(sim_client, receiver):
    push(sim_client, receiver, phone="0700000002")
    with pytest.raises(DarajaError) as caught:
        push(sim_client, receiver, phone="0700000002")
    assert caught.value.code == "500.001.1001"
    assert "Unable to lock subscriber" in caught.value.message
    assert caught.value.retryable is True


def test_wrong_passkey_is_wrong_credentials(simulator_settings, receiver):
    simulator_settings.MPESA_PASSKEY = "not-the-passkey"
    with DarajaClient() as client, pytest.raises(DarajaError) as caught:
        push(client, receiver)
    assert caught.value.code == "500.001.1001"
    assert "Wrong credentials" in caught.value.message
    assert caught.value.retryable is False


def test_unknown_shortcode(simulator_settings, receiver):
    simulator_settings.MPESA_SHORTCODE = "600000"
    with DarajaClient() as client, pytest.raises(DarajaError, match="Merchant does not exist"):
        push(client, receiver)


def test_timestamp_in_utc_is_refused(simulator):
    """Stricter than Daraja: a timestamp made in UTC (3 hours off) is caught."""
    utc_stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    response = raw_push(
        simulator, Timestamp=utc_stamp, Password=stk_password("174379", SANDBOX_PASSKEY, utc_stamp)
    )
    assert response.status_code == 400
    assert response.json()["errorMessage"] == "Bad Request - Invalid Timestamp"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"Amount": "10.5"}, "Invalid Amount"),
        ({"Amount": 0}, "Invalid Amount"),
        ({"Amount": 250_001}, "Invalid Amount"),
        ({"Amount": True}, "Invalid Amount"),
        ({"PartyA": "0708374149"}, "Invalid PartyA"),
        ({"PhoneNumber": "+254708374149"}, "Invalid PhoneNumber"),
        ({"PartyB": "12"}, "Invalid PartyB"),
        ({"BusinessShortCode": "17437a"}, "Invalid BusinessShortCode"),
        ({"TransactionType": "CustomerSendMoney"}, "Invalid TransactionType"),
        ({"CallBackURL": "https://pos.example.co.ke/mpesa/cb"}, "Invalid CallBackURL"),
        ({"CallBackURL": "not a url"}, "Invalid CallBackURL"),
        ({"AccountReference": "S-0001234567X"}, "Invalid AccountReference"),
        ({"AccountReference": ""}, "Invalid AccountReference"),
        ({"TransactionDesc": "Payment for S1"}, "Invalid TransactionDesc"),
        ({"Timestamp": "2025-01-01"}, "Invalid Timestamp"),
        ({"Password": ""}, "Invalid Password"),
    ],
)
def test_push_fields_are_validated_like_daraja(simulator, overrides, message):
    response = raw_push(simulator, **overrides)
    assert response.status_code == 400
    body = response.json()
    assert body["errorCode"] == "400.002.02"
    assert body["errorMessage"] == f"Bad Request - {message}"
    assert set(body) == {"requestId", "errorCode", "errorMessage"}


def test_amount_as_a_numeric_string_is_accepted(simulator):
    assert raw_push(simulator, Amount="10").json()["ResponseCode"] == "0"


def test_payload_that_is_not_json(simulator):
    response = httpx.post(
        simulator.base_url + "/mpesa/stkpush/v1/processrequest",
        content=b"{nope",
        headers={"Authorization": f"Bearer {raw_token(simulator)}"},
    )
    assert response.status_code == 400
    assert response.json()["errorCode"] == "400.002.05"


def test_query_unknown_checkout_request(sim_client):
    with pytest.raises(DarajaError, match="Invalid CheckoutRequestID"):
        sim_client.stk_query("ws_CO_000000000000000000")


# ---------------------------------------------------------------------------- OAuth


def test_oauth_needs_basic_auth_and_the_grant_type(simulator):
    url = simulator.base_url + "/oauth/v1/generate"
    no_auth = httpx.get(url, params={"grant_type": "client_credentials"})
    assert (no_auth.status_code, no_auth.json()["errorCode"]) == (400, "400.008.01")
    wrong_grant = httpx.get(url, params={"grant_type": "password"}, auth=("k", "s"))
    assert wrong_grant.json()["errorCode"] == "400.008.02"
    empty_secret = httpx.get(url, params={"grant_type": "client_credentials"}, auth=("k", ""))
    assert empty_secret.json()["errorCode"] == "400.008.01"
    good = httpx.get(url, params={"grant_type": "client_credentials"}, auth=("any", "thing"))
    assert good.status_code == 200
    assert good.json()["expires_in"] == "3599"


def test_unknown_token_is_refused(simulator):
    response = httpx.post(
        simulator.base_url + "/mpesa/stkpushquery/v1/query", json={}, headers={"Authorization": "Bearer nope"}
    )
    assert (response.status_code, response.json()["errorCode"]) == (404, "404.001.03")
    missing = httpx.post(simulator.base_url + "/mpesa/stkpushquery/v1/query", json={})
    assert missing.json()["errorCode"] == "404.001.04"


def test_a_new_token_invalidates_the_old_one_and_the_client_recovers(sim_client, simulator, receiver):
    assert push(sim_client, receiver).response_code == "0"
    cached = sim_client.get_token()
    # Someone else (a second process without the shared cache) fetches a token for the same key:
    stolen = raw_token(simulator, key="simulator-key")
    assert stolen != cached
    result = push(sim_client, receiver, phone="0700000003")  # the client retries with a fresh token
    assert result.response_code == "0"
    assert sim_client.get_token() not in (cached, stolen)


def test_expired_tokens_are_refreshed(sim_client, simulator):
    first = sim_client.get_token()
    httpx.post(simulator.base_url + "/simulator/tokens/expire")
    with pytest.raises(DarajaError, match="Invalid CheckoutRequestID"):
        sim_client.stk_query("ws_CO_unknown")  # reached the query: the token was renewed on the way
    assert sim_client.get_token() != first


def test_token_lifetime_is_honoured(settings, receiver):
    with DarajaSimulator("127.0.0.1", 0, callback_delay=0.1, token_lifetime=1) as short:
        settings.MPESA_ENVIRONMENT = "simulator"
        settings.MPESA_BASE_URL = short.base_url
        with DarajaClient() as client:
            first = client.get_token()
            time.sleep(1.1)
            assert client.get_token() != first


# ---------------------------------------------------------------------------- C2B


def register(client, receiver, response_type="Completed", version="v2", validation="/hooks/s3cr3t/c2b/validate/"):
    validation_url = validation if validation.startswith("http") else receiver.url(validation)
    return client.register_c2b_urls(
        receiver.url("/hooks/s3cr3t/c2b/confirm/"), validation_url, response_type, version=version
    )


def test_register_and_customer_pays_the_paybill(sim_client, simulator, receiver):
    registered = register(sim_client, receiver)
    assert registered.response_code == "0"
    assert simulator.registration("174379")["confirmation_url"].endswith("/c2b/confirm/")

    response = httpx.post(
        simulator.base_url + "/simulator/c2b/pay", json={"phone": "0708 374 149", "amount": "1650", "bill_ref": "S-9"}
    )
    assert response.status_code == 200
    trans_id = response.json()["TransID"]

    (validation,) = receiver.wait_for("/hooks/s3cr3t/c2b/validate/")
    (confirmation,) = receiver.wait_for("/hooks/s3cr3t/c2b/confirm/")
    asked = parse_c2b_validation(validation.body)
    paid = parse_c2b_confirmation(confirmation.body)
    assert asked.trans_id == paid.trans_id == trans_id
    assert paid.transaction_type == "Pay Bill"
    assert paid.amount == Decimal("1650.00")
    assert paid.bill_ref_number == "S-9"
    assert paid.business_shortcode == "174379"
    assert paid.msisdn == "2547 ***** 149"  # v2 masks the number
    assert asked.org_account_balance is None
    assert paid.org_account_balance == Decimal("1650.00")
    assert abs(paid.trans_time - datetime.now(UTC)).total_seconds() < 60
    assert simulator.c2b_transaction(trans_id)["state"] == "confirmed"


def test_daraja_c2b_simulate_till(sim_client, simulator, receiver):
    register(sim_client, receiver)
    result = sim_client.c2b_simulate(
        phone="0708374149", amount=420, bill_ref_number="ignored", command_id="CustomerBuyGoodsOnline"
    )
    assert result.response_code == "0"
    (confirmation,) = receiver.wait_for("/hooks/s3cr3t/c2b/confirm/")
    paid = parse_c2b_confirmation(confirmation.body)
    assert paid.is_buy_goods
    assert paid.transaction_type == "Buy Goods"
    assert paid.bill_ref_number == ""
    assert paid.amount == Decimal("420.00")


def test_v1_registration_hashes_the_msisdn(sim_client, receiver):
    register(sim_client, receiver, version="v1")
    sim_client.c2b_simulate(phone="0708374149", amount=50, bill_ref_number="S-1")
    (confirmation,) = receiver.wait_for("/hooks/s3cr3t/c2b/confirm/")
    assert parse_c2b_confirmation(confirmation.body).msisdn == hashlib.sha256(b"254708374149").hexdigest()


def test_validation_can_refuse_the_payment(sim_client, simulator, receiver):
    receiver.answers["/hooks/s3cr3t/c2b/validate/"] = (200, c2b_validation_rejected())
    register(sim_client, receiver)
    response = httpx.post(simulator.base_url + "/simulator/c2b/pay", json={"phone": "0708374149", "amount": 10})
    trans_id = response.json()["TransID"]
    receiver.wait_for("/hooks/s3cr3t/c2b/validate/")
    time.sleep(0.3)
    assert receiver.matching("/hooks/s3cr3t/c2b/confirm/") == []
    state = simulator.c2b_transaction(trans_id)
    assert state["state"] == "rejected"
    assert state["validation_result"] == {"ResultCode": "C2B00012", "ResultDesc": "Rejected"}


@pytest.mark.parametrize("response_type, confirmed", [("Completed", True), ("Cancelled", False)])
def test_unreachable_validation_follows_the_response_type(sim_client, simulator, receiver, response_type, confirmed):
    register(sim_client, receiver, response_type=response_type, validation="http://127.0.0.1:9/hooks/v/")
    trans_id = httpx.post(
        simulator.base_url + "/simulator/c2b/pay", json={"phone": "0708374149", "amount": 10}
    ).json()["TransID"]
    if confirmed:
        receiver.wait_for("/hooks/s3cr3t/c2b/confirm/")
    else:
        time.sleep(0.5)
        assert receiver.matching("/hooks/s3cr3t/c2b/confirm/") == []
    assert simulator.c2b_transaction(trans_id)["state"] == ("confirmed" if confirmed else "rejected")


def test_no_validation_when_not_enabled(simulator_settings, receiver):
    with DarajaSimulator("127.0.0.1", 0, callback_delay=0.1, external_validation=False) as sim:
        simulator_settings.MPESA_BASE_URL = sim.base_url
        with DarajaClient() as client:
            register(client, receiver)
        sim.c2b_pay(phone="254708374149", amount=20, bill_ref_number="S-2")
        receiver.wait_for("/hooks/s3cr3t/c2b/confirm/")
        assert receiver.matching("/hooks/s3cr3t/c2b/validate/") == []


def test_confirmation_can_be_resent(sim_client, simulator, receiver):
    register(sim_client, receiver)
    trans_id = simulator.c2b_pay(phone="254708374149", amount=20).trans_id
    receiver.wait_for("/hooks/s3cr3t/c2b/confirm/")
    assert httpx.post(f"{simulator.base_url}/simulator/c2b/{trans_id}/resend").status_code == 200
    first, second = receiver.wait_for("/hooks/s3cr3t/c2b/confirm/", count=2)
    assert first.body == second.body


def test_c2b_pay_needs_registered_urls(simulator):
    response = httpx.post(simulator.base_url + "/simulator/c2b/pay", json={"phone": "0708374149", "amount": 10})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "payload",
    [{"phone": "0812345678", "amount": 10}, {"phone": "0708374149", "amount": "10.50"}, {"phone": "0708374149"}],
)
def test_c2b_pay_bad_input(sim_client, simulator, receiver, payload):
    register(sim_client, receiver)
    response = httpx.post(simulator.base_url + "/simulator/c2b/pay", json=payload)
    assert response.status_code == 400
    assert response.json()["errorCode"] == "400.002.02"


@pytest.mark.parametrize(
    "payload, message",
    [
        ({"ResponseType": "completed"}, "Invalid ResponseType"),
        ({"ConfirmationURL": "https://x.co.ke/mpesa/confirm"}, "Invalid ConfirmationURL"),
        ({"ValidationURL": "https://x.co.ke/sql/validate"}, "Invalid ValidationURL"),
        ({"ShortCode": "12"}, "Invalid ShortCode"),
    ],
)
def test_register_url_validation(simulator, payload, message):
    body = {
        "ShortCode": "174379",
        "ResponseType": "Completed",
        "ConfirmationURL": "https://x.co.ke/h/c",
        "ValidationURL": "https://x.co.ke/h/v",
    } | payload
    response = httpx.post(
        simulator.base_url + "/mpesa/c2b/v2/registerurl",
        json=body,
        headers={"Authorization": f"Bearer {raw_token(simulator)}"},
    )
    assert response.status_code == 400
    assert response.json()["errorMessage"] == f"Bad Request - {message}"


def test_registrations_survive_a_restart(tmp_path, simulator_settings, receiver):
    state = tmp_path / "sim.json"
    with DarajaSimulator("127.0.0.1", 0, callback_delay=0.1, state_file=state) as first:
        simulator_settings.MPESA_BASE_URL = first.base_url
        with DarajaClient() as client:
            register(client, receiver)
    with DarajaSimulator("127.0.0.1", 0, callback_delay=0.1, state_file=state) as second:
        assert second.registration("174379")["validation_url"] == receiver.url("/hooks/s3cr3t/c2b/validate/")
        second.c2b_pay(phone="254708374149", amount=5)
        receiver.wait_for("/hooks/s3cr3t/c2b/confirm/")


# ---------------------------------------------------------------------------- simulator-only endpoints


def test_help_lists_the_demo_phones(simulator):
    body = httpx.get(simulator.base_url + "/simulator/").json()
    assert body["phones"]["254700000001"] == "cancel"
    assert set(DEMO_PHONES.values()) | {Behaviour.PAY} == set(Behaviour)


def test_state_and_reset(sim_client, simulator, receiver):
    push(sim_client, receiver)
    state = httpx.get(simulator.base_url + "/simulator/state").json()
    assert len(state["stk"]) == 1 and state["tokens"] == 1
    assert httpx.post(simulator.base_url + "/simulator/reset").status_code == 200
    assert httpx.get(simulator.base_url + "/simulator/state").json()["stk"] == []


def test_unknown_paths(simulator):
    assert httpx.get(simulator.base_url + "/mpesa/nothing").status_code == 404
    assert httpx.get(simulator.base_url + "/simulator/nothing").status_code == 404
    assert httpx.get(simulator.base_url + "/simulator/c2b/NOPE").status_code == 404


# ---------------------------------------------------------------------------- the management command


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_management_command_serves_in_the_foreground(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MPESA_")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.test", ENV_FILE="/nonexistent")
    process = subprocess.Popen(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "daraja_simulator", "--port", str(port), "--delay", "0.1",
         "--state-file", str(tmp_path / "state.json")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                body = httpx.get(f"http://127.0.0.1:{port}/simulator/", timeout=1).json()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError("the simulator did not start") from None
                time.sleep(0.2)
        assert body["callback_delay_seconds"] == 0.1
        assert "174379" in body["shortcodes"]
        token = httpx.get(
            f"http://127.0.0.1:{port}/oauth/v1/generate", params={"grant_type": "client_credentials"}, auth=("a", "b")
        )
        assert token.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=10)
    assert "0700000001  cancel" in output
    assert process.returncode == 0

