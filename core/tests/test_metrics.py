"""Prometheus metrics at /metrics: who may read them, what they count, and gunicorn's multiprocess mode."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from core.ops import metrics

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-0123456789abcdef"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def _sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_scraper_reads_metrics_with_its_token(client, token):
    client.get("/healthz")
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    for name in ("asiria_http_requests_total", "asiria_http_request_duration_seconds_bucket",
                 "asiria_queue_up 1.0", "asiria_queue_pending_tasks", "asiria_queue_scheduled_tasks"):
        assert name in body, name
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.parametrize("header", ["", "Bearer wrong-token", f"Basic {TOKEN}", "Bearer", f"bearer  {TOKEN}x"])
def test_without_the_right_token_an_anonymous_scraper_gets_401(client, token, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("/metrics", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"asiria_" not in response.content


def test_with_no_token_configured_no_bearer_is_accepted(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


def test_an_owner_may_look_and_other_staff_may_not(owner_client, manager_client, employee_client):
    assert owner_client.get("/metrics").status_code == 200
    assert manager_client.get("/metrics").status_code == 403
    assert employee_client.get("/metrics").status_code == 403


def test_requests_are_counted_by_view_name_and_status(client):
    before = _sample("asiria_http_requests_total", view="healthz", method="GET", status="200")
    before_404 = _sample("asiria_http_requests_total", view="<unresolved>", method="GET", status="404")
    before_hist = _sample("asiria_http_request_duration_seconds_count", view="healthz", method="GET", status="200")
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no-such-page/12345")
    assert _sample("asiria_http_requests_total", view="healthz", method="GET", status="200") == before + 2
    assert _sample("asiria_http_requests_total", view="<unresolved>", method="GET", status="404") == before_404 + 1
    assert (
        _sample("asiria_http_request_duration_seconds_count", view="healthz", method="GET", status="200")
        == before_hist + 2
    )


def test_sale_completed_counts_per_branch():
    before = _sample("asiria_sales_completed_total", branch="MAIN")
    metrics.sale_completed("main")
    metrics.sale_completed("MAIN")
    assert _sample("asiria_sales_completed_total", branch="MAIN") == before + 2


def test_mpesa_outcome_labels_are_normalised():
    before = _sample("asiria_mpesa_outcomes_total", kind="stk_push", status="success")
    metrics.mpesa_outcome("STK Push", "Success!")
    metrics.mpesa_outcome("stk_push", "success")
    assert _sample("asiria_mpesa_outcomes_total", kind="stk_push", status="success") == before + 2
    metrics.mpesa_outcome("", "x" * 500)
    assert _sample("asiria_mpesa_outcomes_total", kind="unknown", status="x" * 40) >= 1


def test_queue_depth_is_read_from_huey_when_scraped(client, token, monkeypatch):
    from huey.contrib.djhuey import HUEY

    monkeypatch.setattr(HUEY, "pending_count", lambda: 7)
    monkeypatch.setattr(HUEY, "scheduled_count", lambda: 2)
    body = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").content.decode()
    assert "asiria_queue_pending_tasks 7.0" in body
    assert "asiria_queue_scheduled_tasks 2.0" in body
    assert "asiria_queue_up 1.0" in body


def test_a_queue_that_is_down_is_reported_not_raised(client, token, monkeypatch):
    from huey.contrib.djhuey import HUEY

    def down():
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(HUEY, "pending_count", down)
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert "asiria_queue_up 0.0" in response.content.decode()
    assert "asiria_queue_pending_tasks" not in response.content.decode()


def test_metrics_are_not_cached_or_posted(client, token):
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 405


_WRITER = """
import django; django.setup()
from core.ops import metrics
for _ in range({n}):
    metrics.sale_completed("MAIN")
metrics.mpesa_outcome("stk_callback", "success")
"""
_READER = """
import django; django.setup()
from core.ops import metrics
print(metrics.scrape().decode())
"""


def test_gunicorn_workers_are_added_up_in_multiprocess_mode(tmp_path):
    """Each worker process writes its own counts; one scrape sees the sum (PROMETHEUS_MULTIPROC_DIR)."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    env.pop("DATABASE_URL", None)
    for n in (3, 4):  # two "workers"
        subprocess.run([sys.executable, "-c", _WRITER.format(n=n)], cwd=ROOT, env=env, check=True, timeout=120)
    out = subprocess.run([sys.executable, "-c", _READER], cwd=ROOT, env=env, check=True, timeout=120,
                         capture_output=True, text=True).stdout
    assert 'asiria_sales_completed_total{branch="MAIN"} 7.0' in out
    assert 'asiria_mpesa_outcomes_total{kind="stk_callback",status="success"} 2.0' in out
