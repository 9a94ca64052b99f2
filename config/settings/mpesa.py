"""M-Pesa through Safaricom's Daraja API. Read by cashdesk.mpesa.daraja.config (validated there and by
`manage.py check`); docs/mpesa.md explains each one. Sandbox and production are switched by these
variables only. An empty variable means "use the default"."""

import hashlib

from config.settings.environment import env
from config.settings.platform import SECRET_KEY, SITE_URL


def _mpesa_env(name: str, default: str = "") -> str:
    return env.str(name, default="").strip() or default


MPESA_CONSUMER_KEY = _mpesa_env("MPESA_CONSUMER_KEY")
MPESA_CONSUMER_SECRET = _mpesa_env("MPESA_CONSUMER_SECRET")
# simulator (local, no internet) | sandbox | production; no consumer key means the simulator.
MPESA_ENVIRONMENT = _mpesa_env("MPESA_ENVIRONMENT", "sandbox" if MPESA_CONSUMER_KEY else "simulator").lower()
MPESA_SIMULATOR_PORT = int(_mpesa_env("MPESA_SIMULATOR_PORT", "8765"))
MPESA_BASE_URL = _mpesa_env(
    "MPESA_BASE_URL",
    {
        "sandbox": "https://sandbox.safaricom.co.ke",
        "production": "https://api.safaricom.co.ke",
    }.get(MPESA_ENVIRONMENT, f"http://127.0.0.1:{MPESA_SIMULATOR_PORT}"),
).rstrip("/")
MPESA_SHORTCODE = _mpesa_env("MPESA_SHORTCODE", "174379")  # Safaricom's public sandbox shortcode
# Safaricom's public sandbox passkey by default; a real one only ever comes from the environment.
MPESA_PASSKEY = _mpesa_env("MPESA_PASSKEY", "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919")
MPESA_TRANSACTION_TYPE = _mpesa_env("MPESA_TRANSACTION_TYPE", "CustomerPayBillOnline")
MPESA_PARTY_B = _mpesa_env("MPESA_PARTY_B", MPESA_SHORTCODE)  # the till number for Buy Goods
# Safaricom signs nothing: this secret in the callback paths is what keeps strangers out.
# The default (derived from SECRET_KEY) only suits development; production settings require one.
MPESA_CALLBACK_SECRET = _mpesa_env(
    "MPESA_CALLBACK_SECRET", hashlib.sha256(f"mpesa-callback:{SECRET_KEY}".encode()).hexdigest()[:48]
)
MPESA_CALLBACK_BASE_URL = _mpesa_env("MPESA_CALLBACK_BASE_URL", SITE_URL).rstrip("/")
MPESA_TIMEOUT = float(_mpesa_env("MPESA_TIMEOUT", "15"))  # seconds per Daraja call
# Transaction Status and Account Balance (checking payments, the daily reconciliation): the API user
# ("initiator") made on the M-Pesa portal and its security credential (the initiator's password encrypted
# with Safaricom's certificate, as the Daraja portal produces it). Empty in the simulator.
MPESA_INITIATOR_NAME = _mpesa_env("MPESA_INITIATOR_NAME", "asiria-api")
MPESA_SECURITY_CREDENTIAL = _mpesa_env("MPESA_SECURITY_CREDENTIAL")
# true once the shortcode is registered for Safaricom's Pull Transactions API (the statement, for the
# daily reconciliation); false compares with what Safaricom's callbacks reported.
MPESA_PULL_ENABLED = env.bool("MPESA_PULL_ENABLED", default=False)
# Safaricom's published callback addresses, used only when the owner switches on "accept M-Pesa callbacks
# from Safaricom's addresses" in the shop settings (checked on the trusted client address).
MPESA_SAFARICOM_NETWORKS = env.list(
    "MPESA_SAFARICOM_NETWORKS",
    default=[
        "196.201.214.0/24", "196.201.213.0/24", "196.201.212.0/24",
        "196.201.214.200/32", "196.201.214.206/32", "196.201.213.114/32", "196.201.214.207/32",
        "196.201.214.208/32", "196.201.213.44/32", "196.201.212.127/32", "196.201.212.138/32",
        "196.201.212.129/32", "196.201.212.136/32", "196.201.212.74/32", "196.201.212.69/32",
    ],
)
# Bodies Safaricom posts are a few hundred bytes; anything above this is refused unread.
MPESA_CALLBACK_MAX_BYTES = 64 * 1024
