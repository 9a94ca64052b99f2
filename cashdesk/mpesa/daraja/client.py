"""A small typed client for Safaricom's Daraja API over httpx: OAuth, STK push, STK query, C2B URLs.

Pure integration code: no models, no payment rules. Callers (Huey tasks, management commands) get
dataclasses back, or one exception type, `DarajaError`, whatever went wrong (bad input, network,
timeout, a non-JSON answer, a Daraja error body). `DarajaError.retryable` says whether trying the
same call again later can help.

The OAuth token is cached in Django's cache, one per base URL + consumer key, until shortly before
it expires. Safaricom invalidates the previous token when a new one is issued, so refreshing happens
under a cache-`add` lock: two processes never both refresh and knock out each other's token. A call
answered "Invalid Access Token" drops that token and is retried once with a fresh one.

Never logged: the consumer key/secret, the passkey, the password, tokens, whole phone numbers.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import structlog
from django.core.cache import cache as default_cache
from django.core.exceptions import ValidationError
from django.utils import timezone

from cashdesk.mpesa.daraja.callbacks import ResultMessage, result_message
from cashdesk.mpesa.daraja.config import (
    BUY_GOODS,
    PRODUCTION,
    TRANSACTION_TYPES,
    CallbackURLError,
    DarajaConfig,
    get_config,
    validate_callback_url,
)
from core.errors import DomainError
from core.phone import mask_phone, msisdn

log = structlog.get_logger("cashdesk.mpesa.daraja")

NAIROBI = ZoneInfo("Africa/Nairobi")

TOKEN_PATH = "/oauth/v1/generate"  # noqa: S105 - the OAuth URL path, not a secret
STK_PUSH_PATH = "/mpesa/stkpush/v1/processrequest"
STK_QUERY_PATH = "/mpesa/stkpushquery/v1/query"
C2B_REGISTER_PATHS = {"v1": "/mpesa/c2b/v1/registerurl", "v2": "/mpesa/c2b/v2/registerurl"}
C2B_SIMULATE_PATH = "/mpesa/c2b/v1/simulate"
TRANSACTION_STATUS_PATH = "/mpesa/transactionstatus/v1/query"
ACCOUNT_BALANCE_PATH = "/mpesa/accountbalance/v1/query"
PULL_REGISTER_PATH = "/pulltransactions/v1/register"
PULL_QUERY_PATH = "/pulltransactions/v1/query"

INVALID_TOKEN_CODE = "404.001.03"  # noqa: S105 - the error code Daraja sends for a stale token, not a secret
# Answers of the STK query while the customer has not finished yet: try again later.
PENDING_MESSAGES = ("being processed", "still under processing")
PENDING_RESULT_CODES = ("4999",)

MAX_STK_AMOUNT = 250_000  # KES per M-Pesa transaction
ACCOUNT_REFERENCE_MAX = 12
DESCRIPTION_MAX = 13
C2B_RESPONSE_TYPES = ("Completed", "Cancelled")
REFRESH_MARGIN_SECONDS = 120  # refresh this long before the token expires (less for short tokens)


def _wall_clock() -> float:
    """Seconds since the epoch (token expiry); one seam for the tests to move time."""
    return time.time()


class DarajaError(DomainError):
    """Anything that went wrong talking to Daraja, as one type.

    `code`: Daraja's `errorCode` (e.g. "400.002.02") or ours ("timeout", "unreachable", "network",
    "bad_response", "invalid_amount", …). `retryable`: the same call may succeed later.
    """

    status_code = 502

    def __init__(
        self,
        message: str,
        *,
        code: str,
        retryable: bool = False,
        http_status: int | None = None,
        request_id: str | None = None,
        field: str | None = None,
        body: dict | None = None,
    ):
        super().__init__(message, field=field, code=code)
        self.retryable = retryable
        self.http_status = http_status
        self.request_id = request_id
        self.body = body  # Daraja's error body as received, when there was one

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, retryable={self.retryable})"


class DarajaInputError(DarajaError):
    """We refused to send the request: the input breaks a Daraja rule (nothing left the machine)."""

    status_code = 400

    def __init__(self, message: str, *, code: str, field: str | None = None):
        super().__init__(message, code=code, retryable=False, field=field)


# ---------------------------------------------------------------------------- results


@dataclass(frozen=True)
class AccessToken:
    token: str = field(repr=False)
    expires_at: float  # epoch seconds when Daraja stops accepting it

    @property
    def seconds_left(self) -> float:
        return self.expires_at - _wall_clock()


@dataclass(frozen=True)
class StkPushResult:
    """Daraja accepted the push for processing. Not paid: the result comes by callback or query."""

    merchant_request_id: str
    checkout_request_id: str
    response_code: str
    response_description: str
    customer_message: str
    phone: str  # the MSISDN the prompt went to, 2547XXXXXXXX
    amount: Decimal  # whole shillings as sent
    account_reference: str
    timestamp: str  # the Timestamp sent (Nairobi time, YYYYMMDDHHMMSS)
    raw: dict = field(repr=False, compare=False)


@dataclass(frozen=True)
class StkQueryResult:
    """The STK query's answer: `pending` (ask again later) or a final `result_code` (a string)."""

    checkout_request_id: str
    merchant_request_id: str
    pending: bool
    result_code: str | None
    result_desc: str
    response_code: str
    response_description: str
    raw: dict = field(repr=False, compare=False)

    @property
    def is_paid(self) -> bool:
        return not self.pending and self.result_code == "0"

    @property
    def outcome(self) -> ResultMessage | None:
        """`result_message(...)` for a final answer (status, words for the cashier); None while pending."""
        if self.pending:
            return None
        return result_message(self.result_code, self.result_desc)


