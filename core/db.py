"""Database helpers every app shares: retrying a transaction that InnoDB chose as a deadlock victim."""
import functools
import time

from django.db import OperationalError, transaction


def retry_on_deadlock(function=None, *, attempts: int = 3):
    """Run an outermost transaction again when InnoDB picks it as a deadlock victim (error 1213/1205).

    Only the outermost call retries (inside another transaction the whole outer one must be redone,
    so the error is passed up). SQLite never deadlocks: IMMEDIATE transactions queue at BEGIN.
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
                    code = exc.args[0] if exc.args else None
                    if code not in (1213, 1205) or attempt == attempts:
                        raise
                    time.sleep(0.05 * attempt)
            raise AssertionError("unreachable")

        return wrapper

    return decorator(function) if function is not None else decorator
