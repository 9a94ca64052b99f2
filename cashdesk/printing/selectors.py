"""Reads for the counter's printer: the branch's printer and the jobs a cashier should know about."""

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from cashdesk.printing.models import PrintJob, PrintJobStatus, ReceiptPrinter

RECENT = timedelta(hours=12)


def printer_for_branch(*, branch_id: int | None) -> ReceiptPrinter | None:
    if branch_id is None:
        return None
    return ReceiptPrinter.objects.filter(branch_id=branch_id, is_active=True).first()


def print_jobs_failed(*, branch_id: int | None) -> QuerySet[PrintJob]:
    """The branch's jobs of the last hours that did not print, newest first: they wait for a retry."""
    return (
        PrintJob.objects.filter(
            printer__branch_id=branch_id, status=PrintJobStatus.FAILED, created_at__gte=timezone.now() - RECENT
        )
        .select_related("sale", "printer")
        .order_by("-created_at", "-id")
    )


def print_job_latest(*, sale_id: int) -> PrintJob | None:
    """The sale's last receipt job (original or copy): what the receipt page tells the cashier."""
    return PrintJob.objects.filter(sale_id=sale_id).select_related("printer").order_by("-created_at", "-id").first()
