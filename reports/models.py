"""reports models: export jobs (a long CSV/PDF written by a Huey task while the page shows progress).

The analytics models (forecasts, notifications) live beside these in later migrations.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import TimeStampedModel


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    PDF = "pdf", "PDF"


class ExportStatus(models.TextChoices):
    QUEUED = "QUEUED", "Waiting"
    RUNNING = "RUNNING", "Writing"
    DONE = "DONE", "Ready"
    FAILED = "FAILED", "Failed"


def export_upload_to(instance: "ExportJob", filename: str) -> str:
    # A random folder per job: the file is only handed out by the download view, which checks the
    # user, but its name must not be guessable either.
    return f"report-exports/{instance.token}/{filename}"


class ExportJob(TimeStampedModel):
    """One report export asked for by one user: its filters, progress and, when done, the file."""

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="report_exports")
    report = models.CharField(max_length=40, help_text="The report's slug, e.g. sales-by-product.")
    format = models.CharField(max_length=3, choices=ExportFormat.choices)
    params = models.JSONField(default=dict, help_text="The filters used: start, end, branch.")
    status = models.CharField(max_length=7, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done, 0–100.")
    row_count = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to=export_upload_to, max_length=255, blank=True)
    error = models.CharField(max_length=255, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="exportjob_progress_at_most_100"),
            models.CheckConstraint(condition=Q(status__in=ExportStatus.values), name="exportjob_status_valid"),
            models.CheckConstraint(condition=Q(format__in=ExportFormat.values), name="exportjob_format_valid"),
            models.CheckConstraint(
                condition=~Q(status=ExportStatus.DONE) | ~Q(file=""), name="exportjob_done_has_file"
            ),
        ]
        indexes = [models.Index(fields=["user", "created_at"], name="exportjob_user_created_idx")]

    def __str__(self) -> str:
        return f"{self.report} ({self.format}) for {self.user_id}: {self.get_status_display()}"

    @property
    def is_finished(self) -> bool:
        return self.status in (ExportStatus.DONE, ExportStatus.FAILED)


# The analytics and notifications models (a second module, so the two halves of the app stay apart).
from reports.analytics_models import *  # noqa: E402,F401,F403
from reports.notifications.models import *  # noqa: E402,F401,F403
from reports.summary_models import *  # noqa: E402,F401,F403
