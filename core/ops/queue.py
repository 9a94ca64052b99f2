"""Putting work on the Huey queue, and what happens when the queue cannot take it (Redis is down).

Tasks are enqueued after the transaction that made their rows commits (`enqueue_on_commit`). If the
queue's storage does not answer, the request must not fail after its sale or callback is already
committed, so one of two documented fallbacks applies (docs/production.md, "When things fail"):

- `fallback="inline"`: the request runs the task itself, now (M-Pesa: sending a push, applying a
  callback or a C2B confirmation — money must move even without the queue; each takes well under a
  second, and every task is idempotent, so a copy that the queue also delivers later changes nothing);
- `fallback="skip"`: the task is dropped with a warning in the log (a low-stock notification — the
  alert itself stays open in the app; a receipt e-mail — it can be sent again from the sale's page).

Either way the warning `queue_unavailable` is logged and `asiria_queue_fallbacks_total` counts it.
"""

from __future__ import annotations

import sqlite3

import redis
import structlog
from django.db import transaction
from prometheus_client import Counter

log = structlog.get_logger("asiria.queue")

QUEUE_FALLBACKS = Counter(
    "asiria_queue_fallbacks_total",
    "Tasks the queue could not take (its storage did not answer), by what was done instead (inline, skip).",
    ["fallback"],
)


def _queue_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [sqlite3.OperationalError]  # SqliteHuey: locked or unreadable file
    try:

        errors += [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError]
    except ImportError:  # pragma: no cover - redis is a pinned requirement
        pass
    return tuple(errors)


QUEUE_ERRORS = _queue_errors()


def enqueue(task, *args, fallback: str = "inline"):
    """`task(*args)` onto the queue; if the queue is down, run it here (`inline`) or drop it (`skip`)."""
    if fallback not in ("inline", "skip"):
        raise ValueError(f"fallback must be 'inline' or 'skip', not {fallback!r}")
    try:
        return task(*args)
    except QUEUE_ERRORS as exc:
        QUEUE_FALLBACKS.labels(fallback=fallback).inc()
        log.warning("queue_unavailable", task=getattr(task, "name", str(task)), fallback=fallback,
                    error=f"{type(exc).__name__}: {exc}"[:200])
        if fallback == "inline":
            return task.call_local(*args)
        return None


def enqueue_on_commit(task, *args, fallback: str = "inline") -> None:
    """`enqueue` once the current transaction has committed (the task must see its rows)."""
    transaction.on_commit(lambda: enqueue(task, *args, fallback=fallback))


def schedule(task, *, args: tuple, delay: int) -> bool:
    """`task.schedule(...)`, or False (logged) when the queue is down: callers have a periodic safety net."""
    try:
        task.schedule(args=args, delay=delay)
        return True
    except QUEUE_ERRORS as exc:
        QUEUE_FALLBACKS.labels(fallback="skip").inc()
        log.warning("queue_unavailable", task=getattr(task, "name", str(task)), fallback="skip",
                    error=f"{type(exc).__name__}: {exc}"[:200])
        return False
