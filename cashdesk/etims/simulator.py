"""A local stand-in for KRA's OSCU API: the same legacy paths and JSON, strict like the real thing.

Used by the demo (`manage.py etims_simulator`, started by `.ci/start` when ETIMS_ENVIRONMENT is
`simulator`) and by the tests, which start it in-process on a free port. Standard library only
(`ThreadingHTTPServer` in a thread). Nothing in the shop's code knows it is not KRA.

What it checks, as KRA does (docs/etims.md, "The simulator"):
- POST only; `tin`/`bhfId`/`cmcKey` headers matched case-insensitively: missing → `900`, unknown
  device or key → `901`; `selectInitOsdcInfo` once per device, then `902`;
- per device, `invcNo` must be the last accepted + 1 (else `910`, or the gateway's HTTP 400 shape with
  `envelope="gateway"`); a number already accepted → `994`; credit notes need an accepted `orgInvcNo`;
- every line's and band's arithmetic recomputed from VAT-inclusive prices (net `taxblAmt`);
- items must be registered with `saveItem` before they are sold or moved;
- `sarNo` of stock movements and purchase numbers have their own sequences.

Switches, for faults (`POST /simulator/mode {"mode": …, "count": n}`; count 0 = until changed):
  normal · drop_reply (does the work, then closes the connection without answering) · slow (does the
  work, answers after `delay` seconds) · error999 (answers 999, does nothing) · outage (HTTP 503 HTML,
  does nothing) · garbage (HTTP 200 that is not JSON, does nothing) · html (HTTP 200 HTML page).

Simulator-only endpoints (no headers needed; listens on localhost by default):
  GET  /simulator/                 help            GET  /simulator/state          devices, counters
  POST /simulator/mode             fault switch     POST /simulator/reset          forget everything
  POST /simulator/rates            {"B": "16", …}   POST /simulator/purchases      a supplier's sale to us
  POST /simulator/unknown-pins     {"pins": [...]}: PINs selectCustomer says it does not know
"""

from __future__ import annotations

import hashlib
import json
import secrets
import string
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import structlog

log = structlog.get_logger("cashdesk.etims.simulator")

NAIROBI = ZoneInfo("Africa/Nairobi")
CENT = Decimal("0.01")
TOLERANCE = Decimal("0.01")
BANDS = "ABCDE"
MODES = ("normal", "drop_reply", "slow", "error999", "outage", "garbage", "html")
DEFAULT_RATES = {"A": "0", "B": "16", "C": "0", "D": "0", "E": "8"}
ITEM_CLASSES = [
    ("5015151300", "Edible vegetable oils", "B"),
    ("5022110100", "Maize flour", "A"),
    ("5020230100", "Bottled water", "B"),
    ("5016150100", "Sugar", "B"),
    ("5010150000", "Fresh vegetables", "A"),
    ("5310150000", "Clothing", "B"),
    ("1010150100", "Live animals and feeds", "E"),
    ("5020000000", "Beverages", "B"),
    ("5013000000", "Bread and bakery products", "A"),
    ("5310000000", "Household goods", "B"),
]


def _now() -> datetime:
    return datetime.now(NAIROBI)


def _dt(moment: datetime | None = None) -> str:
    return (moment or _now()).strftime("%Y%m%d%H%M%S")


