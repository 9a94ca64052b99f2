"""KRA eTIMS (OSCU). Read by cashdesk.etims.config; docs/etims.md explains each one. Each branch's device
(PIN, branch id, serial, environment) is set on the eTIMS settings page; these are the defaults the page and
`manage.py etims_init` start from, plus the switches for what KRA has not settled. An empty variable means
"use the default"."""

import base64
import hashlib

from config.settings.environment import env
from config.settings.platform import SECRET_KEY


def _etims_env(name: str, default: str = "") -> str:
    return env.str(name, default="").strip() or default


# off | simulator (local, no internet) | sandbox | production
ETIMS_ENVIRONMENT = _etims_env("ETIMS_ENVIRONMENT", "simulator").lower()
ETIMS_TIN = _etims_env("ETIMS_TIN")  # the taxpayer's KRA PIN
ETIMS_BHF_ID = _etims_env("ETIMS_BHF_ID")  # the branch id KRA gave the device: never assume "00"
ETIMS_DEVICE_SERIAL = _etims_env("ETIMS_DEVICE_SERIAL")
ETIMS_SIMULATOR_PORT = int(_etims_env("ETIMS_SIMULATOR_PORT", "8766"))
ETIMS_BASE_URL = _etims_env("ETIMS_BASE_URL").rstrip("/")  # empty: KRA's URL for the environment
ETIMS_API_STYLE = _etims_env("ETIMS_API_STYLE", "legacy")  # legacy | gateway (GavaConnect envelope)
ETIMS_PATHS = env.json("ETIMS_PATHS", default={})  # {"saveTrnsSalesOsdc": "sendSalesTransaction", ...}
ETIMS_TIMEOUT = float(_etims_env("ETIMS_TIMEOUT", "120"))  # seconds per business call (KRA is slow)
ETIMS_INIT_TIMEOUT = float(_etims_env("ETIMS_INIT_TIMEOUT", "30"))
# Fernet key that encrypts each device's cmcKey at rest. Default derived from SECRET_KEY (development
# only: production settings require their own).
ETIMS_KEY = _etims_env(
    "ETIMS_KEY",
    base64.urlsafe_b64encode(hashlib.sha256(f"etims-cmckey:{SECRET_KEY}".encode()).digest()).decode(),
)
ETIMS_INVOICE_LOOKUP = env.bool("ETIMS_INVOICE_LOOKUP", default=True)  # ask selectInvoiceDetails after a timeout
ETIMS_TAXABLE_BASIS = _etims_env("ETIMS_TAXABLE_BASIS", "net")  # net | inclusive
ETIMS_ROUNDING = _etims_env("ETIMS_ROUNDING", "half_up")  # half_up | half_even
ETIMS_UNUSED_BAND_RATE = _etims_env("ETIMS_UNUSED_BAND_RATE", "zero")  # zero | rate
ETIMS_PURCHASE_ACCEPT_FLAG = _etims_env("ETIMS_PURCHASE_ACCEPT_FLAG", "N")  # prchrAcptcYn
ETIMS_CREDIT_NOTE_STATUS = _etims_env("ETIMS_CREDIT_NOTE_STATUS", "02")  # salesSttsCd of credit notes: 02 | 05
ETIMS_CU_INVOICE_SUFFIX = _etims_env("ETIMS_CU_INVOICE_SUFFIX", "invcNo")  # invcNo | curRcptNo
ETIMS_SPLIT_TENDER = _etims_env("ETIMS_SPLIT_TENDER", "dominant")  # dominant | cash_credit (03)
ETIMS_STOCK_VALUATION = _etims_env("ETIMS_STOCK_VALUATION", "price")  # price | cost
ETIMS_LAST_REQ_DAYS = env.int("ETIMS_LAST_REQ_DAYS", default=0)  # 0: no limit; 7 if KRA enforces it
ETIMS_LATE_SUBMISSION_HOURS = env.int("ETIMS_LATE_SUBMISSION_HOURS", default=0)  # 0: no limit known
ETIMS_ORIGIN_COUNTRY = _etims_env("ETIMS_ORIGIN_COUNTRY", "KE")
ETIMS_QR_BASE_URL = _etims_env("ETIMS_QR_BASE_URL")  # empty: KRA's receipt-check host for the environment
ETIMS_BACKOFF_MAX_SECONDS = env.int("ETIMS_BACKOFF_MAX_SECONDS", default=300)
