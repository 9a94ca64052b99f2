"""A local stand-in for Safaricom's Daraja API: same HTTP endpoints, same JSON, REAL callbacks over HTTP.

Used by the demo (`manage.py daraja_simulator`, started by `.ci/start` when no Daraja credentials
are set) and by the tests, which start it in-process on a free port. Standard library only
(`ThreadingHTTPServer` in a thread) plus httpx to post the callbacks from timer threads.

What the "customer" does is chosen by the phone number of the STK push (`PhoneNumber`):

| phone (any Kenyan format) | what happens                                    | callback / query ResultCode |
| ------------------------- | ----------------------------------------------- | --------------------------- |
| 254708374149 and any other| pays the amount asked                           | 0                           |
| 254700000001              | cancels the prompt                              | 1032                        |
| 254700000002              | never answers (phone off)                       | 1037 after the no-answer delay |
| 254700000003              | not enough money                                | 1                           |
| 254700000004              | enters a wrong PIN                              | 2001                        |
| 254700000005              | pays, but the callback is lost                  | none sent; query says 0     |
| 254700000006              | pays a different amount (1 shilling less)       | 0, Amount differs           |
| 254700000007              | the prompt cannot be sent to the phone          | 1025                        |
| 254700000008              | pays, and the callback is delivered twice       | 0, twice                    |

Daraja behaviours it reproduces: OAuth with HTTP Basic (any key/secret), tokens that expire and
that a new token for the same key invalidates; every STK field validated as Daraja does, the
Password checked against shortcode + passkey + Timestamp ("Wrong credentials" otherwise); "Unable to
lock subscriber" while the same phone has a prompt open; the STK query answering "The transaction
is being processed" until the customer has answered and the final result after; C2B register URL
(v1 and v2) and C2B simulate with validation (when a ValidationURL is registered) and confirmation.
Stricter than Daraja on purpose: a Timestamp more than 15 minutes away from Kenya time is refused
("Invalid Timestamp"), which catches a timestamp made in UTC.

Simulator-only endpoints (no token needed; the simulator only listens on localhost by default):
  GET  /simulator/                          help: behaviours and endpoints
  GET  /simulator/state                     every STK and C2B transaction, the registered URLs
  GET  /simulator/stk/<CheckoutRequestID>   one STK transaction with its callback deliveries
  POST /simulator/stk/<CheckoutRequestID>/resend   post its callback again (test duplicates)
  POST /simulator/c2b/pay                   {"phone", "amount", "bill_ref"?, "shortcode"?,
                                             "command_id"?, "first_name"?, "last_name"?} → {"TransID", …}
  GET  /simulator/c2b/<TransID>             one C2B payment
  POST /simulator/c2b/<TransID>/resend      post its confirmation again
  POST /simulator/tokens/expire             expire every access token (test the client's retry)
  POST /simulator/reset                     forget transactions and tokens (registrations stay)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import random
import re
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import structlog

from cashdesk.mpesa.daraja.config import (
    BUY_GOODS,
    PAYBILL,
    SANDBOX_PASSKEY,
    SANDBOX_SHORTCODE,
    TRANSACTION_TYPES,
    CallbackURLError,
    validate_callback_url,
)
from cashdesk.mpesa.daraja.responses import is_acceptance
from core.phone import mask_phone, msisdn

log = structlog.get_logger("cashdesk.mpesa.daraja.simulator")

NAIROBI = ZoneInfo("Africa/Nairobi")
TOKEN_LIFETIME = 3599
TIMESTAMP_TOLERANCE = timedelta(minutes=15)
CALLBACK_TIMEOUT = 10.0  # seconds we wait for the app to answer a callback
VALIDATION_TIMEOUT = 8.0  # Safaricom gives the validation URL about 8 seconds
MAX_AMOUNT = 250_000
_MSISDN_RE = re.compile(r"^254[17]\d{8}$")
_SHORTCODE_RE = re.compile(r"^\d{5,7}$")


class Behaviour(StrEnum):
    PAY = "pay"
    CANCEL = "cancel"
    NO_ANSWER = "no_answer"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    WRONG_PIN = "wrong_pin"
    LOST_CALLBACK = "lost_callback"
    WRONG_AMOUNT = "wrong_amount"
    PUSH_FAILED = "push_failed"
    DUPLICATE_CALLBACK = "duplicate_callback"


DEMO_PHONES: dict[str, Behaviour] = {
    "254700000001": Behaviour.CANCEL,
    "254700000002": Behaviour.NO_ANSWER,
    "254700000003": Behaviour.INSUFFICIENT_FUNDS,
    "254700000004": Behaviour.WRONG_PIN,
    "254700000005": Behaviour.LOST_CALLBACK,
    "254700000006": Behaviour.WRONG_AMOUNT,
    "254700000007": Behaviour.PUSH_FAILED,
    "254700000008": Behaviour.DUPLICATE_CALLBACK,
}

# (ResultCode, ResultDesc) as Safaricom words them.
RESULTS: dict[Behaviour, tuple[int, str]] = {
    Behaviour.PAY: (0, "The service request is processed successfully."),
    Behaviour.LOST_CALLBACK: (0, "The service request is processed successfully."),
    Behaviour.WRONG_AMOUNT: (0, "The service request is processed successfully."),
    Behaviour.DUPLICATE_CALLBACK: (0, "The service request is processed successfully."),
    Behaviour.CANCEL: (1032, "Request cancelled by user"),
    Behaviour.NO_ANSWER: (1037, "DS timeout user cannot be reached"),
    Behaviour.INSUFFICIENT_FUNDS: (1, "The balance is insufficient for the transaction."),
    Behaviour.WRONG_PIN: (2001, "The initiator information is invalid."),
    Behaviour.PUSH_FAILED: (1025, "An error occurred while sending a push request"),
}


def behaviour_for(phone: str) -> Behaviour:
    """What the customer with this MSISDN (2547…) does with an STK prompt."""
    return DEMO_PHONES.get(phone, Behaviour.PAY)


def _nairobi_now() -> datetime:
    return datetime.now(NAIROBI)


def _request_id() -> str:
    return f"{random.randint(1000, 99999)}-{random.randint(1000000, 99999999)}-1"


class _DarajaReply(Exception):
    """Raised inside a handler to answer with Daraja's error shape."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.body = {"requestId": _request_id(), "errorCode": code, "errorMessage": message}


