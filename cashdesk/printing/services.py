"""Writes for the counter's printer: queue a receipt (original or COPY), open the drawer with no
sale, send a job, retry a failed one.

A job is recorded in the caller's transaction and sent by a Huey task once it commits: the till
never waits for paper. Printing reads the sale and never writes it, so a printer that is off, slow
or answers garbage leaves the sale completed and its payments as they were; a retry only prints.
"""

from datetime import timedelta

import structlog
from django.db import transaction
from django.utils import timezone

from cashdesk.printing.models import PrintJob, PrintJobKind, PrintJobStatus
from cashdesk.printing.selectors import printer_for_branch
from cashdesk.printing.tasks import print_job_run
from cashdesk.printing.thermal import PrinterError, drawer_kick_bytes, printer_send, receipt_bytes
from core.errors import ConflictError, DomainError
from core.roles import Perm
from pos.people.audit import AuditAction, audit_record
from pos.people.models import User
from pos.sales.models import Sale, SaleStatus
from pos.sales.receipts import receipt_context

log = structlog.get_logger("cashdesk.printing")

# A job left "printing" this long (the worker died mid-send) may be retried.
STUCK_AFTER = timedelta(minutes=2)


class PrintingError(DomainError):
    """A printing request was refused (no printer here, no reason given, not this branch's job…)."""


def _enqueue(job: PrintJob) -> None:
    transaction.on_commit(lambda: print_job_run(job.pk))


# No savepoint: called inside every checkout's transaction, where one would cost two queries a sale.
@transaction.atomic(savepoint=False)
def receipt_print_queue(*, sale: Sale, user: User, copy: bool = False, open_drawer: bool = False) -> PrintJob | None:
    """Queue `sale`'s receipt on its branch's printer (None when the branch has none: the browser
    prints). A copy is printed "COPY"; who may have one is decided before (`sale_receipt_reprint`)."""
    printer = printer_for_branch(branch_id=sale.branch_id)
    if printer is None:
        return None
    if sale.status not in (SaleStatus.COMPLETED, SaleStatus.VOIDED):
        raise PrintingError("Only a completed sale has a receipt to print.")
    job = PrintJob.objects.create(
        printer=printer,
        sale=sale,
        kind=PrintJobKind.COPY if copy else PrintJobKind.RECEIPT,
        open_drawer=open_drawer,
        requested_by=user,
    )
    _enqueue(job)
    return job


@transaction.atomic
def drawer_open(*, user: User, reason: str, request=None) -> PrintJob:
    """Open the cash drawer with no sale (change for a customer, a note checked…): a reason is
    required and it goes in the audit log."""
    reason = (reason or "").strip()
    if not reason:
        raise PrintingError("Say why the drawer is opened: it goes in the audit log.", field="reason")
    printer = printer_for_branch(branch_id=user.branch_id)
    if printer is None:
        raise PrintingError("This branch has no receipt printer set up, so the drawer opens only with its key.")
    job = PrintJob.objects.create(
        printer=printer, kind=PrintJobKind.DRAWER, open_drawer=True, reason=reason[:255], requested_by=user
    )
    audit_record(
        action=AuditAction.DRAWER_OPENED,
        user=user,
        instance=job,
        reason=reason,
        after={"printer": printer.pk},
        branch=printer.branch_id,
        request=request,
    )
    _enqueue(job)
    return job


def _may_see_job(user: User, job: PrintJob) -> bool:
    return job.printer.branch_id == user.branch_id or user.has_perm(Perm.ALL_BRANCHES)


@transaction.atomic
def print_job_retry(*, job: PrintJob, user: User) -> PrintJob:
    """Send a failed job again. Only the paper is redone: the sale and its payments are untouched."""
    job = PrintJob.objects.select_for_update().select_related("printer").get(pk=job.pk)
    if not _may_see_job(user, job):
        raise PrintingError("This print job belongs to another branch.")
    stuck = job.status == PrintJobStatus.SENDING and job.updated_at < timezone.now() - STUCK_AFTER
    if job.status == PrintJobStatus.PRINTED:
        raise ConflictError("This was printed already.")
    if job.status == PrintJobStatus.SENDING and not stuck:
        raise ConflictError("This job is being printed right now.")
    job.status = PrintJobStatus.PENDING
    job.save(update_fields=["status", "updated_at"])
    _enqueue(job)
    return job


def _claim(job_id: int) -> bool:
    """Mark the job as being printed unless it is printed or being printed: a task that runs twice
    prints once. No row lock is held while the printer is talked to (it may take seconds)."""
    claimable = PrintJob.objects.filter(pk=job_id, status__in=(PrintJobStatus.PENDING, PrintJobStatus.FAILED))
    return claimable.update(status=PrintJobStatus.SENDING, updated_at=timezone.now()) == 1


def _payload(job: PrintJob) -> bytes:
    if job.kind == PrintJobKind.DRAWER:
        return drawer_kick_bytes()
    sale = Sale.objects.select_related("branch", "cashier", "customer").get(pk=job.sale_id)
    context = receipt_context(sale=sale, copy=job.kind == PrintJobKind.COPY)
    return receipt_bytes(context, columns=job.printer.columns, open_drawer=job.open_drawer)


def print_job_send(*, job_id: int) -> PrintJob | None:
    """Send one job to its printer and record how it went (PRINTED, or FAILED with the reason the
    cashier sees next to a Retry button). Called by the Huey task."""
    if not _claim(job_id):
        return None
    job = PrintJob.objects.select_related("printer").get(pk=job_id)
    error = ""
    try:
        printer_send(host=job.printer.host, port=job.printer.port, payload=_payload(job))
    except PrinterError as exc:
        error = exc.message
        log.warning("print_failed", job_id=job.pk, printer_id=job.printer_id, reason=error)
    except Exception:  # a receipt that cannot be composed must still leave the job retryable
        error = "The receipt could not be prepared for the printer; the PDF receipt still works."
        log.exception("print_compose_failed", job_id=job.pk)
    job.attempts += 1
    job.status = PrintJobStatus.FAILED if error else PrintJobStatus.PRINTED
    job.error = error[:255]
    job.printed_at = None if error else timezone.now()
    job.save(update_fields=["attempts", "status", "error", "printed_at", "updated_at"])
    return job
