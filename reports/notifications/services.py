"""Notifications: who is told about what, through which channel, and the sending itself.

Events (low stock, a large over/short at close, an M-Pesa amount mismatch, the owners' daily summary)
become one `Notification` per person who may see them and has not switched them off; e-mail and
WhatsApp copies are `NotificationDelivery` rows sent by a Huey task after the transaction commits,
retried with back-off (`reports.notifications.tasks.send_delivery`). Nothing here ever blocks or breaks a page: the
hooks only enqueue, and a failed send is logged on its delivery row.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import structlog
from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from cashdesk.models import CashSession, SessionStatus
from cashdesk.mpesa.models import STK_TO_CHECK, C2BPayment, C2BStatus, InboxOutcome, MpesaInbox, StkRequest, StkStatus
from core.errors import DomainError
from core.money import ZERO
from core.roles import Perm, role_has_perm
from inventory.models import StockAlert
from pos.people.models import Branch, User
from pos.sales.models import Sale, SaleStatus
from reports.notifications.models import (
    Channel,
    DeliveryStatus,
    Notification,
    NotificationDelivery,
    NotificationEvent,
    NotificationPreference,
)
from reports.notifications.tasks import send_delivery

logger = structlog.get_logger(__name__)

# Who may receive each event: the permission that lets them act on it.
EVENT_PERMISSION = {
    NotificationEvent.LOW_STOCK: Perm.MANAGE_PURCHASES,
    NotificationEvent.CASH_DIFFERENCE: Perm.VIEW_ALL_CASH_SESSIONS,
    NotificationEvent.MPESA_MISMATCH: Perm.MANAGE_MPESA,  # every M-Pesa payment a manager must look at
    NotificationEvent.DAILY_SUMMARY: Perm.VIEW_ANALYTICS,
}
# Without a saved preference: in the app always; the daily summary also by e-mail.
DEFAULT_CHANNELS = {
    NotificationEvent.LOW_STOCK: {Channel.IN_APP},
    NotificationEvent.CASH_DIFFERENCE: {Channel.IN_APP},
    NotificationEvent.MPESA_MISMATCH: {Channel.IN_APP},
    NotificationEvent.DAILY_SUMMARY: {Channel.IN_APP, Channel.EMAIL},
}
MAX_ATTEMPTS = 5


class NotificationError(DomainError):
    pass


# ---------------------------------------------------------------------------- preferences
def events_for(user) -> list[str]:
    return [event for event, perm in EVENT_PERMISSION.items() if role_has_perm(user.role, perm)]


def whatsapp_enabled() -> bool:
    return bool(settings.WHATSAPP_TOKEN and settings.WHATSAPP_PHONE_NUMBER_ID)


def preferences_for(user) -> dict[tuple[str, str], bool]:
    """{(event, channel): on?} for every event the user may get and every channel, defaults filled in."""
    saved = {
        (p.event, p.channel): p.enabled for p in NotificationPreference.objects.filter(user=user)
    }
    return {
        (event, channel): saved.get((event, channel), channel in DEFAULT_CHANNELS[event])
        for event in events_for(user)
        for channel in Channel.values
    }


@transaction.atomic
def preferences_set(*, user, choices: set[tuple[str, str]]) -> None:
    """Save the user's choices: `choices` holds the (event, channel) pairs switched on; every other
    pair of an event the user may get is switched off."""
    allowed = set(events_for(user))
    for event, channel in choices:
        if event not in allowed:
            raise NotificationError("You cannot receive that notification.", field="preferences")
        if channel not in Channel.values:
            raise NotificationError("Unknown channel.", field="preferences")
    for event in allowed:
        for channel in Channel.values:
            NotificationPreference.objects.update_or_create(
                user=user, event=event, channel=channel, defaults={"enabled": (event, channel) in choices}
            )


# ---------------------------------------------------------------------------- creating notifications
def recipients(*, event: str, branch_id: int | None) -> list[User]:
    """Active users whose role may act on the event and who may see the branch."""
    perm = EVENT_PERMISSION[event]
    users = User.objects.filter(is_active=True).order_by("pk")
    return [
        u
        for u in users
        if role_has_perm(u.role, perm) and (branch_id is None or u.branch_id == branch_id or u.sees_all_branches)
    ]


def _channels(user, event: str, saved: dict) -> set[str]:
    channels = {c for c in Channel.values if saved.get((user.pk, event, c), c in DEFAULT_CHANNELS[event])}
    return channels


def notify(*, event: str, key: str, title: str, body: str = "", url: str = "", branch_id: int | None = None,
           users: list | None = None) -> list[Notification]:
    """Tell everyone concerned, at most once per `key` each. Deliveries go out after commit."""
    people = users if users is not None else recipients(event=event, branch_id=branch_id)
    saved = {
        (p.user_id, p.event, p.channel): p.enabled
        for p in NotificationPreference.objects.filter(user__in=people, event=event)
    }
    created = []
    now = timezone.now()
    for user in people:
        channels = _channels(user, event, saved)
        if not channels:
            continue
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    user=user, event=event, key=key[:80], branch_id=branch_id, title=title[:150], body=body,
                    url=url[:255], in_app=Channel.IN_APP in channels, created_at=now,
                )
        except IntegrityError:  # already told about this one
            continue
        for channel in sorted(channels - {Channel.IN_APP}):
            delivery = NotificationDelivery.objects.create(notification=notification, channel=channel)
            transaction.on_commit(lambda pk=delivery.pk: _enqueue(pk))
        created.append(notification)
    if created:
        transaction.on_commit(lambda ids=[n.user_id for n in created]: _forget_unread(*ids))
        _forget_unread(*[n.user_id for n in created])
    return created


def _enqueue(delivery_id: int) -> None:

    try:
        send_delivery(delivery_id)
    except Exception:  # the queue being down must not break the caller; the row stays PENDING
        logger.exception("could not queue notification delivery %s", delivery_id)


def _absolute(url: str) -> str:
    return f"{settings.SITE_URL}{url}" if url.startswith("/") else url


def _url(name: str, *args, query: str = "") -> str:
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return ""
    return f"{url}?{query}" if query else url


def notify_stock_alert(*, alert_id: int) -> list[Notification]:

    alert = StockAlert.objects.select_related("product", "product__unit", "branch").filter(pk=alert_id).first()
    if alert is None or not alert.is_open:
        return []
    word = "out of stock" if alert.kind == "OUT" else "low on stock"
    return notify(
        event=NotificationEvent.LOW_STOCK,
        key=f"stockalert:{alert.pk}:{alert.kind}",
        title=f"{alert.product.name} is {word} at {alert.branch.name}",
        body=(
            f"{alert.product.name} ({alert.product.sku}): {alert.balance.normalize():f} {alert.product.unit.code} "
            f"left, reorder level {alert.reorder_level.normalize():f}."
        ),
        url=_url("inventory:alert_list"),
        branch_id=alert.branch_id,
    )


def notify_cash_difference(*, session_id: int) -> list[Notification]:

    session = CashSession.objects.select_related("cashier", "branch").filter(pk=session_id).first()
    if session is None or session.status != SessionStatus.CLOSED or session.difference is None:
        return []
    if abs(session.difference) < Decimal(settings.NOTIFY_CASH_DIFFERENCE_KES):
        return []
    word = "over" if session.difference > 0 else "short"
    return notify(
        event=NotificationEvent.CASH_DIFFERENCE,
        key=f"cashsession:{session.pk}",
        title=f"{session.cashier.full_name} closed KES {abs(session.difference):,.2f} {word}",
        body=(
            f"Cash session #{session.pk} at {session.branch.name}: counted KES {session.closing_total:,.2f}, "
            f"expected KES {session.expected_cash:,.2f}."
        ),
        url=_url("cashdesk:session_report", session.pk),
        branch_id=session.branch_id,
    )


_STK_TITLES = {
    StkStatus.MISMATCH: "M-Pesa payment for {sale} needs checking",
    StkStatus.OVERPAID: "M-Pesa overpayment on {sale}: refund it or keep it as credit",
    StkStatus.UNVERIFIED: "M-Pesa did not confirm a payment for {sale}",
}


def notify_mpesa_mismatch(*, stk_id: int) -> list[Notification]:
    """A push a manager must decide on: a different amount, an overpayment, a payment never confirmed."""
    stk = StkRequest.objects.select_related("sale", "branch").filter(pk=stk_id).first()
    if stk is None or stk.status not in STK_TO_CHECK or stk.resolved_at:
        return []
    return notify(
        event=NotificationEvent.MPESA_MISMATCH,
        key=f"stk:{stk.pk}:{stk.status}",
        title=_STK_TITLES[stk.status].format(sale=stk.sale),
        body=stk.message or f"M-Pesa paid a different amount than the KES {stk.amount} asked.",
        url=_url("cashdesk:mpesa_flagged"),
        branch_id=stk.branch_id,
    )


def notify_mpesa_inbox(*, inbox_id: int) -> list[Notification]:
    """Something posted to the M-Pesa callbacks that changed nothing and may be an attack or a fault: a
    request we never made (UNKNOWN), an unreadable body (MALFORMED), one Daraja contradicted (REJECTED)."""
    inbox = MpesaInbox.objects.filter(pk=inbox_id).first()
    if inbox is None or inbox.outcome not in _INBOX_ALARMS:
        return []
    what = _INBOX_ALARMS[inbox.outcome]
    return notify(
        event=NotificationEvent.MPESA_MISMATCH,
        key=f"inbox:{inbox.pk}",
        title=f"M-Pesa {inbox.get_kind_display().lower()} {what}",
        body=(f"#{inbox.pk} from {inbox.remote_addr or 'an unknown address'} at "
              f"{timezone.localtime(inbox.received_at):%d %b %H:%M}: {inbox.detail}"),
        url=_url("cashdesk:mpesa_flagged"),
        branch_id=None,
    )


_INBOX_ALARMS = {
    InboxOutcome.UNKNOWN: "for a payment request we never made",
    InboxOutcome.MALFORMED: "that could not be read",
    InboxOutcome.REJECTED: "that M-Pesa did not confirm",
}


def notify_c2b_needs_a_manager(*, c2b_id: int) -> list[Notification]:
    """An incoming payment M-Pesa did not confirm, or one nobody matched within 10 minutes."""
    row = C2BPayment.objects.filter(pk=c2b_id).first()
    if row is None:
        return []
    if row.status == C2BStatus.UNVERIFIED:
        title, url = f"M-Pesa did not confirm incoming payment {row.trans_id}", _url("cashdesk:mpesa_flagged")
    elif row.status == C2BStatus.UNMATCHED:
        title, url = f"Incoming M-Pesa {row.trans_id} (KES {row.amount:,.2f}) still matches no sale", _url(
            "cashdesk:c2b_list"
        )
    else:
        return []
    return notify(
        event=NotificationEvent.MPESA_MISMATCH,
        key=f"c2b:{row.pk}:{row.status}",
        title=title,
        body=f"From {row.customer_name or row.msisdn}, account {row.bill_ref_number or '(none)'}. {row.note}".strip(),
        url=url,
        branch_id=row.branch_id,
    )


def c2b_unmatched_too_long(*, now=None, minutes: int = 10) -> list[int]:
    now = now or timezone.now()
    return list(
        C2BPayment.objects.filter(status=C2BStatus.UNMATCHED, created_at__lte=now - dt.timedelta(minutes=minutes))
        .filter(created_at__gte=now - dt.timedelta(days=2))
        .values_list("pk", flat=True)[:200]
    )


def day_summary(*, day: dt.date) -> list[dict]:
    """Completed sales per branch on a local day: count, total, VAT — summed in the database."""

    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    end = start + dt.timedelta(days=1)
    rows = (
        Sale.objects.filter(status=SaleStatus.COMPLETED, completed_at__gte=start, completed_at__lt=end)
        .values("branch_id", "branch__name")
        .annotate(count=Count("id"), total=Sum("total"), tax=Sum("tax_total"))
        .order_by("branch__name")
    )
    return [
        {"branch": r["branch__name"], "count": r["count"], "total": r["total"] or ZERO, "tax": r["tax"] or ZERO}
        for r in rows
    ]


def daily_report_url(day: dt.date) -> str:
    """The day's sales report (the reports pages), else the notifications page."""
    query = f"start={day:%Y-%m-%d}&end={day:%Y-%m-%d}"
    for name, args in (("reports:report", ("sales-by-day",)), ("reports:sales_by_day", ())):
        url = _url(name, *args, query=query)
        if url:
            return url
    return _url("reports:notifications")


