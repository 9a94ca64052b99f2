"""Huey tasks of the reports app: summing finished days for the reports, the nightly analytics refresh, the owners' daily summary, the
notification hooks and the sending of e-mail / WhatsApp copies with retries and back-off.

Tasks take ids and may run twice without harm (notifications are unique per person and event key;
a delivery is only sent while PENDING).
"""

from __future__ import annotations

import logging

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from config.tasks import at_shop_time

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/15"))
@lock_task("asiria-report-summaries")
def report_summaries_catch_up() -> str:
    """Sum the finished days the report summaries do not hold yet (yesterday, soon after midnight; the
    whole history on a new install). Nothing to do costs one query."""
    from reports.summaries import summaries_catch_up

    result = summaries_catch_up()
    if result.days:
        logger.info("report summaries: %s day(s) summed, through %s", result.days, result.through)
    return str(result.through)


@db_periodic_task(at_shop_time(settings.ANALYTICS_HOUR, settings.ANALYTICS_MINUTE))
@lock_task("asiria-nightly-analytics")
def nightly_analytics() -> dict:
    """Forecasts and basket pairs for every branch, from the history up to yesterday."""
    from reports.analytics import basket_pairs_refresh, forecasts_refresh

    result = {"forecasts": forecasts_refresh(), "basket_pairs": basket_pairs_refresh()}
    logger.info("nightly analytics: %s", result)
    return result


@db_periodic_task(at_shop_time(settings.DAILY_SUMMARY_HOUR, settings.DAILY_SUMMARY_MINUTE))
@lock_task("asiria-daily-summary")
def daily_summary() -> int:
    from reports.notifications import send_daily_summary

    return len(send_daily_summary())


@db_task()
def notify_cash_difference_task(session_id: int) -> int:
    from reports.notifications import notify_cash_difference

    return len(notify_cash_difference(session_id=session_id))


@db_task()
def notify_mpesa_mismatch_task(stk_id: int) -> int:
    from reports.notifications import notify_mpesa_mismatch

    return len(notify_mpesa_mismatch(stk_id=stk_id))


@db_task()
def send_delivery(delivery_id: int) -> str:
    """Send one e-mail/WhatsApp copy; on a temporary failure try again after 1, 2, 4, 8 minutes,
    then give up (the delivery row keeps the last error for the owner to see)."""
    from reports.analytics_models import NotificationDelivery
    from reports.notifications import MAX_ATTEMPTS, DeliveryFailed, delivery_attempt, delivery_give_up, retry_delay

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