def _bad_request(what: str) -> _DarajaReply:
    return _DarajaReply(400, "400.002.02", f"Bad Request - Invalid {what}")


@dataclass
class Delivery:
    kind: str  # "stk_callback" | "c2b_validation" | "c2b_confirmation"
    url: str
    at: str
    status: int | None = None
    error: str = ""
    response: Any = None


@dataclass
class StkTransaction:
    merchant_request_id: str
    checkout_request_id: str
    shortcode: str
    party_b: str
    transaction_type: str
    phone: str
    amount: int
    account_reference: str
    description: str
    callback_url: str
    behaviour: str
    created_at: str
    state: str = "pending"  # pending → final (the customer answered)
    result_code: int | None = None
    result_desc: str = ""
    receipt_number: str = ""
    paid_amount: int | None = None
    callback_body: dict | None = None
    deliveries: list[Delivery] = field(default_factory=list)


@dataclass
class C2BRegistration:
    shortcode: str
    response_type: str
    confirmation_url: str
    validation_url: str
    version: str


@dataclass
class C2BTransaction:
    trans_id: str
    shortcode: str
    command_id: str
    amount: int
    phone: str
    bill_ref_number: str
    state: str = "pending"  # pending → confirmed | rejected
    validation_result: Any = None
    validation_body: dict | None = None
    confirmation_body: dict | None = None
    deliveries: list[Delivery] = field(default_factory=list)


