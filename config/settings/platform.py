"""The platform: installed apps and middleware (each listed once, in order), templates, the database, the
cache and the task queue, languages, static files, e-mail and the shop's name."""

from pathlib import Path

from config.settings.environment import BASE_DIR, VAR_DIR, env

SECRET_KEY = env.str("SECRET_KEY", default="insecure-dev-key-change-me-" + "x" * 30)
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The client's address (core/ops/client_address.py): X-Forwarded-For is believed only through our own
# proxies. Behind the documented nginx: TRUSTED_PROXY_COUNT=1. Behind a load balancer and nginx: 2, or
# the balancer's and nginx's networks in TRUSTED_PROXY_NETWORKS. Neither set: the header is ignored.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
TRUSTED_PROXY_NETWORKS = env.list("TRUSTED_PROXY_NETWORKS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SITE_ID = 1

INSTALLED_APPS = [
    "core.admin_site.OwnersAdminConfig",  # django.contrib.admin, for owners only
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
    "csp",
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
    "core.ops.metrics.PrometheusMiddleware",  # counts every request, errors included
    "core.ops.logs.RequestContextMiddleware",  # request id, user, role and branch on every log line
    "core.ops.csp.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.ops.private_pages.PrivatePagesMiddleware",  # no-store for logged-in pages, camera only on the till
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "pos.people.middleware.IdleSessionTimeoutMiddleware",  # logs a forgotten till out
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

# --- read replica for reports (core/ops/db_router.py): `with use_replica():` reads go there
REPLICA_DATABASE_URL = env.str("REPLICA_DATABASE_URL", default="")
if REPLICA_DATABASE_URL:
    DATABASES["replica"] = env.db_url_config(REPLICA_DATABASE_URL)
    if DATABASES["replica"]["ENGINE"] == DB_ENGINE:
        DATABASES["replica"]["OPTIONS"] = dict(DATABASES["default"].get("OPTIONS", {}))
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # a test run never creates a second database
DATABASE_ROUTERS = ["core.ops.db_router.PrimaryReplicaRouter"]

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

# --- the task queue may live in its own Redis database (e.g. redis://…/1 with the cache on /0): then a
# cache.clear(), or Redis evicting cache keys under memory pressure, can never touch queued tasks.
HUEY_REDIS_URL = env.str("HUEY_REDIS_URL", default=REDIS_URL)
if REDIS_URL and HUEY_REDIS_URL:
    HUEY["url"] = HUEY_REDIS_URL

# ---------------------------------------------------------------------------- i18n
LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", "English"), ("sw", "Kiswahili")]
TIME_ZONE = "Africa/Nairobi"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = False

# ---------------------------------------------------------------------------- static and media
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
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