def send_daily_summary(*, day: dt.date | None = None) -> list[Notification]:
    day = day or timezone.localdate()
    rows = day_summary(day=day)
    if rows:
        lines = [f"{r['branch']}: {r['count']} sales, KES {r['total']:,.2f} (VAT KES {r['tax']:,.2f})" for r in rows]
        total = sum((r["total"] for r in rows), ZERO)
        title = f"{day:%a %d %b}: KES {total:,.2f} from {sum(r['count'] for r in rows)} sales"
    else:
        lines = ["No completed sales that day."]
        title = f"{day:%a %d %b}: no sales"
    pdf = _url("reports:report_pdf", "sales-by-day", query=f"start={day:%Y-%m-%d}&end={day:%Y-%m-%d}")
    if pdf:
        lines.append(f"The day's report as a PDF: {_absolute(pdf)}")
    return notify(
        event=NotificationEvent.DAILY_SUMMARY,
        key=f"daily:{day:%Y-%m-%d}",
        title=title,
        body="\n".join(lines),
        url=daily_report_url(day),
        branch_id=None,
    )


# ---------------------------------------------------------------------------- in-app list
def _unread_key(user_id: int) -> str:
    return f"notifications:unread:{user_id}"


def unread_count(*, user) -> int:
    """The bell's number. Cached per person (every page shows it); every write here clears it."""
    key = _unread_key(user.pk)
    count = cache.get(key)
    if count is None:
        count = Notification.objects.filter(user=user, in_app=True, read_at__isnull=True).count()
        cache.set(key, count, settings.NOTIFICATION_BADGE_CACHE_SECONDS)
    return count