def _dec(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise InvalidOperation
    return Decimal(str(value))


def _r2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _token(length: int, seed: str) -> str:
    alphabet = string.ascii_uppercase + string.digits
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


class _Reply(Exception):
    def __init__(self, code: str, message: str, *, status: int = 200, expected: int | None = None,
                 found: int | None = None):
        super().__init__(message)
        self.code, self.message, self.status, self.expected, self.found = code, message, status, expected, found


@dataclass
class Device:
    tin: str
    bhf_id: str
    serial: str
    cmc_key: str
    sdc_id: str
    mrc_no: str
    last_invc_no: int = 0
    last_sar_no: int = 0
    last_pchs_no: int = 0
    cur_rcpt: dict = field(default_factory=lambda: {"S": 0, "R": 0})
    tot_rcpt: int = 0
    sales: dict = field(default_factory=dict)  # invcNo → {"request": …, "signature": …}
    stock_io: dict = field(default_factory=dict)
    stock_master: dict = field(default_factory=dict)
    purchases: dict = field(default_factory=dict)


class EtimsSimulator:
    """The simulator. `start()` serves in a thread (port 0 = a free port); `base_url` says where."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, envelope: str = "legacy",
                 unknown_serial_prefix: str = "UNKNOWN", state_file: str | None = None):
        self.host, self.port = host, port
        self.envelope = envelope
        self.unknown_serial_prefix = unknown_serial_prefix
        self.state_file = state_file
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.reset()
        self._load()

    # ------------------------------------------------------------------ kept across restarts (the demo)
    def _load(self) -> None:
        if not self.state_file or not Path(self.state_file).exists():
            return
        try:
            state = json.loads(Path(self.state_file).read_text())
        except (OSError, ValueError):
            log.warning("eTIMS simulator: cannot read %s; starting empty", self.state_file)
            return
        for row in state.get("devices", []):
            device = Device(**{k: v for k, v in row.items() if k in Device.__dataclass_fields__})
            for name in ("sales", "stock_io", "purchases"):
                setattr(device, name, {int(k): v for k, v in getattr(device, name).items()})
            self.devices[(device.tin, device.bhf_id)] = device
        self.items = state.get("items", {})
        self.rates = state.get("rates", self.rates)

    def _save(self) -> None:
        if not self.state_file:
            return
        state = {"devices": [asdict(d) for d in self.devices.values()], "items": self.items, "rates": self.rates}
        path = Path(self.state_file)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, default=str))
        tmp.replace(path)

    # ------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _bind(self) -> None:
        server = ThreadingHTTPServer((self.host, self.port), _Handler)
        server.daemon_threads = True
        server.simulator = self  # type: ignore[attr-defined]
        self._server = server
        self.port = server.server_address[1]

    def start(self) -> EtimsSimulator:
        self._bind()
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="etims-simulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._bind()
        try:
            self._server.serve_forever()
        finally:
            self.stop()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # ------------------------------------------------------------------ state and switches
    def reset(self) -> None:
        with self._lock:
            self.devices: dict[tuple[str, str], Device] = {}
            self.items: dict[str, dict[str, dict]] = {}  # tin → itemCd → payload
            self.rates = dict(DEFAULT_RATES)
            self.rates_changed_at = "20200101000000"
            self.purchases: list[dict] = []
            self.unknown_pins: set[str] = {"A000000000Z"}
            self.mode, self.mode_count, self.delay, self.mode_endpoint = "normal", 0, 0.0, ""
            self.requests: list[tuple[str, str]] = []  # (endpoint, resultCd or fault) in order

    def set_mode(self, mode: str, *, count: int = 0, delay: float = 0.0, endpoint: str = "") -> None:
        """Switch a fault on for the next `count` calls (0: until switched off), of `endpoint` only if given."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        with self._lock:
            self.mode, self.mode_count, self.delay, self.mode_endpoint = mode, count, delay, endpoint

    def _take_mode(self, endpoint: str) -> tuple[str, float]:
        with self._lock:
            mode = self.mode
            if self.mode_endpoint and endpoint != self.mode_endpoint:
                return "normal", 0.0
            if mode != "normal" and self.mode_count:
                self.mode_count -= 1
                if self.mode_count == 0:
                    self.mode = "normal"
            return mode, self.delay

    def set_rates(self, rates: dict) -> None:
        with self._lock:
            self.rates.update({band: str(rate) for band, rate in rates.items()})
            self.rates_changed_at = _dt()

    def device(self, tin: str, bhf_id: str) -> Device | None:
        with self._lock:
            return self.devices.get((tin, bhf_id))

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "mode": self.mode,
                "devices": [
                    {"tin": d.tin, "bhfId": d.bhf_id, "sdcId": d.sdc_id, "lastInvcNo": d.last_invc_no,
                     "lastSarNo": d.last_sar_no, "invoices": sorted(d.sales)}
                    for d in self.devices.values()
                ],
                "items": {tin: sorted(codes) for tin, codes in self.items.items()},
            }

    def accepted_invoices(self, tin: str, bhf_id: str) -> list[int]:
        """invcNo of the accepted sales and credit notes, in acceptance order."""
        device = self.device(tin, bhf_id)
        return list(device.sales) if device else []

    # ------------------------------------------------------------------ the API
    def handle(self, endpoint: str, headers: dict, body: Any) -> dict:
        if not isinstance(body, dict):
            raise _Reply("911", "There is no request body or it is not JSON")
        if endpoint == "selectInitOsdcInfo":
            return self._init(body)
        tin, bhf_id, key = headers.get("tin", ""), headers.get("bhfid", ""), headers.get("cmckey", "")
        if not (tin and bhf_id and key):
            raise _Reply("900", "There is no header information")
        with self._lock:
            device = self.devices.get((tin, bhf_id))
            if device is None or not secrets.compare_digest(device.cmc_key, key):
                raise _Reply("901", "It is not valid device")
            handler = getattr(self, f"_api_{endpoint}", None)
            if handler is None:
                raise _Reply("912", "It is not a valid method")
            data = handler(device, body)
            if not endpoint.startswith("select"):
                self._save()
            return data

    def _init(self, body: dict) -> dict:
        tin, bhf_id, serial = str(body.get("tin") or ""), str(body.get("bhfId") or ""), str(body.get("dvcSrlNo") or "")
        if len(tin) != 11 or len(bhf_id) != 2 or not serial:
            raise _Reply("910", "Request parameter error: tin, bhfId and dvcSrlNo are required")
        if serial.startswith(self.unknown_serial_prefix):
            raise _Reply("901", "It is not valid device")
        with self._lock:
            if (tin, bhf_id) in self.devices:
                raise _Reply("902", "This device is installed")
            seed = f"{tin}{bhf_id}{serial}"
            device = Device(tin=tin, bhf_id=bhf_id, serial=serial, cmc_key=_token(32, "key" + seed),
                            sdc_id=f"KRACU01{_token(8, 'sdc' + seed)}", mrc_no=f"WIS{_token(8, 'mrc' + seed)}")
            self.devices[(tin, bhf_id)] = device
            self._save()
        info = {
            "tin": tin, "taxprNm": "SIMULATED TAXPAYER LIMITED", "bsnsActv": "Retail", "bhfId": bhf_id,
            "bhfNm": "Headquarter" if bhf_id == "00" else f"Branch {bhf_id}", "bhfOpenDt": "20240101",
            "prvncNm": "NAIROBI CITY", "dstrtNm": "STAREHE", "sctrNm": "CBD", "locDesc": "Moi Avenue", "hqYn": "Y",
            "mgrNm": "Simulated Manager", "mgrTelNo": "0712000000", "mgrEmail": "manager@example.co.ke",
            "dvcId": _token(16, "dvc" + seed), "sdcId": device.sdc_id, "mrcNo": device.mrc_no,
            "cmcKey": device.cmc_key,
        }
        return {"info": info}

    # -- reads
    def _api_selectCodeList(self, device: Device, body: dict) -> dict | None:  # noqa: N802 - KRA's names
        if str(body.get("lastReqDt") or "") > self.rates_changed_at:
            raise _Reply("001", "There is no search result")
        names = {"A": "A-Exempt", "B": "B-VAT", "C": "C-Zero Rated", "D": "D-Non VAT", "E": "E-VAT"}
        taxes = [{"cd": band, "cdNm": f"{names[band]} {self.rates[band]}%", "cdDesc": names[band], "useYn": "Y",
                  "srtOrd": i, "userDfnCd1": self.rates[band], "userDfnCd2": None, "userDfnCd3": None}
                 for i, band in enumerate(BANDS, start=1)]
        payments = [{"cd": cd, "cdNm": name, "cdDesc": name, "useYn": "Y", "srtOrd": i, "userDfnCd1": None,
                     "userDfnCd2": None, "userDfnCd3": None}
                    for i, (cd, name) in enumerate([("01", "CASH"), ("02", "CREDIT"), ("03", "CASH/CREDIT"),
                                                    ("05", "DEBIT&CREDIT CARD"), ("06", "MOBILE MONEY"),
                                                    ("07", "OTHER")], start=1)]
        reasons = [{"cd": f"{i:02d}", "cdNm": name, "cdDesc": name, "useYn": "Y", "srtOrd": i, "userDfnCd1": None,
                    "userDfnCd2": None, "userDfnCd3": None}
                   for i, name in enumerate(["Missing Quantity", "Missing Data", "Damaged", "Wasted",
                                             "Raw Material Shortage", "Refund"], start=1)]
        return {"clsList": [
            {"cdCls": "04", "cdClsNm": "Taxation Type", "useYn": "Y", "dtlList": taxes},
            {"cdCls": "07", "cdClsNm": "Payment Type", "useYn": "Y", "dtlList": payments},
            {"cdCls": "32", "cdClsNm": "Refund Reason", "useYn": "Y", "dtlList": reasons},
        ]}

    def _api_selectItemClsList(self, device: Device, body: dict) -> dict:  # noqa: N802
        if str(body.get("lastReqDt") or "") > "20180101000000":
            raise _Reply("001", "There is no search result")
        return {"itemClsList": [{"itemClsCd": code, "itemClsNm": name, "itemClsLvl": 4, "taxTyCd": band,
                                 "mjrTgYn": "N", "useYn": "Y"} for code, name, band in ITEM_CLASSES]}

    def _api_selectCustomer(self, device: Device, body: dict) -> dict:  # noqa: N802
        pin = str(body.get("custmTin") or "").upper()
        if len(pin) != 11 or pin in self.unknown_pins:
            raise _Reply("001", "There is no search result")
        return {"custList": [{"tin": pin, "taxprNm": f"TAXPAYER {pin}", "taxprSttsCd": "A", "prvncNm": "NAIROBI",
                              "dstrtNm": "WESTLANDS", "sctrNm": "PARKLANDS", "locDesc": None}]}

    def _api_selectNoticeList(self, device: Device, body: dict) -> dict:  # noqa: N802
        raise _Reply("001", "There is no search result")

    def _api_selectItemList(self, device: Device, body: dict) -> dict:  # noqa: N802
        items = self.items.get(device.tin, {})
        if not items:
            raise _Reply("001", "There is no search result")
        return {"itemList": [{**item, "tin": device.tin, "regBhfId": device.bhf_id, "rraModYn": "N"}
                             for item in items.values()]}

    def _api_selectInvoiceDetails(self, device: Device, body: dict) -> dict:  # noqa: N802
        try:
            invc_no = int(body.get("invcNo"))
        except (TypeError, ValueError):
            raise _Reply("910", "Request parameter error: invcNo") from None
        sale = device.sales.get(invc_no)
        if sale is None:
            raise _Reply("001", "There is no search result")
        signature = dict(sale["signature"])
        when = datetime.strptime(signature["sdcDateTime"], "%Y%m%d%H%M%S")
        signature["sdcDateTime"] = when.strftime("%Y-%m-%d %H:%M:%S.0")
        return {"salesList": [{**sale["request"], "receipt": {**sale["request"].get("receipt", {}), **signature}}]}

    def _api_selectTrnsPurchaseSalesList(self, device: Device, body: dict) -> dict:  # noqa: N802
        since = str(body.get("lastReqDt") or "")
        rows = [p for p in self.purchases if p["_tin"] == device.tin and p["_at"] > since]
        if not rows:
            raise _Reply("001", "There is no search result")
        return {"saleList": [{k: v for k, v in row.items() if not k.startswith("_")} for row in rows]}

    # -- writes
    def _api_saveItem(self, device: Device, body: dict) -> None:  # noqa: N802
        for name in ("itemCd", "itemClsCd", "itemTyCd", "itemNm", "orgnNatCd", "pkgUnitCd", "qtyUnitCd", "taxTyCd",
                     "isrcAplcbYn", "useYn"):
            if not str(body.get(name) or "").strip():
                raise _Reply("910", f"Request parameter error: {name} is required")
        if body["taxTyCd"] not in BANDS:
            raise _Reply("910", f"Request parameter error: taxTyCd {body['taxTyCd']}")
        if body["itemClsCd"] not in {code for code, _, _ in ITEM_CLASSES}:
            raise _Reply("910", f"Request parameter error: itemClsCd {body['itemClsCd']} is not a classification")
        self.items.setdefault(device.tin, {})[body["itemCd"]] = body
        return None

    def _check_sequence(self, number: Any, last: int, accepted: dict, what: str) -> int:
        if isinstance(number, bool) or not isinstance(number, int):
            raise _Reply("910", f"Request parameter error: {what} must be an integer")
        if number in accepted:
            raise _Reply("994", "There is an overlapped Data")
        if number != last + 1:
            raise _Reply("910", f"Invalid {what} sequence, expected: {last + 1} but found: {number}",
                         status=400, expected=last + 1, found=number)
        return number

    def _check_lines(self, device: Device, body: dict, *, discount_field: str) -> None:
        lines = body.get("itemList")
        if not isinstance(lines, list) or not lines:
            raise _Reply("910", "Request parameter error: itemList")
        if body.get("totItemCnt") != len(lines):
            raise _Reply("910", "Request parameter error: totItemCnt")
        taxable = dict.fromkeys(BANDS, Decimal("0"))
        tax = dict.fromkeys(BANDS, Decimal("0"))
        total = Decimal("0")
        items = self.items.get(device.tin, {})
        try:
            for seq, line in enumerate(lines, start=1):
                if line.get("itemSeq") != seq:
                    raise _Reply("910", f"Request parameter error: itemSeq {line.get('itemSeq')}")
                if line.get("itemCd") not in items:
                    raise _Reply("910", f"Item {line.get('itemCd')} is not registered (saveItem first)")
                if not str(line.get("itemNm") or "").strip():
                    raise _Reply("910", "Request parameter error: itemNm")
                band = line.get("taxTyCd")
                if band not in BANDS:
                    raise _Reply("910", f"Request parameter error: taxTyCd {band}")
                qty, prc, sply = _dec(line["qty"]), _dec(line["prc"]), _dec(line["splyAmt"])
                dc = _dec(line.get(discount_field, 0) or 0)
                if qty <= 0 or _dec(line.get("pkg", 0)) <= 0:
                    raise _Reply("910", "Request parameter error: qty and pkg must be more than 0")
                if abs(_r2(prc * qty) - sply) > TOLERANCE:
                    raise _Reply("910", f"Invalid splyAmt on line {seq}, expected: {_r2(prc * qty)} but found: {sply}")
                rate = _dec(body[f"taxRt{band}"] if f"taxRt{band}" in body else self.rates[band])
                net = sply - dc
                expected_taxable = _r2(net / (1 + rate / 100)) if rate else net
                if _dec(line["taxblAmt"]) != expected_taxable:
                    raise _Reply("910", f"Invalid taxblAmt on line {seq}, expected: {expected_taxable} "
                                        f"but found: {line['taxblAmt']}")
                if _dec(line["taxAmt"]) != net - expected_taxable or _dec(line["totAmt"]) != net:
                    raise _Reply("910", f"Invalid taxAmt/totAmt on line {seq}")
                taxable[band] += expected_taxable
                tax[band] += net - expected_taxable
                total += net
            if "taxblAmtA" in body:
                for band in BANDS:
                    if _dec(body[f"taxblAmt{band}"]) != taxable[band] or _dec(body[f"taxAmt{band}"]) != tax[band]:
                        raise _Reply("910", f"Invalid band {band} totals, expected: {taxable[band]}/{tax[band]}")
            if _dec(body["totTaxblAmt"]) != sum(taxable.values()) or _dec(body["totTaxAmt"]) != sum(tax.values()) \
                    or _dec(body["totAmt"]) != total:
                raise _Reply("910", f"Invalid totals, expected: totAmt {total}")
        except (KeyError, InvalidOperation, TypeError) as exc:
            raise _Reply("910", f"Request parameter error: {exc}") from exc

    def _api_saveTrnsSalesOsdc(self, device: Device, body: dict) -> dict:  # noqa: N802
        number = self._check_sequence(body.get("invcNo"), device.last_invc_no, device.sales, "invcNo")
        kind = body.get("rcptTyCd")
        if kind not in ("S", "R"):
            raise _Reply("910", "Request parameter error: rcptTyCd")
        for name in ("cfmDt", "salesDt", "salesSttsCd", "trdInvcNo"):
            if not body.get(name):
                raise _Reply("910", f"Request parameter error: {name}")
        if kind == "R":
            original = device.sales.get(body.get("orgInvcNo"))
            if original is None or original["request"]["rcptTyCd"] != "S":
                raise _Reply("910", f"orgInvcNo {body.get('orgInvcNo')} is not an accepted sale of this device")
            if not body.get("rfdRsnCd") or not body.get("rfdDt"):
                raise _Reply("910", "Request parameter error: rfdRsnCd and rfdDt are required for a credit note")
        elif body.get("orgInvcNo") not in (0, None):
            raise _Reply("910", "Request parameter error: orgInvcNo must be 0 for a sale")
        if _dt() < str(body["cfmDt"]):
            raise _Reply("910", "Request parameter error: cfmDt is in the future")
        self._check_lines(device, body, discount_field="dcAmt")
        device.cur_rcpt[kind] += 1
        device.tot_rcpt += 1
        seed = f"{device.sdc_id}{number}{json.dumps(body, sort_keys=True, default=str)}"
        signature = {"curRcptNo": device.cur_rcpt[kind], "totRcptNo": device.tot_rcpt,
                     "intrlData": _token(26, "intrl" + seed), "rcptSign": _token(16, "sign" + seed),
                     "sdcDateTime": _dt()}
        device.sales[number] = {"request": body, "signature": signature}
        device.last_invc_no = number
        return signature

    def _api_insertStockIO(self, device: Device, body: dict) -> None:  # noqa: N802
        number = self._check_sequence(body.get("sarNo"), device.last_sar_no, device.stock_io, "sarNo")
        if body.get("orgSarNo") is None:
            raise _Reply("910", "Request parameter error: orgSarNo")
        if not body.get("sarTyCd") or not body.get("ocrnDt"):
            raise _Reply("910", "Request parameter error: sarTyCd and ocrnDt")
        lines = body.get("itemList") or []
        items = self.items.get(device.tin, {})
        for line in lines:
            if line.get("itemCd") not in items:
                raise _Reply("910", f"Item {line.get('itemCd')} is not registered (saveItem first)")
        device.stock_io[number] = body
        device.last_sar_no = number
        return None

    def _api_saveStockMaster(self, device: Device, body: dict) -> None:  # noqa: N802
        if body.get("itemCd") not in self.items.get(device.tin, {}):
            raise _Reply("910", f"Item {body.get('itemCd')} is not registered (saveItem first)")
        try:
            _dec(body.get("rsdQty"))
        except InvalidOperation:
            raise _Reply("910", "Request parameter error: rsdQty") from None
        device.stock_master[body["itemCd"]] = body
        return None

    def _api_insertTrnsPurchase(self, device: Device, body: dict) -> None:  # noqa: N802
        number = self._check_sequence(body.get("invcNo"), device.last_pchs_no, device.purchases, "invcNo")
        if not body.get("spplrTin") or body.get("spplrInvcNo") in (None, ""):
            raise _Reply("910", "Request parameter error: spplrTin and spplrInvcNo")
        device.purchases[number] = body
        device.last_pchs_no = number
        return None

    def add_purchase(self, *, tin: str, supplier_tin: str = "P000111222Q", supplier_name: str = "Unga Wholesalers",
                     invc_no: int = 1, total: str = "1160.00") -> dict:
        amount = Decimal(total)
        taxable = _r2(amount / Decimal("1.16"))
        row = {
            "_tin": tin, "_at": _dt(), "spplrTin": supplier_tin, "spplrNm": supplier_name, "spplrBhfId": "00",
            "spplrInvcNo": invc_no, "spplrSdcId": "KRACU0100009999", "rcptTyCd": "S", "pmtTyCd": "01",
            "cfmDt": _now().strftime("%Y-%m-%d %H:%M:%S"), "salesDt": _now().strftime("%Y%m%d"),
            "stockRlsDt": None, "totItemCnt": 1,
            **{f"taxblAmt{b}": float(taxable if b == "B" else 0) for b in BANDS},
            **{f"taxRt{b}": (16 if b == "B" else 0) for b in BANDS},
            **{f"taxAmt{b}": float(amount - taxable if b == "B" else 0) for b in BANDS},
            "totTaxblAmt": float(taxable), "totTaxAmt": float(amount - taxable), "totAmt": float(amount),
            "itemList": [{"itemSeq": 1, "itemCd": "KE2NTBA0000012", "itemClsCd": "5016150100", "itemNm": "Sugar 50kg",
                          "pkgUnitCd": "BG", "pkg": 1, "qtyUnitCd": "BG", "qty": 1, "prc": float(amount),
                          "splyAmt": float(amount), "dcRt": 0, "dcAmt": 0, "taxTyCd": "B", "taxblAmt": float(taxable),
                          "taxAmt": float(amount - taxable), "totAmt": float(amount)}],
        }
        with self._lock:
            self.purchases.append(row)
        return row

    def help(self) -> dict:
        return {"simulator": "Local KRA eTIMS (OSCU) simulator; see cashdesk/etims/simulator.py and docs/etims.md",
                "base_url": self.base_url, "modes": list(MODES), "mode": self.mode,
                "item_classes": [code for code, _, _ in ITEM_CLASSES],
                "unknown_serial_prefix": self.unknown_serial_prefix}


