"""Low and out-of-stock alerts: raised and cleared as stock moves, notified through a task."""


from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core.ops.queue import enqueue
from inventory.models import (
    AlertKind,
    Product,
    StockAlert,
    StockLevel,
)
from inventory.tasks import notify_stock_alert


# ---------------------------------------------------------------------------- low / out of stock alerts
def alert_kind_for(*, quantity: Decimal, reorder_level: Decimal) -> str | None:
    """OUT at or under zero, LOW at or under the reorder level, None above it."""
    if quantity <= 0:
        return AlertKind.OUT
    if quantity <= reorder_level:
        return AlertKind.LOW
    return None


def alerts_after_movement(*, branch_id: int, products, levels, changes, when) -> None:
    states = {
        p.pk: alert_kind_for(quantity=levels[p.pk].quantity, reorder_level=p.reorder_level) if p.is_active else None
        for p in products
    }
    # An open alert always means stock at or under the level, so a movement that only takes stock
    # down and leaves every product above its level has nothing to open, change or resolve.
    if all(kind is None for kind in states.values()) and all(changes[pid] < 0 for pid in states):
        return
    fresh = {
        row[0]: row[1:]
        for row in Product.objects.filter(pk__in=list(states)).values_list("pk", "reorder_level", "is_active")
    }
    open_alerts = {
        alert.product_id: alert
        for alert in StockAlert.objects.filter(branch_id=branch_id, product_id__in=list(states), open_marker=True)
    }
    _apply_alert_states(
        branch_id=branch_id,
        quantities={pid: levels[pid].quantity for pid in states},
        settings_by_product=fresh,
        open_alerts=open_alerts,
        when=when,
    )


def _apply_alert_states(*, branch_id, quantities, settings_by_product, open_alerts, when) -> None:
    """Open, escalate, de-escalate or resolve each product's alert; notify after commit."""
    to_notify = []
    for pid, quantity in quantities.items():
        reorder_level, is_active = settings_by_product[pid]
        kind = alert_kind_for(quantity=quantity, reorder_level=reorder_level) if is_active else None
        alert = open_alerts.get(pid)
        if kind is None:
            if alert is not None:
                alert.resolved_at = when
                alert.resolved_balance = quantity
                alert.open_marker = None
                alert.save(update_fields=["resolved_at", "resolved_balance", "open_marker"])
        elif alert is None:
            alert = StockAlert.objects.create(
                product_id=pid,
                branch_id=branch_id,
                kind=kind,
                balance=quantity,
                reorder_level=reorder_level,
                opened_at=when,
            )
            to_notify.append(alert.pk)
        elif alert.kind != kind:
            alert.kind = kind
            alert.balance = quantity
            alert.save(update_fields=["kind", "balance"])
            if kind == AlertKind.OUT:  # a low alert that ran out: tell people again
                to_notify.append(alert.pk)
    if to_notify:
        transaction.on_commit(lambda ids=tuple(to_notify): _enqueue_alert_notifications(ids))


def _enqueue_alert_notifications(alert_ids) -> None:

    for alert_id in alert_ids:  # queue down: the alert stays open in the app, only its notice is dropped
        enqueue(notify_stock_alert, alert_id, fallback="skip")


def stock_alerts_refresh(*, product_id: int) -> None:
    """Re-check a product's alerts at every branch after its reorder level or active flag changed.

    Locks the product's stock rows (primary-key order, like `stock_move`) so no movement changes the
    alerts meanwhile.
    """
    with transaction.atomic():
        levels = list(StockLevel.objects.select_for_update().filter(product_id=product_id).order_by("pk"))
        if not levels:
            return
        settings_by_product = {
            row[0]: row[1:]
            for row in Product.objects.filter(pk=product_id).values_list("pk", "reorder_level", "is_active")
        }
        open_alerts = {
            alert.branch_id: alert for alert in StockAlert.objects.filter(product_id=product_id, open_marker=True)
        }
        now = timezone.now()
        for level in levels:
            alert = open_alerts.get(level.branch_id)
            _apply_alert_states(
                branch_id=level.branch_id,
                quantities={product_id: level.quantity},
                settings_by_product=settings_by_product,
                open_alerts={product_id: alert} if alert else {},
                when=now,
            )


def stock_alert_mark_notified(*, alert_id: int) -> StockAlert | None:
    """Record that people were told about this alert's current kind. Returns the alert when this call
    is the one that notified (so a task run twice tells people once), None otherwise."""
    alert = StockAlert.objects.filter(pk=alert_id).first()
    if alert is None or not alert.is_open:
        return None
    updated = (
        StockAlert.objects.filter(pk=alert_id, open_marker=True, kind=alert.kind)
        .exclude(notified_kind=alert.kind)
        .update(notified_kind=alert.kind, notified_at=timezone.now())
    )
    if not updated:
        return None
    alert.refresh_from_db()
    return alert
