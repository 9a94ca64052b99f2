"""Running the shop: logs, metrics, error reports, backups and the Content Security Policy
(docs/production.md)."""

from pathlib import Path
from urllib.parse import urlsplit

from csp.constants import NONE, SELF

from config.settings.environment import VAR_DIR, env
from core.ops.logs import logging_config

# ---------------------------------------------------------------------------- logs
# JSON lines (LOG_FORMAT=json, production's default) for Filebeat/Logstash, or readable console lines;
# request id, user, role, branch and bound sale/payment ids on every line, secrets scrubbed (core/ops/logs.py).

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="console")
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)

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
    from core.ops.sentry import init_sentry

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


def _origin(url: str) -> str:
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
