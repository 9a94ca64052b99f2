"""JSON logs: request id, user, role, branch, bound ids, and no secrets or whole phone numbers."""

import io
import json
import logging
from decimal import Decimal

import pytest
import structlog
from structlog.contextvars import clear_contextvars

from core.ops.logs import (
    REDACTED,
    bind_log_context,
    formatter,
    log_context,
    logging_config,
    new_request_id,
    scrub,
    task_log_context,
)

MASKED = "+2547•••••678"


class _Capture:
    def __init__(self, log_format: str):
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(formatter(log_format))

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]

    def events(self, name: str) -> list[dict]:
        return [line for line in self.lines() if line["event"] == name]


@pytest.fixture
def capture_logs():
    made = []

    def start(log_format: str = "json") -> _Capture:
        capture = _Capture(log_format)
        logging.getLogger().addHandler(capture.handler)
        made.append(capture)
        return capture

    clear_contextvars()
    yield start
    for capture in made:
        logging.getLogger().removeHandler(capture.handler)
    clear_contextvars()


# ---------------------------------------------------------------------------- request context


@pytest.mark.django_db
def test_request_line_has_request_id_user_role_and_branch(capture_logs, owner_client, owner):
    logs = capture_logs()
    response = owner_client.get("/")
    assert response.status_code == 200
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    (line,) = logs.events("request_finished")
    assert line["request_id"] == request_id
    assert line["user_id"] == owner.pk
    assert line["role"] == "OWNER"
    assert line["branch_id"] == owner.branch_id
    assert line["status"] == 200
    assert line["view"] == "home"
    assert line["method"] == "GET" and line["path"] == "/"
    assert line["level"] == "info" and line["logger"] == "asiria.request"
    assert "timestamp" in line and isinstance(line["duration_ms"], float)


@pytest.mark.django_db
def test_incoming_request_id_is_kept_and_echoed(capture_logs, client):
    logs = capture_logs()
    response = client.get("/healthz", HTTP_X_REQUEST_ID="a1b2c3d4-e5f6-7890-abcd-ef0123456789")
    assert response["X-Request-ID"] == "a1b2c3d4-e5f6-7890-abcd-ef0123456789"
    assert logs.events("request_finished")[0]["request_id"] == "a1b2c3d4-e5f6-7890-abcd-ef0123456789"
    assert "user_id" not in logs.events("request_finished")[0]  # anonymous


@pytest.mark.parametrize("bad", ["", "has space", "x" * 129, "new\nline", "<script>", "a;b"])
def test_a_bad_incoming_request_id_is_replaced(bad):
    made = new_request_id(bad)
    assert made != bad and len(made) == 32


@pytest.mark.django_db
def test_each_request_starts_with_a_clean_context(capture_logs, client):
    logs = capture_logs()
    bind_log_context(sale_id=99)  # left over from something else in this thread
    client.get("/healthz")
    assert "sale_id" not in logs.events("request_finished")[0]


