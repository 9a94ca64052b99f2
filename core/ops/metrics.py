"""Prometheus metrics: what the shop's monitoring scrapes at `/metrics`, and the helpers code calls.

    from core.ops import metrics

    metrics.sale_completed(branch_code=sale.branch.code)        # after the sale's transaction commits
    metrics.mpesa_outcome("stk_callback", "success")             # kind, status
    metrics.checkout_observed(seconds, channel="till")           # checkout latency

Served at `/metrics` to a scraper with `Authorization: Bearer $METRICS_TOKEN`, or to a logged-in owner.
Under gunicorn every worker is its own process: with `PROMETHEUS_MULTIPROC_DIR` set (config/gunicorn.conf.py
does it for the web unit) the workers write their counts to files there and a scrape adds them up.
The queue depth is read from Huey when scraped, so it is right whichever process answers.

The Huey consumer is a separate process (often on another machine in a chain): its own counts
(M-Pesa outcomes recorded by tasks) are served by the consumer itself on `HUEY_METRICS_PORT`
(see `serve_consumer_metrics`). Label values are normalised to short snake_case words, so a careless
caller cannot explode the number of time series.
"""

from __future__ import annotations

import hmac
import os
import re
import threading
import time

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from huey.contrib import djhuey
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily

from core.roles import Role

REQUESTS = Counter(
    "asiria_http_requests_total",
    "HTTP requests answered by Django, by view name, method and status code.",
    ["view", "method", "status"],
)
REQUEST_LATENCY = Histogram(
    "asiria_http_request_duration_seconds",
    "Time Django took to answer, by view name and status code.",
    ["view", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
SALES_COMPLETED = Counter(
    "asiria_sales_completed_total",
    "Sales completed at the till, by branch code.",
    ["branch"],
)
MPESA_OUTCOMES = Counter(
    "asiria_mpesa_outcomes_total",
    "M-Pesa events by kind (stk_push, stk_callback, stk_query, c2b, reversal …) and status "
    "(success, failed, cancelled, timeout, mismatch, duplicate …).",
    ["kind", "status"],
)

CHECKOUT_LATENCY = Histogram(
    "asiria_checkout_duration_seconds",
    "Time `sale_checkout` took to complete a sale (payments, numbering, stock), by how it was paid "
    "(till: at the pay panel; mpesa: completed when M-Pesa confirmed).",
    ["channel"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

_LABEL = re.compile(r"[^a-z0-9_]+")


def _label(value: object, fallback: str = "unknown") -> str:
    text = _LABEL.sub("_", str(value or "").strip().lower()).strip("_")[:40]
    return text or fallback


# ---------------------------------------------------------------------------- helpers other code calls


def sale_completed(branch_code: str) -> None:
    """Count one completed sale. Call it after the sale's transaction commits (`transaction.on_commit`)."""
    SALES_COMPLETED.labels(branch=str(branch_code or "unknown").upper()[:10]).inc()


def checkout_observed(seconds: float, channel: str = "till") -> None:
    """How long one completed checkout took (`sale_checkout`, retries after a deadlock included)."""
    CHECKOUT_LATENCY.labels(channel=_label(channel)).observe(max(float(seconds), 0.0))


def mpesa_outcome(kind: str, status: str) -> None:
    """Count one M-Pesa event: `mpesa_outcome("stk_push", "accepted")`, `("stk_callback", "cancelled")`."""
    MPESA_OUTCOMES.labels(kind=_label(kind), status=_label(status)).inc()


def observe_request(*, view: str, method: str, status: int, seconds: float) -> None:
    labels = {"view": view, "method": method.upper()[:10], "status": str(status)}
    REQUESTS.labels(**labels).inc()
    REQUEST_LATENCY.labels(**labels).observe(seconds)


# ---------------------------------------------------------------------------- collection


class QueueDepthCollector:
    """`asiria_queue_pending_tasks` / `asiria_queue_scheduled_tasks`, read from Huey when scraped;
    `asiria_queue_up` is 0 when the queue's storage (Redis or SQLite) cannot be reached."""

    def collect(self):

        up = GaugeMetricFamily("asiria_queue_up", "1 if the task queue's storage answered the scrape.")
        pending = GaugeMetricFamily("asiria_queue_pending_tasks", "Tasks waiting in the Huey queue.")
        scheduled = GaugeMetricFamily("asiria_queue_scheduled_tasks", "Tasks scheduled for later (retries, ETAs).")
        try:
            pending_count, scheduled_count = djhuey.HUEY.pending_count(), djhuey.HUEY.scheduled_count()
        except Exception:  # a scrape must still answer when Redis is down; the 0 is the alert
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        pending.add_metric([], pending_count)
        scheduled.add_metric([], scheduled_count)
        yield from (up, pending, scheduled)


class _ProcessRegistry:
    """This process's own metrics (the default registry), for single-process servers."""

    def collect(self):
        yield from REGISTRY.collect()


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def scrape() -> bytes:
    """The text exposition of every metric, summed over gunicorn workers when in multiprocess mode."""
    registry = CollectorRegistry()
    if multiprocess_dir():

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ProcessRegistry())
    registry.register(QueueDepthCollector())
    return generate_latest(registry)


# ---------------------------------------------------------------------------- the view and middleware


def _bearer_token_ok(request) -> bool:
    expected = getattr(settings, "METRICS_TOKEN", "")
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not expected or scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(token.strip().encode(), expected.encode())


@never_cache
@require_GET
def metrics_view(request):
    """`GET /metrics`: the scraper's bearer token, or an owner's login. 401 otherwise (403 for staff)."""
    if not _bearer_token_ok(request):

        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            response = HttpResponse("Authentication required: send Authorization: Bearer <METRICS_TOKEN>.\n",
                                    status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        if user.role != Role.OWNER:
            return HttpResponse("Only an owner may read the metrics.\n", status=403, content_type="text/plain")
    return HttpResponse(scrape(), content_type=CONTENT_TYPE_LATEST)


class PrometheusMiddleware:
    """Counts every request Django answers and how long it took, labelled by the URL's name
    (`pos:staff_list`), never by the raw path (ids in paths would make endless series)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or "<unnamed>") if match else "<unresolved>"
        observe_request(view=view, method=request.method, status=response.status_code,
                        seconds=time.perf_counter() - started)
        return response


# ---------------------------------------------------------------------------- the Huey consumer's own endpoint

_consumer_server_lock = threading.Lock()
_consumer_server_started = False


def serve_consumer_metrics() -> bool:
    """Start the consumer's metrics endpoint once (`HUEY_METRICS_PORT`, bound to `HUEY_METRICS_ADDR`,
    default 127.0.0.1). Called from a Huey startup hook in every worker thread; only the first starts it."""
    global _consumer_server_started
    port = getattr(settings, "HUEY_METRICS_PORT", 0)
    if not port:
        return False
    with _consumer_server_lock:
        if _consumer_server_started:
            return False

        registry = CollectorRegistry()
        registry.register(_ProcessRegistry())
        registry.register(QueueDepthCollector())
        start_http_server(port, addr=getattr(settings, "HUEY_METRICS_ADDR", "127.0.0.1"), registry=registry)
        _consumer_server_started = True
        return True
