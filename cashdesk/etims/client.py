"""The OSCU client: the one adapter that knows KRA's base URL, path names, headers and reply envelopes.

Pure integration code (no models, no queue rules). Every call is an HTTP POST with a JSON body. What
comes back is an `OscuReply` (KRA answered: `result_cd` "000", "001", "994", "910"…) or an
`OscuTransportError` (no usable answer: unreachable, timed out, HTML or garbage, HTTP 5xx).
`OscuTransportError.sent` says whether KRA may have received the request: a refused connection was
never sent; a timeout or a garbled reply leaves a write's outcome unknown (docs/etims.md, "Outbox").

Two reply shapes are unwrapped here so nothing else sees them: the flat legacy
`{"resultCd", "resultMsg", "resultDt", "data"}` and the GavaConnect gateway's
`{"responseHeader": {...}, "responseBody": {...} | null}` (a gateway 400 with no body becomes `910`
with the gateway's debug message). The `cmcKey` header is never logged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog

from cashdesk.etims.config import EtimsConfig, get_config

log = structlog.get_logger("cashdesk.etims.client")

# Our names for the endpoints are KRA's legacy paths; ETIMS_PATHS maps them to other deployments'.
ENDPOINTS = (
    "selectInitOsdcInfo",
    "selectCodeList",
    "selectItemClsList",
    "saveItem",
    "selectItemList",
    "saveTrnsSalesOsdc",
    "selectInvoiceDetails",
    "selectTrnsPurchaseSalesList",
    "insertTrnsPurchase",
    "insertStockIO",
    "saveStockMaster",
    "selectCustomer",
    "selectNoticeList",
)
GATEWAY_PATHS = {
    "selectInitOsdcInfo": "initialize",
    "saveTrnsSalesOsdc": "sendSalesTransaction",
    "insertStockIO": "insert/stockIO",
    "saveStockMaster": "save/stockMaster",
    "selectItemClsList": "selectItemClass",
    "selectInvoiceDetails": "selectInvoiceDetail",
}

OK = "000"
NO_RESULT = "001"
DUPLICATE = "994"
# What a code means for the queue (docs/etims.md, "Result codes").
TRANSIENT_CODES = frozenset({"894", "990", "991", "992", "993", "999"})
DEVICE_CODES = frozenset({"900", "901", "903"})  # the device or its key is wrong: stop the whole queue


@dataclass(frozen=True)
class OscuReply:
    result_cd: str
    result_msg: str
    result_dt: str
    data: Any = None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.result_cd == OK

    @property
    def empty(self) -> bool:
        return self.result_cd == NO_RESULT

    @property
    def transient(self) -> bool:
        return self.result_cd in TRANSIENT_CODES

    @property
    def device_problem(self) -> bool:
        return self.result_cd in DEVICE_CODES

    @property
    def message(self) -> str:
        return f"KRA {self.result_cd}: {self.result_msg}".strip()


class OscuTransportError(Exception):
    """No usable answer from KRA. `sent`: KRA may have received (and acted on) the request."""

    def __init__(self, message: str, *, kind: str, sent: bool, http_status: int | None = None):
        super().__init__(message)
        self.message = message
        self.kind = kind  # unreachable | timeout | bad_response | http_error
        self.sent = sent
        self.http_status = http_status


def _code(value) -> str:
    text = "" if value is None else str(value).strip()
    return text.zfill(3) if text.isdigit() else text


def unwrap(body: Any, http_status: int) -> OscuReply:
    """The reply in our one shape, whichever envelope it came in; OscuTransportError if it is none."""
    if not isinstance(body, dict):
        raise OscuTransportError("KRA answered something that is not a JSON object.", kind="bad_response", sent=True,
                                 http_status=http_status)
    if "responseHeader" in body or "responseBody" in body:
        header = body.get("responseHeader") or {}
        inner = body.get("responseBody")
        if isinstance(inner, dict) and "resultCd" in inner:
            body = inner
        else:
            status = header.get("responseCode", http_status)
            message = header.get("debugMessage") or header.get("customerMessage") or "gateway error"
            if isinstance(status, int) and status >= 500 or http_status >= 500:
                raise OscuTransportError(f"KRA's gateway failed: {message}", kind="http_error", sent=True,
                                         http_status=http_status)
            return OscuReply("910", str(message), "", None, raw=body)
    if "resultCd" not in body:
        raise OscuTransportError("KRA's answer has no resultCd.", kind="bad_response", sent=True,
                                 http_status=http_status)
    return OscuReply(
        result_cd=_code(body.get("resultCd")),
        result_msg=str(body.get("resultMsg") or ""),
        result_dt=str(body.get("resultDt") or ""),
        data=body.get("data"),
        raw=body,
    )


class OscuClient:
    """One device talking to one OSCU deployment. `http` is for tests (respx, or a client of their own)."""

    def __init__(
        self,
        *,
        base_url: str,
        tin: str = "",
        bhf_id: str = "",
        cmc_key: str = "",
        config: EtimsConfig | None = None,
        http: httpx.Client | None = None,
    ):
        self.config = config or get_config()
        self.base_url = base_url.rstrip("/")
        self.tin = tin
        self.bhf_id = bhf_id
        self._cmc_key = cmc_key
        self._own_http = http is None
        self._http = http or httpx.Client(headers={"User-Agent": "AsiriaPOS-eTIMS/1"})

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    def __enter__(self) -> OscuClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:  # never the key
        return f"OscuClient(base_url={self.base_url!r}, tin={self.tin!r}, bhf_id={self.bhf_id!r})"

    def path(self, endpoint: str) -> str:
        if endpoint in self.config.paths:
            return str(self.config.paths[endpoint]).strip("/")
        if self.config.api_style == "gateway":
            return GATEWAY_PATHS.get(endpoint, endpoint)
        return endpoint

    def headers(self, *, initialising: bool = False) -> dict:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if not initialising:
            headers.update({"tin": self.tin, "bhfId": self.bhf_id, "cmcKey": self._cmc_key})
        return headers

    def call(self, endpoint: str, body: dict, *, timeout: float | None = None) -> OscuReply:
        """POST `body` to `endpoint`; the unwrapped reply, or OscuTransportError."""
        initialising = endpoint == "selectInitOsdcInfo"
        url = f"{self.base_url}/{self.path(endpoint)}"
        wait = timeout or (self.config.init_timeout if initialising else self.config.timeout)
        try:
            response = self._http.post(
                url, content=json.dumps(body, default=str), headers=self.headers(initialising=initialising),
                timeout=wait,
            )
        except httpx.ConnectError as exc:
            raise OscuTransportError(
                f"KRA cannot be reached ({type(exc).__name__}).", kind="unreachable", sent=False
            ) from exc
        except httpx.TimeoutException as exc:
            # A connect timeout never sent the request; a read/write timeout may have.
            sent = not isinstance(exc, httpx.ConnectTimeout)
            raise OscuTransportError(f"KRA did not answer within {wait:g} s.", kind="timeout", sent=sent) from exc
        except httpx.HTTPError as exc:
            raise OscuTransportError(f"The connection to KRA failed ({type(exc).__name__}).", kind="unreachable",
                                     sent=True) from exc
        try:
            body_json = response.json()
        except ValueError:
            kind = "http_error" if response.status_code >= 500 else "bad_response"
            raise OscuTransportError(
                f"KRA answered HTTP {response.status_code} with no JSON ({response.headers.get('content-type', '?')}).",
                kind=kind, sent=True, http_status=response.status_code,
            ) from None
        reply = unwrap(body_json, response.status_code)
        log.info("etims %s → %s", endpoint, reply.result_cd)
        return reply

    # -- the calls, by KRA's names
    def select_init_osdc_info(self, *, dvc_srl_no: str) -> OscuReply:
        return self.call("selectInitOsdcInfo", {"tin": self.tin, "bhfId": self.bhf_id, "dvcSrlNo": dvc_srl_no})

    def select_code_list(self, *, last_req_dt: str) -> OscuReply:
        return self.call("selectCodeList", {"lastReqDt": last_req_dt})

    def select_item_cls_list(self, *, last_req_dt: str) -> OscuReply:
        return self.call("selectItemClsList", {"lastReqDt": last_req_dt})

    def select_invoice_details(self, *, invc_no: int) -> OscuReply:
        return self.call("selectInvoiceDetails", {"invcNo": invc_no})

    def select_customer(self, *, pin: str) -> OscuReply:
        return self.call("selectCustomer", {"custmTin": pin})

    def select_purchases(self, *, last_req_dt: str) -> OscuReply:
        return self.call("selectTrnsPurchaseSalesList", {"lastReqDt": last_req_dt})