@dataclass(frozen=True)
class C2BRegisterResult:
    originator_conversation_id: str
    response_code: str
    response_description: str
    raw: dict = field(repr=False, compare=False)


@dataclass(frozen=True)
class C2BSimulateResult:
    originator_conversation_id: str
    response_code: str
    response_description: str
    raw: dict = field(repr=False, compare=False)


# ---------------------------------------------------------------------------- pure helpers


@dataclass(frozen=True)
class AsyncRequestResult:
    """Daraja accepted an asynchronous request; the answer comes later to the ResultURL."""

    conversation_id: str
    originator_conversation_id: str
    response_code: str
    response_description: str
    raw: dict = field(repr=False, default_factory=dict)


@dataclass(frozen=True)
class PulledTransaction:
    """One line of the shortcode's statement from the Pull Transactions API."""

    transaction_id: str
    when: str
    msisdn: str
    transaction_type: str
    bill_reference: str
    amount: Decimal
    raw: dict = field(repr=False, default_factory=dict)


def daraja_timestamp(moment: datetime | None = None) -> str:
    """`YYYYMMDDHHMMSS` in Kenya time (Africa/Nairobi), whatever the server's clock zone."""
    moment = moment or timezone.now()
    if timezone.is_naive(moment):
        raise ValueError("daraja_timestamp needs an aware datetime")
    return moment.astimezone(NAIROBI).strftime("%Y%m%d%H%M%S")


def stk_password(shortcode: str, passkey: str, timestamp: str) -> str:
    """base64(BusinessShortCode + passkey + Timestamp), the STK push/query `Password`."""
    return base64.b64encode(f"{shortcode}{passkey}{timestamp}".encode()).decode("ascii")


def whole_shillings(amount: Any) -> int:
    """The amount as whole shillings for Daraja, or DarajaInputError. Never rounds: the caller decides."""
    if isinstance(amount, bool) or amount is None:
        raise DarajaInputError("Enter an M-Pesa amount in shillings.", code="invalid_amount", field="amount")
    if isinstance(amount, float):
        raise DarajaInputError(
            "M-Pesa amounts must be passed as Decimal, int or str, never float.", code="invalid_amount", field="amount"
        )
    try:
        value = Decimal(str(amount).strip()) if not isinstance(amount, Decimal) else amount
    except InvalidOperation:
        raise DarajaInputError(f"{amount!r} is not an amount.", code="invalid_amount", field="amount") from None
    if not value.is_finite():
        raise DarajaInputError(f"{amount!r} is not an amount.", code="invalid_amount", field="amount")
    if value != value.to_integral_value():
        raise DarajaInputError(
            f"M-Pesa takes whole shillings only; KES {value} has cents. Round the amount first.",
            code="invalid_amount",
            field="amount",
        )
    if value < 1:
        raise DarajaInputError("An M-Pesa payment must be at least KES 1.", code="invalid_amount", field="amount")
    if value > MAX_STK_AMOUNT:
        raise DarajaInputError(
            f"M-Pesa takes at most KES {MAX_STK_AMOUNT:,} per transaction; split the payment.",
            code="invalid_amount",
            field="amount",
        )
    return int(value)