class DarajaSimulator:
    """Start with `start()` (a background thread) or `serve_forever()` (the management command)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8765,
        callback_delay: float = 3.0,
        *,
        no_answer_delay: float | None = None,
        passkeys: dict[str, str] | None = None,
        token_lifetime: int = TOKEN_LIFETIME,
        external_validation: bool = True,
        state_file: str | Path | None = None,
    ):
        self.host = host
        self.port = port
        self.callback_delay = float(callback_delay)
        self.no_answer_delay = float(callback_delay if no_answer_delay is None else no_answer_delay)
        self.passkeys = dict(passkeys or {SANDBOX_SHORTCODE: SANDBOX_PASSKEY})
        self.token_lifetime = token_lifetime
        self.external_validation = external_validation
        self.state_file = Path(state_file) if state_file else None
        self._lock = threading.RLock()
        self._tokens: dict[str, tuple[str, float]] = {}  # token → (consumer key, expires at)
        self._stk: dict[str, StkTransaction] = {}
        self._c2b: dict[str, C2BTransaction] = {}
        self._registrations: dict[str, C2BRegistration] = {}
        self._balances: dict[str, int] = {}
        self._receipts: set[str] = set()
        self._timers: list[threading.Timer] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._http = httpx.Client(timeout=CALLBACK_TIMEOUT, headers={"User-Agent": "Daraja-Simulator/1"})
        self._load_state()

    # ------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _bind(self) -> None:
        server = ThreadingHTTPServer((self.host, self.port), _Handler)
        server.daemon_threads = True
        server.simulator = self  # type: ignore[attr-defined]
        self._server = server
        self.port = server.server_address[1]  # port 0 → the one the OS chose

    def start(self) -> DarajaSimulator:
        """Listen in a background thread; returns at once. Port 0 picks a free port (see base_url)."""
        self._bind()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="daraja-simulator", daemon=True
        )
        self._thread.start()
        log.info("Daraja simulator listening on %s", self.base_url)
        return self

    def serve_forever(self) -> None:
        """Listen in this thread until interrupted (Ctrl-C)."""
        self._bind()
        log.info("Daraja simulator listening on %s", self.base_url)
        try:
            self._server.serve_forever()
        finally:
            self.stop()

    def stop(self) -> None:
        with self._lock:
            timers, self._timers = self._timers, []
        for timer in timers:
            timer.cancel()
        if self._server is not None:
            if self._thread is not None:
                self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._http.close()

    def __enter__(self) -> DarajaSimulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _later(self, delay: float, function, *args) -> None:
        timer = threading.Timer(delay, self._run_timer, args=(function, args))
        timer.daemon = True
        with self._lock:
            self._timers = [t for t in self._timers if t.is_alive()]
            self._timers.append(timer)
        timer.start()

    @staticmethod
    def _run_timer(function, args) -> None:
        try:
            function(*args)
        except Exception:  # a timer thread must never die silently
            log.exception("Daraja simulator: %s failed", getattr(function, "__name__", function))

    # ------------------------------------------------------------------ persistence (registrations only)
    def _load_state(self) -> None:
        if not self.state_file or not self.state_file.is_file():
            return
        try:
            data = json.loads(self.state_file.read_text())
            for item in data.get("registrations", []):
                registration = C2BRegistration(**item)
                self._registrations[registration.shortcode] = registration
        except (ValueError, TypeError) as exc:
            log.warning("Daraja simulator: ignoring unreadable state file %s (%s)", self.state_file, exc)

    def _save_state(self) -> None:
        if not self.state_file:
            return
        data = {"registrations": [asdict(r) for r in self._registrations.values()]}
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(json.dumps(data, indent=2))

    # ------------------------------------------------------------------ ids
    def _receipt(self) -> str:
        letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
        alphabet = letters + "0123456789"
        with self._lock:
            while True:
                # Safaricom receipts: 10 capitals and digits, starting with letters (e.g. RKTQDM7W6S).
                receipt = "".join(random.choice(letters) for _ in range(3)) + "".join(
                    random.choice(alphabet) for _ in range(7)
                )
                if receipt not in self._receipts:
                    self._receipts.add(receipt)
                    return receipt

    def _checkout_request_id(self) -> str:
        stamp = _nairobi_now().strftime("%d%m%Y%H%M%S")
        with self._lock:
            while True:
                candidate = f"ws_CO_{stamp}{random.randint(1000, 999999)}"
                if candidate not in self._stk:
                    return candidate

    # ------------------------------------------------------------------ OAuth
    def issue_token(self, consumer_key: str) -> dict:
        token = uuid.uuid4().hex[:28]
        with self._lock:
            # Daraja: a new token for a consumer key invalidates the previous one.
            for old in [t for t, (key, _) in self._tokens.items() if key == consumer_key]:
                del self._tokens[old]
            self._tokens[token] = (consumer_key, time.time() + self.token_lifetime)
        return {"access_token": token, "expires_in": str(self.token_lifetime)}

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    def check_token(self, header: str | None) -> None:
        if not header or not header.startswith("Bearer ") or not header[7:].strip():
            raise _DarajaReply(400, "404.001.04", "Invalid Authentication Header")
        token = header[7:].strip()
        with self._lock:
            entry = self._tokens.get(token)
            if entry is None or entry[1] <= time.time():
                self._tokens.pop(token, None)
                raise _DarajaReply(404, "404.001.03", "Invalid Access Token")

    # ------------------------------------------------------------------ STK push and query
    def _check_password(self, body: dict) -> str:
        """Validate BusinessShortCode, Timestamp and Password as Daraja does; return the shortcode."""
        shortcode = str(body.get("BusinessShortCode") or "").strip()
        if not _SHORTCODE_RE.match(shortcode):
            raise _bad_request("BusinessShortCode")
        timestamp = str(body.get("Timestamp") or "").strip()
        try:
            moment = datetime.strptime(timestamp, "%Y%m%d%H%M%S").replace(tzinfo=NAIROBI)
        except ValueError:
            raise _bad_request("Timestamp") from None
        if abs(moment - _nairobi_now()) > TIMESTAMP_TOLERANCE:
            raise _bad_request("Timestamp")
        password = body.get("Password")
        if not isinstance(password, str) or not password:
            raise _bad_request("Password")
        passkey = self.passkeys.get(shortcode)
        if passkey is None:
            raise _DarajaReply(500, "500.001.1001", "Merchant does not exist")
        try:
            decoded = base64.b64decode(password, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise _DarajaReply(500, "500.001.1001", "Wrong credentials") from None
        if decoded != f"{shortcode}{passkey}{timestamp}":
            raise _DarajaReply(500, "500.001.1001", "Wrong credentials")
        return shortcode

    @staticmethod
    def _whole_amount(value: Any) -> int:
        """Whole shillings, 1 to 250,000, as a number or a numeric string ("100", "100.00")."""
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise _bad_request("Amount")
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            raise _bad_request("Amount") from None
        if not amount.is_finite() or amount != amount.to_integral_value() or not 1 <= amount <= MAX_AMOUNT:
            raise _bad_request("Amount")
        return int(amount)

    def stk_push(self, body: dict) -> dict:
        shortcode = self._check_password(body)
        kind = body.get("TransactionType")
        if kind not in TRANSACTION_TYPES:
            raise _bad_request("TransactionType")
        amount = self._whole_amount(body.get("Amount"))
        party_a = str(body.get("PartyA") or "").strip()
        if not _MSISDN_RE.match(party_a):
            raise _bad_request("PartyA")
        party_b = str(body.get("PartyB") or "").strip()
        if not _SHORTCODE_RE.match(party_b):
            raise _bad_request("PartyB")
        phone = str(body.get("PhoneNumber") or "").strip()
        if not _MSISDN_RE.match(phone):
            raise _bad_request("PhoneNumber")
        callback_url = body.get("CallBackURL")
        try:
            callback_url = validate_callback_url(callback_url, require_https=False)
        except CallbackURLError:
            raise _bad_request("CallBackURL") from None
        reference = body.get("AccountReference")
        if not isinstance(reference, str) or not 1 <= len(reference.strip()) <= 12:
            raise _bad_request("AccountReference")
        description = body.get("TransactionDesc")
        if not isinstance(description, str) or not 1 <= len(description.strip()) <= 13:
            raise _bad_request("TransactionDesc")
        with self._lock:
            if any(t.phone == phone and t.state == "pending" for t in self._stk.values()):
                raise _DarajaReply(
                    500,
                    "500.001.1001",
                    "Unable to lock subscriber, a transaction is already in process for the current subscriber",
                )
            transaction = StkTransaction(
                merchant_request_id=f"{random.randint(1000, 99999)}-{random.randint(1000000, 99999999)}-1",
                checkout_request_id=self._checkout_request_id(),
                shortcode=shortcode,
                party_b=party_b,
                transaction_type=kind,
                phone=phone,
                amount=amount,
                account_reference=reference.strip(),
                description=description.strip(),
                callback_url=callback_url,
                behaviour=behaviour_for(phone).value,
                created_at=_nairobi_now().isoformat(),
            )
            self._stk[transaction.checkout_request_id] = transaction
        delay = self.no_answer_delay if transaction.behaviour == Behaviour.NO_ANSWER else self.callback_delay
        log.info(
            "STK push %s: KES %s to %s (%s), answer in %.1fs",
            transaction.checkout_request_id,
            amount,
            mask_phone(phone),
            transaction.behaviour,
            delay,
        )
        self._later(delay, self._customer_answers, transaction.checkout_request_id)
        return {
            "MerchantRequestID": transaction.merchant_request_id,
            "CheckoutRequestID": transaction.checkout_request_id,
            "ResponseCode": "0",
            "ResponseDescription": "Success. Request accepted for processing",
            "CustomerMessage": "Success. Request accepted for processing",
        }

    def _customer_answers(self, checkout_request_id: str) -> None:
        with self._lock:
            transaction = self._stk.get(checkout_request_id)
            if transaction is None or transaction.state != "pending":
                return
            behaviour = Behaviour(transaction.behaviour)
            code, desc = RESULTS[behaviour]
            transaction.state = "final"
            transaction.result_code = code
            transaction.result_desc = desc
            callback = {
                "MerchantRequestID": transaction.merchant_request_id,
                "CheckoutRequestID": transaction.checkout_request_id,
                "ResultCode": code,
                "ResultDesc": desc,
            }
            if code == 0:
                paid = transaction.amount
                if behaviour == Behaviour.WRONG_AMOUNT:
                    paid = transaction.amount - 1 if transaction.amount > 1 else transaction.amount + 1
                transaction.paid_amount = paid
                transaction.receipt_number = self._receipt()
                callback["CallbackMetadata"] = {
                    "Item": [
                        {"Name": "Amount", "Value": float(paid)},
                        {"Name": "MpesaReceiptNumber", "Value": transaction.receipt_number},
                        {"Name": "Balance"},
                        {"Name": "TransactionDate", "Value": int(_nairobi_now().strftime("%Y%m%d%H%M%S"))},
                        {"Name": "PhoneNumber", "Value": int(transaction.phone)},
                    ]
                }
            transaction.callback_body = {"Body": {"stkCallback": callback}}
        if behaviour == Behaviour.LOST_CALLBACK:
            log.info("STK %s: paid, callback deliberately lost", checkout_request_id)
            return
        self.deliver_stk_callback(checkout_request_id)
        if behaviour == Behaviour.DUPLICATE_CALLBACK:
            self.deliver_stk_callback(checkout_request_id)

    def deliver_stk_callback(self, checkout_request_id: str) -> Delivery:
        """Post the transaction's callback (again). Raises KeyError/ValueError if there is none yet."""
        with self._lock:
            transaction = self._stk[checkout_request_id]
            if transaction.callback_body is None:
                raise ValueError("the customer has not answered yet")
            url, body = transaction.callback_url, transaction.callback_body
        delivery = self._post("stk_callback", url, body)
        with self._lock:
            transaction.deliveries.append(delivery)
        return delivery

    def stk_query(self, body: dict) -> dict:
        self._check_password(body)
        checkout_id = body.get("CheckoutRequestID")
        with self._lock:
            transaction = self._stk.get(checkout_id) if isinstance(checkout_id, str) else None
            if transaction is None:
                raise _bad_request("CheckoutRequestID")
            if transaction.state == "pending":
                raise _DarajaReply(500, "500.001.1001", "The transaction is being processed")
            return {
                "ResponseCode": "0",
                "ResponseDescription": "The service request has been accepted successsfully",
                "MerchantRequestID": transaction.merchant_request_id,
                "CheckoutRequestID": transaction.checkout_request_id,
                "ResultCode": str(transaction.result_code),
                "ResultDesc": transaction.result_desc,
            }

    # ------------------------------------------------------------------ C2B
    def register_urls(self, body: dict, version: str) -> dict:
        shortcode = str(body.get("ShortCode") or "").strip()
        if not _SHORTCODE_RE.match(shortcode):
            raise _bad_request("ShortCode")
        response_type = body.get("ResponseType")
        if response_type not in ("Completed", "Cancelled"):
            raise _bad_request("ResponseType")
        urls = {}
        for key in ("ConfirmationURL", "ValidationURL"):
            try:
                urls[key] = validate_callback_url(body.get(key), require_https=False)
            except CallbackURLError:
                raise _bad_request(key) from None
        with self._lock:
            self._registrations[shortcode] = C2BRegistration(
                shortcode=shortcode,
                response_type=response_type,
                confirmation_url=urls["ConfirmationURL"],
                validation_url=urls["ValidationURL"],
                version=version,
            )
            self._save_state()
        log.info("C2B URLs registered for %s (%s)", shortcode, version)
        return {
            "OriginatorCoversationID": _request_id(),
            "ResponseCode": "0",
            "ResponseDescription": "Success",
        }

    def c2b_pay(
        self,
        *,
        phone: str,
        amount: Any,
        bill_ref_number: str = "",
        shortcode: str | None = None,
        command_id: str | None = None,
        first_name: str = "John",
        middle_name: str = "",
        last_name: str = "Doe",
    ) -> C2BTransaction:
        """A customer pays the paybill/till from their phone; validation and confirmation follow."""
        if not _MSISDN_RE.match(str(phone)):
            raise _bad_request("Msisdn")
        amount = self._whole_amount(amount)
        with self._lock:
            if shortcode is None:
                if len(self._registrations) != 1:
                    raise _bad_request("ShortCode")
                shortcode = next(iter(self._registrations))
            shortcode = str(shortcode).strip()
            if not _SHORTCODE_RE.match(shortcode):
                raise _bad_request("ShortCode")
            registration = self._registrations.get(shortcode)
            if registration is None:
                raise _DarajaReply(
                    400, "400.002.02", f"Bad Request - No URLs registered for ShortCode {shortcode} (simulator)"
                )
            command = command_id or PAYBILL
            if command not in TRANSACTION_TYPES:
                raise _bad_request("CommandID")
            transaction = C2BTransaction(
                trans_id=self._receipt(),
                shortcode=shortcode,
                command_id=command,
                amount=amount,
                phone=str(phone),
                bill_ref_number="" if command == BUY_GOODS else str(bill_ref_number or "").strip(),
            )
            self._c2b[transaction.trans_id] = transaction
            if registration.version == "v1":
                msisdn = hashlib.sha256(transaction.phone.encode()).hexdigest()
            else:
                msisdn = f"{transaction.phone[:4]} ***** {transaction.phone[-3:]}"
            transaction.validation_body = {
                "TransactionType": "Buy Goods" if command == BUY_GOODS else "Pay Bill",
                "TransID": transaction.trans_id,
                "TransTime": _nairobi_now().strftime("%Y%m%d%H%M%S"),
                "TransAmount": f"{amount}.00",
                "BusinessShortCode": shortcode,
                "BillRefNumber": transaction.bill_ref_number,
                "InvoiceNumber": "",
                "OrgAccountBalance": "",
                "ThirdPartyTransID": "",
                "MSISDN": msisdn,
                "FirstName": first_name,
                "MiddleName": middle_name,
                "LastName": last_name,
            }
        log.info("C2B %s: KES %s from %s to %s", transaction.trans_id, amount, mask_phone(transaction.phone), shortcode)
        self._later(self.callback_delay, self._c2b_flow, transaction.trans_id)
        return transaction

    def _c2b_flow(self, trans_id: str) -> None:
        with self._lock:
            transaction = self._c2b[trans_id]
            registration = self._registrations[transaction.shortcode]
            validation_body = dict(transaction.validation_body)
        if self.external_validation and registration.validation_url:
            delivery = self._post("c2b_validation", registration.validation_url, validation_body, VALIDATION_TIMEOUT)
            with self._lock:
                transaction.deliveries.append(delivery)
                if delivery.status is None or delivery.status >= 400 or not isinstance(delivery.response, dict):
                    accepted = registration.response_type == "Completed"  # validation unreachable
                else:
                    accepted = is_acceptance(delivery.response)
                transaction.validation_result = delivery.response
                if not accepted:
                    transaction.state = "rejected"
                    log.info("C2B %s rejected by validation", trans_id)
                    return
        with self._lock:
            balance = self._balances.get(transaction.shortcode, 0) + transaction.amount
            self._balances[transaction.shortcode] = balance
            transaction.state = "confirmed"
            transaction.confirmation_body = {**validation_body, "OrgAccountBalance": f"{balance}.00"}
        self.deliver_c2b_confirmation(trans_id)

    def deliver_c2b_confirmation(self, trans_id: str) -> Delivery:
        with self._lock:
            transaction = self._c2b[trans_id]
            if transaction.confirmation_body is None:
                raise ValueError("this payment was not confirmed")
            url = self._registrations[transaction.shortcode].confirmation_url
            body = transaction.confirmation_body
        delivery = self._post("c2b_confirmation", url, body)
        with self._lock:
            transaction.deliveries.append(delivery)
        return delivery

    # ------------------------------------------------------------------ Transaction Status, balance, pull
    def _check_initiator(self, body: dict) -> str:
        if not str(body.get("Initiator") or "").strip():
            raise _bad_request("Initiator")
        if not isinstance(body.get("SecurityCredential"), str):
            raise _bad_request("SecurityCredential")
        shortcode = str(body.get("PartyA") or "").strip()
        if not _SHORTCODE_RE.match(shortcode):
            raise _bad_request("PartyA")
        for name in ("ResultURL", "QueueTimeOutURL"):
            try:
                validate_callback_url(body.get(name), require_https=False)
            except CallbackURLError:
                raise _bad_request(name) from None
        return shortcode

    def _paid_by_receipt(self, receipt: str) -> tuple[int, str, str] | None:
        """(amount, payer, kind) of a receipt the simulator issued, from STK or C2B."""
        for stk in self._stk.values():
            if stk.receipt_number == receipt and stk.paid_amount is not None:
                return stk.paid_amount, stk.phone, "stk"
        c2b = self._c2b.get(receipt)
        if c2b is not None and c2b.state == "confirmed":
            return c2b.amount, c2b.phone, "c2b"
        return None

    def transaction_status(self, body: dict) -> dict:
        """Daraja's Transaction Status: accepted now, the result posted to ResultURL a moment later."""
        shortcode = self._check_initiator(body)
        if body.get("CommandID") != "TransactionStatusQuery":
            raise _bad_request("CommandID")
        receipt = str(body.get("TransactionID") or "").strip().upper()
        if not receipt:
            raise _bad_request("TransactionID")
        conversation = f"AG_{_nairobi_now():%Y%m%d}_{uuid.uuid4().hex[:20]}"
        originator = f"{random.randint(10000, 99999)}-{random.randint(1000000, 9999999)}-1"
        with self._lock:
            found = self._paid_by_receipt(receipt)
        if found is None:
            result = {"ResultType": 0, "ResultCode": 2001, "ResultDesc": "The transaction does not exist."}
            parameters = []
        else:
            amount, payer, _kind = found
            result = {"ResultType": 0, "ResultCode": 0, "ResultDesc": "The service request is processed successfully."}
            parameters = [
                {"Key": "DebitPartyName", "Value": f"{payer} - John Doe"},
                {"Key": "CreditPartyName", "Value": f"{shortcode} - AsiriaPOS Demo Shop"},
                {"Key": "OriginatorConversationID", "Value": originator},
                {"Key": "InitiatedTime", "Value": int(_nairobi_now().strftime("%Y%m%d%H%M%S"))},
                {"Key": "DebitAccountType", "Value": "MMF Account For Customer"},
                {"Key": "DebitPartyCharges", "Value": ""},
                {"Key": "TransactionReason", "Value": ""},
                {"Key": "ReasonType", "Value": "Pay Bill Online"},
                {"Key": "TransactionStatus", "Value": "Completed"},
                {"Key": "FinalisedTime", "Value": int(_nairobi_now().strftime("%Y%m%d%H%M%S"))},
                {"Key": "Amount", "Value": float(amount)},
                {"Key": "ConversationID", "Value": conversation},
                {"Key": "ReceiptNo", "Value": receipt},
            ]
        answer = {"Result": {
            **result,
            "OriginatorConversationID": originator,
            "ConversationID": conversation,
            "TransactionID": receipt,
            "ResultParameters": {"ResultParameter": parameters},
            "ReferenceData": {"ReferenceItem": {"Key": "Occasion"}},
        }}
        self._later(self.callback_delay, self._post, "transaction_status_result", body["ResultURL"], answer)
        return {
            "OriginatorConversationID": originator,
            "ConversationID": conversation,
            "ResponseCode": "0",
            "ResponseDescription": "Accept the service request successfully.",
        }

    def account_balance(self, body: dict) -> dict:
        """Daraja's Account Balance: the result (`AccountBalance` parameter) posted to ResultURL."""
        shortcode = self._check_initiator(body)
        if body.get("CommandID") != "AccountBalance":
            raise _bad_request("CommandID")
        conversation = f"AG_{_nairobi_now():%Y%m%d}_{uuid.uuid4().hex[:20]}"
        originator = f"{random.randint(10000, 99999)}-{random.randint(1000000, 9999999)}-1"
        with self._lock:
            balance = self._balances.get(shortcode, 0) + sum(
                t.paid_amount or 0 for t in self._stk.values() if t.shortcode == shortcode
            )
        value = f"Working Account|KES|{balance}.00|{balance}.00|0.00|0.00&Utility Account|KES|0.00|0.00|0.00|0.00"
        answer = {"Result": {
            "ResultType": 0,
            "ResultCode": 0,
            "ResultDesc": "The service request is processed successfully.",
            "OriginatorConversationID": originator,
            "ConversationID": conversation,
            "TransactionID": self._receipt(),
            "ResultParameters": {"ResultParameter": [
                {"Key": "AccountBalance", "Value": value},
                {"Key": "BOCompletedTime", "Value": int(_nairobi_now().strftime("%Y%m%d%H%M%S"))},
            ]},
            "ReferenceData": {"ReferenceItem": {"Key": "QueueTimeoutURL", "Value": body["QueueTimeOutURL"]}},
        }}
        self._later(self.callback_delay, self._post, "account_balance_result", body["ResultURL"], answer)
        return {
            "OriginatorConversationID": originator,
            "ConversationID": conversation,
            "ResponseCode": "0",
            "ResponseDescription": "Accept the service request successfully.",
        }

    def pull_register(self, body: dict) -> dict:
        shortcode = str(body.get("ShortCode") or "").strip()
        if not _SHORTCODE_RE.match(shortcode) or body.get("RequestType") != "Pull":
            raise _bad_request("ShortCode")
        return {"ResponseRefID": _request_id(), "ResponseStatus": "1000", "ShortCode": shortcode,
                "ResponseDescription": "ShortCode Registered Successfully"}

    def pull_query(self, body: dict) -> dict:
        """The shortcode's statement: every paid STK push and confirmed C2B payment, in Safaricom's shape."""
        shortcode = str(body.get("ShortCode") or "").strip()
        if not _SHORTCODE_RE.match(shortcode):
            raise _bad_request("ShortCode")
        try:
            offset = int(str(body.get("OffSetValue") or "0"))
        except ValueError:
            raise _bad_request("OffSetValue") from None
        rows = []
        with self._lock:
            for stk in self._stk.values():
                if stk.paid_amount is not None and stk.shortcode == shortcode:
                    rows.append({"transactionId": stk.receipt_number, "trxDate": stk.created_at,
                                 "msisdn": int(stk.phone), "sender": "", "transactiontype": "c2b-pay-bill-debit",
                                 "billreference": stk.account_reference, "amount": str(stk.paid_amount),
                                 "organizationname": "AsiriaPOS Demo Shop"})
            for c2b in self._c2b.values():
                if c2b.state == "confirmed" and c2b.shortcode == shortcode:
                    rows.append({"transactionId": c2b.trans_id, "trxDate": _nairobi_now().isoformat(),
                                 "msisdn": int(c2b.phone), "sender": "", "transactiontype": "c2b-pay-bill-debit",
                                 "billreference": c2b.bill_ref_number, "amount": str(c2b.amount),
                                 "organizationname": "AsiriaPOS Demo Shop"})
        page = rows[offset:offset + 1000]
        return {"ResponseRefID": _request_id(), "ResponseCode": "1000", "ResponseMessage": "Success",
                "Response": [page]}

    # ------------------------------------------------------------------ callbacks over HTTP
    def _post(self, kind: str, url: str, body: dict, timeout: float = CALLBACK_TIMEOUT) -> Delivery:
        delivery = Delivery(kind=kind, url=url, at=_nairobi_now().isoformat())
        try:
            response = self._http.post(url, json=body, timeout=timeout)
        except httpx.HTTPError as exc:
            delivery.error = f"{type(exc).__name__}: {exc}"
            log.warning("%s to %s failed: %s", kind, urlsplit(url).hostname, delivery.error)
            return delivery
        delivery.status = response.status_code
        try:
            delivery.response = response.json()
        except ValueError:
            delivery.response = response.text[:500]
        log.info("%s delivered: HTTP %s", kind, response.status_code)
        return delivery

    # ------------------------------------------------------------------ inspection (tests, /simulator/)
    def stk_transaction(self, checkout_request_id: str) -> dict:
        with self._lock:
            return asdict(self._stk[checkout_request_id])

    def c2b_transaction(self, trans_id: str) -> dict:
        with self._lock:
            return asdict(self._c2b[trans_id])

    def registration(self, shortcode: str) -> dict | None:
        with self._lock:
            registration = self._registrations.get(shortcode)
            return asdict(registration) if registration else None

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "stk": [asdict(t) for t in self._stk.values()],
                "c2b": [asdict(t) for t in self._c2b.values()],
                "registrations": [asdict(r) for r in self._registrations.values()],
                "tokens": len(self._tokens),
            }

    def reset(self) -> None:
        with self._lock:
            timers, self._timers = self._timers, []
            self._stk.clear()
            self._c2b.clear()
            self._tokens.clear()
        for timer in timers:
            timer.cancel()

    def help(self) -> dict:
        return {
            "simulator": "Local Daraja (M-Pesa) simulator; see cashdesk/mpesa/daraja/simulator.py and docs/mpesa.md",
            "base_url": self.base_url,
            "callback_delay_seconds": self.callback_delay,
            "no_answer_delay_seconds": self.no_answer_delay,
            "shortcodes": sorted(self.passkeys),
            "phones": {"any other number (e.g. 254708374149)": Behaviour.PAY.value}
            | {phone: behaviour.value for phone, behaviour in DEMO_PHONES.items()},
        }


