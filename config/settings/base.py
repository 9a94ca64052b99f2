"""Settings shared by every environment, read from the environment through django-environ.

With no `.env` at all the shop runs on SQLite, the local-memory cache and a SQLite Huey queue;
`DATABASE_URL=mysql://…` and `REDIS_URL=redis://…` switch to MySQL/MariaDB and Redis.
"""

import hashlib
from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"  # runtime files: SQLite databases, the Huey queue, backups
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
env_file = env.str("ENV_FILE", default=str(BASE_DIR / ".env"))
if Path(env_file).is_file():
    env.read_env(env_file, overwrite=False)

# ---------------------------------------------------------------------------- core
SECRET_KEY = env.str("SECRET_KEY", default="insecure-dev-key-change-me-" + "x" * 30)
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SITE_ID = 1

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    # third party
    "django_htmx",
    "template_partials",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_tables2",
    "django_filters",
    "huey.contrib.djhuey",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.microsoft",
    "allauth.socialaccount.providers.openid_connect",
    # ours, from the foundation up (docs/architecture.md)
    "core",
    "pos",
    "inventory",
    "cashdesk",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "pos.people.middleware.HtmxMessagesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "pos.people.context_processors.shop",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

# ---------------------------------------------------------------------------- database
# SQLite: WAL so readers never block the writer, IMMEDIATE transactions so two tills queue for the
# write lock at BEGIN instead of failing with "database is locked" half-way through a checkout.
SQLITE_PATH = env.str("SQLITE_PATH", default=str(VAR_DIR / "db.sqlite3"))
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{SQLITE_PATH}")}
DB_ENGINE = DATABASES["default"]["ENGINE"]
if DB_ENGINE == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA foreign_keys=ON;"
            "PRAGMA busy_timeout=20000;"
        ),
    }