def _phone(value: Any, field_name: str = "phone") -> str:
    try:
        return msisdn(value)
    except ValidationError:
        raise DarajaInputError(
            "Enter a Kenyan mobile number such as 0712 345 678 for M-Pesa.", code="invalid_phone", field=field_name
        ) from None


def _text(value: Any, *, label: str, field_name: str, maximum: int) -> str:
    text = "" if value is None else str(value).strip()
    if not text:
        raise DarajaInputError(f"The {label} is required.", code=f"invalid_{field_name}", field=field_name)
    if len(text) > maximum:
        raise DarajaInputError(
            f"The {label} may have at most {maximum} characters for M-Pesa; {text!r} has {len(text)}.",
            code=f"invalid_{field_name}",
            field=field_name,
        )
    return text


def _shortcode(value: Any, field_name: str) -> str:
    text = str(value or "").strip()
    if not (text.isdigit() and 5 <= len(text) <= 7):
        raise DarajaInputError(
            f"{text!r} is not a paybill/till number (5 to 7 digits).", code=f"invalid_{field_name}", field=field_name
        )
    return text


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _retryable(http_status: int | None, code: str, message: str) -> bool:
    """Daraja's 5xx/429 answers are usually temporary; credential and input problems are not."""
    lowered = message.lower()
    if any(word in lowered for word in ("credential", "invalid", "does not exist", "not permitted")):
        return False
    if code.startswith("500.003") or (http_status is not None and (http_status >= 500 or http_status == 429)):
        return True
    return False


def error_from_body(body: dict, http_status: int | None) -> DarajaError | None:
    """A Daraja error body (`requestId`/`errorCode`/`errorMessage`, or Apigee's `fault`) as DarajaError."""
    if "errorCode" in body or "errorMessage" in body:
        code = _str(body.get("errorCode")) or f"http_{http_status}"
        message = _str(body.get("errorMessage")) or "Daraja returned an error without a message."
        return DarajaError(
            f"M-Pesa refused the request: {message} ({code}).",
            code=code,
            retryable=_retryable(http_status, code, message),
            http_status=http_status,
            request_id=_str(body.get("requestId")) or None,
            body=body,
        )
    fault = body.get("fault")
    if isinstance(fault, dict):
        detail = fault.get("detail") if isinstance(fault.get("detail"), dict) else {}
        code = _str(detail.get("errorcode")) or f"http_{http_status}"
        message = _str(fault.get("faultstring")) or "Daraja gateway fault."
        return DarajaError(
            f"M-Pesa refused the request: {message} ({code}).",
            code=code,
            retryable=_retryable(http_status, code, message),
            http_status=http_status,
            body=body,
        )
    return None


def _is_invalid_token(error: DarajaError) -> bool:
    return error.code == INVALID_TOKEN_CODE or "invalid access token" in error.message.lower()


def _is_pending(error: DarajaError) -> bool:
    return any(text in error.message.lower() for text in PENDING_MESSAGES)


def parse_expires_in(value: Any) -> int:
    """Daraja's `expires_in` comes as "3599" or 3599 (seen both); anything else is a bad answer."""
    if isinstance(value, bool):
        raise ValueError("expires_in is a boolean")
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, float) and value.is_integer():
        seconds = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        seconds = int(value.strip())
    else:
        raise ValueError(f"expires_in is not a number of seconds: {value!r}")
    if seconds <= 0:
        raise ValueError("expires_in is not positive")
    return seconds


# ---------------------------------------------------------------------------- the client


