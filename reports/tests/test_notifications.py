"""Notifications: who gets what, preferences, the hooks on stock / cash / M-Pesa events, the daily
summary, and sending by e-mail and WhatsApp (httpx with a mock transport) with retries."""

import datetime as dt
import json
from decimal import Decimal as D

import httpx
import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from core.roles import Role
from inventory.tests.factories import ProductFactory, stock_in
from pos.tests.factories import UserFactory
from reports.notifications import services as notes
from reports.notifications.models import (
    Channel,
    DeliveryStatus,
    Notification,
    NotificationDelivery,
    NotificationEvent,
    NotificationPreference,
)
from reports.tests.analytics_support import completed_sale, local_dt

pytestmark = pytest.mark.django_db

LOW = NotificationEvent.LOW_STOCK


@pytest.fixture
def whatsapp(settings, monkeypatch):
    """WhatsApp configured, and every call answered by `replies` (recorded in `calls`)."""
    settings.WHATSAPP_TOKEN = "test-token"
    settings.WHATSAPP_PHONE_NUMBER_ID = "123456789"
    settings.WHATSAPP_API_VERSION = "v21.0"
    settings.WHATSAPP_API_BASE = "https://graph.facebook.com"
    state = {"calls": [], "replies": []}

    def handler(request: httpx.Request) -> httpx.Response:
        state["calls"].append(request)
        reply = state["replies"].pop(0) if state["replies"] else httpx.Response(
            200, json={"messaging_product": "whatsapp", "messages": [{"id": "wamid.TEST1"}]}
        )
        if isinstance(reply, Exception):
            raise reply
        return reply

    monkeypatch.setattr(notes, "_http_client", lambda: httpx.Client(transport=httpx.MockTransport(handler)))
    return state


def _prefer(user, event, *channels):
    notes.preferences_set(user=user, choices={(event, c) for c in channels})


# ---------------------------------------------------------------------------- who and which channel
def test_recipients_follow_role_and_branch(branch, other_branch, owner, manager, employee):
    far_manager = UserFactory(role=Role.MANAGER, branch=other_branch)
    UserFactory(role=Role.MANAGER, branch=branch, is_active=False)
    assert notes.recipients(event=LOW, branch_id=branch.pk) == [owner, manager]  # owners see every branch
    assert notes.recipients(event=LOW, branch_id=other_branch.pk) == [owner, far_manager]
    assert notes.recipients(event=NotificationEvent.DAILY_SUMMARY, branch_id=None) == [owner]


def test_preferences_default_and_saved(owner, employee):
    prefs = notes.preferences_for(owner)
    assert prefs[(LOW, Channel.IN_APP)] is True and prefs[(LOW, Channel.EMAIL)] is False
    assert prefs[(NotificationEvent.DAILY_SUMMARY, Channel.EMAIL)] is True
    _prefer(owner, LOW, Channel.WHATSAPP)
    prefs = notes.preferences_for(owner)
    assert prefs[(LOW, Channel.IN_APP)] is False and prefs[(LOW, Channel.WHATSAPP)] is True
    assert notes.preferences_for(employee) == {}  # a cashier gets none of these events


def test_a_user_cannot_choose_an_event_of_another_role(employee):
    with pytest.raises(notes.NotificationError):
        notes.preferences_set(user=employee, choices={(LOW, Channel.IN_APP)})
    assert not NotificationPreference.objects.exists()


def test_notify_once_per_key_and_only_the_chosen_channels(branch, owner, manager, django_capture_on_commit_callbacks):
    owner.email = "olive@example.com"
    owner.save()
    _prefer(owner, LOW, Channel.IN_APP, Channel.EMAIL)
    _prefer(manager, LOW)  # everything off
    with django_capture_on_commit_callbacks(execute=True):
        first = notes.notify(event=LOW, key="k1", title="Sugar is low", branch_id=branch.pk)
        again = notes.notify(event=LOW, key="k1", title="Sugar is low", branch_id=branch.pk)
    assert [n.user for n in first] == [owner] and again == []
    assert Notification.objects.count() == 1
    delivery = NotificationDelivery.objects.get()
    assert delivery.channel == Channel.EMAIL and delivery.status == DeliveryStatus.SENT
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["olive@example.com"]
    assert "Sugar is low" in mail.outbox[0].subject


