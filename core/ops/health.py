"""`GET /healthz`: is the database, the cache and the task queue reachable? 200 if all, 503 if not.

Public (load balancers and uptime checks call it without logging in), so a failure says only which
kind of error it was; the whole message, which may name hosts and database users, goes to the log.
"""

import time

import structlog
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from huey.contrib import djhuey

logger = structlog.get_logger(__name__)


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_cache() -> str:
    key = "healthz:probe"
    value = str(time.time())
    cache.set(key, value, 10)
    if cache.get(key) != value:
        raise RuntimeError("cache did not return what was stored")
    return "ok"


def _check_queue() -> str:

    pending = djhuey.HUEY.pending_count()  # touches the queue's storage (Redis or SQLite)
    return f"ok ({pending} waiting)"


@never_cache
@require_GET
def healthz(request):
    checks = {}
    healthy = True
    for name, check in (("database", _check_database), ("cache", _check_cache), ("queue", _check_queue)):
        try:
            checks[name] = check()
        except Exception as exc:  # any failure means "down"; it is reported, not raised
            logger.error("healthz: %s is down: %s: %s", name, exc.__class__.__name__, exc)
            checks[name] = f"down: {exc.__class__.__name__}"
            healthy = False
    return JsonResponse({"status": "ok" if healthy else "down", "checks": checks}, status=200 if healthy else 503)