class _Handler(BaseHTTPRequestHandler):
    server_version = "DarajaSimulator/1"
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; no 40 ms delayed-ACK stall

    @property
    def simulator(self) -> DarajaSimulator:
        return self.server.simulator  # type: ignore[attr-defined]

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        log.debug("%s %s", self.address_string(), format % args)

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _read_body(self) -> bytes:
        # Read it before anything can fail: an unread body would be taken for the next request
        # on this keep-alive connection.
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        return self.rfile.read(length) if length > 0 else b""

    def _body(self) -> dict:
        try:
            body = json.loads(self._raw or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise _DarajaReply(400, "400.002.05", "Invalid Request Payload")
        return body

    def _dispatch(self, method: str) -> None:
        self._raw = self._read_body()
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        sim = self.simulator
        try:
            if method == "GET" and path == "/oauth/v1/generate":
                self._reply(200, self._oauth(parse_qs(parts.query)))
            elif method == "POST" and path == "/mpesa/stkpush/v1/processrequest":
                sim.check_token(self.headers.get("Authorization"))
                self._reply(200, sim.stk_push(self._body()))
            elif method == "POST" and path == "/mpesa/stkpushquery/v1/query":
                sim.check_token(self.headers.get("Authorization"))
                self._reply(200, sim.stk_query(self._body()))
            elif method == "POST" and path in ("/mpesa/c2b/v1/registerurl", "/mpesa/c2b/v2/registerurl"):
                sim.check_token(self.headers.get("Authorization"))
                self._reply(200, sim.register_urls(self._body(), path.split("/")[3]))
            elif method == "POST" and path in ("/mpesa/c2b/v1/simulate", "/mpesa/c2b/v2/simulate"):
                sim.check_token(self.headers.get("Authorization"))
                body = self._body()
                if body.get("CommandID") not in TRANSACTION_TYPES:
                    raise _bad_request("CommandID")
                sim.c2b_pay(
                    phone=str(body.get("Msisdn") or "").strip(),
                    amount=body.get("Amount"),
                    bill_ref_number=str(body.get("BillRefNumber") or ""),
                    shortcode=str(body.get("ShortCode") or "").strip(),
                    command_id=body["CommandID"],
                )
                self._reply(
                    200,
                    {
                        "OriginatorCoversationID": _request_id(),
                        "ResponseCode": "0",
                        "ResponseDescription": "Accept the service request successfully.",
                    },
                )
            elif method == "POST" and path == "/mpesa/transactionstatus/v1/query":
                sim.check_token(self.headers.get("Authorization"))
                self._reply(200, sim.transaction_status(self._body()))
            elif method == "POST" and path == "/mpesa/accountbalance/v1/query":
                sim.check_token(self.headers.get("Authorization"))
                self._reply(200, sim.account_balance(self._body()))
            elif method == "POST" and path == "/pulltransactions/v1/register":
                sim.check_token(self.headers.get("Authorization"))
                self._reply(200, sim.pull_register(self._body()))
            elif method == "POST" and path == "/pulltransactions/v1/query":
                sim.check_token(self.headers.get("Authorization"))
                self._reply(200, sim.pull_query(self._body()))
            elif path.startswith("/simulator"):
                self._simulator_only(method, path)
            else:
                raise _DarajaReply(404, "404.001.01", "Resource not found")
        except _DarajaReply as reply:
            self._reply(reply.status, reply.body)
        except Exception:
            log.exception("Daraja simulator: %s %s failed", method, path)
            reply = _DarajaReply(500, "500.003.1001", "Internal Server Error")
            self._reply(reply.status, reply.body)

    def _oauth(self, query: dict) -> dict:
        if query.get("grant_type") != ["client_credentials"]:
            raise _DarajaReply(400, "400.008.02", "Invalid grant type passed")
        header = self.headers.get("Authorization") or ""
        if not header.startswith("Basic "):
            raise _DarajaReply(400, "400.008.01", "Invalid Authentication passed")
        try:
            key, _, secret = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise _DarajaReply(400, "400.008.01", "Invalid Authentication passed") from None
        if not key or not secret:
            raise _DarajaReply(400, "400.008.01", "Invalid Authentication passed")
        return self.simulator.issue_token(key)

    def _simulator_only(self, method: str, path: str) -> None:
        sim = self.simulator
        segments = path.strip("/").split("/")[1:]  # after "simulator"
        try:
            if method == "GET" and segments == []:
                self._reply(200, sim.help())
            elif method == "GET" and segments == ["state"]:
                self._reply(200, sim.snapshot())
            elif method == "POST" and segments == ["reset"]:
                sim.reset()
                self._reply(200, {"reset": True})
            elif method == "POST" and segments == ["tokens", "expire"]:
                sim.expire_tokens()
                self._reply(200, {"expired": True})
            elif method == "POST" and segments == ["c2b", "pay"]:
                body = self._body()
                transaction = sim.c2b_pay(
                    phone=_msisdn_or_reject(body.get("phone")),
                    amount=body.get("amount"),
                    bill_ref_number=str(body.get("bill_ref") or ""),
                    shortcode=(str(body["shortcode"]) if body.get("shortcode") else None),
                    command_id=body.get("command_id") or None,
                    first_name=str(body.get("first_name") or "John"),
                    last_name=str(body.get("last_name") or "Doe"),
                )
                self._reply(
                    200,
                    {
                        "TransID": transaction.trans_id,
                        "ShortCode": transaction.shortcode,
                        "Amount": transaction.amount,
                        "BillRefNumber": transaction.bill_ref_number,
                    },
                )
            elif len(segments) == 2 and segments[0] == "stk" and method == "GET":
                self._reply(200, sim.stk_transaction(segments[1]))
            elif len(segments) == 3 and segments[0] == "stk" and segments[2] == "resend" and method == "POST":
                self._reply(200, asdict(sim.deliver_stk_callback(segments[1])))
            elif len(segments) == 2 and segments[0] == "c2b" and method == "GET":
                self._reply(200, sim.c2b_transaction(segments[1]))
            elif len(segments) == 3 and segments[0] == "c2b" and segments[2] == "resend" and method == "POST":
                self._reply(200, asdict(sim.deliver_c2b_confirmation(segments[1])))
            else:
                self._reply(404, {"error": "unknown simulator endpoint", "see": "GET /simulator/"})
        except KeyError:
            self._reply(404, {"error": "no such transaction"})
        except ValueError as exc:
            self._reply(409, {"error": str(exc)})

    def do_GET(self) -> None:  # noqa: N802 - http.server's names
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")


def _msisdn_or_reject(value: Any) -> str:

    try:
        return msisdn(str(value or ""))
    except Exception:
        raise _bad_request("phone") from None