# ---------------------------------------------------------------------------- hooks
def test_low_stock_alert_notifies_managers_and_owners(branch, owner, manager, employee,
                                                      django_capture_on_commit_callbacks):
    product = ProductFactory(name="Unga 2kg", reorder_level=D("5"))
    stock_in(product, branch, 10)
    with django_capture_on_commit_callbacks(execute=True):
        stock_in(product, branch, -6, kind="SALE")  # 4 left: at or under the level
    got = Notification.objects.filter(event=LOW).order_by("user_id")
    assert [n.user for n in got] == [owner, manager]
    assert got[0].title == "Unga 2kg is low on stock at Main branch"
    assert "4 " in got[0].body and got[0].url == reverse("inventory:alert_list")
    # Running out is a new event for the same alert; the same state again is not.
    with django_capture_on_commit_callbacks(execute=True):
        stock_in(product, branch, -4, kind="SALE")
    assert Notification.objects.filter(title__contains="out of stock").count() == 2


def test_large_over_short_at_close_notifies(branch, owner, manager, employee, settings,
                                            django_capture_on_commit_callbacks):
    from cashdesk.models import CashSession, SessionStatus

    settings.NOTIFY_CASH_DIFFERENCE_KES = 500
    with django_capture_on_commit_callbacks(execute=True):
        small = CashSession.objects.create(
            cashier=employee, branch=branch, status=SessionStatus.CLOSED, opened_at=timezone.now(),
            opening_float=D("1000"), closed_at=timezone.now(), closing_total=D("1499"), expected_cash=D("1000"),
            difference=D("499"),
        )
        big = CashSession.objects.create(
            cashier=employee, branch=branch, status=SessionStatus.CLOSED, opened_at=timezone.now(),
            opening_float=D("1000"), closed_at=timezone.now(), closing_total=D("400"), expected_cash=D("1000"),
            difference=D("-600"),
        )
    got = Notification.objects.filter(event=NotificationEvent.CASH_DIFFERENCE)
    assert {n.key for n in got} == {f"cashsession:{big.pk}"} and small.pk != big.pk
    assert {n.user for n in got} == {owner, manager}
    assert got[0].title == "Esther Cashier closed KES 600.00 short"


def test_a_real_close_with_a_big_shortfall_notifies(branch, owner, manager, employee,
                                                     django_capture_on_commit_callbacks):
    from cashdesk.services import session_close
    from cashdesk.tests.factories import open_session

    session = open_session(employee, "1000.00")
    with django_capture_on_commit_callbacks(execute=True):
        session_close(session=session, closed_by=employee, approved_by=manager, closing_total=D("300.00"))
    n = Notification.objects.get(user=owner, event=NotificationEvent.CASH_DIFFERENCE)
    assert "KES 700.00 short" in n.title and n.url == reverse("cashdesk:session_report", args=[session.pk])


def test_mpesa_mismatch_notifies(branch, owner, manager, employee, django_capture_on_commit_callbacks):
    from cashdesk.models import Payment, PaymentMethod
    from cashdesk.mpesa.models import StkRequest, StkStatus
    from cashdesk.tests.factories import ring_up

    sale = ring_up(employee, branch, ("1650.00", 1))
    payment = Payment.objects.create(sale=sale, method=PaymentMethod.MPESA, amount=D("1650.00"))
    stk = StkRequest.objects.create(sale=sale, payment=payment, branch=branch, requested_by=employee,
                                    phone="254708374149", amount=D("1650.00"))
    assert not Notification.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        stk.status = StkStatus.MISMATCH
        stk.message = "M-Pesa received KES 1649.00, not the KES 1650.00 asked. A manager must check this payment."
        stk.save()
        stk.save()  # saved again: still one notification each
    got = Notification.objects.filter(event=NotificationEvent.MPESA_MISMATCH)
    assert {n.user for n in got} == {owner, manager} and got.count() == 2
    assert "1649.00" in got[0].body


