"""Project-wide Huey tasks and hooks: the nightly backup, each task's log context, the consumer's metrics.

The nightly backup runs at BACKUP_HOUR:BACKUP_MINUTE shop time (TIME_ZONE, default 02:00) when
BACKUP_ENABLED=true. In a chain with several consumers only one should run periodic tasks
(`manage.py run_huey` on one machine, `run_huey --no-periodic` on the others); the lock makes two
overlapping runs impossible anyway.
"""

from __future__ import annotations

import datetime
import zoneinfo

import structlog
from django.conf import settings
from huey.contrib.djhuey import HUEY, db_periodic_task, lock_task, on_startup, signal
from huey.signals import SIGNAL_EXECUTING

from core.ops.logs import task_log_context
from core.ops.metrics import serve_consumer_metrics

log = structlog.get_logger("asiria.backup")


def at_shop_time(hour: int, minute: int):
    """A Huey periodic-task test that fires at hour:minute in the shop's TIME_ZONE (DST-safe).

    Huey hands the test its own clock: naive UTC when `HUEY.utc` (the default), naive local otherwise.
    """
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValueError(f"BACKUP_HOUR/BACKUP_MINUTE out of range: {hour}:{minute}")
    shop_tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)

    def validate(timestamp: datetime.datetime) -> bool:
        if timestamp.tzinfo is None:
            timestamp = timestamp.replace(tzinfo=datetime.UTC) if HUEY.utc else timestamp.astimezone()
        local = timestamp.astimezone(shop_tz)
        return local.hour == hour and local.minute == minute

    return validate


@db_periodic_task(at_shop_time(settings.BACKUP_HOUR, settings.BACKUP_MINUTE))
@lock_task("asiria-nightly-backup")
def nightly_backup() -> str | None:
    """Back up the database and media when BACKUP_ENABLED; returns the folder written (None if off)."""
    if not settings.BACKUP_ENABLED:
        return None
    from core.ops.backup import backup_create

    info = backup_create(label="nightly")
    log.info("backup_written", path=str(info.path), bytes=info.size_bytes, engine=info.engine)
    return str(info.path)


@signal(SIGNAL_EXECUTING)
def _bind_task_log_context(signal_name, task, *args, **kwargs) -> None:
    # In immediate mode (tests, HUEY_IMMEDIATE) the task runs inside the request: keep its context.
    if not HUEY.immediate:
        task_log_context(task)


@on_startup()
def _serve_consumer_metrics() -> None:

    serve_consumer_metrics()