elif DB_ENGINE in ("django.db.backends.mysql",):
    MYSQL_TMP_TABLE_BYTES = env.int("MYSQL_TMP_TABLE_BYTES", default=64 * 1024 * 1024)
    DATABASES["default"]["OPTIONS"] = {
        "charset": "utf8mb4",
        # A report grouping a year by product needs an in-memory temporary table bigger than the
        # server's 16 MB default; beyond it MariaDB writes the table to disk and takes twice as long
        # (bench/README.md). Only a query that needs it uses the memory.
        "init_command": (
            "SET sql_mode='STRICT_TRANS_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO', "
            f"tmp_table_size={MYSQL_TMP_TABLE_BYTES}, max_heap_table_size={MYSQL_TMP_TABLE_BYTES}"
        ),
        "isolation_level": "read committed",
    }
    DATABASES["default"]["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    # allauth's conditional unique constraints cannot exist on MariaDB; ours never rely on one
    # (see docs/architecture.md, "Constraints that work on SQLite and MariaDB").
    SILENCED_SYSTEM_CHECKS = ["models.W036"]
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------------------- cache and queue
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Redis down = every read a miss, writes dropped: the till keeps selling (core/ops/cache.py).
            "BACKEND": "core.ops.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "asiria",
            # A Redis that vanished from the network must not hold a till's request for long.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "asiria"}}

HUEY_IMMEDIATE = env.bool("HUEY_IMMEDIATE", default=False)
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": env.str("HUEY_NAME", default="asiria"),
        "immediate": HUEY_IMMEDIATE,
        "url": REDIS_URL,
        "consumer": {"workers": env.int("HUEY_WORKERS", default=4), "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "asiria",
        "immediate": HUEY_IMMEDIATE,
        "filename": env.str("HUEY_SQLITE_PATH", default=str(VAR_DIR / "huey.sqlite3")),
        # SQLite cannot wake the consumer: poll often so an M-Pesa push leaves within half a second.
        "consumer": {"workers": env.int("HUEY_WORKERS", default=2), "worker_type": "thread", "max_delay": 0.5},
    }

# ---------------------------------------------------------------------------- auth
AUTH_USER_MODEL = "pos.User"
AUTHENTICATION_BACKENDS = ["pos.people.backends.RoleBackend"]  # allauth's phone login + role permissions
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: phone number + password, no public sign-up, no SMS verification (staff are
# created by an owner or manager who checks the number in person).
ACCOUNT_ADAPTER = "pos.people.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "pos.people.adapters.SocialAccountAdapter"
MFA_ADAPTER = "pos.people.adapters.MFAAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_USER_MODEL_EMAIL_FIELD = "email"
ACCOUNT_LOGIN_METHODS = {"phone"}
ACCOUNT_SIGNUP_FIELDS = ["phone*", "password1*"]
ACCOUNT_PHONE_VERIFICATION_ENABLED = False
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_USER_DISPLAY = lambda user: user.full_name  # "Signed in as Njeri Wambui", not the number  # noqa: E731
ACCOUNT_RATE_LIMITS = {
    # allauth's own limits; "login_failed" also locks one account after repeated failures.
    "login": env.str("RATE_LIMIT_LOGIN", default="30/m/ip"),
    # Per phone number (key) is what protects an account; a shop's tablets share one public IP,
    # so the per-IP limit is loose enough for the whole shop.
    "login_failed": env.str("RATE_LIMIT_LOGIN_FAILED", default="60/m/ip,5/5m/key"),
    "change_password": "5/m/user",
    "reset_password": "5/m/ip,3/m/key",
}
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # matching is done by our adapter, verified e-mail only
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_PROVIDERS: dict = {}
if env.str("GOOGLE_CLIENT_ID", default=""):
    SOCIALACCOUNT_PROVIDERS["google"] = {
        "APPS": [
            {
                "client_id": env.str("GOOGLE_CLIENT_ID"),
                "secret": env.str("GOOGLE_CLIENT_SECRET", default=""),
                "key": "",
            }
        ],
        "SCOPE": ["profile", "email"],
        "AUTH_PARAMS": {"access_type": "online"},
    }
if env.str("MICROSOFT_CLIENT_ID", default=""):
    SOCIALACCOUNT_PROVIDERS["microsoft"] = {
        "APPS": [
            {
                "client_id": env.str("MICROSOFT_CLIENT_ID"),
                "secret": env.str("MICROSOFT_CLIENT_SECRET", default=""),
                "settings": {"tenant": env.str("MICROSOFT_TENANT", default="organizations")},
            }
        ]
    }
if env.str("OIDC_CLIENT_ID", default=""):
    SOCIALACCOUNT_PROVIDERS["openid_connect"] = {
        "APPS": [
            {
                "provider_id": env.str("OIDC_PROVIDER_ID", default="oidc"),
                "name": env.str("OIDC_PROVIDER_NAME", default="Single sign-on"),
                "client_id": env.str("OIDC_CLIENT_ID"),
                "secret": env.str("OIDC_CLIENT_SECRET", default=""),
                "settings": {"server_url": env.str("OIDC_SERVER_URL", default="")},
            }
        ]
    }

# Passkeys ("fingerprint / face" on the tablet) through allauth.mfa.
MFA_SUPPORTED_TYPES = ["webauthn", "totp", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_PASSKEY_SIGNUP_ENABLED = False
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env.bool("MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN", default=False)
MFA_TOTP_ISSUER = env.str("SHOP_NAME", default="AsiriaPOS")
# Our forms turn a malformed passkey POST into a form error (allauth 65.21 + fido2 2.2 answer 500).
MFA_FORMS = {
    "login_webauthn": "pos.people.forms.PasskeyLoginForm",
    "reauthenticate_webauthn": "pos.people.forms.PasskeyReauthenticateForm",
    "add_webauthn": "pos.people.forms.PasskeyAddForm",
}
# Staff e-mails are typed in by a manager, not verified by a link: don't let that block passkeys.
MFA_ALLOW_UNVERIFIED_EMAIL = True

# Till PIN: managers authorise overrides with a 4–6 digit PIN; repeated failures lock the PIN.
TILL_PIN_MAX_FAILURES = env.int("TILL_PIN_MAX_FAILURES", default=5)
TILL_PIN_LOCKOUT_MINUTES = env.int("TILL_PIN_LOCKOUT_MINUTES", default=15)
# ...and whoever is typing them is slowed down too: wrong PINs per logged-in person, and per address (a
# shop's tablets share one public IP, so that one is loose), within a window. Guessing by going through
# every manager's PIN in turn stops here before any one of them locks.
TILL_PIN_RATE_LIMIT = env.int("TILL_PIN_RATE_LIMIT", default=8)
TILL_PIN_RATE_LIMIT_IP = env.int("TILL_PIN_RATE_LIMIT_IP", default=40)
TILL_PIN_RATE_WINDOW_MINUTES = env.int("TILL_PIN_RATE_WINDOW_MINUTES", default=10)

SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 60 * 60)  # one trading day
SESSION_SAVE_EVERY_REQUEST = False

# ---------------------------------------------------------------------------- i18n
LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", "English"), ("sw", "Kiswahili")]
TIME_ZONE = "Africa/Nairobi"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = False

# ---------------------------------------------------------------------------- static and media
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# ---------------------------------------------------------------------------- UI
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5-responsive.html"
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# ---------------------------------------------------------------------------- e-mail
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="AsiriaPOS <noreply@localhost>")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)

