"""Role matrix of the analytics and notification pages (see pos/tests/matrix.py).

Forecasts, trends and basket pairs: managers and owners. Reorder (and its one-click draft): whoever
handles purchases (managers, owners). Customer segments and cashier anomalies: owners. Notifications:
everyone logged in, each their own.
"""

from pos.tests.matrix import LOGIN, OK, Case, everyone_but_anonymous, managers_and_owners, owners_only


def prepare(world):
    from django.utils import timezone

    from reports.notifications.models import Notification, NotificationEvent

    world.notifications = {
        role: Notification.objects.create(
            user=user, event=NotificationEvent.LOW_STOCK, key=f"matrix:{role}:{user.pk}", title="Matrix note",
            created_at=timezone.now(),
        )
        for role, user in world.users.items()
    }


def _own_notification(world):
    # Each role reads its own; `args` is evaluated once per case, so use the owner's and expect 404
    # for the others (a notification is only ever visible to its person).
    return [world.notifications["owner"].pk]


CASES = [
    Case("reports:analytics_index", managers_and_owners()),
    Case("reports:analytics_forecasts", managers_and_owners()),
    Case("reports:analytics_forecasts", managers_and_owners(), query="q=soda", id="forecasts-search"),
    Case("reports:analytics_forecasts", managers_and_owners(), htmx=True, id="forecasts-htmx"),
    Case("reports:analytics_reorder", managers_and_owners()),
    Case(
        "reports:analytics_reorder_draft",
        managers_and_owners(),
        method="post",
        data=lambda w: {"supplier": "999999", "branch": str(w.branch.pk)},
    ),
    Case("reports:analytics_trends", managers_and_owners()),
    Case("reports:analytics_basket", managers_and_owners()),
    Case("reports:analytics_customers", owners_only()),
    Case("reports:analytics_anomalies", owners_only()),
    Case("reports:notifications", everyone_but_anonymous()),
    Case("reports:notifications", everyone_but_anonymous(), htmx=True, id="notifications-htmx"),
    Case(
        "reports:notification_read",
        {"anonymous": LOGIN, "employee": 404, "manager": 404, "owner": OK},
        method="post",
        args=_own_notification,
    ),
    Case("reports:notification_read_all", everyone_but_anonymous(), method="post"),
    Case("reports:notification_settings", everyone_but_anonymous()),
    Case(
        "reports:notification_settings",
        everyone_but_anonymous(),
        method="post",
        data=lambda w: {},
        id="post:reports:notification_settings",
    ),
]
