"""The test suite: fast hashing, tasks run inline, nothing leaves the machine."""

from config.settings.base import *  # noqa: F403
from config.settings.base import CACHES, HUEY, VAR_DIR

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tasks run in the request that enqueues them unless a test asks for a real queue.
HUEY = {**HUEY, "immediate": True, "huey_class": "huey.MemoryHuey", "name": "asiria-test"}
HUEY.pop("url", None)
HUEY.pop("filename", None)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "asiria-test"},
    **{k: v for k, v in CACHES.items() if k != "default"},
}
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
MEDIA_ROOT = VAR_DIR / "test-media"
ACCOUNT_RATE_LIMITS = {
    "login": "1000/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "change_password": "5/m/user",
    "reset_password": "5/m/ip,3/m/key",
}
WHITENOISE_USE_FINDERS = True

# ---------------------------------------------------------------------------- operations
# Never a second database in the suite (core/tests/test_db_router.py makes its own replica).
DATABASES.pop("replica", None)  # noqa: F405
BACKUP_DIR = VAR_DIR / "test-backups"
BACKUP_ENABLED = False
METRICS_TOKEN = ""

# ---------------------------------------------------------------------------- JSON API
# The suite logs in hundreds of times a minute from one address; throttle tests lower these themselves.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"user": "100000/minute", "token": "100000/minute"},
}

# Query-count tests measure the worst case: the bell counts on every page (tests of the cache set it).
NOTIFICATION_BADGE_CACHE_SECONDS = 0

# eTIMS: no branch talks to KRA unless a test sets up a device (the demo seed makes none either).
ETIMS_ENVIRONMENT = "off"
