"""Huey tasks of eTIMS: work a device's queue, and the periodic sweeps (code lists, stock, purchases).

Tasks take ids and call services; each is safe to run twice or at once (the device row lock and the
lease decide who sends).
"""

import structlog
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

log = structlog.get_logger("cashdesk.etims.tasks")


@db_task()
def etims_work_queue(device_id: int) -> None:
    from cashdesk.etims.services import etims_device_work

    etims_device_work(device_id=device_id)


@db_periodic_task(crontab(minute="*"))
def etims_sweep() -> None:
    """Every minute: feed new stock movements, then work every device's queue (a back-off that ran out,
    a task lost in a restart, a worker that died mid-call: its lease runs out and the next claim checks)."""
    from cashdesk.etims.selectors import active_devices
    from cashdesk.etims.services import etims_device_work, etims_stock_feed

    for device in active_devices():
        try:
            if device.is_initialised:
                etims_stock_feed(device=device)
            etims_device_work(device_id=device.pk)
        except Exception:  # one device's trouble must not stop the others
            log.exception("etims device %s: sweep failed", device.pk)


@db_periodic_task(crontab(minute="15", hour="3"))
def etims_sync_lists() -> None:
    """Every night: KRA's code lists (tax rates) and item classifications since the last `lastReqDt`."""
    from cashdesk.etims.selectors import active_devices
    from cashdesk.etims.services import etims_codes_sync, etims_item_classes_sync

    for device in active_devices():
        if not device.is_initialised:
            continue
        try:
            etims_codes_sync(device=device)
            etims_item_classes_sync(device=device)
        except Exception:
            log.exception("etims device %s: list sync failed", device.pk)


@db_periodic_task(crontab(minute="30", hour="6"))
def etims_fetch_purchases() -> None:
    """Every morning: purchases suppliers declared to KRA, for a manager to accept or reject."""
    from cashdesk.etims.selectors import active_devices
    from cashdesk.etims.services import etims_purchases_fetch

    for device in active_devices():
        if not device.is_initialised:
            continue
        try:
            etims_purchases_fetch(device=device)
        except Exception:
            log.exception("etims device %s: purchase fetch failed", device.pk)
