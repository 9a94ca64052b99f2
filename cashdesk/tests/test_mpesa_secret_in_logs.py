"""The M-Pesa callback secret never reaches a log line, the access log or an error message."""

import datetime
import io
import logging

import pytest
from django.test import override_settings

from cashdesk.mpesa.daraja.config import CallbackURLError, validate_callback_url
from cashdesk.tests.mpesa_support import CALLBACK_SECRET, callback_url, sample_bytes
from core.ops.gunicorn_logging import access_record
from core.ops.logs import formatter, scrub_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter("console"))
    logging.getLogger().addHandler(handler)
    yield stream
    logging.getLogger().removeHandler(handler)


def test_the_request_log_and_the_wrong_secret_warning_leave_the_secret_out(client, log_lines):
    client.post(callback_url("stk"), data=sample_bytes("stk_callback_success"), content_type="application/json")
    near_miss = CALLBACK_SECRET[:-1] + "X"
    client.post(callback_url("stk", secret=near_miss), data=b"{}", content_type="application/json")
    client.get(callback_url("confirm"))
    text = log_lines.getvalue()
    assert "request_finished" in text and "wrong secret" in text  # the lines were written...
    assert CALLBACK_SECRET not in text and near_miss not in text  # ...without the secret
    assert "/hooks/[redacted]/" in text


def test_an_exception_inside_a_callback_does_not_log_the_path(client, log_lines, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("cashdesk.mpesa.services.mpesa_inbox_store", boom)
    with override_settings(DEBUG_PROPAGATE_EXCEPTIONS=False):
        client.raise_request_exception = False
        response = client.post(callback_url("stk"), data=b"{}", content_type="application/json")
    assert response.status_code == 500
    assert CALLBACK_SECRET not in log_lines.getvalue()
    assert CALLBACK_SECRET not in response.content.decode()


def test_the_gunicorn_access_line_leaves_the_secret_out():
    environ = {"PATH_INFO": callback_url("stk"), "REQUEST_METHOD": "POST", "REMOTE_ADDR": "127.0.0.1",
               "HTTP_REFERER": "https://shop.example" + callback_url("confirm")}
    line = access_record(type("R", (), {"status": "200 OK", "headers": [], "sent": 2})(), environ,
                         datetime.timedelta(milliseconds=5))
    assert CALLBACK_SECRET not in str(line) and line["path"].startswith("/cash/hooks/[redacted]/")


def test_a_refused_callback_url_does_not_repeat_the_secret():
    with pytest.raises(CallbackURLError) as refused:
        validate_callback_url(f"ftp://shop.example/cash/hooks/{CALLBACK_SECRET}/stk/")
    assert CALLBACK_SECRET not in str(refused.value)
    assert CALLBACK_SECRET not in scrub_text(f"Not Found: /cash/hooks/{CALLBACK_SECRET}/c2b/confirm/")