# ---------------------------------------------------------------------------- the shop
SHOP_NAME = env.str("SHOP_NAME", default="AsiriaPOS Demo Shop")
DEFAULT_COUNTRY_CODE = "254"

# ---------------------------------------------------------------------------- API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework_simplejwt.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "core.api_schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "core.api.StandardPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],  # JSON bodies only (415 otherwise)
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    # 429 past these: per user (per address before login) and, stricter, on the token endpoints.
    "DEFAULT_THROTTLE_CLASSES": ["core.api.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_RATE_USER", default="600/minute"),
        "token": env.str("API_RATE_TOKEN", default="20/minute"),
    },
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AsiriaPOS API",
    "DESCRIPTION": "Point of sale for Kenyan shops: catalogue, stock, sales, cash sessions, M-Pesa.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,  # separate request/response components: read-only fields stay out of requests
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "deepLinking": True},
    "SCHEMA_PATH_PREFIX": "/api/",
    # Two apps name a field "method" with different choices: give each set its own enum name.
    "ENUM_NAME_OVERRIDES": {
        "PaymentMethodEnum": "cashdesk.models.PaymentMethod",
        "MoneyMethodEnum": "cashdesk.models.MoneyMethod",
        "RefundToEnum": "pos.sales.models.RefundTo",
    },
}

# ---------------------------------------------------------------------------- M-Pesa (Daraja)
# [daraja] begin. Read by cashdesk.mpesa.daraja.config (validated there and by `manage.py check`);
# docs/mpesa.md explains each one. Sandbox and production are switched by these variables only.
# An empty variable means "use the default".


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
# [daraja] end

# ---------------------------------------------------------------------------- logging
# JSON lines (LOG_FORMAT=json, production's default) for Filebeat/Logstash, or readable console lines;
# request id, user, role, branch and bound sale/payment ids on every line, secrets scrubbed (core/ops/logs.py).
from core.ops.logs import logging_config  # noqa: E402

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="console")
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)


# ============================================================================ production readiness
# Serving, database replica, metrics, error reports, backups, security headers, idle sessions.
# One block on purpose (merges with feature branches stay simple); see docs/production.md.


def _insert_after(items: list, anchor: str, *new: str) -> list:
    index = items.index(anchor) + 1
    return items[:index] + list(new) + items[index:]


INSTALLED_APPS += [  # noqa: F405
    "csp",
]

