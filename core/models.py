"""Abstract and shared models: the timestamped base, and the API's idempotency keys."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


# ---------------------------------------------------------------------------- the JSON API
class ApiIdempotencyKey(models.Model):
    """An `Idempotency-Key` a caller sent with a POST to the API, and the first answer it got.

    A repeat of the same key by the same user gets that answer again (`core.idempotency`); the same
    key with another body or on another endpoint is refused. Only successful answers are kept: a
    request that failed wrote nothing, so its retry runs again.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    endpoint = models.CharField(max_length=120)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "pos_apiidempotencykey"  # created by the `pos` app, which owned it first
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="apiidempotencykey_once_per_user")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key} {self.endpoint}"