def _forget_unread(*user_ids: int) -> None:
    cache.delete_many([_unread_key(pk) for pk in user_ids])


def notification_list(*, user, unread_only: bool = False):
    items = Notification.objects.filter(user=user, in_app=True)
    if unread_only:
        items = items.filter(read_at__isnull=True)
    return items.select_related("branch")


def notification_mark_read(*, user, notification_id: int) -> Notification:
    notification = Notification.objects.filter(user=user, in_app=True, pk=notification_id).first()
    if notification is None:
        raise NotificationError("No such notification.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        _forget_unread(user.pk)
    return notification


def notifications_mark_all_read(*, user) -> int:
    count = Notification.objects.filter(user=user, in_app=True, read_at__isnull=True).update(read_at=timezone.now())
    _forget_unread(user.pk)
    return count


# ---------------------------------------------------------------------------- sending
class DeliveryFailed(Exception):
    """A send that may work next time (network, provider 5xx, 429)."""


def _http_client() -> httpx.Client:
    """The client WhatsApp calls go through (tests swap in one with a mock transport)."""
    return httpx.Client(timeout=settings.WHATSAPP_TIMEOUT)


def whatsapp_number(phone: str) -> str:
    """+254712345678 → 254712345678, the form the Cloud API wants."""
    return phone.lstrip("+")


def whatsapp_send(*, to: str, text: str) -> str:
    """Send one message through Meta's WhatsApp Business Cloud API; returns the message id."""
    if not whatsapp_enabled():
        raise NotificationError("WhatsApp is not configured.")
    url = f"{settings.WHATSAPP_API_BASE}/{settings.WHATSAPP_API_VERSION}/{settings.WHATSAPP_PHONE_NUMBER_ID}/messages"
    payload: dict = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": whatsapp_number(to)}
    if settings.WHATSAPP_TEMPLATE:
        payload |= {
            "type": "template",
            "template": {
                "name": settings.WHATSAPP_TEMPLATE,
                "language": {"code": settings.WHATSAPP_TEMPLATE_LANGUAGE},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": text[:1000]}]}],
            },
        }
    else:
        payload |= {"type": "text", "text": {"preview_url": False, "body": text[:4096]}}
    headers = {"Authorization": f"Bearer {settings.WHATSAPP_TOKEN}"}
    try:
        with _http_client() as client:
            response = client.post(url, json=payload, headers=headers)
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"WhatsApp unreachable: {exc.__class__.__name__}") from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise DeliveryFailed(f"WhatsApp answered {response.status_code}")
    if response.status_code >= 400:
        try:
            detail = response.json().get("error", {}).get("message", "")
        except ValueError:
            detail = response.text[:100]
        raise NotificationError(f"WhatsApp refused the message ({response.status_code}): {detail}"[:255])
    try:
        return response.json()["messages"][0]["id"]
    except (ValueError, KeyError, IndexError, TypeError):
        return ""


