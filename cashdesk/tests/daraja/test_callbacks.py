"""The callback parsers replay every sample payload and refuse every malformed variant."""

import copy
import json
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from cashdesk.mpesa.daraja.callbacks import (
    CallbackShapeError,
    StkStatus,
    load_body,
    parse_c2b_confirmation,
    parse_c2b_validation,
    parse_stk_callback,
    result_message,
)
from cashdesk.mpesa.daraja.responses import (
    C2BRejection,
    c2b_confirmation_received,
    c2b_validation_accepted,
    c2b_validation_rejected,
    is_acceptance,
    stk_callback_accepted,
)
from cashdesk.tests.daraja_support import SAMPLES, sample, sample_bytes

pytestmark = pytest.mark.sqlite_only

NAIROBI = ZoneInfo("Africa/Nairobi")


def test_every_sample_is_replayed_here():
    """A new sample file must get a test (the names below are the ones this module covers)."""
    covered = {
        "c2b_confirmation_paybill",
        "c2b_confirmation_till",
        "c2b_validation",
        "stk_callback_cancelled",
        "stk_callback_insufficient",
        "stk_callback_success",
        "stk_callback_timeout",
        "stk_push_error",
        "stk_push_response",
        "stk_query_pending",
        "stk_query_response_cancelled",
        "stk_query_response_success",
    }
    assert {path.stem for path in SAMPLES.glob("*.json")} == covered


# ---------------------------------------------------------------------------- STK callback samples


def test_success_sample():
    callback = parse_stk_callback(sample_bytes("stk_callback_success"))
    assert callback.merchant_request_id == "29115-34620561-1"
    assert callback.checkout_request_id == "ws_CO_191220191020363925"
    assert callback.result_code == "0"
    assert callback.is_success
    assert callback.result_desc == "The service request is processed successfully."
    assert callback.amount == Decimal("1650.00")
    assert isinstance(callback.amount, Decimal)
    assert callback.receipt_number == "NLJ7RT61SV"
    assert callback.balance is None  # "Balance" came without a Value
    assert callback.transaction_date == datetime(2019, 12, 19, 10, 21, 15, tzinfo=NAIROBI)
    assert callback.transaction_date.utcoffset() == timedelta(hours=3)
    assert callback.phone == "254708374149"
    assert isinstance(callback.phone, str)
    assert callback.phone_e164 == "+254708374149"
    assert callback.outcome.status == StkStatus.PAID
    assert callback.raw == sample("stk_callback_success")


@pytest.mark.parametrize(
    "name, code, status, retry",
    [
        ("stk_callback_cancelled", "1032", StkStatus.CANCELLED, True),
        ("stk_callback_timeout", "1037", StkStatus.TIMED_OUT, True),
        ("stk_callback_insufficient", "1", StkStatus.FAILED, True),
    ],
)
def test_failure_samples(name, code, status, retry):
    callback = parse_stk_callback(sample_bytes(name))
    assert callback.result_code == code
    assert not callback.is_success
    assert (callback.amount, callback.receipt_number, callback.transaction_date, callback.phone) == (
        None,
        None,
        None,
        None,
    )
    assert callback.outcome.status == status
    assert callback.outcome.retry is retry
    assert callback.checkout_request_id.startswith("ws_CO_")


def test_body_as_str_bytes_or_decoded_dict_gives_the_same_result():
    raw = sample_bytes("stk_callback_success")
    from_dict = parse_stk_callback(json.loads(raw))  # floats from a plain json.loads
    assert parse_stk_callback(raw) == parse_stk_callback(raw.decode()) == from_dict
    assert from_dict.amount == Decimal("1650.00")


