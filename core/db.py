"""Database helpers every app shares: retrying a transaction that InnoDB chose as a deadlock victim."""
import functools
import random
import time
from collections.abc import Callable

from django.db import OperationalError, transaction

# InnoDB's "deadlock found" and "lock wait timeout": the transaction (or statement) lost a lock race and
# was rolled back; run again from the start, the same work succeeds or meets the rule that refuses it.
RETRYABLE_ERRORS = (1213, 1205)
ATTEMPTS = 5


def is_lock_conflict(exc: BaseException) -> bool:
    """Whether `exc` is InnoDB giving up on a lock (deadlock victim or lock wait timeout)."""
    return isinstance(exc, OperationalError) and bool(exc.args) and exc.args[0] in RETRYABLE_ERRORS


def retry_on_deadlock(function=None, *, attempts: int = ATTEMPTS):
    """Run an outermost transaction again when InnoDB picks it as a deadlock victim (error 1213/1205).

    Only the outermost call retries (inside another transaction the whole outer one must be redone,
    so the error is passed up). Put it above `@transaction.atomic`, around the whole unit of work.
    SQLite never deadlocks: IMMEDIATE transactions queue at BEGIN.
    """

    def decorator(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for attempt in range(1, attempts + 1):
                if transaction.get_connection().in_atomic_block:
                    return func(*args, **kwargs)
                try:
                    return func(*args, **kwargs)
                except OperationalError as exc:
                    if not is_lock_conflict(exc) or attempt == attempts:
                        raise
                    # Back off a little longer each time, with jitter, so the tills that collided do not
                    # meet again on the same rows at the same moment.
                    time.sleep(random.uniform(0.02, 0.06) * attempt)
            raise AssertionError("unreachable")

        return wrapper

    return decorator(function) if function is not None else decorator


def run_retrying(work: Callable[[], object], *, attempts: int = ATTEMPTS):
    """`work()` as one retried unit (see `retry_on_deadlock`): for a view that wraps several services."""
    return retry_on_deadlock(work, attempts=attempts)()