# Middleware order, after this block: Security, WhiteNoise, metrics, request log context, CSP, sessions, …,
# auth, messages, …, htmx, idle-session timeout, allauth, htmx messages.
MIDDLEWARE = _insert_after(
    MIDDLEWARE,
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.ops.metrics.PrometheusMiddleware",
    "core.ops.logs.RequestContextMiddleware",
    "core.ops.csp.CSPMiddleware",
)
MIDDLEWARE = _insert_after(MIDDLEWARE, "django_htmx.middleware.HtmxMiddleware", "pos.people.middleware.IdleSessionTimeoutMiddleware")

STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))

# --- read replica for reports (core/ops/db_router.py): `with use_replica():` reads go there
REPLICA_DATABASE_URL = env.str("REPLICA_DATABASE_URL", default="")
if REPLICA_DATABASE_URL:
    DATABASES["replica"] = env.db_url_config(REPLICA_DATABASE_URL)
    if DATABASES["replica"]["ENGINE"] == DB_ENGINE:
        DATABASES["replica"]["OPTIONS"] = dict(DATABASES["default"].get("OPTIONS", {}))
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # a test run never creates a second database
DATABASE_ROUTERS = ["core.ops.db_router.PrimaryReplicaRouter"]

# --- the task queue may live in its own Redis database (e.g. redis://…/1 with the cache on /0): then a
# cache.clear(), or Redis evicting cache keys under memory pressure, can never touch queued tasks.
HUEY_REDIS_URL = env.str("HUEY_REDIS_URL", default=REDIS_URL)
if REDIS_URL and HUEY_REDIS_URL:
    HUEY["url"] = HUEY_REDIS_URL

# --- sessions: in Redis (write-through to the database) when there is one, so any app server can
# answer any till; "django.contrib.sessions.backends.cache" keeps them in Redis only.
if REDIS_URL:
    SESSION_ENGINE = env.str("SESSION_ENGINE", default="django.contrib.sessions.backends.cached_db")
else:
    SESSION_ENGINE = env.str("SESSION_ENGINE", default="django.contrib.sessions.backends.db")
# A till left logged in and unattended is logged out after this many minutes without a click (0 = never).
SESSION_IDLE_TIMEOUT_MINUTES = env.int("SESSION_IDLE_TIMEOUT_MINUTES", default=30)

# --- metrics (core/ops/metrics.py): GET /metrics with "Authorization: Bearer <METRICS_TOKEN>" or as an owner
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
HUEY_METRICS_PORT = env.int("HUEY_METRICS_PORT", default=0)  # the consumer's own endpoint, 0 = off
HUEY_METRICS_ADDR = env.str("HUEY_METRICS_ADDR", default="127.0.0.1")

# --- error reports (core/ops/sentry.py): off unless SENTRY_DSN is set; no personal data is sent
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="production")
SENTRY_RELEASE = env.str("SENTRY_RELEASE", default="")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
if SENTRY_DSN:
    from core.ops.sentry import init_sentry  # noqa: E402

    init_sentry(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        release=SENTRY_RELEASE,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
    )

# --- backups (core/ops/backup.py, manage.py backup / restore, nightly task in core/tasks.py)
BACKUP_DIR = Path(env.str("BACKUP_DIR", default=str(VAR_DIR / "backups")))
BACKUP_KEEP = env.int("BACKUP_KEEP", default=14)
BACKUP_ENABLED = env.bool("BACKUP_ENABLED", default=False)
BACKUP_HOUR = env.int("BACKUP_HOUR", default=2)  # shop time (TIME_ZONE)
BACKUP_MINUTE = env.int("BACKUP_MINUTE", default=0)
MYSQLDUMP_BIN = env.str("MYSQLDUMP_BIN", default="")  # default: mariadb-dump, else mysqldump
MYSQL_BIN = env.str("MYSQL_BIN", default="")  # default: mariadb, else mysql

