"""Huey tasks of the reports app: summing finished days for the reports, the nightly analytics refresh, the
owners' daily summary, the notification hooks and the sending of e-mail / WhatsApp copies with retries and
back-off.

Tasks take ids and may run twice without harm (notifications are unique per person and event key;
a delivery is only sent while PENDING).
"""

from __future__ import annotations

import structlog
from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from core.tasks import at_shop_time

logger = structlog.get_logger(__name__)


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



@db_task(retries=1, retry_delay=30)
def export_job_run(job_id: int) -> None:
    """Write an export's CSV or PDF in the background while its page polls."""
    from reports.export_services import export_job_run

    export_job_run(job_id=job_id)


# The notifications' tasks are defined with the notifications; Huey finds them through this module.
from reports.notifications import tasks as _notification_tasks  # noqa: E402,F401
