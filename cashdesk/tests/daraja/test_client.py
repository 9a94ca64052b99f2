"""The Daraja client against respx: tokens, the STK push/query requests, and every kind of failure."""

import base64
import json
import logging
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from django.core.cache import cache

from cashdesk.mpesa.daraja import client as client_module
from cashdesk.mpesa.daraja.callbacks import StkStatus
from cashdesk.mpesa.daraja.client import (
    DarajaClient,
    DarajaError,
    DarajaInputError,
    daraja_timestamp,
    parse_expires_in,
    stk_password,
    whole_shillings,
)
from cashdesk.mpesa.daraja.config import SANDBOX_PASSKEY
from cashdesk.tests.daraja_support import sample

pytestmark = pytest.mark.sqlite_only

CALLBACK = "https://pos.example.co.ke/hooks/s3cr3t/stk/"
PUSH = "/mpesa/stkpush/v1/processrequest"
QUERY = "/mpesa/stkpushquery/v1/query"


def push(client, **overrides):
    arguments = {
        "phone": "0712 345 678",
        "amount": Decimal("100.00"),
        "account_reference": "S-000123",
        "description": "Sale S-000123",
        "callback_url": CALLBACK,
    }
    arguments.update(overrides)
    return client.stk_push(**arguments)


class FakeClock:
    def __init__(self, start: float = 1_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(client_module, "_wall_clock", fake)
    return fake


# ---------------------------------------------------------------------------- OAuth token


def test_token_uses_basic_auth_and_is_cached(client, daraja, token_route):
    assert client.get_token() == "tok-1"
    assert client.get_token() == "tok-1"
    assert token_route.call_count == 1
    request = token_route.calls.last.request
    assert request.url.params["grant_type"] == "client_credentials"
    expected = base64.b64encode(b"test-consumer-key:test-consumer-secret-value").decode()
    assert request.headers["Authorization"] == f"Basic {expected}"


def test_token_cache_is_shared_between_clients(sandbox_settings, daraja, token_route):
    """Two clients (two tasks, or two processes on Redis) share one token: a second one would kill the first."""
    with DarajaClient() as first, DarajaClient() as second:
        assert first.get_token() == second.get_token() == "tok-1"
    assert token_route.call_count == 1


@pytest.mark.parametrize("expires_in", ["3599", 3599, " 3599 ", 3599.0])
def test_expires_in_is_parsed_as_string_or_number(client, daraja, clock, expires_in):
    route = daraja.get("/oauth/v1/generate").mock(
        side_effect=[
            httpx.Response(200, json={"access_token": "tok-1", "expires_in": expires_in}),
            httpx.Response(200, json={"access_token": "tok-2", "expires_in": expires_in}),
        ]
    )
    assert client.get_token() == "tok-1"
    clock.now += 3599 - 121  # still more than the refresh margin (120 s) left
    assert client.get_token() == "tok-1"
    clock.now += 2  # within the margin: refresh before Daraja refuses it
    assert client.get_token() == "tok-2"
    assert route.call_count == 2


def test_short_lived_token_gets_a_proportional_margin(client, daraja, clock):
    daraja.get("/oauth/v1/generate").mock(
        side_effect=[
            httpx.Response(200, json={"access_token": "short", "expires_in": 60}),
            httpx.Response(200, json={"access_token": "next", "expires_in": 60}),
        ]
    )
    assert client.get_token() == "short"
    clock.now += 53  # margin is 6 s (a tenth of 60 s), so 7 s left is still fine
    assert client.get_token() == "short"
    clock.now += 2
    assert client.get_token() == "next"


@pytest.mark.parametrize("expires_in", ["abc", "", None, 0, -5, True, "35.5", [3599]])
def test_unusable_expires_in_is_a_daraja_error(client, daraja, expires_in):
    daraja.get("/oauth/v1/generate").respond(200, json={"access_token": "tok", "expires_in": expires_in})
    with pytest.raises(DarajaError) as caught:
        client.get_token()
    assert caught.value.code == "bad_response"
    assert cache.get(client._token_key) is None


def test_parse_expires_in_both_forms():
    assert parse_expires_in("3599") == parse_expires_in(3599) == 3599
    with pytest.raises(ValueError):
        parse_expires_in("soon")


def test_token_answer_without_access_token(client, daraja):
    daraja.get("/oauth/v1/generate").respond(200, json={"expires_in": "3599"})
    with pytest.raises(DarajaError, match="without access_token"):
        client.get_token()


def test_refused_credentials_are_not_retryable(client, daraja):
    daraja.get("/oauth/v1/generate").respond(
        400, json={"requestId": "1-2-3", "errorCode": "400.008.01", "errorMessage": "Invalid Authentication passed"}
    )
    with pytest.raises(DarajaError) as caught:
        client.get_token()
    assert caught.value.code == "400.008.01"
    assert caught.value.retryable is False
    assert caught.value.request_id == "1-2-3"


def test_refused_credentials_with_an_empty_body(client, daraja):
    daraja.get("/oauth/v1/generate").respond(400, content=b"")
    with pytest.raises(DarajaError) as caught:
        client.get_token()
    assert caught.value.code == "bad_response"
    assert caught.value.http_status == 400
    assert caught.value.retryable is False


def test_oauth_result_code_shape(client, daraja):
    daraja.get("/oauth/v1/generate").respond(400, json={"resultCode": "999991", "resultDesc": "Invalid client id"})
    with pytest.raises(DarajaError) as caught:
        client.get_token()
    assert caught.value.code == "999991"


def test_sandbox_without_credentials_is_not_configured(sandbox_settings, daraja):
    sandbox_settings.MPESA_CONSUMER_KEY = ""
    with DarajaClient() as unconfigured, pytest.raises(DarajaError) as caught:
        unconfigured.get_token()
    assert caught.value.code == "not_configured"


def test_concurrent_refresh_fetches_one_token(sandbox_settings, daraja):
    """Two workers needing a token at once: one fetches under the lock, the other waits and reuses it."""

    issued = []

    def slow_token(request):
        time.sleep(0.3)
        issued.append(f"tok-{len(issued) + 1}")
        return httpx.Response(200, json={"access_token": issued[-1], "expires_in": "3599"})

    route = daraja.get("/oauth/v1/generate").mock(side_effect=slow_token)
    tokens = []
    barrier = threading.Barrier(3)

    def worker():
        with DarajaClient() as worker_client:
            barrier.wait()
            tokens.append(worker_client.get_token())

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert route.call_count == 1
    assert tokens == ["tok-1"] * 3


def test_waiting_for_another_refresh_reuses_its_token(client, daraja):
    route = daraja.get("/oauth/v1/generate").respond(200, json={"access_token": "mine", "expires_in": "3599"})
    lock_key = client._token_key + ":lock"
    assert cache.add(lock_key, "another-process", timeout=30)
    result = []
    waiter = threading.Thread(target=lambda: result.append(client.get_token()))
    waiter.start()
    time.sleep(0.2)
    cache.set(
        client._token_key,
        {"token": "theirs", "expires_at": time.time() + 3599, "margin": 120},
        timeout=3000,
    )
    waiter.join(timeout=5)
    assert result == ["theirs"]
    assert route.call_count == 0


# ---------------------------------------------------------------------------- STK push request


def test_stk_push_request_and_result(sandbox_settings, daraja, token_route):
    moment = datetime(2025, 11, 22, 21, 30, 5, tzinfo=UTC)  # 00:30:05 on the 23rd in Nairobi
    route = daraja.post(PUSH).respond(200, json=sample("stk_push_response"))
    with DarajaClient(now=lambda: moment) as client:
        result = push(client)
    body = json.loads(route.calls.last.request.content)
    assert body["Timestamp"] == "20251123003005"
    assert body["Password"] == base64.b64encode(f"174379{SANDBOX_PASSKEY}20251123003005".encode()).decode()
    assert base64.b64decode(body["Password"]).decode() == "174379" + SANDBOX_PASSKEY + "20251123003005"
    assert body == {
        "BusinessShortCode": "174379",
        "Password": body["Password"],
        "Timestamp": "20251123003005",
        "TransactionType": "CustomerPayBillOnline",
        "Amount": 100,
        "PartyA": "254712345678",
        "PartyB": "174379",
        "PhoneNumber": "254712345678",
        "CallBackURL": CALLBACK,
        "AccountReference": "S-000123",
        "TransactionDesc": "Sale S-000123",
    }
    assert route.calls.last.request.headers["Authorization"] == "Bearer tok-1"
    assert result.checkout_request_id == "ws_CO_191220191020363925"
    assert result.merchant_request_id == "29115-34620561-1"
    assert result.response_code == "0"
    assert result.customer_message == "Success. Request accepted for processing"
    assert result.amount == Decimal("100") and isinstance(result.amount, Decimal)
    assert result.phone == "254712345678"
    assert result.timestamp == "20251123003005"


def test_timestamp_is_kenya_time_whatever_the_input_zone():
    assert daraja_timestamp(datetime(2025, 1, 1, 0, 0, 0, tzinfo=UTC)) == "20250101030000"
    with pytest.raises(ValueError):
        daraja_timestamp(datetime(2025, 1, 1))  # naive: ambiguous


def test_stk_password():
    assert stk_password("174379", "key", "20250101030000") == base64.b64encode(b"174379key20250101030000").decode()


@pytest.mark.parametrize(
    "phone, expected",
    [("0712345678", "254712345678"), ("+254 110 123 456", "254110123456"), ("712-345-678", "254712345678")],
)
def test_phone_is_normalised(client, daraja, token_route, phone, expected):
    route = daraja.post(PUSH).respond(200, json=sample("stk_push_response"))
    push(client, phone=phone)
    body = json.loads(route.calls.last.request.content)
    assert body["PartyA"] == body["PhoneNumber"] == expected


def test_buy_goods_sends_the_till_number(sandbox_settings, daraja, token_route):
    sandbox_settings.MPESA_TRANSACTION_TYPE = "CustomerBuyGoodsOnline"
    sandbox_settings.MPESA_PARTY_B = "5123456"
    route = daraja.post(PUSH).respond(200, json=sample("stk_push_response"))
    with DarajaClient() as client:
        push(client)
        body = json.loads(route.calls.last.request.content)
        assert (body["TransactionType"], body["BusinessShortCode"], body["PartyB"]) == (
            "CustomerBuyGoodsOnline",
            "174379",
            "5123456",
        )
        push(client, party_b="7654321")  # a branch's own till
        assert json.loads(route.calls.last.request.content)["PartyB"] == "7654321"


@pytest.mark.parametrize(
    "amount, expected", [(Decimal("100.00"), 100), (100, 100), ("250", 250), ("1", 1), (Decimal("250000"), 250000)]
)
def test_whole_shillings_accepted(amount, expected):
    assert whole_shillings(amount) == expected


@pytest.mark.parametrize(
    "amount, words",
    [
        (Decimal("10.50"), "whole shillings"),
        ("99.99", "whole shillings"),
        (Decimal("0.4"), "whole shillings"),
        (0, "at least KES 1"),
        (Decimal("-5"), "at least KES 1"),
        (10.0, "never float"),
        ("ten", "not an amount"),
        (Decimal("NaN"), "not an amount"),
        (True, "Enter an M-Pesa amount"),
        (None, "Enter an M-Pesa amount"),
        (250_001, "at most"),
    ],
)
def test_bad_amounts_are_refused_before_anything_is_sent(client, daraja, token_route, amount, words):
    route = daraja.post(PUSH).respond(200, json=sample("stk_push_response"))
    with pytest.raises(DarajaInputError, match=words) as caught:
        push(client, amount=amount)
    assert caught.value.code == "invalid_amount"
    assert caught.value.field == "amount"
    assert route.call_count == 0


@pytest.mark.parametrize(
    "overrides, code",
    [
        ({"phone": "0812 345 678"}, "invalid_phone"),
        ({"phone": "+255712345678"}, "invalid_phone"),
        ({"phone": ""}, "invalid_phone"),
        ({"account_reference": "S-0001234567X"}, "invalid_account_reference"),  # 13 characters
        ({"account_reference": "  "}, "invalid_account_reference"),
        ({"description": "Payment for S1"}, "invalid_description"),  # 14 characters
        ({"description": ""}, "invalid_description"),
        ({"callback_url": "https://pos.example.co.ke/mpesa/callback/"}, "invalid_callback_url"),
        ({"callback_url": "https://pos.example.co.ke/hooks/Safaricom/"}, "invalid_callback_url"),
        ({"callback_url": "http://pos.example.co.ke/hooks/x/"}, "invalid_callback_url"),  # not https
        ({"callback_url": "https://127.0.0.1/hooks/x/"}, "invalid_callback_url"),
        ({"transaction_type": "CustomerSendMoney"}, "invalid_transaction_type"),
        ({"party_b": "12"}, "invalid_party_b"),
    ],
)
def test_bad_push_input_is_refused_before_anything_is_sent(client, daraja, token_route, overrides, code):
    route = daraja.post(PUSH).respond(200, json=sample("stk_push_response"))
    with pytest.raises(DarajaInputError) as caught:
        push(client, **overrides)
    assert caught.value.code == code
    assert caught.value.retryable is False
    assert route.call_count == 0


def test_limits_of_reference_and_description_are_accepted(client, daraja, token_route):
    route = daraja.post(PUSH).respond(200, json=sample("stk_push_response"))
    push(client, account_reference="S-0001234567", description="Sale S-000123")  # 12 and 13 characters
    assert route.call_count == 1


# ---------------------------------------------------------------------------- failures become DarajaError


def test_push_error_body(client, daraja, token_route):
    daraja.post(PUSH).respond(400, json=sample("stk_push_error"))
    with pytest.raises(DarajaError) as caught:
        push(client)
    error = caught.value
    assert not isinstance(error, DarajaInputError)
    assert error.code == "400.002.02"
    assert "Invalid PhoneNumber" in error.message
    assert error.request_id == "11728-2929992-1"
    assert error.http_status == 400
    assert error.retryable is False
    assert error.body == sample("stk_push_error")


@pytest.mark.parametrize(
    "message, retryable",
    [
        ("Unable to lock subscriber, a transaction is already in process for the current subscriber", True),
        ("Wrong credentials", False),
        ("Merchant does not exist", False),
        ("Internal Server Error", True),
    ],
)
def test_server_errors_say_whether_to_retry(client, daraja, token_route, message, retryable):
    daraja.post(PUSH).respond(500, json={"requestId": "x", "errorCode": "500.001.1001", "errorMessage": message})
    with pytest.raises(DarajaError) as caught:
        push(client)
    assert caught.value.retryable is retryable
    assert caught.value.code == "500.001.1001"


def test_spike_arrest_is_retryable(client, daraja, token_route):
    daraja.post(PUSH).respond(429, json={"requestId": "x", "errorCode": "500.003.02", "errorMessage": "Spike arrest"})
    with pytest.raises(DarajaError) as caught:
        push(client)
    assert caught.value.retryable is True


def test_gateway_fault_shape(client, daraja, token_route):
    daraja.post(PUSH).respond(
        503, json={"fault": {"faultstring": "The Service is temporarily unavailable", "detail": {"errorcode": "x.y"}}}
    )
    with pytest.raises(DarajaError) as caught:
        push(client)
    assert caught.value.code == "x.y"
    assert caught.value.retryable is True


@pytest.mark.parametrize(
    "status, content, retryable",
    [(502, b"<html>Bad gateway</html>", True), (200, b"OK", False), (200, b"[1, 2]", False), (500, b"", True)],
)
def test_non_json_answers(client, daraja, token_route, status, content, retryable):
    daraja.post(PUSH).respond(status, content=content)
    with pytest.raises(DarajaError) as caught:
        push(client)
    assert caught.value.code == "bad_response"
    assert caught.value.retryable is retryable


def test_unknown_http_error_without_error_body(client, daraja, token_route):
    daraja.post(PUSH).respond(403, json={"detail": "forbidden"})
    with pytest.raises(DarajaError) as caught:
        push(client)
    assert caught.value.code == "http_403"
    assert caught.value.retryable is False


def test_push_not_accepted_with_a_200(client, daraja, token_route):
    daraja.post(PUSH).respond(200, json={"ResponseCode": "1", "ResponseDescription": "Rejected"})
    with pytest.raises(DarajaError, match="Rejected"):
        push(client)


@pytest.mark.parametrize(
    "exception, code",
    [
        (httpx.ReadTimeout("slow"), "timeout"),
        (httpx.WriteTimeout("slow"), "timeout"),
        (httpx.ConnectTimeout("slow"), "unreachable"),
        (httpx.ConnectError("refused"), "unreachable"),
        (httpx.RemoteProtocolError("reset"), "network"),
    ],
)
def test_network_failures(client, daraja, token_route, exception, code):
    daraja.post(PUSH).mock(side_effect=exception)
    with pytest.raises(DarajaError) as caught:
        push(client)
    assert caught.value.code == code
    assert caught.value.retryable is True


def test_token_endpoint_timeout(client, daraja):
    daraja.get("/oauth/v1/generate").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(DarajaError) as caught:
        client.get_token()
    assert caught.value.code == "timeout"


def test_every_call_has_the_configured_timeout(sandbox_settings, daraja, token_route):
    sandbox_settings.MPESA_TIMEOUT = 7
    route = daraja.post(PUSH).respond(200, json=sample("stk_push_response"))
    with DarajaClient() as client:
        push(client)
    for call in (token_route.calls.last, route.calls.last):
        assert call.request.extensions["timeout"] == {"connect": 7, "read": 7, "write": 7, "pool": 7}


def test_invalid_access_token_is_retried_once_with_a_fresh_token(client, daraja):
    tokens = daraja.get("/oauth/v1/generate").mock(
        side_effect=[
            httpx.Response(200, json={"access_token": "old", "expires_in": "3599"}),
            httpx.Response(200, json={"access_token": "new", "expires_in": "3599"}),
        ]
    )
    invalid = {"requestId": "1", "errorCode": "404.001.03", "errorMessage": "Invalid Access Token"}
    route = daraja.post(PUSH).mock(
        side_effect=[httpx.Response(404, json=invalid), httpx.Response(200, json=sample("stk_push_response"))]
    )
    result = push(client)
    assert result.checkout_request_id == "ws_CO_191220191020363925"
    assert [call.request.headers["Authorization"] for call in route.calls] == ["Bearer old", "Bearer new"]
    assert tokens.call_count == 2
    assert client.get_token() == "new"  # the fresh token is the cached one now


def test_refused_token_is_never_reused_even_if_the_cache_keeps_it(client, daraja, monkeypatch):
    """If dropping the cached token fails (cache hiccup), the retry still asks for a new one."""
    monkeypatch.setattr(client, "_drop_token", lambda token: None)
    daraja.get("/oauth/v1/generate").mock(
        side_effect=[
            httpx.Response(200, json={"access_token": "old", "expires_in": "3599"}),
            httpx.Response(200, json={"access_token": "new", "expires_in": "3599"}),
        ]
    )
    invalid = {"requestId": "1", "errorCode": "404.001.03", "errorMessage": "Invalid Access Token"}
    route = daraja.post(PUSH).mock(
        side_effect=[httpx.Response(404, json=invalid), httpx.Response(200, json=sample("stk_push_response"))]
    )
    push(client)
    assert route.calls.last.request.headers["Authorization"] == "Bearer new"


def test_invalid_access_token_twice_gives_up(client, daraja):
    daraja.get("/oauth/v1/generate").mock(
        side_effect=[
            httpx.Response(200, json={"access_token": f"t{i}", "expires_in": "3599"}) for i in range(3)
        ]
    )
    invalid = {"requestId": "1", "errorCode": "404.001.03", "errorMessage": "Invalid Access Token"}
    route = daraja.post(PUSH).respond(404, json=invalid)
    with pytest.raises(DarajaError) as caught:
        push(client)
    assert caught.value.code == "404.001.03"
    assert caught.value.retryable is False
    assert route.call_count == 2


def test_secrets_and_phone_numbers_stay_out_of_the_logs(client, daraja, token_route, caplog):
    daraja.post(PUSH).respond(400, json=sample("stk_push_error"))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DarajaError):
        push(client, phone="0712345678")
    text = caplog.text + repr(client.config)
    for secret in ("test-consumer-key", "test-consumer-secret-value", SANDBOX_PASSKEY, "tok-1", "712345678"):
        assert secret not in text
    assert "25471••••678" in caplog.text


