"""Huey tasks of the cash desk: everything that talks to Daraja or applies what Daraja sent.

Tasks take ids and call services; each is safe to run twice (the services check state under locks).
"""

from datetime import timedelta

import structlog
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from cashdesk.mpesa import services as mpesa_services
from core.tasks import at_shop_time

log = structlog.get_logger("cashdesk.mpesa.tasks")


@db_task()
def mpesa_send_stk_push(stk_request_id: int, callback_base: str | None = None) -> None:
    mpesa_services.mpesa_stk_send(stk_request_id=stk_request_id, callback_base=callback_base)


@db_task()
def mpesa_query_stk(stk_request_id: int) -> None:
    # Still pending afterwards? The periodic task below asks again.
    mpesa_services.mpesa_stk_query_settle(stk_request_id=stk_request_id)


@db_task()
def mpesa_confirm_stk(stk_request_id: int) -> None:
    mpesa_services.mpesa_stk_confirm(stk_request_id=stk_request_id)


@db_task()
def mpesa_apply_stk_callback(inbox_id: int) -> None:
    mpesa_services.mpesa_stk_callback_apply(inbox_id=inbox_id)


@db_task()
def mpesa_apply_c2b_confirmation(inbox_id: int) -> None:
    mpesa_services.mpesa_c2b_confirmation_apply(inbox_id=inbox_id)


@db_task()
def mpesa_c2b_verify(c2b_id: int) -> None:
    mpesa_services.mpesa_c2b_verify(c2b_id=c2b_id)


@db_task()
def mpesa_apply_status_result(inbox_id: int) -> None:
    mpesa_services.mpesa_status_result_apply(inbox_id=inbox_id)


@db_periodic_task(crontab(minute="*"))
def mpesa_settle_stale_requests() -> None:
    """Every minute: pushes with no callback after MPESA_STK_QUERY_AFTER seconds are asked about.

    Catches what a lost scheduled query (a restarted consumer with an in-memory schedule) would miss.
    """
    for stk_request_id in mpesa_services.mpesa_stale_requests():
        try:
            mpesa_services.mpesa_stk_query_settle(stk_request_id=stk_request_id)
        except Exception:  # one bad request must not stop the others
            log.exception("stk %s: query failed", stk_request_id)
    for c2b_id in mpesa_services.mpesa_c2b_confirming():
        try:
            mpesa_services.mpesa_c2b_verify(c2b_id=c2b_id)
        except Exception:
            log.exception("c2b %s: confirmation failed", c2b_id)
    for stk_request_id in mpesa_services.mpesa_confirming_requests():
        try:
            mpesa_services.mpesa_stk_confirm(stk_request_id=stk_request_id)
        except Exception:
            log.exception("stk %s: confirmation failed", stk_request_id)


@db_periodic_task(crontab(minute="*"))
def mpesa_apply_stranded_callbacks() -> None:
    """Every minute: callbacks stored more than 30 s ago and still not applied (their task was lost)
    are applied now. Applying is idempotent, so one that is merely late is not applied twice."""
    from cashdesk.mpesa.models import InboxKind

    for inbox_id, kind in mpesa_services.mpesa_stranded_inbox():
        try:
            if kind == InboxKind.STK_CALLBACK:
                mpesa_services.mpesa_stk_callback_apply(inbox_id=inbox_id)
            elif kind == InboxKind.STATUS_RESULT:
                mpesa_services.mpesa_status_result_apply(inbox_id=inbox_id)
            else:
                mpesa_services.mpesa_c2b_confirmation_apply(inbox_id=inbox_id)
        except Exception:  # one bad row must not stop the others
            log.exception("inbox %s: could not apply", inbox_id)


@db_periodic_task(at_shop_time(6, 15))
def mpesa_daily_reconciliation() -> None:
    """Every morning: yesterday's M-Pesa against the shop's records (Kenya time, TIME_ZONE)."""
    yesterday = timezone.localdate() - timedelta(days=1)
    mpesa_services.mpesa_reconcile(day=yesterday)