@pytest.mark.django_db
def test_the_user_who_logs_in_is_on_the_request_line(capture_logs, client, employee):
    from conftest import DEFAULT_PASSWORD

    employee.set_password(DEFAULT_PASSWORD)
    employee.save()
    logs = capture_logs()
    response = client.post("/accounts/login/", {"login": employee.phone_number, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    line = logs.events("request_finished")[-1]
    assert line["user_id"] == employee.pk and line["role"] == "EMPLOYEE"
    assert employee.phone_number not in logs.text  # the login form's phone number is never logged whole
    assert DEFAULT_PASSWORD not in logs.text


# ---------------------------------------------------------------------------- bound ids


def test_bind_log_context_adds_ids_to_later_lines(capture_logs):
    logs = capture_logs()
    log = structlog.get_logger("asiria.test")
    bind_log_context(sale_id=12, payment_id=None, sale_number="MAIN-000012")
    log.info("payment_taken", amount=Decimal("250.00"))
    (line,) = logs.events("payment_taken")
    assert line["sale_id"] == 12 and line["sale_number"] == "MAIN-000012"
    assert "payment_id" not in line  # None is skipped
    assert line["amount"] == "250.00"


def test_log_context_is_undone_after_the_block(capture_logs):
    logs = capture_logs()
    log = structlog.get_logger("asiria.test")
    with log_context(payment_id=7):
        log.info("inside")
    log.info("outside")
    assert logs.events("inside")[0]["payment_id"] == 7
    assert "payment_id" not in logs.events("outside")[0]


def test_a_huey_task_starts_with_its_own_context(capture_logs):
    class FakeTask:
        name = "cashdesk.mpesa.tasks.mpesa_apply_callback"
        id = "4f1c"

    logs = capture_logs()
    bind_log_context(request_id="from-an-earlier-task")
    task_log_context(FakeTask())
    structlog.get_logger("asiria.test").info("applying")
    line = logs.events("applying")[0]
    assert line["task"] == FakeTask.name and line["task_id"] == "4f1c"
    assert "request_id" not in line


# ---------------------------------------------------------------------------- scrubbing


def test_secrets_and_phone_numbers_never_reach_the_output(capture_logs):
    logs = capture_logs()
    structlog.get_logger("asiria.test").info(
        "customer 0712 345 678 paid; manager pin=4321 used, header Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc",
        password="hunter2-secret",
        pin="4826",
        manager_pin="9911",
        token="tok_live_12345",
        access_token="acc_777",
        client_secret="cs_888",
        Authorization="Basic dXNlcjpwYXNzd29yZA==",
        phone_number="0798765678",
        msisdn="254722000678",
        headers={"Cookie": "sessionid=abc123; csrftoken=def456", "X-CSRFToken": "csrf999"},
        body={"Body": {"stkCallback": {"CallbackMetadata": {"Item": [
            {"Name": "PhoneNumber", "Value": 254712345678},
            {"Name": "Amount", "Value": 250},
        ]}}}},
        mpesa={"SecurityCredential": "cred-555", "PhoneNumber": 254711222678, "PartyA": "254712345678"},
    )
    text = logs.text
    for secret in (
        "hunter2-secret", "4826", "9911", "4321", "tok_live_12345", "acc_777", "cs_888", "dXNlcjpwYXNzd29yZA",
        "eyJhbGciOiJIUzI1NiJ9", "abc123", "def456", "csrf999", "cred-555",
        "0712 345 678", "0798765678", "254722000678", "254712345678", "254711222678",
    ):
        assert secret not in text, secret
    (line,) = logs.lines()
    assert line["password"] == REDACTED and line["pin"] == REDACTED and line["token"] == REDACTED
    assert line["phone_number"] == "+2547•••••678"
    assert line["msisdn"] == "+2547•••••678"
    assert line["mpesa"]["PartyA"] == MASKED
    assert line["body"]["Body"]["stkCallback"]["CallbackMetadata"]["Item"][0]["Value"] == MASKED
    assert line["body"]["Body"]["stkCallback"]["CallbackMetadata"]["Item"][1]["Value"] == 250
    assert "+2547•••••678 paid" in line["event"]
    assert "pin=[redacted]" in line["event"] and "Bearer [redacted]" in line["event"]


def test_plain_stdlib_logging_is_scrubbed_too(capture_logs):
    logs = capture_logs()
    logging.getLogger("django.request").warning(
        "Failed STK push for %s with password=%s", "+254 712 345 678", "hunter2"
    )
    (line,) = logs.lines()
    assert "hunter2" not in logs.text and "345 678" not in logs.text
    assert line["logger"] == "django.request" and line["level"] == "warning"
    assert MASKED in line["event"] and "password=[redacted]" in line["event"]


def test_tracebacks_are_scrubbed(capture_logs):
    logs = capture_logs()
    try:
        raise ValueError("Daraja refused token=sk_live_99 for 0712345678")
    except ValueError:
        structlog.get_logger("asiria.test").exception("stk_push_failed")
    (line,) = logs.lines()
    assert "ValueError" in line["exception"] and "Traceback" in line["exception"]
    assert "sk_live_99" not in logs.text and "0712345678" not in logs.text


def test_useful_ids_are_not_mistaken_for_secrets():
    cleaned = scrub({
        "opening_float": "1000.00",
        "cash_session_id": 5,
        "idempotency_key": "0f4e-till-3",
        "sale_id": 77,
        "shipping": "none",
        "pin_locked": True,
        "checkout_request_id": "ws_CO_191220191020363925",
        "amount": 1500,
        "receipt": "QKJ5ABC123",
    })
    assert cleaned == {
        "opening_float": "1000.00",
        "cash_session_id": 5,
        "idempotency_key": "0f4e-till-3",
        "sale_id": 77,
        "shipping": "none",
        "pin_locked": True,  # a yes/no says nothing about the PIN itself
        "checkout_request_id": "ws_CO_191220191020363925",
        "amount": 1500,
        "receipt": "QKJ5ABC123",
    }


@pytest.mark.parametrize(
    "written", ["+254712345678", "254712345678", "0712345678", "0712 345 678", "0712-345-678", "00254712345678",
                "+254 712 345 678"],
)
def test_every_way_of_writing_a_number_is_masked(written):
    assert scrub(f"call {written} now") == f"call {MASKED} now"


def test_console_format_is_readable_and_scrubbed(capture_logs):
    logs = capture_logs("console")
    structlog.get_logger("asiria.test").info("stk_push_sent", phone="0712345678", password="hunter2")
    assert "stk_push_sent" in logs.text and "{" not in logs.text.split("stk_push_sent")[0]
    assert "hunter2" not in logs.text and "0712345678" not in logs.text
    assert MASKED in logs.text


def test_unknown_log_format_is_refused():
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config(log_format="xml")


@pytest.mark.parametrize(
    "text,kept",
    [
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", False),
        ("Basic dXNlcjpwYXNz", False),
        ("bearer 4f1c2d3e4f5a6b7c", False),
        ("the basic information screen", True),
        ("Bearer token expired", True),
    ],
)
def test_authorization_schemes_only_hide_credentials(text, kept):
    assert (scrub(text) == text) is kept
