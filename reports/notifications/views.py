"""Pages of the notifications: the list, marking read, and each person's channel settings."""


from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from core.htmx import render_partial
from core.permissions import require_login
from reports.analytics_views import PER_PAGE
from reports.notifications.models import Channel, NotificationEvent
from reports.notifications.services import (
    NotificationError,
    events_for,
    notification_list,
    notification_mark_read,
    notifications_mark_all_read,
    preferences_for,
    preferences_set,
    unread_count,
    whatsapp_enabled,
)


# ---------------------------------------------------------------------------- notifications
@require_login
def notifications(request):
    unread_only = request.GET.get("show") == "unread"
    page = Paginator(notification_list(user=request.user, unread_only=unread_only), PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {"page": page, "unread_only": unread_only, "unread": unread_count(user=request.user)}
    return render_partial(request, "reports/notifications/list.html", "notification-list", context)


@require_login
@require_POST
def notification_read(request, pk: int):
    try:
        notification = notification_mark_read(user=request.user, notification_id=pk)
    except NotificationError:
        return render(request, "reports/notifications/list.html#missing", {}, status=404)
    if request.htmx:
        return render(
            request,
            "reports/notifications/list.html#read-row",
            {"n": notification, "unread": unread_count(user=request.user)},
        )
    return redirect(notification.url or "reports:notifications")


@require_login
@require_POST
def notification_read_all(request):
    count = notifications_mark_all_read(user=request.user)
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
    return redirect("reports:notifications")


@require_login
@require_http_methods(["GET", "POST"])
def notification_settings(request):
    user = request.user
    events = events_for(user)
    status = 200
    if request.method == "POST":
        chosen = set()
        error = ""
        for value in request.POST.getlist("on"):
            event, _, channel = value.partition(":")
            if event not in NotificationEvent.values or channel not in Channel.values:
                error = "That choice is not one of the options."
                break
            chosen.add((event, channel))
        if not error:
            try:
                preferences_set(user=user, choices=chosen)
            except NotificationError as exc:
                error = exc.message
        if not error:
            messages.success(request, "Your notification choices are saved.")
            return redirect("reports:notification_settings")
        messages.error(request, error)
        status = 400
    prefs = preferences_for(user)
    labels = dict(NotificationEvent.choices)
    rows = [
        {"event": e, "label": labels[e], "channels": [(c, label, prefs[(e, c)]) for c, label in Channel.choices]}
        for e in events
    ]
    context = {
        "rows": rows,
        "channels": Channel.choices,
        "whatsapp_enabled": whatsapp_enabled(),
        "has_email": bool(user.email),
    }
    return render(request, "reports/notifications/settings.html", context, status=status)