class DarajaClient:
    """One Daraja account (base URL + consumer key + shortcode). Cheap to create; reuse within a task.

    `http` and `now` are for tests; `cache` is a Django cache (default: the default cache, which
    must be shared by every process that calls Daraja — Redis in production).
    """

    def __init__(
        self,
        config: DarajaConfig | None = None,
        *,
        http: httpx.Client | None = None,
        cache=None,
        now: Callable[[], datetime] | None = None,
    ):
        self.config = config or get_config()
        self._own_http = http is None
        self._http = http or httpx.Client(
            timeout=httpx.Timeout(self.config.timeout), headers={"User-Agent": "AsiriaPOS-Daraja/1"}
        )
        self._cache = cache or default_cache
        self._now = now or timezone.now

    # -- lifecycle
    def close(self) -> None:
        if self._own_http:
            self._http.close()

    def __enter__(self) -> DarajaClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- OAuth
    @property
    def _credentials(self) -> tuple[str, str]:
        key, secret = self.config.consumer_key, self.config.consumer_secret
        if key and secret:
            return key, secret
        if self.config.is_simulator:
            return "simulator-key", "simulator-secret"  # the simulator accepts any pair
        raise DarajaError(
            f"MPESA_CONSUMER_KEY and MPESA_CONSUMER_SECRET are not set for {self.config.environment}.",
            code="not_configured",
        )

    @property
    def _token_key(self) -> str:
        key = self._credentials[0]
        digest = hashlib.sha256(f"{self.config.base_url}|{key}".encode()).hexdigest()[:24]
        return f"daraja:token:{digest}"

    @property
    def _lock_ttl(self) -> int:
        return int(self.config.timeout) + 5

    def _cached_token(self, exclude: str | None = None) -> str | None:
        cached = self._cache.get(self._token_key)
        if not isinstance(cached, dict):
            return None
        token, expires_at = cached.get("token"), cached.get("expires_at", 0)
        margin = cached.get("margin", REFRESH_MARGIN_SECONDS)
        if not token or token == exclude or expires_at - margin <= _wall_clock():
            return None
        return token

    def get_token(self) -> str:
        """A valid access token: the cached one, or a fresh one fetched under the refresh lock."""
        return self._cached_token() or self._refresh_token()

    def _refresh_token(self, exclude: str | None = None) -> str:
        lock_key = self._token_key + ":lock"
        owner = uuid.uuid4().hex
        deadline = time.monotonic() + self._lock_ttl + 1
        while True:
            if self._cache.add(lock_key, owner, timeout=self._lock_ttl):
                try:
                    # Another process may have refreshed between our miss and the lock.
                    token = self._cached_token(exclude=exclude)
                    if token:
                        return token
                    fresh = self.fetch_token()
                    lifetime = fresh.seconds_left
                    margin = min(REFRESH_MARGIN_SECONDS, lifetime / 10)
                    self._cache.set(
                        self._token_key,
                        {"token": fresh.token, "expires_at": fresh.expires_at, "margin": margin},
                        timeout=max(1, int(lifetime - margin)),
                    )
                    return fresh.token
                finally:
                    if self._cache.get(lock_key) == owner:
                        self._cache.delete(lock_key)
            token = self._cached_token(exclude=exclude)
            if token:
                return token
            if time.monotonic() > deadline:
                raise DarajaError(
                    "Another process is renewing the M-Pesa access token; try again.",
                    code="token_busy",
                    retryable=True,
                )
            time.sleep(0.05)

    def _drop_token(self, token: str) -> None:
        cached = self._cache.get(self._token_key)
        if isinstance(cached, dict) and cached.get("token") == token:
            self._cache.delete(self._token_key)

    def fetch_token(self) -> AccessToken:
        """Ask Daraja for a new token (no cache). Prefer `get_token()`: a new token kills the old one."""
        key, secret = self._credentials
        response = self._send(
            "GET", TOKEN_PATH, params={"grant_type": "client_credentials"}, auth=httpx.BasicAuth(key, secret)
        )
        body = self._json(response)
        error = error_from_body(body, response.status_code)
        if error is None and ("resultCode" in body or response.status_code >= 400):
            code = _str(body.get("resultCode")) or f"http_{response.status_code}"
            message = _str(body.get("resultDesc")) or "the consumer key/secret were refused"
            error = DarajaError(
                f"M-Pesa refused the access token request: {message} ({code}).",
                code=code,
                retryable=_retryable(response.status_code, code, message),
                http_status=response.status_code,
            )
        if error:
            raise error
        token = body.get("access_token")
        try:
            expires_in = parse_expires_in(body.get("expires_in"))
        except ValueError as exc:
            raise DarajaError(
                f"M-Pesa sent an unusable token answer: {exc}.", code="bad_response", retryable=True
            ) from exc
        if not isinstance(token, str) or not token:
            raise DarajaError("M-Pesa sent a token answer without access_token.", code="bad_response", retryable=True)
        return AccessToken(token=token, expires_at=_wall_clock() + expires_in)

    # -- transport
    def _send(self, method: str, path: str, **kwargs) -> httpx.Response:
        url = self.config.base_url + path
        started = time.monotonic()
        try:
            response = self._http.request(method, url, timeout=self.config.timeout, **kwargs)
        except httpx.ConnectTimeout as exc:
            raise DarajaError(
                "Could not reach M-Pesa (connection timed out).", code="unreachable", retryable=True
            ) from exc
        except httpx.TimeoutException as exc:
            # The request may have arrived: an STK push may still prompt the customer.
            raise DarajaError("M-Pesa did not answer in time.", code="timeout", retryable=True) from exc
        except httpx.ConnectError as exc:
            raise DarajaError("Could not reach M-Pesa (no connection).", code="unreachable", retryable=True) from exc
        except httpx.HTTPError as exc:
            raise DarajaError(
                f"Network error talking to M-Pesa: {type(exc).__name__}.", code="network", retryable=True
            ) from exc
        log.info(
            "daraja %s %s -> %s in %.0f ms", method, path, response.status_code, (time.monotonic() - started) * 1000
        )
        return response

    @staticmethod
    def _json(response: httpx.Response) -> dict:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            status = response.status_code
            raise DarajaError(
                f"M-Pesa answered HTTP {status} with something that is not a JSON object.",
                code="bad_response",
                retryable=status >= 500 or status == 429,
                http_status=status,
            )
        return body

    def _post(self, path: str, payload: dict) -> dict:
        """POST with the bearer token; one retry with a fresh token on "Invalid Access Token"."""
        for attempt in (1, 2):
            token = self.get_token()
            response = self._send("POST", path, json=payload, headers={"Authorization": f"Bearer {token}"})
            body = self._json(response)
            error = error_from_body(body, response.status_code)
            if error is None and response.status_code >= 400:
                error = DarajaError(
                    f"M-Pesa answered HTTP {response.status_code}.",
                    code=f"http_{response.status_code}",
                    retryable=_retryable(response.status_code, "", ""),
                    http_status=response.status_code,
                    body=body,
                )
            if error is None:
                return body
            if _is_invalid_token(error) and attempt == 1:
                log.warning("daraja %s: access token refused, fetching a new one", path)
                self._drop_token(token)
                self._refresh_token(exclude=token)
                continue
            if _is_pending(error):
                log.info("daraja %s: still being processed", path)
            else:
                log.warning("daraja %s failed: %s %s", path, error.code, error.message)
            raise error
        raise AssertionError("unreachable")  # pragma: no cover

    # -- STK push (M-Pesa Express)
    def stk_push(
        self,
        phone: str,
        amount: Decimal | int | str,
        account_reference: str,
        description: str,
        callback_url: str,
        *,
        party_b: str | None = None,
        transaction_type: str | None = None,
    ) -> StkPushResult:
        """Send the PIN prompt to `phone` for `amount` whole shillings. Accepted ≠ paid.

        `party_b`/`transaction_type` override the settings (a branch's own till number).
        """
        number = _phone(phone)
        shillings = whole_shillings(amount)
        reference = _text(
            account_reference, label="account reference", field_name="account_reference", maximum=ACCOUNT_REFERENCE_MAX
        )
        desc = _text(description, label="description", field_name="description", maximum=DESCRIPTION_MAX)
        try:
            url = validate_callback_url(callback_url, require_https=self.config.requires_https_callbacks)
        except CallbackURLError as exc:
            raise DarajaInputError(str(exc), code="invalid_callback_url", field="callback_url") from None
        kind = transaction_type or self.config.transaction_type
        if kind not in TRANSACTION_TYPES:
            raise DarajaInputError(f"Unknown transaction type {kind!r}.", code="invalid_transaction_type")
        shortcode = _shortcode(self.config.shortcode, "shortcode")
        receiver = _shortcode(party_b or (self.config.party_b if kind == BUY_GOODS else shortcode), "party_b")
        timestamp = daraja_timestamp(self._now())
        payload = {
            "BusinessShortCode": shortcode,
            "Password": stk_password(shortcode, self.config.passkey, timestamp),
            "Timestamp": timestamp,
            "TransactionType": kind,
            "Amount": shillings,
            "PartyA": number,
            "PartyB": receiver,
            "PhoneNumber": number,
            "CallBackURL": url,
            "AccountReference": reference,
            "TransactionDesc": desc,
        }
        log.info("daraja stk push KES %s to %s ref %s", shillings, mask_phone(number), reference)
        body = self._post(STK_PUSH_PATH, payload)
        response_code = _str(body.get("ResponseCode"))
        checkout_id = _str(body.get("CheckoutRequestID"))
        if response_code != "0" or not checkout_id:
            raise DarajaError(
                f"M-Pesa did not accept the push: {_str(body.get('ResponseDescription')) or 'no reason given'}.",
                code=response_code or "bad_response",
                retryable=False,
            )
        return StkPushResult(
            merchant_request_id=_str(body.get("MerchantRequestID")),
            checkout_request_id=checkout_id,
            response_code=response_code,
            response_description=_str(body.get("ResponseDescription")),
            customer_message=_str(body.get("CustomerMessage")),
            phone=number,
            amount=Decimal(shillings),
            account_reference=reference,
            timestamp=timestamp,
            raw=body,
        )

    def stk_query(self, checkout_request_id: str) -> StkQueryResult:
        """Ask how an STK push ended. `pending=True` while the customer has not finished."""
        checkout_id = _str(checkout_request_id).strip()
        if not checkout_id:
            raise DarajaInputError("The CheckoutRequestID is required.", code="invalid_checkout_request_id")
        shortcode = _shortcode(self.config.shortcode, "shortcode")
        timestamp = daraja_timestamp(self._now())
        payload = {
            "BusinessShortCode": shortcode,
            "Password": stk_password(shortcode, self.config.passkey, timestamp),
            "Timestamp": timestamp,
            "CheckoutRequestID": checkout_id,
        }
        try:
            body = self._post(STK_QUERY_PATH, payload)
        except DarajaError as error:
            if not _is_pending(error):
                raise
            body = error.body or {}
            return StkQueryResult(
                checkout_request_id=checkout_id,
                merchant_request_id="",
                pending=True,
                result_code=None,
                result_desc=_str(body.get("errorMessage")),
                response_code=_str(body.get("errorCode")),
                response_description=_str(body.get("errorMessage")),
                raw=body,
            )
        result_code = body.get("ResultCode")
        if _str(result_code).strip() in PENDING_RESULT_CODES:
            return StkQueryResult(
                checkout_request_id=_str(body.get("CheckoutRequestID")) or checkout_id,
                merchant_request_id=_str(body.get("MerchantRequestID")),
                pending=True,
                result_code=None,
                result_desc=_str(body.get("ResultDesc")),
                response_code=_str(body.get("ResponseCode")),
                response_description=_str(body.get("ResponseDescription")),
                raw=body,
            )
        if result_code is None or isinstance(result_code, bool) or _str(result_code).strip() == "":
            raise DarajaError("M-Pesa's query answer has no ResultCode.", code="bad_response", retryable=True)
        return StkQueryResult(
            checkout_request_id=_str(body.get("CheckoutRequestID")) or checkout_id,
            merchant_request_id=_str(body.get("MerchantRequestID")),
            pending=False,
            result_code=_str(result_code).strip(),
            result_desc=_str(body.get("ResultDesc")),
            response_code=_str(body.get("ResponseCode")),
            response_description=_str(body.get("ResponseDescription")),
            raw=body,
        )

    # -- C2B
    def register_c2b_urls(
        self,
        confirmation_url: str,
        validation_url: str,
        response_type: str = "Completed",
        *,
        shortcode: str | None = None,
        version: str = "v2",
    ) -> C2BRegisterResult:
        """Tell Safaricom where to post C2B validation/confirmation for `shortcode` (default: the setting).

        `response_type`: what Safaricom does when our validation URL cannot be reached
        ("Completed" accepts the payment, "Cancelled" refuses it). In production this is a one-time
        call; changing the URLs later goes through Safaricom.
        """
        if response_type not in C2B_RESPONSE_TYPES:
            raise DarajaInputError(
                f"ResponseType must be Completed or Cancelled; got {response_type!r}.", code="invalid_response_type"
            )
        if version not in C2B_REGISTER_PATHS:
            raise DarajaInputError(f"Unknown register URL version {version!r}.", code="invalid_version")
        urls = {}
        for name, value in (("confirmation_url", confirmation_url), ("validation_url", validation_url)):
            try:
                urls[name] = validate_callback_url(value, require_https=self.config.requires_https_callbacks)
            except CallbackURLError as exc:
                raise DarajaInputError(str(exc), code="invalid_callback_url", field=name) from None
        payload = {
            "ShortCode": _shortcode(shortcode or self.config.shortcode, "shortcode"),
            "ResponseType": response_type,
            "ConfirmationURL": urls["confirmation_url"],
            "ValidationURL": urls["validation_url"],
        }
        body = self._post(C2B_REGISTER_PATHS[version], payload)
        return C2BRegisterResult(
            # Safaricom spells it "OriginatorCoversationID" in this answer.
            originator_conversation_id=_str(
                body.get("OriginatorCoversationID") or body.get("OriginatorConversationID")
            ),
            response_code=_str(body.get("ResponseCode")),
            response_description=_str(body.get("ResponseDescription")),
            raw=body,
        )

    def c2b_simulate(
        self,
        *,
        phone: str,
        amount: Decimal | int | str,
        bill_ref_number: str = "",
        shortcode: str | None = None,
        command_id: str | None = None,
    ) -> C2BSimulateResult:
        """Sandbox/simulator only: make a test customer pay the paybill/till (Daraja's C2B simulate)."""
        if self.config.environment == PRODUCTION:
            raise DarajaInputError("C2B simulate does not exist in production.", code="not_available")
        command = command_id or self.config.transaction_type
        if command not in TRANSACTION_TYPES:
            raise DarajaInputError(f"Unknown CommandID {command!r}.", code="invalid_command_id")
        payload = {
            "ShortCode": _shortcode(shortcode or self.config.shortcode, "shortcode"),
            "CommandID": command,
            "Amount": whole_shillings(amount),
            "Msisdn": _phone(phone),
            "BillRefNumber": _str(bill_ref_number).strip() if command != BUY_GOODS else "",
        }
        body = self._post(C2B_SIMULATE_PATH, payload)
        return C2BSimulateResult(
            originator_conversation_id=_str(
                body.get("OriginatorCoversationID") or body.get("OriginatorConversationID")
            ),
            response_code=_str(body.get("ResponseCode")),
            response_description=_str(body.get("ResponseDescription")),
            raw=body,
        )

    # -- asynchronous requests: the answer is posted to `result_url` (`parse_result`)
    def _initiator(self) -> dict:
        return {"Initiator": self.config.initiator_name, "SecurityCredential": self.config.security_credential}

    def _async(self, path: str, payload: dict) -> AsyncRequestResult:
        body = self._post(path, payload)
        return AsyncRequestResult(
            conversation_id=_str(body.get("ConversationID")),
            originator_conversation_id=_str(body.get("OriginatorConversationID")),
            response_code=_str(body.get("ResponseCode")),
            response_description=_str(body.get("ResponseDescription")),
            raw=body,
        )

    def _result_urls(self, result_url: str, timeout_url: str) -> dict:
        urls = {}
        for name, value in (("ResultURL", result_url), ("QueueTimeOutURL", timeout_url)):
            try:
                urls[name] = validate_callback_url(value, require_https=self.config.requires_https_callbacks)
            except CallbackURLError as exc:
                raise DarajaInputError(str(exc), code="invalid_callback_url", field=name) from None
        return urls

    def transaction_status(
        self, transaction_id: str, *, result_url: str, timeout_url: str, remarks: str = "Payment check"
    ) -> AsyncRequestResult:
        """Ask Daraja about one M-Pesa receipt (TransID); the answer (amount, status, parties) is posted
        to `result_url`."""
        receipt = _str(transaction_id).strip().upper()
        if not receipt.isalnum() or not 8 <= len(receipt) <= 20:
            raise DarajaInputError("An M-Pesa receipt number is 10 letters and digits.", code="invalid_receipt")
        payload = {
            **self._initiator(),
            "CommandID": "TransactionStatusQuery",
            "TransactionID": receipt,
            "PartyA": _shortcode(self.config.shortcode, "shortcode"),
            "IdentifierType": "4",
            **self._result_urls(result_url, timeout_url),
            "Remarks": remarks[:100],
            "Occasion": "",
        }
        return self._async(TRANSACTION_STATUS_PATH, payload)

    def account_balance(self, *, result_url: str, timeout_url: str, remarks: str = "Daily check") -> AsyncRequestResult:
        """Ask for the shortcode's balance; the answer is posted to `result_url` (`parse_account_balance`)."""
        payload = {
            **self._initiator(),
            "CommandID": "AccountBalance",
            "PartyA": _shortcode(self.config.shortcode, "shortcode"),
            "IdentifierType": "4",
            "Remarks": remarks[:100],
            **self._result_urls(result_url, timeout_url),
        }
        return self._async(ACCOUNT_BALANCE_PATH, payload)

    def pull_register(self, *, callback_url: str, nominated_number: str) -> dict:
        """Register the shortcode for the Pull Transactions API (once)."""
        payload = {
            "ShortCode": _shortcode(self.config.shortcode, "shortcode"),
            "RequestType": "Pull",
            "NominatedNumber": _phone(nominated_number, "nominated_number"),
            "CallBackURL": validate_callback_url(callback_url, require_https=self.config.requires_https_callbacks),
        }
        return self._post(PULL_REGISTER_PATH, payload)

    def pull_transactions(self, *, start: datetime, end: datetime) -> list[PulledTransaction]:
        """The shortcode's statement between `start` and `end` (Kenya time), every page of it."""
        lines: list[PulledTransaction] = []
        offset = 0
        while True:
            payload = {
                "ShortCode": _shortcode(self.config.shortcode, "shortcode"),
                "StartDate": timezone.localtime(start, NAIROBI).strftime("%Y-%m-%d %H:%M:%S"),
                "EndDate": timezone.localtime(end, NAIROBI).strftime("%Y-%m-%d %H:%M:%S"),
                "OffSetValue": str(offset),
            }
            body = self._post(PULL_QUERY_PATH, payload)
            page = body.get("Response") or []
            if page and isinstance(page[0], list):  # Safaricom nests the list once
                page = page[0]
            rows = [row for row in page if isinstance(row, dict) and row.get("transactionId")]
            for row in rows:
                try:
                    amount = Decimal(str(row.get("amount", "0")))
                except ArithmeticError:
                    amount = Decimal("0")
                lines.append(PulledTransaction(
                    transaction_id=_str(row.get("transactionId")).upper(),
                    when=_str(row.get("trxDate")),
                    msisdn=_str(row.get("msisdn")),
                    transaction_type=_str(row.get("transactiontype")),
                    bill_reference=_str(row.get("billreference")),
                    amount=amount,
                    raw=row,
                ))
            if len(rows) < 1000:
                return lines
            offset += len(rows)


def get_client(**kwargs) -> DarajaClient:
    """A client for the current settings (see DarajaClient for the keyword arguments)."""
    return DarajaClient(**kwargs)
