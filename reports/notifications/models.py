"""Notifications: what someone is told, their channel preferences, and each delivery."""



from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import TimeStampedModel

__all__ = [
    "Channel",
    "DeliveryStatus",
    "Notification",
    "NotificationDelivery",
    "NotificationEvent",
    "NotificationPreference",
]


class NotificationEvent(models.TextChoices):
    LOW_STOCK = "LOW_STOCK", "Low or out of stock"
    CASH_DIFFERENCE = "CASH_DIFF", "Large over/short at a cash-session close"
    MPESA_MISMATCH = "MPESA_MISMATCH", "M-Pesa amount mismatch"
    DAILY_SUMMARY = "DAILY_SUMMARY", "Daily summary at closing time"


class Channel(models.TextChoices):
    IN_APP = "IN_APP", "In the app"
    EMAIL = "EMAIL", "E-mail"
    WHATSAPP = "WHATSAPP", "WhatsApp"


class Notification(models.Model):
    """Something a person should know. Shown in the app when `in_app`; e-mail/WhatsApp copies are
    `NotificationDelivery` rows. `key` makes an event notify each person at most once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    event = models.CharField(max_length=16, choices=NotificationEvent.choices)
    key = models.CharField(max_length=80, help_text="e.g. stockalert:12:LOW, cashsession:7")
    branch = models.ForeignKey("pos.Branch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    title = models.CharField(max_length=150)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=255, blank=True)
    in_app = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_user"),
            models.CheckConstraint(condition=Q(event__in=NotificationEvent.values), name="notification_event_valid"),
        ]
        indexes = [models.Index(fields=["user", "in_app", "read_at"], name="notification_unread_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(TimeStampedModel):
    """One person's choice for one event and channel. No row = the default (see `DEFAULT_CHANNELS`)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    event = models.CharField(max_length=16, choices=NotificationEvent.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    enabled = models.BooleanField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "event", "channel"], name="notificationpreference_unique"),
            models.CheckConstraint(
                condition=Q(event__in=NotificationEvent.values), name="notificationpref_event_valid"
            ),
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="notificationpref_channel_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.event}/{self.channel}: {'on' if self.enabled else 'off'}"


class DeliveryStatus(models.TextChoices):
    PENDING = "PENDING", "Waiting to be sent"
    SENT = "SENT", "Sent"
    FAILED = "FAILED", "Gave up"
    SKIPPED = "SKIPPED", "Not sent (channel off or no address)"


class NotificationDelivery(models.Model):
    """One e-mail or WhatsApp message for a notification, sent (and retried) by a Huey task."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    status = models.CharField(max_length=7, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=255, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=120, blank=True, help_text="WhatsApp message id.")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="delivery_one_per_channel"),
            models.CheckConstraint(condition=~Q(channel=Channel.IN_APP), name="delivery_not_in_app"),
            models.CheckConstraint(condition=Q(status__in=DeliveryStatus.values), name="delivery_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} for notification {self.notification_id}: {self.status}"