class _Handler(BaseHTTPRequestHandler):
    server_version = "EtimsSimulator/1"
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    @property
    def simulator(self) -> EtimsSimulator:
        return self.server.simulator  # type: ignore[attr-defined]

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        log.debug("%s %s", self.address_string(), format % args)

    def _send(self, status: int, data: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, body: Any) -> None:
        self._send(status, json.dumps(body).encode())

    def _read(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        return self.rfile.read(length) if length > 0 else b""

    def _envelope(self, code: str, message: str, data: Any, reply: _Reply | None = None) -> tuple[int, dict]:
        flat = {"resultCd": code, "resultMsg": message, "resultDt": _dt(), "data": data}
        if self.simulator.envelope != "gateway":
            return 200, flat
        if reply is not None and reply.status == 400:
            return 400, {"responseHeader": {"responseCode": 400, "responseRefID": _token(12, message),
                                            "customerMessage": "Validation failed", "debugMessage": message},
                         "responseBody": None}
        return 200, {"responseHeader": {"responseCode": 200, "responseRefID": _token(12, message),
                                        "customerMessage": "Successful", "debugMessage": ""}, "responseBody": flat}

    def do_GET(self) -> None:  # noqa: N802 - http.server's names
        raw = self._read()
        path = urlsplit(self.path).path.rstrip("/")
        if path in ("/simulator", ""):
            self._json(200, self.simulator.help())
        elif path == "/simulator/state":
            self._json(200, self.simulator.snapshot())
        else:
            del raw
            self._json(405, {"resultCd": "912", "resultMsg": "It is not a valid method (POST only)",
                             "resultDt": _dt(), "data": None})

    def do_POST(self) -> None:  # noqa: N802
        raw = self._read()
        path = urlsplit(self.path).path.strip("/")
        if path.startswith("simulator"):
            return self._simulator_only(path, raw)
        endpoint = path.rsplit("/", 1)[-1]
        sim = self.simulator
        mode, delay = sim._take_mode(endpoint)
        if mode == "outage":
            sim.requests.append((endpoint, "outage"))
            return self._send(503, b"<html><body><h1>503 Service Unavailable</h1></body></html>", "text/html")
        if mode == "garbage":
            sim.requests.append((endpoint, "garbage"))
            return self._send(200, b"resultCd=000&&&{not json", "text/plain")
        if mode == "html":
            sim.requests.append((endpoint, "html"))
            return self._send(200, b"<!DOCTYPE html><html><body>Maintenance</body></html>", "text/html")
        if mode == "error999":
            sim.requests.append((endpoint, "999"))
            status, body = self._envelope("999", "There is an unknown error. Please ask the administrator", None)
            return self._json(status, body)
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            body = json.loads(raw or b"null", parse_float=Decimal, parse_int=int)
        except ValueError:
            body = None
        try:
            data = sim.handle(endpoint, headers, body)
            status, reply = self._envelope("000", "It is succeeded", data)
            sim.requests.append((endpoint, "000"))
        except _Reply as refused:
            status, reply = self._envelope(refused.code, refused.message, None, refused)
            sim.requests.append((endpoint, refused.code))
        except Exception:
            log.exception("eTIMS simulator: %s failed", endpoint)
            status, reply = self._envelope("999", "There is an unknown error. Please ask the administrator", None)
        if mode == "drop_reply":
            self.close_connection = True
            self.connection.close()  # did the work, never answered
            return None
        if mode == "slow":
            time.sleep(delay)
        return self._send(status, json.dumps(reply, default=str).encode())

    def _simulator_only(self, path: str, raw: bytes) -> None:
        sim = self.simulator
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        try:
            if path == "simulator/mode":
                sim.set_mode(str(body.get("mode") or "normal"), count=int(body.get("count") or 0),
                             delay=float(body.get("delay") or 0), endpoint=str(body.get("endpoint") or ""))
                self._json(200, {"mode": sim.mode, "count": sim.mode_count})
            elif path == "simulator/reset":
                sim.reset()
                self._json(200, {"reset": True})
            elif path == "simulator/rates":
                sim.set_rates(body)
                self._json(200, {"rates": sim.rates})
            elif path == "simulator/purchases":
                self._json(200, sim.add_purchase(**body))
            elif path == "simulator/unknown-pins":
                sim.unknown_pins.update(str(p).upper() for p in body.get("pins") or [])
                self._json(200, {"unknown": sorted(sim.unknown_pins)})
            else:
                self._json(404, {"error": "unknown simulator endpoint", "see": "GET /simulator/"})
        except (TypeError, ValueError) as exc:
            self._json(400, {"error": str(exc)})
