"""`GET /healthz`: 200 when the database, the cache and the task queue answer, 503 when one does not."""

import pytest
from django.db import OperationalError
from django.urls import reverse

from core.ops import health

pytestmark = pytest.mark.django_db


def test_all_up(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"] == "ok"
    assert body["checks"]["queue"].startswith("ok (")
    assert "no-cache" in response["Cache-Control"]


def test_no_login_needed_and_get_only(client):
    assert client.get(reverse("healthz")).status_code == 200
    assert client.post(reverse("healthz")).status_code == 405


class _BrokenConnection:
    def cursor(self):
        raise OperationalError("(2006, 'MySQL server has gone away')")


class _ForgetfulCache:
    def set(self, *args, **kwargs):
        return None

    def get(self, *args, **kwargs):
        return None  # e.g. Redis accepting writes into a full, evicting memory


class _BrokenHuey:
    def pending_count(self):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def _down(client, monkeypatch, target, replacement, name):
    monkeypatch.setattr(target, name, replacement)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    return body["checks"]


def test_database_down(client, monkeypatch, caplog):
    checks = _down(client, monkeypatch, health, _BrokenConnection(), "connection")
    assert checks["database"] == "down: OperationalError"
    # The details (which may name hosts or database users) go to the log, not to the public answer.
    assert "gone away" in caplog.text
    assert checks["cache"] == "ok" and checks["queue"].startswith("ok")


def test_cache_down(client, monkeypatch):
    checks = _down(client, monkeypatch, health, _ForgetfulCache(), "cache")
    assert checks["cache"] == "down: RuntimeError"
    assert checks["database"] == "ok"


def test_cache_unreachable(client, monkeypatch):
    class Unreachable:
        def set(self, *args, **kwargs):
            raise ConnectionRefusedError("Connection refused")

    checks = _down(client, monkeypatch, health, Unreachable(), "cache")
    assert checks["cache"] == "down: ConnectionRefusedError"


def test_queue_down(client, monkeypatch):
    import huey.contrib.djhuey as djhuey

    checks = _down(client, monkeypatch, djhuey, _BrokenHuey(), "HUEY")
    assert checks["queue"] == "down: ConnectionError"
    assert checks["database"] == "ok" and checks["cache"] == "ok"
