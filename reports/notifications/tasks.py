"""Huey tasks of the notifications: the daily summary, event notices and sending with retries."""


from __future__ import annotations

import structlog
from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from core.tasks import at_shop_time

logger = structlog.get_logger(__name__)




@db_periodic_task(at_shop_time(settings.DAILY_SUMMARY_HOUR, settings.DAILY_SUMMARY_MINUTE))
@lock_task("asiria-daily-summary")
def daily_summary() -> int:
    from reports.notifications.services import send_daily_summary

    return len(send_daily_summary())


@db_task()
def notify_cash_difference_task(session_id: int) -> int:
    from reports.notifications.services import notify_cash_difference

    return len(notify_cash_difference(session_id=session_id))


@db_task()
def notify_mpesa_mismatch_task(stk_id: int) -> int:
    from reports.notifications.services import notify_mpesa_mismatch

    return len(notify_mpesa_mismatch(stk_id=stk_id))


@db_task()
def send_delivery(delivery_id: int) -> str:
    """Send one e-mail/WhatsApp copy; on a temporary failure try again after 1, 2, 4, 8 minutes,
    then give up (the delivery row keeps the last error for the owner to see)."""
    from reports.notifications.models import NotificationDelivery
    from reports.notifications.services import (
        MAX_ATTEMPTS,
        DeliveryFailed,
        delivery_attempt,
        delivery_give_up,
        retry_delay,
    )

    try:
        return delivery_attempt(delivery_id=delivery_id)
    except DeliveryFailed as exc:
        attempts = NotificationDelivery.objects.filter(pk=delivery_id).values_list("attempts", flat=True).first() or 0
        if attempts >= MAX_ATTEMPTS:
            delivery_give_up(delivery_id=delivery_id)
            logger.warning("notification delivery %s failed %s times, giving up: %s", delivery_id, attempts, exc)
            return "FAILED"
        delay = retry_delay(attempts)
        logger.info("notification delivery %s failed (%s); next try in %ss", delivery_id, exc, delay)
        send_delivery.schedule(args=(delivery_id,), delay=delay)
        return "RETRY"


@db_task()
def notify_mpesa_inbox_task(inbox_id: int) -> int:
    from reports.notifications.services import notify_mpesa_inbox

    return len(notify_mpesa_inbox(inbox_id=inbox_id))


@db_task()
def notify_c2b_task(c2b_id: int) -> int:
    from reports.notifications.services import notify_c2b_needs_a_manager

    return len(notify_c2b_needs_a_manager(c2b_id=c2b_id))


@db_periodic_task(crontab(minute="*"))
def notify_unmatched_c2b() -> int:
    """Every minute: incoming M-Pesa payments nobody matched for 10 minutes (each told once)."""
    from reports.notifications.services import c2b_unmatched_too_long, notify_c2b_needs_a_manager

    return sum(len(notify_c2b_needs_a_manager(c2b_id=pk)) for pk in c2b_unmatched_too_long())