# ---------------------------------------------------------------------------- STK query


def test_query_pending_is_a_distinct_result(client, daraja, token_route):
    route = daraja.post(QUERY).respond(500, json=sample("stk_query_pending"))
    result = client.stk_query("ws_CO_191220191020363925")
    assert result.pending is True
    assert result.result_code is None
    assert result.outcome is None
    assert result.is_paid is False
    assert "being processed" in result.result_desc
    body = json.loads(route.calls.last.request.content)
    assert set(body) == {"BusinessShortCode", "Password", "Timestamp", "CheckoutRequestID"}
    assert body["CheckoutRequestID"] == "ws_CO_191220191020363925"
    assert base64.b64decode(body["Password"]).decode() == f"174379{SANDBOX_PASSKEY}{body['Timestamp']}"


def test_query_still_under_processing_code(client, daraja, token_route):
    daraja.post(QUERY).respond(
        200, json={"ResponseCode": "0", "ResultCode": "4999", "ResultDesc": "The transaction is still under processing"}
    )
    assert client.stk_query("ws_CO_1").pending is True


def test_query_success(client, daraja, token_route):
    daraja.post(QUERY).respond(200, json=sample("stk_query_response_success"))
    result = client.stk_query("ws_CO_191220191020363925")
    assert (result.pending, result.result_code, result.is_paid) == (False, "0", True)
    assert result.merchant_request_id == "29115-34620561-1"
    assert result.outcome.status == StkStatus.PAID