def _text(notification: Notification) -> str:
    parts = [notification.title]
    if notification.body:
        parts.append(notification.body)
    if notification.url:
        parts.append(_absolute(notification.url))
    return "\n\n".join(parts)


def delivery_attempt(*, delivery_id: int) -> str:
    """Try to send one delivery. Returns its status; DeliveryFailed means "try again later".

    Permanent problems (no address, channel switched off, provider refused) mark it SKIPPED/FAILED
    at once; the caller decides about retries of temporary ones.
    """
    with transaction.atomic():
        delivery = (
            NotificationDelivery.objects.select_for_update()
            .select_related("notification", "notification__user")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return delivery.status if delivery else "GONE"
        delivery.attempts += 1
        delivery.save(update_fields=["attempts"])
    notification, user = delivery.notification, delivery.notification.user
    try:
        if delivery.channel == Channel.EMAIL:
            if not user.email:
                return _finish(delivery, DeliveryStatus.SKIPPED, "No e-mail address.")
            send_mail(
                subject=f"[{settings.SHOP_NAME}] {notification.title}",
                message=_text(notification),
                from_email=None,
                recipient_list=[user.email],
            )
            return _finish(delivery, DeliveryStatus.SENT)
        if delivery.channel == Channel.WHATSAPP:
            if not whatsapp_enabled():
                return _finish(delivery, DeliveryStatus.SKIPPED, "WhatsApp is not configured.")
            message_id = whatsapp_send(to=user.phone_number, text=_text(notification))
            return _finish(delivery, DeliveryStatus.SENT, provider_id=message_id)
        return _finish(delivery, DeliveryStatus.SKIPPED, f"Unknown channel {delivery.channel}.")
    except NotificationError as exc:
        return _finish(delivery, DeliveryStatus.FAILED, exc.message)
    except DeliveryFailed as exc:
        _note_error(delivery, str(exc))
        raise
    except OSError as exc:  # SMTP refused or unreachable
        _note_error(delivery, f"e-mail: {exc}")
        raise DeliveryFailed(str(exc)) from exc


def _note_error(delivery: NotificationDelivery, error: str) -> None:
    NotificationDelivery.objects.filter(pk=delivery.pk).update(last_error=error[:255])


def delivery_give_up(*, delivery_id: int) -> None:
    NotificationDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED
    )


def _finish(delivery, status: str, error: str = "", provider_id: str = "") -> str:
    NotificationDelivery.objects.filter(pk=delivery.pk).update(
        status=status,
        last_error=error[:255],
        provider_id=provider_id[:120],
        sent_at=timezone.now() if status == DeliveryStatus.SENT else None,
    )
    if status != DeliveryStatus.SENT:
        logger.warning("notification delivery %s %s: %s", delivery.pk, status, error)
    return status


def retry_delay(attempt: int) -> int:
    """Seconds before the next try after `attempt` failed tries: 1, 2, 4, 8 minutes."""
    return 60 * 2 ** (attempt - 1)


def branches_for(user) -> list[Branch]:
    return list(Branch.objects.filter(is_active=True)) if user.sees_all_branches else [user.branch]