# --- Content Security Policy (django-csp; core/ops/csp.py). No inline script or style anywhere.
from csp.constants import NONE, SELF  # noqa: E402


def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


# Single sign-on: the login form POSTs to us and we redirect to the provider; Chrome applies
# form-action to that redirect, so the providers' sign-in origins must be allowed.
_csp_form_action = [
    SELF,
    "https://accounts.google.com",
    "https://login.microsoftonline.com",
    "https://login.live.com",
    *filter(None, [_origin(env.str("OIDC_SERVER_URL", default=""))]),
    *env.list("CSP_FORM_ACTION_EXTRA", default=[]),
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "manifest-src": [SELF],
        "frame-src": [NONE],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": _csp_form_action,
    },
}
# (django-csp 4 refuses settings named like its old CSP_* ones, hence the local names.)
_csp_report_uri = env.str("CSP_REPORT_URI", default="")
if _csp_report_uri:
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-uri"] = [_csp_report_uri]
# Relaxations for third-party pages we serve but do not write (core/ops/csp.py applies them by path):
# Swagger UI and ReDoc put a <style> block in their page and set styles from script; ReDoc's search runs
# in a blob: web worker. Their scripts still come only from our own static files.
CONTENT_SECURITY_POLICY_PATH_UPDATES = {
    "/swagger/": {"style-src": ["'unsafe-inline'"]},
    "/redoc/": {"style-src": ["'unsafe-inline'"], "worker-src": [SELF, "blob:"]},
}

# ---------------------------------------------------------------------------- analytics and notifications (issue 7)
# Nightly forecasts and basket pairs, at this shop-time hour:minute (reports/tasks.py).
ANALYTICS_HOUR = env.int("ANALYTICS_HOUR", default=1)
ANALYTICS_MINUTE = env.int("ANALYTICS_MINUTE", default=30)
# Reorder suggestions cover the supplier's lead time plus this many days of expected sales.
REORDER_LEAD_DAYS = env.int("REORDER_LEAD_DAYS", default=7)
REORDER_COVER_DAYS = env.int("REORDER_COVER_DAYS", default=14)
# A cash session closed with an over/short of at least this many KES notifies managers and owners.
NOTIFY_CASH_DIFFERENCE_KES = env.int("NOTIFY_CASH_DIFFERENCE_KES", default=500)
# The owners' daily summary goes out at this shop-time hour:minute (closing time).
DAILY_SUMMARY_HOUR = env.int("DAILY_SUMMARY_HOUR", default=21)
DAILY_SUMMARY_MINUTE = env.int("DAILY_SUMMARY_MINUTE", default=0)
# WhatsApp Business Cloud API (Meta). Off unless both the token and the phone number id are set.
WHATSAPP_TOKEN = env.str("WHATSAPP_TOKEN", default="")
WHATSAPP_PHONE_NUMBER_ID = env.str("WHATSAPP_PHONE_NUMBER_ID", default="")
WHATSAPP_API_VERSION = env.str("WHATSAPP_API_VERSION", default="v21.0")
WHATSAPP_API_BASE = env.str("WHATSAPP_API_BASE", default="https://graph.facebook.com").rstrip("/")
# Messages a business starts need an approved template with one body parameter; empty = plain text
# (only delivered inside the 24-hour window after the person last wrote to the shop's number).
WHATSAPP_TEMPLATE = env.str("WHATSAPP_TEMPLATE", default="")
WHATSAPP_TEMPLATE_LANGUAGE = env.str("WHATSAPP_TEMPLATE_LANGUAGE", default="en")
WHATSAPP_TIMEOUT = env.float("WHATSAPP_TIMEOUT", default=10.0)

# The notification bell's unread count is cached per person for this long (cleared on every write).
NOTIFICATION_BADGE_CACHE_SECONDS = env.int("NOTIFICATION_BADGE_CACHE_SECONDS", default=300)
