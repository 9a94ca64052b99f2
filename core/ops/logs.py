"""Structured logs: one JSON object per line for Filebeat/Logstash (or readable lines in development).

Every line carries what was bound for the current request or task: `request_id` (an incoming
`X-Request-ID` is honoured, otherwise one is made, and it is echoed in the response), `user_id`, `role`,
`branch_id`, and whatever the code touching a sale or payment adds with `bind_log_context(sale_id=…)`.
Django's own loggers, Huey's and gunicorn's go through the same formatter, so every line looks alike.

Nothing secret reaches the output: `scrub` runs last, just before rendering, and removes passwords,
tokens, PINs, secrets, cookies and Authorization values (by key anywhere in the event, nested too, and by
pattern inside free text), and masks Kenyan phone numbers (`+2547•••••678`, `core.phone.mask_phone`).

    import structlog
    from core.ops.logs import bind_log_context

    log = structlog.get_logger(__name__)
    bind_log_context(sale_id=sale.pk, sale_number=sale.number)
    log.info("sale_completed", total=str(sale.total))
"""

from __future__ import annotations

import datetime
import os
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import structlog
from django.utils.functional import empty
from structlog.contextvars import bind_contextvars, bound_contextvars, clear_contextvars, unbind_contextvars

from core.phone import mask_phone, phone_or_none

REDACTED = "[redacted]"
REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

logger = structlog.get_logger("asiria.request")

# ---------------------------------------------------------------------------- context


def bind_log_context(**ids: Any) -> None:
    """Add ids to every log line of the current request or task: `bind_log_context(sale_id=12)`.

    `None` values are skipped, so `bind_log_context(payment_id=payment and payment.pk)` is fine.
    """
    bind_contextvars(**{key: value for key, value in ids.items() if value is not None})


def unbind_log_context(*keys: str) -> None:
    unbind_contextvars(*keys)


def clear_log_context(*args: Any, **kwargs: Any) -> None:
    """Forget everything bound (a `request_finished` receiver, hence the ignored arguments)."""
    clear_contextvars()


@contextmanager
def log_context(**ids: Any) -> Iterator[None]:
    """`with log_context(sale_id=…):` binds for the block only, then restores what was there."""
    with bound_contextvars(**{key: value for key, value in ids.items() if value is not None}):
        yield


def new_request_id(incoming: str | None = None) -> str:
    """The incoming id if it is a sane token (nginx's `$request_id`, a UUID), else a fresh one."""
    if incoming and _VALID_REQUEST_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


# ---------------------------------------------------------------------------- scrubbing

# Keys whose values are secret, matched on the key with separators removed ("access_token",
# "SecurityCredential", "x-csrftoken", "HTTP_AUTHORIZATION" …).
_SECRET_SUBSTRINGS = (
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "cookie",
    "credential",
    "passkey",
    "apikey",
    "privatekey",
    "consumerkey",
    "signature",
    "csrf",
)
# Keys that are secret only as a whole ("sessionid" is the cookie; "cash_session_id" is not secret).
_SECRET_EXACT = frozenset({"sessionid", "sessionkey"})
# Keys where one of the words is secret ("pin", "manager_pin", "pin_code", "otp"); "opening_float" is not.
_SECRET_WORDS = frozenset({"pin", "pwd", "pass", "otp", "cvv", "auth"})
_PHONE_WORDS = frozenset({"msisdn", "mobile"})

_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")

# "password=hunter2", "pin: 1234", '"client_secret": "abc"', "?token=abc&" inside free text.
_SECRET_ASSIGNMENT = re.compile(
    r"(?i)(?<![a-z0-9])([a-z0-9_-]*?(?:password|passwd|pwd|secret|token|api[_-]?key|pin|passkey|"
    r"authorization|credential|sessionid))"
    r"(\"?'?\s*[:=]\s*\"?'?)"
    r"(?!(?:bearer|basic)\s)([^\s\"'&,;}]+)"
)
# "Authorization: Bearer eyJ…", "Basic dXNlcjpwYXNz": a credential is 6+ characters with a digit, a
# symbol or a lower-then-upper letter pair, so "basic information" in a sentence is left alone.
_AUTH_SCHEME = re.compile(
    r"(?i:\b(bearer|basic))\s+(?=[A-Za-z0-9\-._~+/]*(?:[0-9\-._~+/=]|[a-z][A-Z]))[A-Za-z0-9\-._~+/]{6,}=*"
)
# Kenyan mobile numbers however they are written: +254 712 345 678, 254712345678, 0712-345-678, 00254…
# Not inside a longer word or number ("…-ef0123456789" in a request id is not a phone number).
_PHONE_IN_TEXT = re.compile(r"(?<![\w+])(?:\+254|00254|254|0)\s?[17]\d{2}[\s-]?\d{3}[\s-]?\d{3}(?!\w)")
_PHONE_INT = re.compile(r"^254[17]\d{8}$")


def _key_kind(key: str) -> str | None:
    snake = _CAMEL.sub(r"\1_\2", key).lower()
    words = set(filter(None, _NON_ALNUM.split(snake)))
    joined = _NON_ALNUM.sub("", snake)
    if any(part in joined for part in _SECRET_SUBSTRINGS) or words & _SECRET_WORDS or joined in _SECRET_EXACT:
        return "secret"
    if "phone" in joined or words & _PHONE_WORDS:
        return "phone"
    return None


def _mask_any_phone(value: Any) -> str:
    text = str(value)
    normalised = phone_or_none(text)
    return mask_phone(normalised or text)