def test_query_cancelled(client, daraja, token_route):
    daraja.post(QUERY).respond(200, json=sample("stk_query_response_cancelled"))
    result = client.stk_query("ws_CO_191220191020363926")
    assert (result.pending, result.result_code, result.is_paid) == (False, "1032", False)
    assert result.outcome.status == StkStatus.CANCELLED


def test_query_numeric_result_code_is_a_string(client, daraja, token_route):
    daraja.post(QUERY).respond(200, json={"ResponseCode": "0", "ResultCode": 1037, "ResultDesc": "DS timeout"})
    assert client.stk_query("ws_CO_1").result_code == "1037"


def test_query_unknown_checkout_id_is_an_error(client, daraja, token_route):
    daraja.post(QUERY).respond(
        400,
        json={"requestId": "x", "errorCode": "400.002.02", "errorMessage": "Bad Request - Invalid CheckoutRequestID"},
    )
    with pytest.raises(DarajaError) as caught:
        client.stk_query("ws_CO_unknown")
    assert caught.value.code == "400.002.02"


def test_query_answer_without_result_code(client, daraja, token_route):
    daraja.post(QUERY).respond(200, json={"ResponseCode": "0"})
    with pytest.raises(DarajaError) as caught:
        client.stk_query("ws_CO_1")
    assert caught.value.code == "bad_response"


