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
