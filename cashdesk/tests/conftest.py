"""Cash desk test set-up: M-Pesa settings that never reach Safaricom, tasks that run at once, and a
watch on everything the app logs: the callback secret must never be written."""

import io
import logging

import pytest

from cashdesk.tests.mpesa_support import CALLBACK_SECRET, DARAJA_URL
from core.ops.logs import formatter


@pytest.fixture(autouse=True)
def _callback_secret_never_logged():
    """Every line the app logs during the cash desk and M-Pesa suite, rendered as production renders it
    (JSON through the scrubber), is searched for the callback secret and the secret paths."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter("json"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
    written = stream.getvalue()
    assert CALLBACK_SECRET not in written, "the M-Pesa callback secret was written to the log"
    assert CALLBACK_SECRET[:16] not in written


@pytest.fixture(autouse=True)
def _mpesa_settings(settings):
    settings.MPESA_ENVIRONMENT = "simulator"
    settings.MPESA_CONSUMER_KEY = ""
    settings.MPESA_CONSUMER_SECRET = ""
    settings.MPESA_BASE_URL = DARAJA_URL
    settings.MPESA_SHORTCODE = "174379"
    settings.MPESA_TRANSACTION_TYPE = "CustomerPayBillOnline"
    settings.MPESA_CALLBACK_SECRET = CALLBACK_SECRET
    settings.MPESA_CALLBACK_BASE_URL = "http://testserver"
    settings.MPESA_VERIFY_CALLBACKS = False
    settings.MPESA_TIMEOUT = 5


@pytest.fixture(autouse=True)
def _tasks_run_now(request, monkeypatch):
    """In a test's rolled-back transaction on_commit never fires: run enqueued tasks at once instead.

    Transactional tests (MariaDB concurrency, live server) keep the real on_commit.
    """
    marker = request.node.get_closest_marker("django_db")
    if (marker and marker.kwargs.get("transaction")) or "live_server" in request.fixturenames:
        return
    monkeypatch.setattr("cashdesk.mpesa.services.enqueue_task", lambda task, *args: task(*args))