def test_a_broken_notification_never_breaks_the_sender(branch, employee, monkeypatch,
                                                       django_capture_on_commit_callbacks):
    from cashdesk.models import CashSession, SessionStatus

    def boom(**kwargs):
        raise RuntimeError("mail server on fire")

    monkeypatch.setattr(notes, "notify", boom)
    with django_capture_on_commit_callbacks(execute=True):
        CashSession.objects.create(
            cashier=employee, branch=branch, status=SessionStatus.CLOSED, opened_at=timezone.now(),
            opening_float=D("1000"), closed_at=timezone.now(), closing_total=D("0"), expected_cash=D("1000"),
            difference=D("-1000"),
        )
    assert CashSession.objects.count() == 1


# ---------------------------------------------------------------------------- daily summary
def test_daily_summary_to_owners_with_the_days_figures(branch, other_branch, owner, manager, employee):
    owner.email = "olive@example.com"
    owner.save()
    day = timezone.localdate()
    product = ProductFactory(selling_price=D("150.00"))
    completed_sale(branch=branch, cashier=employee, when=local_dt(day, 9), items=[(product, 2)])
    completed_sale(branch=branch, cashier=employee, when=local_dt(day, 10), items=[(product, 1)])
    completed_sale(branch=other_branch, cashier=employee, when=local_dt(day, 11), items=[(product, 4)])
    completed_sale(branch=branch, cashier=employee, when=local_dt(day - dt.timedelta(days=1), 12), items=[(product, 9)])
    sent = notes.send_daily_summary(day=day)
    assert [n.user for n in sent] == [owner]
    n = sent[0]
    assert n.title == f"{day:%a %d %b}: KES 1,050.00 from 3 sales"
    assert "Main branch: 2 sales, KES 450.00" in n.body and "Westlands: 1 sales, KES 600.00" in n.body
    assert n.url == reverse("reports:report", args=["sales-by-day"]) + f"?start={day:%Y-%m-%d}&end={day:%Y-%m-%d}"
    assert "/sales-by-day/pdf/?start=" in n.body  # the PDF, linked
    assert NotificationDelivery.objects.get(notification=n).channel == Channel.EMAIL
    assert notes.send_daily_summary(day=day) == []  # once a day


def test_daily_summary_of_a_day_without_sales(owner):
    [n] = notes.send_daily_summary(day=dt.date(2026, 1, 1))
    assert n.title.endswith("no sales") and n.body.startswith("No completed sales that day.")
    assert "/sales-by-day/pdf/?start=2026-01-01&end=2026-01-01" in n.body  # the PDF, linked


# ---------------------------------------------------------------------------- WhatsApp and retries
def _whatsapp_delivery(user):
    user.phone_number = "+254712345678"
    user.save()
    _prefer(user, LOW, Channel.WHATSAPP)
    [n] = notes.notify(event=LOW, key="wa", title="Sugar is low", body="2 kg left", url="/inventory/alerts/",
                       users=[user])
    return NotificationDelivery.objects.get(notification=n)


def test_whatsapp_message_through_the_cloud_api(owner, whatsapp, settings):
    settings.SITE_URL = "https://shop.example.com"
    delivery = _whatsapp_delivery(owner)
    from reports.notifications.tasks import send_delivery

    assert send_delivery.call_local(delivery.pk) == DeliveryStatus.SENT
    [request] = whatsapp["calls"]
    assert str(request.url) == "https://graph.facebook.com/v21.0/123456789/messages"
    assert request.headers["Authorization"] == "Bearer test-token"
    body = json.loads(request.content)
    assert body["messaging_product"] == "whatsapp" and body["to"] == "254712345678" and body["type"] == "text"
    assert body["text"]["body"] == "Sugar is low\n\n2 kg left\n\nhttps://shop.example.com/inventory/alerts/"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.provider_id == "wamid.TEST1"


def test_whatsapp_template_when_one_is_configured(owner, whatsapp, settings):
    settings.WHATSAPP_TEMPLATE = "asiria_alert"
    delivery = _whatsapp_delivery(owner)
    notes.delivery_attempt(delivery_id=delivery.pk)
    body = json.loads(whatsapp["calls"][0].content)
    assert body["type"] == "template" and body["template"]["name"] == "asiria_alert"
    assert body["template"]["components"][0]["parameters"][0]["text"].startswith("Sugar is low")


