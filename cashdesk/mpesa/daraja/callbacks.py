"""Parsers for what Safaricom posts to us (STK callback, C2B validation, C2B confirmation), and
Safaricom's result codes in words a cashier understands.

The parsers take the raw body (bytes/str, as the view received it; or an already decoded dict) and
return frozen dataclasses, or raise `CallbackShapeError` for anything malformed. They check shape
only: whether a CheckoutRequestID is known, applied already, or for the right amount is the
payment code's business. Rules that come from Safaricom's real payloads:
- CallbackMetadata items are read by `Name`, never by position; `Balance` often has no `Value`;
- `ResultCode` is kept as a string (numbers on the wire, but codes like `SFC_IC0003` occur);
- `TransactionDate`/`TransTime` are `YYYYMMDDHHMMSS` in Kenya time → aware datetimes (Africa/Nairobi);
- amounts are Decimal (JSON numbers are parsed straight to Decimal, never through float);
- `PhoneNumber`/`MSISDN` stay strings (C2B v2 masks the number, v1 hashes it).

Our callback routes must not contain "mpesa", "safaricom", "query" or "sql" in their path
(Safaricom refuses such URLs) and must carry MPESA_CALLBACK_SECRET in the path: see
`cashdesk.mpesa.daraja.config` and docs/mpesa.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from core.json_input import MAX_JSON_DEPTH, json_depth
from core.phone import phone_or_none

NAIROBI = ZoneInfo("Africa/Nairobi")
RECEIPT_RE = re.compile(r"^[A-Za-z0-9]{6,20}$")
SHORTCODE_RE = re.compile(r"^\d{5,7}$")
_TIMESTAMP_RE = re.compile(r"^\d{14}$")


class CallbackShapeError(ValueError):
    """The body is not what Safaricom sends: store it for inspection, change no payment."""

    def __init__(self, message: str, *, path: str = ""):
        super().__init__(f"{path}: {message}" if path else message)
        self.message = message
        self.path = path


# ---------------------------------------------------------------------------- low-level readers


def _reject_constant(name: str):
    raise CallbackShapeError(f"{name} is not valid JSON here")


def load_body(raw: bytes | bytearray | str | dict) -> dict:
    """Decode a callback body to a dict; JSON numbers with a fraction become Decimal."""
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, (bytes, bytearray, memoryview)):
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise CallbackShapeError("the body is not UTF-8 text") from None
    if not isinstance(raw, str):
        raise CallbackShapeError(f"cannot read a body of type {type(raw).__name__}")
    if not raw.strip():
        raise CallbackShapeError("the body is empty")
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise CallbackShapeError(f"the body is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        body = json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise CallbackShapeError(f"the body is not JSON ({exc.msg} at character {exc.pos})") from exc
    if not isinstance(body, dict):
        raise CallbackShapeError("the body is not a JSON object")
    return body


def _object(container: dict, key: str, path: str) -> dict:
    if key not in container:
        raise CallbackShapeError("is missing", path=f"{path}.{key}" if path else key)
    value = container[key]
    if not isinstance(value, dict):
        raise CallbackShapeError("must be an object", path=f"{path}.{key}" if path else key)
    return value


def _string(value: Any, path: str, *, required: bool = True, numbers_ok: bool = False) -> str:
    if value is None:
        if required:
            raise CallbackShapeError("is missing", path=path)
        return ""
    if isinstance(value, bool):
        raise CallbackShapeError("must be text", path=path)
    if isinstance(value, int) and numbers_ok:
        value = str(value)
    if not isinstance(value, str):
        raise CallbackShapeError("must be text", path=path)
    value = value.strip()
    if required and not value:
        raise CallbackShapeError("is empty", path=path)
    return value


def _result_code(value: Any, path: str) -> str:
    if isinstance(value, bool) or value is None:
        raise CallbackShapeError("must be a number or a code", path=path)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(int(value))
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise CallbackShapeError("must be a number or a code", path=path)


def _amount(value: Any, path: str, *, positive: bool = True) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise CallbackShapeError("must be an amount", path=path)
    try:
        if isinstance(value, Decimal):
            amount = value
        elif isinstance(value, int):
            amount = Decimal(value)
        elif isinstance(value, float):  # a dict decoded without parse_float=Decimal
            amount = Decimal(repr(value))
        elif isinstance(value, str) and value.strip():
            amount = Decimal(value.strip())
        else:
            raise CallbackShapeError("must be an amount", path=path)
    except InvalidOperation:
        raise CallbackShapeError(f"{value!r} is not an amount", path=path) from None
    if not amount.is_finite():
        raise CallbackShapeError(f"{value!r} is not an amount", path=path)
    if amount != amount.quantize(Decimal("0.01")):
        raise CallbackShapeError(f"{value!r} has more than two decimal places", path=path)
    if positive and amount <= 0:
        raise CallbackShapeError(f"{value!r} is not a positive amount", path=path)
    return amount.quantize(Decimal("0.01"))


def _kenya_time(value: Any, path: str) -> datetime:
    if isinstance(value, bool) or value is None:
        raise CallbackShapeError("must be YYYYMMDDHHMMSS", path=path)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    text = str(value).strip() if isinstance(value, (int, str)) else ""
    if not _TIMESTAMP_RE.match(text):
        raise CallbackShapeError(f"{value!r} is not YYYYMMDDHHMMSS", path=path)
    try:
        return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=NAIROBI)
    except ValueError:
        raise CallbackShapeError(f"{value!r} is not a real date and time", path=path) from None


def _receipt(value: Any, path: str) -> str:
    text = _string(value, path)
    if not RECEIPT_RE.match(text):
        raise CallbackShapeError(f"{text!r} is not an M-Pesa receipt number", path=path)
    return text.upper()


# ---------------------------------------------------------------------------- STK callback


@dataclass(frozen=True)
class StkCallback:
    merchant_request_id: str
    checkout_request_id: str
    result_code: str  # "0" is paid; always a string
    result_desc: str
    amount: Decimal | None = None
    receipt_number: str | None = None  # MpesaReceiptNumber
    transaction_date: datetime | None = None  # aware, Africa/Nairobi
    phone: str | None = None  # as Safaricom sent it (digits, or masked)
    balance: Decimal | None = None
    items: dict[str, Any] = field(default_factory=dict)  # every CallbackMetadata item by Name, raw Value
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_success(self) -> bool:
        return self.result_code == "0"

    @property
    def phone_e164(self) -> str | None:
        """`+2547…` when Safaricom sent a real number, None when it is masked or missing."""
        return phone_or_none(self.phone) if self.phone else None

    @property
    def outcome(self) -> ResultMessage:
        return result_message(self.result_code, self.result_desc)


def _metadata_items(stk: dict, path: str) -> dict[str, Any]:
    """CallbackMetadata.Item as {Name: Value}; an item without Value maps to None."""
    meta = _object(stk, "CallbackMetadata", path)
    items = meta.get("Item")
    item_path = f"{path}.CallbackMetadata.Item"
    if not isinstance(items, list):
        raise CallbackShapeError("must be a list", path=item_path)
    by_name: dict[str, Any] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise CallbackShapeError("must be an object", path=f"{item_path}[{index}]")
        name = _string(item.get("Name"), f"{item_path}[{index}].Name")
        if name in by_name:
            raise CallbackShapeError(f"{name!r} appears twice", path=item_path)
        by_name[name] = item.get("Value")
    return by_name


def parse_stk_callback(raw: bytes | str | dict) -> StkCallback:
    """The STK push result Safaricom posts to our CallBackURL."""
    body = load_body(raw)
    stk = _object(_object(body, "Body", ""), "stkCallback", "Body")
    path = "Body.stkCallback"
    merchant_id = _string(stk.get("MerchantRequestID"), f"{path}.MerchantRequestID")
    checkout_id = _string(stk.get("CheckoutRequestID"), f"{path}.CheckoutRequestID")
    if "ResultCode" not in stk:
        raise CallbackShapeError("is missing", path=f"{path}.ResultCode")
    result_code = _result_code(stk["ResultCode"], f"{path}.ResultCode")
    if "ResultDesc" not in stk:
        raise CallbackShapeError("is missing", path=f"{path}.ResultDesc")
    result_desc = _string(stk["ResultDesc"], f"{path}.ResultDesc", required=False)

    items: dict[str, Any] = {}
    if result_code == "0" or "CallbackMetadata" in stk:
        items = _metadata_items(stk, path)
    item_path = f"{path}.CallbackMetadata.Item"
    if result_code == "0":
        for required in ("Amount", "MpesaReceiptNumber"):
            if items.get(required) is None:
                raise CallbackShapeError(f"a successful callback needs {required}", path=item_path)

    def optional(name: str, reader):
        value = items.get(name)
        if value is None or value == "":
            return None
        return reader(value, f"{item_path}[{name}]")

    phone = optional("PhoneNumber", lambda value, p: _string(value, p, numbers_ok=True))
    balance = None
    if items.get("Balance") not in (None, ""):
        try:
            balance = _amount(items["Balance"], f"{item_path}[Balance]", positive=False)
        except CallbackShapeError:
            balance = None  # the balance is informational; old formats send free text
    return StkCallback(
        merchant_request_id=merchant_id,
        checkout_request_id=checkout_id,
        result_code=result_code,
        result_desc=result_desc,
        amount=optional("Amount", _amount),
        receipt_number=optional("MpesaReceiptNumber", _receipt),
        transaction_date=optional("TransactionDate", _kenya_time),
        phone=phone,
        balance=balance,
        items=items,
        raw=body,
    )


# ---------------------------------------------------------------------------- C2B


@dataclass(frozen=True)
class C2BPayment:
    """A C2B validation request or confirmation (same fields; `kind` says which)."""

    kind: str  # "validation" | "confirmation"
    transaction_type: str  # "Pay Bill" / "Buy Goods" (as sent)
    trans_id: str  # the M-Pesa receipt number
    trans_time: datetime  # aware, Africa/Nairobi
    amount: Decimal
    business_shortcode: str
    bill_ref_number: str  # the account number the customer typed; "" for a till
    invoice_number: str
    org_account_balance: Decimal | None
    third_party_trans_id: str
    msisdn: str  # masked by v2, hashed by v1: not a usable phone number as a rule
    first_name: str
    middle_name: str
    last_name: str
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def customer_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.middle_name, self.last_name) if part)

    @property
    def is_buy_goods(self) -> bool:
        return self.transaction_type.replace(" ", "").lower() in ("buygoods", "customerbuygoodsonline")

    @property
    def phone_e164(self) -> str | None:
        """`+2547…` when the MSISDN is a real number (sandbox, some v1 set-ups), else None."""
        return phone_or_none(self.msisdn) if self.msisdn.isdigit() else None


def _parse_c2b(raw: bytes | str | dict, kind: str) -> C2BPayment:
    body = load_body(raw)
    if "TransID" not in body and "Body" in body:
        raise CallbackShapeError("this is an STK callback, not a C2B request")
    shortcode = _string(body.get("BusinessShortCode"), "BusinessShortCode", numbers_ok=True)
    if not SHORTCODE_RE.match(shortcode):
        raise CallbackShapeError(f"{shortcode!r} is not a paybill/till number", path="BusinessShortCode")
    balance_raw = body.get("OrgAccountBalance")
    return C2BPayment(
        kind=kind,
        transaction_type=_string(body.get("TransactionType"), "TransactionType"),
        trans_id=_receipt(body.get("TransID"), "TransID"),
        trans_time=_kenya_time(body.get("TransTime"), "TransTime"),
        amount=_amount(body.get("TransAmount"), "TransAmount"),
        business_shortcode=shortcode,
        bill_ref_number=_string(body.get("BillRefNumber"), "BillRefNumber", required=False, numbers_ok=True),
        invoice_number=_string(body.get("InvoiceNumber"), "InvoiceNumber", required=False, numbers_ok=True),
        org_account_balance=(
            None if balance_raw in (None, "") else _amount(balance_raw, "OrgAccountBalance", positive=False)
        ),
        third_party_trans_id=_string(
            body.get("ThirdPartyTransID"), "ThirdPartyTransID", required=False, numbers_ok=True
        ),
        msisdn=_string(body.get("MSISDN"), "MSISDN", numbers_ok=True),
        first_name=_string(body.get("FirstName"), "FirstName", required=False),
        middle_name=_string(body.get("MiddleName"), "MiddleName", required=False),
        last_name=_string(body.get("LastName"), "LastName", required=False),
        raw=body,
    )


def parse_c2b_validation(raw: bytes | str | dict) -> C2BPayment:
    """Safaricom asks whether to accept a payment (answer within ~8 s; see responses.py)."""
    return _parse_c2b(raw, "validation")


def parse_c2b_confirmation(raw: bytes | str | dict) -> C2BPayment:
    """Safaricom tells us a payment to our paybill/till went through."""
    return _parse_c2b(raw, "confirmation")


# ---------------------------------------------------------------------------- result codes


@dataclass(frozen=True)
class DarajaResult:
    """What Daraja posts to a ResultURL after an asynchronous request (Transaction Status, Account
    Balance): `{"Result": {"ResultType", "ResultCode", "ResultDesc", "OriginatorConversationID",
    "ConversationID", "TransactionID", "ResultParameters": {"ResultParameter": [{"Key", "Value"}]}}}`."""

    result_code: str
    result_desc: str
    originator_conversation_id: str
    conversation_id: str
    transaction_id: str
    parameters: dict[str, Any]

    @property
    def is_success(self) -> bool:
        return self.result_code == "0"


def parse_result(raw: bytes | str | dict) -> DarajaResult:
    body = load_body(raw)
    result = _object(body, "Result", "")
    parameters: dict[str, Any] = {}
    container = result.get("ResultParameters")
    items = container.get("ResultParameter") if isinstance(container, dict) else None
    if isinstance(items, dict):  # one parameter comes as an object, several as a list
        items = [items]
    for item in items or []:
        if isinstance(item, dict) and isinstance(item.get("Key"), str):
            parameters[item["Key"]] = item.get("Value")
    return DarajaResult(
        result_code=_result_code(result.get("ResultCode"), "Result.ResultCode"),
        result_desc=_string(result.get("ResultDesc", ""), "Result.ResultDesc", required=False),
        originator_conversation_id=_string(
            result.get("OriginatorConversationID", ""), "Result.OriginatorConversationID", required=False
        ),
        conversation_id=_string(result.get("ConversationID", ""), "Result.ConversationID", required=False),
        transaction_id=_string(result.get("TransactionID", ""), "Result.TransactionID", required=False,
                               numbers_ok=True),
        parameters=parameters,
    )


def parse_account_balance(value: Any) -> dict[str, Decimal]:
    """`"Working Account|KES|700000.00|700000.00|0.00|0.00&Utility Account|KES|228037.00|…"` →
    {"Working Account": Decimal("700000.00"), …} (the available balance of each account)."""
    balances = {}
    for part in str(value or "").split("&"):
        fields = part.split("|")
        if len(fields) >= 3:
            try:
                balances[fields[0].strip()] = Decimal(fields[2].strip())
            except ArithmeticError:
                continue
    return balances


class StkStatus(StrEnum):
    PAID = "paid"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    FAILED = "failed"


@dataclass(frozen=True)
class ResultMessage:
    status: StkStatus
    message: str  # plain words for the cashier
    retry: bool  # whether asking the customer again (now or shortly) makes sense
    result_code: str
    result_desc: str  # Safaricom's own words, for the record


_RESULTS: dict[str, tuple[StkStatus, str, bool]] = {
    "0": (StkStatus.PAID, "Paid: M-Pesa confirmed the payment.", False),
    "1": (
        StkStatus.FAILED,
        "The customer does not have enough money in M-Pesa. Ask them to top up, or pay another way.",
        True,
    ),
    "17": (
        StkStatus.FAILED,
        "M-Pesa refused a repeat of the same amount to the same number so soon. "
        "Wait two minutes and try again, or pay another way.",
        True,
    ),
    "26": (StkStatus.FAILED, "M-Pesa is busy right now. Try again in a minute.", True),
    "1001": (
        StkStatus.FAILED,
        "The customer's phone is busy with another M-Pesa transaction. Ask them to finish it, then try again.",
        True,
    ),
    "1019": (StkStatus.TIMED_OUT, "The M-Pesa request expired before the customer finished. Try again.", True),
    "1025": (
        StkStatus.FAILED,
        "M-Pesa could not send the prompt to the phone. Try again, or let the customer pay to the "
        "till/paybill number and type in their M-Pesa code.",
        True,
    ),
    "1032": (StkStatus.CANCELLED, "The customer cancelled the M-Pesa prompt on their phone.", True),
    "1037": (
        StkStatus.TIMED_OUT,
        "No answer from the customer's phone: it may be off, out of network, or the PIN was not entered in time. "
        "Check the phone and try again.",
        True,
    ),
    "2001": (StkStatus.FAILED, "The customer entered a wrong M-Pesa PIN. Try again.", True),
    "9999": (
        StkStatus.FAILED,
        "M-Pesa could not send the prompt to the phone. Try again, or let the customer pay to the "
        "till/paybill number and type in their M-Pesa code.",
        True,
    ),
}


def result_message(result_code: Any, result_desc: str | None = "") -> ResultMessage:
    """Safaricom's STK ResultCode in words a cashier understands, with a status and a retry hint."""
    code = "" if result_code is None else str(result_code).strip()
    desc = (result_desc or "").strip()
    known = _RESULTS.get(code)
    if known:
        status, message, retry = known
    else:
        status, retry = StkStatus.FAILED, True
        reason = desc or "no reason given"
        message = (
            f"M-Pesa did not complete the payment ({reason}; code {code or 'unknown'}). "
            "Try again or pay another way."
        )
    return ResultMessage(status=status, message=message, retry=retry, result_code=code, result_desc=desc)
