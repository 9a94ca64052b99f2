"""Primary/replica routing: report reads may go to a read replica, everything else to `default`.

A chain's reports (month summaries, analytics, exports) are heavy reads that should not slow the tills
down. When `REPLICA_DATABASE_URL` is set, settings add a `replica` database; code that only reads and
can live with a replica that lags by a second or two wraps its queries in `use_replica()`:

    from core.ops.db_router import use_replica

    def sales_summary(*, start, end):
        with use_replica():
            return list(Sale.objects.filter(...).values(...).annotate(...))

Rules:
- Outside `use_replica()`, every read and every write goes to `default`.
- Inside it, reads go to `replica`; writes still go to `default` (a replica is read-only).
- Inside a real `transaction.atomic()` on `default`, reads stay on `default` even within
  `use_replica()`: a transaction must see its own writes and the rows it has locked.
- With no replica configured `use_replica()` changes nothing, so selectors can always use it.
- Migrations run only on `default`; the replica receives the schema through replication.
- Querysets are lazy: evaluate them (list(), aggregate(), iterate) inside the `with` block.

The state is a `ContextVar`, so it is per thread (gunicorn gthread workers, Huey thread workers) and per
asyncio task, and cannot leak from one request to the next.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA_DB_ALIAS = "replica"

_reading_from_replica: ContextVar[bool] = ContextVar("asiria_use_replica", default=False)


@contextmanager
def use_replica() -> Iterator[None]:
    """Send the reads made inside this block to the read replica (when one is configured)."""
    token = _reading_from_replica.set(True)
    try:
        yield
    finally:
        _reading_from_replica.reset(token)


def replica_configured() -> bool:
    return REPLICA_DB_ALIAS in connections.settings


def _default_in_transaction() -> bool:
    # Django's TestCase wraps each test in atomic blocks marked `_from_testcase`; those are not the
    # application's transactions, so they do not count (the same test Django makes for on_commit).
    connection = connections[DEFAULT_DB_ALIAS]
    return any(not block._from_testcase for block in connection.atomic_blocks)


class PrimaryReplicaRouter:
    """Listed in `DATABASE_ROUTERS`; see the module docstring for the rules."""

    def db_for_read(self, model, **hints) -> str:
        if _reading_from_replica.get() and replica_configured() and not _default_in_transaction():
            return REPLICA_DB_ALIAS
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        # Both aliases hold the same data, so a row read from the replica may point at one from default.
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA_DB_ALIAS}:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS
