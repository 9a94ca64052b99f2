"""Production: a real secret key is required, HTTPS everywhere, static files hashed by WhiteNoise."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")  # no default: refuse to start without one
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[f"https://{h}" for h in ALLOWED_HOSTS])

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = False

# ---------------------------------------------------------------------------- operations
from django.core.exceptions import ImproperlyConfigured  # noqa: E402

from config.settings.base import LOG_LEVEL, REDIS_URL, SESSION_ENGINE  # noqa: E402
from core.ops.logs import logging_config  # noqa: E402

# JSON lines for Filebeat/Logstash unless LOG_FORMAT=console is asked for.
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)

# Prometheus may scrape gunicorn directly over the private network (http://10.x:8000/metrics); the
# public side is always HTTPS through nginx, which redirects port 80 itself.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]

if SESSION_ENGINE == "django.contrib.sessions.backends.cache" and not REDIS_URL:
    raise ImproperlyConfigured(
        "SESSION_ENGINE=…backends.cache needs REDIS_URL: each gunicorn worker has its own local-memory cache, "
        "so sessions kept there would log tills out at random."
    )

# security.W021 asks for SECURE_HSTS_PRELOAD. Preloading a domain into browsers is an owner's decision
# (every subdomain must serve HTTPS for ever, and leaving the list takes months), so it stays opt-in;
# the check is quiet unless the owner opts in.
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), "security.W021"]

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# [daraja] The secret in the M-Pesa callback paths: required, long and random (docs/mpesa.md).
MPESA_CALLBACK_SECRET = env.str("MPESA_CALLBACK_SECRET").strip()
if len(MPESA_CALLBACK_SECRET) < 32:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("MPESA_CALLBACK_SECRET must be at least 32 random characters (see docs/mpesa.md).")

# eTIMS: the cmcKey of each device is encrypted with this Fernet key; never the development default.
from django.core.exceptions import ImproperlyConfigured as _Improperly  # noqa: E402

if ETIMS_ENVIRONMENT in ("sandbox", "production") and not env.str("ETIMS_KEY", default="").strip():  # noqa: F405
    raise _Improperly("ETIMS_KEY must be set (a Fernet key, see docs/etims.md).")
