"""The branch's receipt printer and the jobs sent to it (receipts, copies, drawer kicks).

A job is a row before it is bytes on the wire: the till never waits for the printer, a Huey task
sends it, and a job that failed stays on the desk with its reason until someone retries it.
"""

from django.db import models
from django.db.models import Q

from core.models import TimeStampedModel


class PaperWidth(models.IntegerChoices):
    MM58 = 58, "58 mm (32 characters)"
    MM80 = 80, "80 mm (42 characters)"


class ReceiptPrinter(TimeStampedModel):
    """A network thermal printer (raw TCP, usually port 9100) on a branch's counter; the cash drawer
    plugs into it and opens on its drawer-kick command."""

    branch = models.OneToOneField("pos.Branch", on_delete=models.PROTECT, related_name="receipt_printer")
    name = models.CharField(max_length=60, default="Counter printer")
    host = models.CharField(max_length=253, help_text="The printer's IP address or name on the shop's network.")
    port = models.PositiveIntegerField(default=9100)
    paper_width = models.PositiveSmallIntegerField(choices=PaperWidth.choices, default=PaperWidth.MM80)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(port__gte=1) & Q(port__lte=65535), name="receiptprinter_port_valid"),
            models.CheckConstraint(condition=Q(paper_width__in=PaperWidth.values), name="receiptprinter_width_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.host}:{self.port})"

    @property
    def columns(self) -> int:
        return 32 if self.paper_width == PaperWidth.MM58 else 42


class PrintJobKind(models.TextChoices):
    RECEIPT = "RECEIPT", "Receipt"
    COPY = "COPY", "Receipt copy"
    DRAWER = "DRAWER", "Open drawer"


class PrintJobStatus(models.TextChoices):
    PENDING = "PENDING", "Waiting for the printer"
    SENDING = "SENDING", "Printing"
    PRINTED = "PRINTED", "Printed"
    FAILED = "FAILED", "Failed"


class PrintJob(TimeStampedModel):
    """One thing sent to the printer. Printing never touches the sale: a failed or retried job
    cannot charge anyone again."""

    printer = models.ForeignKey(ReceiptPrinter, on_delete=models.PROTECT, related_name="jobs")
    sale = models.ForeignKey("pos.Sale", null=True, blank=True, on_delete=models.PROTECT, related_name="print_jobs")
    kind = models.CharField(max_length=8, choices=PrintJobKind.choices)
    open_drawer = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=PrintJobStatus.choices, default=PrintJobStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=255, blank=True)
    reason = models.CharField(max_length=255, blank=True, help_text="Why the drawer was opened with no sale.")
    requested_by = models.ForeignKey("pos.User", on_delete=models.PROTECT, related_name="+")
    printed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=PrintJobKind.values), name="printjob_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=PrintJobStatus.values), name="printjob_status_valid"),
            models.CheckConstraint(
                condition=(Q(kind=PrintJobKind.DRAWER) & Q(sale__isnull=True) & Q(open_drawer=True) & ~Q(reason=""))
                | (~Q(kind=PrintJobKind.DRAWER) & Q(sale__isnull=False)),
                name="printjob_receipt_has_sale_drawer_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["printer", "status"], name="printjob_printer_status_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.get_status_display().lower()})"
