"""The M-Pesa settings as one validated, typed object, and the rules for our callback URLs.

The values come from `config/settings/base.py` (`MPESA_*`, read from the environment with
django-environ). `get_config()` reads them on every call, so `override_settings` in tests and a
changed environment in a new process both take effect without a restart of anything cached.

Callback URLs (Safaricom's rules, see docs/mpesa.md):
- they must be public and HTTPS (the local simulator also accepts plain http);
- they must not contain "mpesa", "m-pesa", "safaricom", "exe"/"exec", "cmd", "sql" or "query" in any
  case anywhere in the URL: Safaricom rejects such URLs, so none of our callback routes may live
  under a path like `/mpesa/` (name the Django route what you like; the *path* is what counts);
- Safaricom signs nothing, so every callback path carries `MPESA_CALLBACK_SECRET`, and the view
  compares it with `callback_secret_matches()` (constant time) and answers 404 when it differs.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.ops.logs import redact_path

SIMULATOR = "simulator"
SANDBOX = "sandbox"
PRODUCTION = "production"
ENVIRONMENTS = (SIMULATOR, SANDBOX, PRODUCTION)

BASE_URLS = {
    SANDBOX: "https://sandbox.safaricom.co.ke",
    PRODUCTION: "https://api.safaricom.co.ke",
}
DEFAULT_SIMULATOR_PORT = 8765

# Published by Safaricom for the sandbox; safe to have in the code, useless in production.
SANDBOX_SHORTCODE = "174379"
SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
SANDBOX_TEST_PHONE = "254708374149"

PAYBILL = "CustomerPayBillOnline"
BUY_GOODS = "CustomerBuyGoodsOnline"
TRANSACTION_TYPES = (PAYBILL, BUY_GOODS)

# Safaricom refuses callback/validation/confirmation URLs containing any of these (any case).
FORBIDDEN_URL_WORDS = ("mpesa", "m-pesa", "safaricom", "exe", "cmd", "sql", "query")
MIN_CALLBACK_SECRET_LENGTH = 32


class CallbackURLError(ValueError):
    """A callback URL Safaricom would refuse (or that could not be reached from outside)."""


@dataclass(frozen=True)
class DarajaConfig:
    environment: str
    base_url: str
    consumer_key: str
    consumer_secret: str
    shortcode: str
    passkey: str
    transaction_type: str
    party_b: str
    callback_secret: str
    callback_base_url: str
    timeout: float
    simulator_port: int
    initiator_name: str = ""
    security_credential: str = ""
    pull_enabled: bool = False

    @property
    def is_simulator(self) -> bool:
        return self.environment == SIMULATOR

    @property
    def is_production(self) -> bool:
        return self.environment == PRODUCTION

    @property
    def requires_https_callbacks(self) -> bool:
        """Safaricom only posts to public HTTPS URLs; the local simulator posts anywhere."""
        return not self.is_simulator

    def __repr__(self) -> str:  # never print the secrets, even in a traceback
        return (
            f"DarajaConfig(environment={self.environment!r}, base_url={self.base_url!r}, "
            f"shortcode={self.shortcode!r}, transaction_type={self.transaction_type!r}, "
            f"party_b={self.party_b!r}, timeout={self.timeout!r})"
        )


def _setting(name: str, default=None):
    value = getattr(settings, name, default)
    return value.strip() if isinstance(value, str) else value


def get_config() -> DarajaConfig:
    """The current M-Pesa settings, validated. Raises ImproperlyConfigured with a clear message."""
    environment = (_setting("MPESA_ENVIRONMENT") or "").lower()
    consumer_key = _setting("MPESA_CONSUMER_KEY", "") or ""
    if not environment:
        environment = SANDBOX if consumer_key else SIMULATOR
    if environment not in ENVIRONMENTS:
        raise ImproperlyConfigured(
            f"MPESA_ENVIRONMENT must be one of {', '.join(ENVIRONMENTS)}; got {environment!r}."
        )
    port = int(_setting("MPESA_SIMULATOR_PORT", DEFAULT_SIMULATOR_PORT) or DEFAULT_SIMULATOR_PORT)
    base_url = (_setting("MPESA_BASE_URL") or BASE_URLS.get(environment) or f"http://127.0.0.1:{port}").rstrip("/")
    shortcode = str(_setting("MPESA_SHORTCODE") or SANDBOX_SHORTCODE)
    transaction_type = _setting("MPESA_TRANSACTION_TYPE") or PAYBILL
    if transaction_type not in TRANSACTION_TYPES:
        raise ImproperlyConfigured(
            f"MPESA_TRANSACTION_TYPE must be {PAYBILL} or {BUY_GOODS}; got {transaction_type!r}."
        )
    raw_timeout = _setting("MPESA_TIMEOUT", 15)
    try:
        timeout = float(15 if raw_timeout in (None, "") else raw_timeout)
    except (TypeError, ValueError):
        timeout = 0.0
    if not 0 < timeout <= 300:
        raise ImproperlyConfigured(
            f"MPESA_TIMEOUT must be a positive number of seconds, at most 300; got {raw_timeout!r}."
        )
    site_url = (_setting("SITE_URL") or "").rstrip("/")
    return DarajaConfig(
        environment=environment,
        base_url=base_url,
        consumer_key=consumer_key,
        consumer_secret=_setting("MPESA_CONSUMER_SECRET", "") or "",
        shortcode=shortcode,
        passkey=_setting("MPESA_PASSKEY") or SANDBOX_PASSKEY,
        transaction_type=transaction_type,
        party_b=str(_setting("MPESA_PARTY_B") or shortcode),
        callback_secret=_setting("MPESA_CALLBACK_SECRET", "") or "",
        callback_base_url=(_setting("MPESA_CALLBACK_BASE_URL") or site_url).rstrip("/"),
        timeout=timeout,
        simulator_port=port,
        initiator_name=_setting("MPESA_INITIATOR_NAME", "") or "",
        security_credential=_setting("MPESA_SECURITY_CREDENTIAL", "") or "",
        pull_enabled=bool(_setting("MPESA_PULL_ENABLED", False)),
    )


def configuration_problems(config: DarajaConfig) -> list[str]:
    """What would make Daraja refuse us or expose the callbacks (used by `manage.py check`)."""
    problems = []
    if not config.is_simulator:
        if not (config.consumer_key and config.consumer_secret):
            problems.append(
                f"MPESA_ENVIRONMENT={config.environment} needs MPESA_CONSUMER_KEY and MPESA_CONSUMER_SECRET."
            )
        if not config.base_url.startswith("https://"):
            problems.append("MPESA_BASE_URL must be https:// outside the simulator.")
        try:
            validate_callback_url(config.callback_base_url + "/", require_https=True)
        except CallbackURLError as exc:
            problems.append(f"MPESA_CALLBACK_BASE_URL: {exc}")
    if config.is_production:
        if config.passkey == SANDBOX_PASSKEY or config.shortcode == SANDBOX_SHORTCODE:
            problems.append("MPESA_ENVIRONMENT=production still uses the public sandbox shortcode/passkey.")
        if len(config.callback_secret) < MIN_CALLBACK_SECRET_LENGTH:
            problems.append(f"MPESA_CALLBACK_SECRET must be at least {MIN_CALLBACK_SECRET_LENGTH} random characters.")
    if not config.callback_secret:
        problems.append("MPESA_CALLBACK_SECRET is empty: callbacks would be open to anyone.")
    elif not config.callback_secret.replace("-", "").replace("_", "").isalnum():
        problems.append("MPESA_CALLBACK_SECRET may hold only letters, digits, '-' and '_' (it goes in a URL path).")
    return problems


def validate_callback_url(url: str, *, require_https: bool = True) -> str:
    """Return `url` if Safaricom would accept it as a callback URL, else raise CallbackURLError."""
    if not isinstance(url, str) or not url.strip():
        raise CallbackURLError("The callback URL is empty.")
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise CallbackURLError(f"{redact_path(url)!r} is not an absolute http(s) URL.")
    if require_https and parts.scheme != "https":
        raise CallbackURLError("Safaricom only calls back to https:// URLs.")
    if require_https and parts.hostname in ("localhost", "127.0.0.1", "::1"):
        raise CallbackURLError("Safaricom cannot reach localhost; use the public address (MPESA_CALLBACK_BASE_URL).")
    lowered = url.lower()
    for word in FORBIDDEN_URL_WORDS:
        if word in lowered:
            raise CallbackURLError(
                f"Safaricom rejects callback URLs containing {word!r}; choose a path without it."
            )
    return url


def callback_url(path: str, *, config: DarajaConfig | None = None) -> str:
    """The absolute URL Safaricom should post to for one of our routes (e.g. `reverse(...)`).

    Checks the result against Safaricom's rules, so a route under `/mpesa/` fails loudly here
    instead of silently never receiving a callback.
    """
    config = config or get_config()
    if not path.startswith("/"):
        path = "/" + path
    return validate_callback_url(config.callback_base_url + path, require_https=config.requires_https_callbacks)


def callback_secret_matches(candidate: str | None, *, config: DarajaConfig | None = None) -> bool:
    """Compare the secret from a callback path with ours in constant time (empty never matches)."""
    secret = (config or get_config()).callback_secret
    if not secret or not candidate:
        return False
    return hmac.compare_digest(str(candidate).encode(), secret.encode())