def test_query_needs_an_id(client, daraja):
    with pytest.raises(DarajaInputError):
        client.stk_query("  ")


# ---------------------------------------------------------------------------- C2B


def test_register_c2b_urls_v2(client, daraja, token_route):
    route = daraja.post("/mpesa/c2b/v2/registerurl").respond(
        200, json={"OriginatorCoversationID": "7619-37765134-1", "ResponseCode": "0", "ResponseDescription": "success"}
    )
    result = client.register_c2b_urls(
        "https://pos.example.co.ke/hooks/s3cr3t/c2b/confirm/",
        "https://pos.example.co.ke/hooks/s3cr3t/c2b/validate/",
        "Completed",
    )
    assert json.loads(route.calls.last.request.content) == {
        "ShortCode": "174379",
        "ResponseType": "Completed",
        "ConfirmationURL": "https://pos.example.co.ke/hooks/s3cr3t/c2b/confirm/",
        "ValidationURL": "https://pos.example.co.ke/hooks/s3cr3t/c2b/validate/",
    }
    assert result.originator_conversation_id == "7619-37765134-1"
    assert result.response_code == "0"


def test_register_c2b_urls_v1_and_another_shortcode(client, daraja, token_route):
    route = daraja.post("/mpesa/c2b/v1/registerurl").respond(200, json={"ResponseCode": "0"})
    client.register_c2b_urls(
        "https://pos.example.co.ke/h/c", "https://pos.example.co.ke/h/v", "Cancelled", shortcode="600638", version="v1"
    )
    assert json.loads(route.calls.last.request.content)["ShortCode"] == "600638"


@pytest.mark.parametrize(
    "arguments, code",
    [
        (("https://a.co.ke/h/c", "https://a.co.ke/h/v", "completed"), "invalid_response_type"),
        (("https://a.co.ke/mpesa/c", "https://a.co.ke/h/v", "Completed"), "invalid_callback_url"),
        (("https://a.co.ke/h/c", "https://a.co.ke/h/query", "Completed"), "invalid_callback_url"),
        (("https://a.co.ke/h/c", "", "Completed"), "invalid_callback_url"),
    ],
)
def test_register_c2b_urls_refuses_bad_input(client, daraja, arguments, code):
    with pytest.raises(DarajaInputError) as caught:
        client.register_c2b_urls(*arguments)
    assert caught.value.code == code


def test_c2b_simulate_does_not_exist_in_production(sandbox_settings, daraja):
    sandbox_settings.MPESA_ENVIRONMENT = "production"
    with DarajaClient() as production, pytest.raises(DarajaInputError):
        production.c2b_simulate(phone="0712345678", amount=10)
