"""Huey tasks of the stock app. They take ids, call services and may run twice without harm."""


import structlog
from huey.contrib.djhuey import db_task

logger = structlog.get_logger(__name__)


@db_task()
def notify_stock_alert(alert_id: int) -> bool:
    """Tell people about a stock alert: the in-app badge counts it from now on, and the
    `stock_alert_raised` signal lets other apps send e-mail or WhatsApp. Idempotent."""
    from inventory.alert_services import stock_alert_mark_notified
    from inventory.models import StockAlert
    from inventory.signals import stock_alert_raised

    alert = stock_alert_mark_notified(alert_id=alert_id)
    if alert is None:
        return False
    logger.info("stock alert %s: %s", alert.pk, alert)
    stock_alert_raised.send(sender=StockAlert, alert_id=alert.pk)
    return True


@db_task()
def apply_product_import(import_id: int) -> None:
    """Apply a confirmed product CSV in one transaction, reporting progress as it goes."""
    from inventory.import_services import product_import_apply

    product_import_apply(import_id=import_id)
