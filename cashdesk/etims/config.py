"""The eTIMS settings as one typed object, read on every call (so `override_settings` works).

The per-branch device (PIN, branch id, serial, environment) lives in the database
(`EtimsDevice`); these are the process-wide parts: where each environment is, how long to wait,
and a switch for every point KRA's documentation leaves open (docs/etims.md, "Uncertain points").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

OFF = "off"
SIMULATOR = "simulator"
SANDBOX = "sandbox"
PRODUCTION = "production"
ENVIRONMENTS = (OFF, SIMULATOR, SANDBOX, PRODUCTION)
ENVIRONMENT_CHOICES = [
    (OFF, "Off (nothing is sent)"),
    (SIMULATOR, "Local simulator"),
    (SANDBOX, "KRA sandbox"),
    (PRODUCTION, "KRA production"),
]

LEGACY = "legacy"
GATEWAY = "gateway"

BASE_URLS = {
    (SANDBOX, LEGACY): "https://etims-api-sbx.kra.go.ke/etims-api",
    (PRODUCTION, LEGACY): "https://etims-api.kra.go.ke/etims-api",
    (SANDBOX, GATEWAY): "https://sbx.kra.go.ke/etims-oscu/api/v1",
}
QR_BASE_URLS = {
    SANDBOX: "https://etims-sbx.kra.go.ke/common/link/etims/receipt/indexEtimsReceiptData?Data=",
    PRODUCTION: "https://etims.kra.go.ke/common/link/etims/receipt/indexEtimsReceiptData?Data=",
}
DEFAULT_SIMULATOR_PORT = 8766

# The switches (setting name → allowed values).
CHOICES = {
    "ETIMS_TAXABLE_BASIS": ("net", "inclusive"),
    "ETIMS_ROUNDING": ("half_up", "half_even"),
    "ETIMS_UNUSED_BAND_RATE": ("zero", "rate"),
    "ETIMS_PURCHASE_ACCEPT_FLAG": ("N", "Y"),
    "ETIMS_CREDIT_NOTE_STATUS": ("02", "05"),
    "ETIMS_CU_INVOICE_SUFFIX": ("invcNo", "curRcptNo"),
    "ETIMS_SPLIT_TENDER": ("dominant", "cash_credit"),
    "ETIMS_STOCK_VALUATION": ("price", "cost"),
    "ETIMS_API_STYLE": (LEGACY, GATEWAY),
}


@dataclass(frozen=True)
class EtimsConfig:
    environment: str  # the default for new devices
    tin: str
    bhf_id: str
    device_serial: str
    base_url_override: str
    simulator_port: int
    api_style: str
    paths: dict = field(default_factory=dict)
    timeout: float = 120.0
    init_timeout: float = 30.0
    invoice_lookup: bool = True
    taxable_basis: str = "net"
    rounding: str = "half_up"
    unused_band_rate: str = "zero"
    purchase_accept_flag: str = "N"
    credit_note_status: str = "02"
    cu_invoice_suffix: str = "invcNo"
    split_tender: str = "dominant"
    stock_valuation: str = "price"
    last_req_days: int = 0
    late_submission_hours: int = 0
    origin_country: str = "KE"
    qr_base_url_override: str = ""
    backoff_max_seconds: int = 300

    def base_url(self, environment: str) -> str:
        """Where a device of `environment` sends its calls."""
        if self.base_url_override:
            return self.base_url_override
        if environment == SIMULATOR:
            return f"http://127.0.0.1:{self.simulator_port}"
        url = BASE_URLS.get((environment, self.api_style))
        if not url:
            raise ImproperlyConfigured(
                f"No known eTIMS URL for {environment} with ETIMS_API_STYLE={self.api_style}: set ETIMS_BASE_URL."
            )
        return url

    def qr_base_url(self, environment: str) -> str:
        """KRA's receipt-check URL; the simulator's receipts point at the sandbox checker."""
        if self.qr_base_url_override:
            return self.qr_base_url_override
        return QR_BASE_URLS[PRODUCTION if environment == PRODUCTION else SANDBOX]


def _setting(name: str, default=None):
    value = getattr(settings, name, default)
    return value.strip() if isinstance(value, str) else value


def get_config() -> EtimsConfig:
    environment = (_setting("ETIMS_ENVIRONMENT") or OFF).lower()
    if environment not in ENVIRONMENTS:
        raise ImproperlyConfigured(f"ETIMS_ENVIRONMENT must be one of {', '.join(ENVIRONMENTS)}; got {environment!r}.")
    values = {}
    for name, allowed in CHOICES.items():
        value = _setting(name) or allowed[0]
        if value not in allowed:
            raise ImproperlyConfigured(f"{name} must be one of {', '.join(allowed)}; got {value!r}.")
        values[name] = value
    paths = _setting("ETIMS_PATHS") or {}
    if not isinstance(paths, dict):
        raise ImproperlyConfigured("ETIMS_PATHS must be a JSON object of endpoint → path.")
    return EtimsConfig(
        environment=environment,
        tin=(_setting("ETIMS_TIN") or "").upper(),
        bhf_id=_setting("ETIMS_BHF_ID") or "",
        device_serial=_setting("ETIMS_DEVICE_SERIAL") or "",
        base_url_override=(_setting("ETIMS_BASE_URL") or "").rstrip("/"),
        simulator_port=int(_setting("ETIMS_SIMULATOR_PORT") or DEFAULT_SIMULATOR_PORT),
        api_style=values["ETIMS_API_STYLE"],
        paths=dict(paths),
        timeout=float(_setting("ETIMS_TIMEOUT") or 120),
        init_timeout=float(_setting("ETIMS_INIT_TIMEOUT") or 30),
        invoice_lookup=bool(_setting("ETIMS_INVOICE_LOOKUP", True)),
        taxable_basis=values["ETIMS_TAXABLE_BASIS"],
        rounding=values["ETIMS_ROUNDING"],
        unused_band_rate=values["ETIMS_UNUSED_BAND_RATE"],
        purchase_accept_flag=values["ETIMS_PURCHASE_ACCEPT_FLAG"],
        credit_note_status=values["ETIMS_CREDIT_NOTE_STATUS"],
        cu_invoice_suffix=values["ETIMS_CU_INVOICE_SUFFIX"],
        split_tender=values["ETIMS_SPLIT_TENDER"],
        stock_valuation=values["ETIMS_STOCK_VALUATION"],
        last_req_days=int(_setting("ETIMS_LAST_REQ_DAYS") or 0),
        late_submission_hours=int(_setting("ETIMS_LATE_SUBMISSION_HOURS") or 0),
        origin_country=(_setting("ETIMS_ORIGIN_COUNTRY") or "KE").upper(),
        qr_base_url_override=_setting("ETIMS_QR_BASE_URL") or "",
        backoff_max_seconds=int(_setting("ETIMS_BACKOFF_MAX_SECONDS") or 300),
    )