def test_a_temporary_failure_is_retried_with_back_off(owner, whatsapp):
    from huey.contrib.djhuey import HUEY

    from reports.notifications.tasks import send_delivery

    HUEY.flush()
    delivery = _whatsapp_delivery(owner)
    whatsapp["replies"] = [httpx.Response(503), httpx.ConnectError("no network")]
    assert send_delivery.call_local(delivery.pk) == "RETRY"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        DeliveryStatus.PENDING, 1, "WhatsApp answered 503")
    assert len(HUEY.scheduled()) == 1  # again in 60 s
    assert send_delivery.call_local(delivery.pk) == "RETRY"
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and "unreachable" in delivery.last_error
    assert [notes.retry_delay(a) for a in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert send_delivery.call_local(delivery.pk) == DeliveryStatus.SENT  # the third try gets through
    HUEY.flush()


def test_gives_up_after_the_last_try(owner, whatsapp):
    from reports.notifications.tasks import send_delivery

    delivery = _whatsapp_delivery(owner)
    NotificationDelivery.objects.filter(pk=delivery.pk).update(attempts=notes.MAX_ATTEMPTS - 1)
    whatsapp["replies"] = [httpx.Response(500)]
    assert send_delivery.call_local(delivery.pk) == "FAILED"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == notes.MAX_ATTEMPTS


def test_a_refused_message_fails_at_once_without_retry(owner, whatsapp):
    delivery = _whatsapp_delivery(owner)
    whatsapp["replies"] = [httpx.Response(400, json={"error": {"message": "Invalid parameter"}})]
    assert notes.delivery_attempt(delivery_id=delivery.pk) == DeliveryStatus.FAILED
    delivery.refresh_from_db()
    assert "Invalid parameter" in delivery.last_error
    assert notes.delivery_attempt(delivery_id=delivery.pk) == DeliveryStatus.FAILED  # not sent again
    assert len(whatsapp["calls"]) == 1


def test_whatsapp_off_when_not_configured(owner, settings):
    settings.WHATSAPP_TOKEN = ""
    delivery = _whatsapp_delivery(owner)
    assert notes.delivery_attempt(delivery_id=delivery.pk) == DeliveryStatus.SKIPPED
    with pytest.raises(notes.NotificationError):
        notes.whatsapp_send(to="+254712345678", text="hi")


def test_email_without_an_address_is_skipped(owner):
    owner.email = None
    owner.save()
    _prefer(owner, LOW, Channel.EMAIL)
    [n] = notes.notify(event=LOW, key="e", title="x", users=[owner])
    delivery = n.deliveries.get()
    assert notes.delivery_attempt(delivery_id=delivery.pk) == DeliveryStatus.SKIPPED
    assert not n.in_app and mail.outbox == []


# ---------------------------------------------------------------------------- in-app list
def test_mark_read_only_ones_own(owner, manager):
    mine = Notification.objects.create(user=owner, event=LOW, key="a", title="a", created_at=timezone.now())
    theirs = Notification.objects.create(user=manager, event=LOW, key="b", title="b", created_at=timezone.now())
    assert notes.unread_count(user=owner) == 1
    notes.notification_mark_read(user=owner, notification_id=mine.pk)
    assert notes.unread_count(user=owner) == 0
    with pytest.raises(notes.NotificationError):
        notes.notification_mark_read(user=owner, notification_id=theirs.pk)
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert notes.notifications_mark_all_read(user=manager) == 1


def test_the_bells_count_is_cached_and_cleared_by_every_write(owner, settings, django_assert_num_queries):
    settings.NOTIFICATION_BADGE_CACHE_SECONDS = 300
    first = Notification.objects.create(user=owner, event=LOW, key="a", title="a", created_at=timezone.now())
    assert notes.unread_count(user=owner) == 1
    with django_assert_num_queries(0):
        assert notes.unread_count(user=owner) == 1  # every later page: no query
    notes.notify(event=LOW, key="cached-b", title="b", body="", branch_id=owner.branch_id, users=[owner])
    assert notes.unread_count(user=owner) == 2  # a new one clears the figure
    notes.notification_mark_read(user=owner, notification_id=first.pk)
    assert notes.unread_count(user=owner) == 1
    notes.notifications_mark_all_read(user=owner)
    assert notes.unread_count(user=owner) == 0
