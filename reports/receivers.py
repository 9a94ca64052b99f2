"""Hooks that turn other apps' events into notifications (and keep the report summaries true),
without those apps importing `reports`.

The notification receivers only enqueue a Huey task after the sender's transaction commits, so a slow or failing
notification can never hold up or roll back a sale, a close or an M-Pesa callback.
"""


import structlog
from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save

from cashdesk.models import CashSession, SessionStatus
from cashdesk.mpesa.models import STK_TO_CHECK, C2BPayment, C2BStatus, InboxOutcome, MpesaInbox, StkRequest
from inventory.signals import stock_alert_raised
from pos.sales.models import Sale, SaleStatus
from reports.notifications.services import notify_stock_alert
from reports.notifications.tasks import (
    notify_c2b_task,
    notify_cash_difference_task,
    notify_mpesa_inbox_task,
    notify_mpesa_mismatch_task,
)
from reports.summaries import summaries_sale_voided

logger = structlog.get_logger(__name__)


def _later(task, *args) -> None:
    def run():
        try:
            task(*args)
        except Exception:
            logger.exception("notification task %s%s failed", task.name, args)

    transaction.on_commit(run)


def on_stock_alert(sender, alert_id: int, **kwargs) -> None:
    """inventory's `stock_alert_raised` (sent from its own Huey task)."""

    try:
        notify_stock_alert(alert_id=alert_id)
    except Exception:
        logger.exception("low-stock notification for alert %s failed", alert_id)


def on_cash_session_saved(sender, instance, **kwargs) -> None:

    if instance.status != SessionStatus.CLOSED or instance.difference is None:
        return
    if abs(instance.difference) < settings.NOTIFY_CASH_DIFFERENCE_KES:
        return

    _later(notify_cash_difference_task, instance.pk)


def on_stk_saved(sender, instance, **kwargs) -> None:
    """A push a manager must decide on (mismatch, overpayment, never confirmed): told at once."""
    if instance.status not in STK_TO_CHECK or instance.resolved_at:
        return

    _later(notify_mpesa_mismatch_task, instance.pk)


def on_inbox_saved(sender, instance, **kwargs) -> None:
    """UNKNOWN, MALFORMED or REJECTED callbacks: managers are told, not only an admin row."""
    if instance.outcome not in (InboxOutcome.UNKNOWN, InboxOutcome.MALFORMED, InboxOutcome.REJECTED):
        return
    _later(notify_mpesa_inbox_task, instance.pk)


def on_c2b_saved(sender, instance, **kwargs) -> None:
    if instance.status != C2BStatus.UNVERIFIED:
        return
    _later(notify_c2b_task, instance.pk)


def on_sale_saved(sender, instance, update_fields=None, **kwargs) -> None:
    """A completed sale voided later: its day's report summaries are summed again, in the void's own
    transaction (unlike the hooks above, this one must commit or roll back with the sale)."""

    if instance.status != SaleStatus.VOIDED or instance.completed_at is None:
        return
    if update_fields is not None and "status" not in update_fields:
        return

    summaries_sale_voided(instance)


def connect() -> None:

    stock_alert_raised.connect(on_stock_alert, dispatch_uid="reports.on_stock_alert")
    post_save.connect(on_cash_session_saved, sender=CashSession, dispatch_uid="reports.on_cash_session_saved")
    post_save.connect(on_stk_saved, sender=StkRequest, dispatch_uid="reports.on_stk_saved")
    post_save.connect(on_inbox_saved, sender=MpesaInbox, dispatch_uid="reports.on_inbox_saved")
    post_save.connect(on_c2b_saved, sender=C2BPayment, dispatch_uid="reports.on_c2b_saved")
    post_save.connect(on_sale_saved, sender=Sale, dispatch_uid="reports.on_sale_saved")