# The M-Pesa callback paths carry the callback secret (`/cash/hooks/<secret>/stk/`): anyone who read it
# could post payments. Whatever follows "/hooks/" up to the next "/" is never written anywhere.
_HOOK_SECRET = re.compile(r"(/hooks/)[^/?#\s\"'<>]+")


def redact_path(path: str) -> str:
    """A URL or path with the M-Pesa callback secret taken out."""
    return _HOOK_SECRET.sub(lambda m: f"{m.group(1)}{REDACTED}", path or "")


def scrub_text(text: str) -> str:
    """Remove secrets and mask phone numbers inside free text (messages, tracebacks, URLs)."""
    text = redact_path(text)
    text = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _SECRET_ASSIGNMENT.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _PHONE_IN_TEXT.sub(lambda m: _mask_any_phone(m.group(0)), text)


def scrub(value: Any, key: str | None = None) -> Any:
    """A copy of `value` with secrets removed and phone numbers masked, at any depth."""
    kind = _key_kind(key) if key else None
    if kind == "secret":
        # True/False/None say whether something is set, never what it is.
        return value if value is None or isinstance(value, bool) else REDACTED
    if kind == "phone" and value not in (None, "") and not isinstance(value, (dict, list, tuple, bool)):
        return _mask_any_phone(value)
    if isinstance(value, dict):
        return {k: scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    if value is None or isinstance(value, (bool, float, Decimal, datetime.date, datetime.time, uuid.UUID)):
        return value  # cannot hold a secret; the renderer writes them as text
    if isinstance(value, int):
        return mask_phone(f"+{value}") if _PHONE_INT.match(str(value)) else value
    if isinstance(value, bytes):
        return scrub_text(value.decode("utf-8", "replace"))
    return scrub_text(str(value))  # model instances and other objects: as text, scrubbed


def scrub_processor(_logger, _method_name: str, event_dict: dict) -> dict:
    """structlog processor: scrub every field (keys starting with "_" are structlog's own)."""
    return {k: (v if k.startswith("_") else scrub(v, k)) for k, v in event_dict.items()}


def _add_process_id(_logger, _method_name: str, event_dict: dict) -> dict:
    event_dict.setdefault("pid", os.getpid())
    return event_dict


# ---------------------------------------------------------------------------- configuration

_SHARED_PROCESSORS: list = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.StackInfoRenderer(),
]


def formatter(log_format: str) -> structlog.stdlib.ProcessorFormatter:
    """The logging.Formatter that renders both structlog events and plain stdlib records."""
    if log_format == "json":
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False, default=str)
        extra = [_add_process_id]
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)
        extra = []
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED_PROCESSORS,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            *extra,
            scrub_processor,
            renderer,
        ],
    )


def configure_structlog() -> None:
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED_PROCESSORS,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def logging_config(*, log_format: str = "console", level: str = "INFO") -> dict:
    """Django's LOGGING: everything to stderr through one formatter (`json` or `console`)."""
    if log_format not in ("json", "console"):
        raise ValueError(f"LOG_FORMAT must be 'json' or 'console', not {log_format!r}")
    configure_structlog()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"structured": {"()": formatter, "log_format": log_format}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # runserver's own access lines; gunicorn (or our request line below) covers production.
            "django.server": {"level": "WARNING" if log_format == "json" else "INFO"},
            "huey": {"level": "INFO"},
            "asiria": {"level": level},
        },
    }


# ---------------------------------------------------------------------------- the request middleware


def _evaluated_user(request):
    """request.user if it has already been loaded (never a query of its own), else None."""
    user = request.__dict__.get("user")
    if user is None:
        return None
    wrapped = getattr(user, "_wrapped", user)  # a SimpleLazyObject until something reads it
    return None if wrapped is empty else wrapped


def bind_user(user) -> None:
    if user is not None and getattr(user, "is_authenticated", False):
        bind_contextvars(user_id=user.pk, role=getattr(user, "role", None), branch_id=getattr(user, "branch_id", None))
        try:
            import sentry_sdk  # noqa: PLC0415 - only installations with SENTRY_DSN load Sentry

            sentry_sdk.set_user({"id": user.pk})  # the id only: send_default_pii is off
        except ImportError:  # pragma: no cover - sentry-sdk is a pinned requirement
            pass


class RequestContextMiddleware:
    """Binds request_id/method/path at the start, user/role/branch once the user is known, echoes the
    request id in `X-Request-ID`, and writes one `request_finished` line per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = new_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        clear_contextvars()
        bind_contextvars(request_id=request_id, method=request.method, path=redact_path(request.path))
        try:
            import sentry_sdk  # noqa: PLC0415 - only installations with SENTRY_DSN load Sentry

            sentry_sdk.set_tag("request_id", request_id)
        except ImportError:  # pragma: no cover
            pass
        started = time.perf_counter()
        response = self.get_response(request)
        bind_user(_evaluated_user(request))  # also catches the user who has just logged in
        response[REQUEST_ID_HEADER] = request_id
        match = getattr(request, "resolver_match", None)
        logger.info(
            "request_finished",
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
            view=match.view_name if match else None,
        )
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        # After AuthenticationMiddleware: the view is about to read request.user anyway.
        user = getattr(request, "user", None)
        bind_user(user if user is not None and user.is_authenticated else None)
        return None


def task_log_context(task) -> None:
    """A Huey task starts with a clean context: its name and id (thread workers are reused)."""
    clear_contextvars()
    bind_contextvars(task=task.name, task_id=task.id)