def test_items_are_read_by_name_not_position():
    body = sample("stk_callback_success")
    items = body["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    items.reverse()
    items.insert(1, {"Name": "SomethingNew", "Value": "x"})
    callback = parse_stk_callback(body)
    assert callback.amount == Decimal("1650.00")
    assert callback.receipt_number == "NLJ7RT61SV"
    assert callback.items["SomethingNew"] == "x"


def test_balance_with_a_value_and_phone_as_text():
    body = sample("stk_callback_success")
    items = body["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    items[2] = {"Name": "Balance", "Value": "1200.50"}
    items[4] = {"Name": "PhoneNumber", "Value": "2547 ***** 149"}
    items[3] = {"Name": "TransactionDate", "Value": "20191219102115"}
    callback = parse_stk_callback(body)
    assert callback.balance == Decimal("1200.50")
    assert callback.phone == "2547 ***** 149"
    assert callback.phone_e164 is None
    assert callback.transaction_date == datetime(2019, 12, 19, 10, 21, 15, tzinfo=NAIROBI)


def test_balance_free_text_is_tolerated():
    body = sample("stk_callback_success")
    body["Body"]["stkCallback"]["CallbackMetadata"]["Item"][2]["Value"] = "{Amount={BasicAmount=46.00}}"
    assert parse_stk_callback(body).balance is None


def test_phone_and_date_are_optional_on_success():
    body = sample("stk_callback_success")
    body["Body"]["stkCallback"]["CallbackMetadata"]["Item"] = [
        {"Name": "Amount", "Value": 10},
        {"Name": "MpesaReceiptNumber", "Value": "nlj7rt61sv"},
    ]
    callback = parse_stk_callback(body)
    assert (callback.amount, callback.receipt_number, callback.phone, callback.transaction_date) == (
        Decimal("10.00"),
        "NLJ7RT61SV",
        None,
        None,
    )


def test_non_numeric_result_code_is_kept_as_text():
    body = sample("stk_callback_cancelled")
    body["Body"]["stkCallback"]["ResultCode"] = "SFC_IC0003"
    body["Body"]["stkCallback"]["ResultDesc"] = "Operator does not exist"
    callback = parse_stk_callback(body)
    assert callback.result_code == "SFC_IC0003"
    assert callback.outcome.status == StkStatus.FAILED
    assert "Operator does not exist" in callback.outcome.message


def _stk(mutate):
    body = sample("stk_callback_success")
    mutate(body, body["Body"]["stkCallback"])
    return body


def _item(stk, name):
    return next(item for item in stk["CallbackMetadata"]["Item"] if item["Name"] == name)


MALFORMED_STK = {
    "no Body": lambda b, s: b.pop("Body"),
    "Body not an object": lambda b, s: b.update(Body=[1]),
    "no stkCallback": lambda b, s: b["Body"].pop("stkCallback"),
    "stkCallback a string": lambda b, s: b["Body"].update(stkCallback="x"),
    "no CheckoutRequestID": lambda b, s: s.pop("CheckoutRequestID"),
    "empty CheckoutRequestID": lambda b, s: s.update(CheckoutRequestID="  "),
    "numeric CheckoutRequestID": lambda b, s: s.update(CheckoutRequestID=12),
    "no MerchantRequestID": lambda b, s: s.pop("MerchantRequestID"),
    "no ResultCode": lambda b, s: s.pop("ResultCode"),
    "ResultCode null": lambda b, s: s.update(ResultCode=None),
    "ResultCode boolean": lambda b, s: s.update(ResultCode=False),
    "ResultCode empty": lambda b, s: s.update(ResultCode=""),
    "ResultCode a fraction": lambda b, s: s.update(ResultCode=Decimal("0.5")),
    "no ResultDesc": lambda b, s: s.pop("ResultDesc"),
    "success without metadata": lambda b, s: s.pop("CallbackMetadata"),
    "Item not a list": lambda b, s: s["CallbackMetadata"].update(Item={"Name": "Amount"}),
    "no Item": lambda b, s: s["CallbackMetadata"].pop("Item"),
    "item not an object": lambda b, s: s["CallbackMetadata"]["Item"].append("Amount"),
    "item without Name": lambda b, s: s["CallbackMetadata"]["Item"].append({"Value": 1}),
    "item twice": lambda b, s: s["CallbackMetadata"]["Item"].append({"Name": "Amount", "Value": 1}),
    "success without Amount": lambda b, s: s["CallbackMetadata"]["Item"].pop(0),
    "success without receipt": lambda b, s: s["CallbackMetadata"]["Item"].pop(1),
    "Amount without Value": lambda b, s: _item(s, "Amount").pop("Value"),
    "Amount zero": lambda b, s: _item(s, "Amount").update(Value=0),
    "Amount negative": lambda b, s: _item(s, "Amount").update(Value=-5),
    "Amount text": lambda b, s: _item(s, "Amount").update(Value="lots"),
    "Amount three places": lambda b, s: _item(s, "Amount").update(Value=Decimal("1.005")),
    "Amount boolean": lambda b, s: _item(s, "Amount").update(Value=True),
    "receipt with spaces": lambda b, s: _item(s, "MpesaReceiptNumber").update(Value="NLJ 7RT61"),
    "receipt a number": lambda b, s: _item(s, "MpesaReceiptNumber").update(Value=123456789),
    "date month 13": lambda b, s: _item(s, "TransactionDate").update(Value=20191319102115),
    "date too short": lambda b, s: _item(s, "TransactionDate").update(Value=2019121910211),
    "date as words": lambda b, s: _item(s, "TransactionDate").update(Value="yesterday"),
    "phone an object": lambda b, s: _item(s, "PhoneNumber").update(Value={"n": 1}),
}


@pytest.mark.parametrize("variant", list(MALFORMED_STK))
def test_malformed_stk_callbacks_are_refused(variant):
    with pytest.raises(CallbackShapeError):
        parse_stk_callback(_stk(MALFORMED_STK[variant]))


@pytest.mark.parametrize(
    "raw",
    [b"", b"   ", b"not json", b"[1, 2]", b'"text"', b"\xff\xfe", b'{"Body": NaN}', "{", 42],
)
def test_bodies_that_are_not_json_objects(raw):
    with pytest.raises(CallbackShapeError):
        parse_stk_callback(raw)


def test_shape_error_names_the_field():
    with pytest.raises(CallbackShapeError) as caught:
        parse_stk_callback(_stk(MALFORMED_STK["no CheckoutRequestID"]))
    assert caught.value.path == "Body.stkCallback.CheckoutRequestID"
    assert "is missing" in str(caught.value)


def test_failure_callback_with_metadata_is_parsed_too():
    body = sample("stk_callback_cancelled")
    body["Body"]["stkCallback"]["CallbackMetadata"] = {"Item": [{"Name": "Balance"}]}
    assert parse_stk_callback(body).result_code == "1032"


def test_large_json_amounts_never_go_through_float():
    raw = sample_bytes("stk_callback_success").replace(b"1650.00", b"9999999.99")
    assert parse_stk_callback(raw).amount == Decimal("9999999.99")


def test_load_body_keeps_fractions_as_decimal():
    assert load_body(b'{"a": 0.1}') == {"a": Decimal("0.1")}


# ---------------------------------------------------------------------------- C2B samples


def test_c2b_paybill_confirmation_sample():
    payment = parse_c2b_confirmation(sample_bytes("c2b_confirmation_paybill"))
    assert payment.kind == "confirmation"
    assert payment.transaction_type == "Pay Bill"
    assert not payment.is_buy_goods
    assert payment.trans_id == "RKTQDM7W6S"
    assert payment.trans_time == datetime(2025, 11, 22, 6, 38, 45, tzinfo=NAIROBI)
    assert payment.amount == Decimal("1650.00")
    assert payment.business_shortcode == "600638"
    assert payment.bill_ref_number == "S-000123"
    assert payment.invoice_number == ""
    assert payment.org_account_balance == Decimal("49197.00")
    assert payment.third_party_trans_id == ""
    assert payment.msisdn == "254708374149"
    assert payment.phone_e164 == "+254708374149"
    assert payment.customer_name == "John Doe"
    assert payment.raw == sample("c2b_confirmation_paybill")


def test_c2b_till_confirmation_sample():
    payment = parse_c2b_confirmation(sample_bytes("c2b_confirmation_till"))
    assert payment.is_buy_goods
    assert payment.trans_id == "SAB3XK91LM"
    assert payment.amount == Decimal("420.00")
    assert payment.business_shortcode == "5123456"
    assert payment.bill_ref_number == ""
    assert payment.org_account_balance is None
    assert payment.msisdn == "2547 ***** 149"
    assert payment.phone_e164 is None  # masked by C2B v2
    assert payment.customer_name == "Jane"


def test_c2b_validation_sample():
    payment = parse_c2b_validation(sample_bytes("c2b_validation"))
    assert payment.kind == "validation"
    assert payment.trans_id == "RKTQDM7W6T"
    assert payment.amount == Decimal("500.00")
    assert payment.bill_ref_number == "S-000124"
    assert payment.org_account_balance is None


def test_c2b_numbers_on_the_wire_are_accepted():
    body = sample("c2b_confirmation_paybill")
    body.update(TransAmount=1650, BusinessShortCode=600638, TransTime=20251122063845, MSISDN=254708374149)
    payment = parse_c2b_confirmation(body)
    assert (payment.amount, payment.business_shortcode, payment.msisdn) == (
        Decimal("1650.00"),
        "600638",
        "254708374149",
    )


def _c2b(mutate):
    body = copy.deepcopy(sample("c2b_confirmation_paybill"))
    mutate(body)
    return body


MALFORMED_C2B = {
    "no TransID": lambda b: b.pop("TransID"),
    "TransID empty": lambda b: b.update(TransID=""),
    "TransID with symbols": lambda b: b.update(TransID="RKT-QDM7W6"),
    "no TransTime": lambda b: b.pop("TransTime"),
    "TransTime day 32": lambda b: b.update(TransTime="20251132063845"),
    "TransTime ISO": lambda b: b.update(TransTime="2025-11-22T06:38:45"),
    "no TransAmount": lambda b: b.pop("TransAmount"),
    "TransAmount words": lambda b: b.update(TransAmount="ten"),
    "TransAmount zero": lambda b: b.update(TransAmount="0.00"),
    "TransAmount negative": lambda b: b.update(TransAmount="-1.00"),
    "no shortcode": lambda b: b.pop("BusinessShortCode"),
    "shortcode too short": lambda b: b.update(BusinessShortCode="1234"),
    "shortcode letters": lambda b: b.update(BusinessShortCode="ABCDE"),
    "no TransactionType": lambda b: b.pop("TransactionType"),
    "no MSISDN": lambda b: b.pop("MSISDN"),
    "FirstName a list": lambda b: b.update(FirstName=["John"]),
    "BillRefNumber an object": lambda b: b.update(BillRefNumber={"a": 1}),
    "OrgAccountBalance words": lambda b: b.update(OrgAccountBalance="plenty"),
}


@pytest.mark.parametrize("variant", list(MALFORMED_C2B))
def test_malformed_c2b_is_refused(variant):
    with pytest.raises(CallbackShapeError):
        parse_c2b_confirmation(_c2b(MALFORMED_C2B[variant]))
    with pytest.raises(CallbackShapeError):
        parse_c2b_validation(_c2b(MALFORMED_C2B[variant]))


def test_an_stk_callback_is_not_a_c2b_confirmation():
    with pytest.raises(CallbackShapeError, match="STK callback"):
        parse_c2b_confirmation(sample_bytes("stk_callback_success"))
    with pytest.raises(CallbackShapeError):
        parse_stk_callback(sample_bytes("c2b_confirmation_paybill"))


# ---------------------------------------------------------------------------- other samples


def test_push_query_and_error_samples_have_the_shapes_the_client_reads():
    """The client's tests replay these over respx; here: the fields it depends on are really there."""
    assert sample("stk_push_response")["ResponseCode"] == "0"
    assert {"requestId", "errorCode", "errorMessage"} <= set(sample("stk_push_error"))
    assert "being processed" in sample("stk_query_pending")["errorMessage"]
    assert sample("stk_query_response_success")["ResultCode"] == "0"
    assert sample("stk_query_response_cancelled")["ResultCode"] == "1032"


# ---------------------------------------------------------------------------- result messages


@pytest.mark.parametrize(
    "code, status, retry, words",
    [
        (0, StkStatus.PAID, False, "Paid"),
        ("0", StkStatus.PAID, False, "Paid"),
        (1, StkStatus.FAILED, True, "enough money"),
        (1032, StkStatus.CANCELLED, True, "cancelled"),
        (1037, StkStatus.TIMED_OUT, True, "No answer"),
        (1019, StkStatus.TIMED_OUT, True, "expired"),
        (2001, StkStatus.FAILED, True, "wrong M-Pesa PIN"),
        (1025, StkStatus.FAILED, True, "could not send the prompt"),
        (9999, StkStatus.FAILED, True, "could not send the prompt"),
        (17, StkStatus.FAILED, True, "two minutes"),
        (1001, StkStatus.FAILED, True, "another M-Pesa transaction"),
        (26, StkStatus.FAILED, True, "busy"),
    ],
)
def test_result_messages(code, status, retry, words):
    message = result_message(code, "whatever Safaricom said")
    assert message.status == status
    assert message.retry is retry
    assert words in message.message
    assert message.result_code == str(code)
    assert message.result_desc == "whatever Safaricom said"


def test_unknown_result_code_keeps_safaricom_words():
    message = result_message("8006", "The security credential is locked")
    assert message.status == StkStatus.FAILED
    assert "The security credential is locked" in message.message
    assert "8006" in message.message
    assert result_message(None, None).result_code == ""


# ---------------------------------------------------------------------------- answers to Safaricom


def test_answers():
    assert stk_callback_accepted() == {"ResultCode": 0, "ResultDesc": "Accepted"}
    assert c2b_validation_accepted() == {"ResultCode": 0, "ResultDesc": "Accepted"}
    assert c2b_confirmation_received() == {"ResultCode": 0, "ResultDesc": "Success"}
    assert c2b_validation_rejected() == {"ResultCode": "C2B00012", "ResultDesc": "Rejected"}
    assert c2b_validation_rejected(C2BRejection.INVALID_AMOUNT)["ResultCode"] == "C2B00013"
    assert c2b_validation_rejected("C2B00016")["ResultCode"] == "C2B00016"
    with pytest.raises(ValueError):
        c2b_validation_rejected("C2B99999")


def test_is_acceptance():
    assert is_acceptance({"ResultCode": 0}) and is_acceptance({"ResultCode": "0"})
    assert not is_acceptance({"ResultCode": "C2B00012"})
    assert not is_acceptance({"ResultCode": False}) and not is_acceptance("0")
