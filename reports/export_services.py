"""Writes of the reports: export jobs (a report's CSV or PDF written by a Huey task, with progress)."""


import structlog
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from core.errors import DomainError
from reports import tasks
from reports.forms import ReportFilterForm
from reports.models import ExportFormat, ExportJob, ExportStatus
from reports.pdf import csv_lines, render_report_pdf
from reports.registry import REPORTS

log = structlog.get_logger("reports.exports")


class ReportError(DomainError):
    """A report or export cannot be made as asked."""


def report_filters_text(form: ReportFilterForm) -> dict:
    data = form.cleaned_data
    if data["start"] == data["end"]:
        period = f"{data['start']:%d %b %Y}"
    else:
        period = f"{data['start']:%d %b %Y} – {data['end']:%d %b %Y}"
    return {"period": period, "branch": form.branch_label(), "start": data["start"], "end": data["end"]}


def export_job_create(*, user, report_slug: str, fmt: str, params: dict) -> ExportJob:
    """Queue an export of `report_slug` with the filters `params` (checked now, and again when it runs)."""
    report = REPORTS.get(report_slug)
    if report is None or not user.has_perm(report.perm):
        raise ReportError("Unknown report.")
    if fmt not in ExportFormat.values:
        raise ReportError("Export as CSV or PDF.", field="format")
    form = ReportFilterForm(params, user=user)
    if not form.is_valid():
        raise ReportError(" ".join(e for errors in form.errors.values() for e in errors))
    job = ExportJob.objects.create(user=user, report=report.slug, format=fmt, params=form.as_params())

    transaction.on_commit(lambda: tasks.export_job_run(job.pk))
    return job


def export_job_run(*, job_id: int) -> ExportJob:
    """Write the file of one job, moving `progress` as it goes. Safe to run twice: a finished job is left."""

    job = ExportJob.objects.select_related("user").get(pk=job_id)
    if job.is_finished:
        return job
    job.status, job.started_at, job.progress = ExportStatus.RUNNING, timezone.now(), 5
    job.save(update_fields=["status", "started_at", "progress", "updated_at"])
    try:
        report = REPORTS.get(job.report)
        # Permissions and branches are checked as of now: a user demoted since asking gets nothing.
        if report is None or not job.user.is_active or not job.user.has_perm(report.perm):
            raise ReportError("You may no longer see this report.")
        form = ReportFilterForm(job.params, user=job.user)
        if not form.is_valid():
            raise ReportError("The filters are no longer valid.")
        rows = report.fetch(form.period())
        totals = report.totals(rows)
        filters = report_filters_text(form)
        _progress(job, 40)
        name = f"{report.slug}-{filters['start']:%Y%m%d}-{filters['end']:%Y%m%d}.{job.format}"
        if job.format == ExportFormat.CSV:
            parts = []
            step = max(len(rows) // 10, 1)
            for line in csv_lines(report=report, rows=_counting(rows, job, step), totals=totals, filters=filters):
                parts.append(line)
            content = "".join(parts).encode("utf-8")
        else:
            content = render_report_pdf(report=report, rows=rows, totals=totals, filters=filters, user=job.user)
        job.file.save(name, ContentFile(content), save=False)
        job.status, job.progress, job.row_count, job.finished_at = ExportStatus.DONE, 100, len(rows), timezone.now()
        job.save(update_fields=["file", "status", "progress", "row_count", "finished_at", "updated_at"])
    except ReportError as exc:
        _fail(job, exc.message)
    except Exception:
        log.exception("export job %s failed", job.pk)
        _fail(job, "The export failed; try again, or a shorter period.")
        raise
    return job


def _counting(rows, job: ExportJob, step: int):
    total = len(rows) or 1
    for index, row in enumerate(rows, start=1):
        if index % step == 0:
            _progress(job, 40 + int(55 * index / total))
        yield row


def _progress(job: ExportJob, percent: int) -> None:
    job.progress = min(percent, 99)
    ExportJob.objects.filter(pk=job.pk).update(progress=job.progress, updated_at=timezone.now())


def _fail(job: ExportJob, message: str) -> None:
    job.status, job.error, job.finished_at = ExportStatus.FAILED, message[:255], timezone.now()
    job.save(update_fields=["status", "error", "finished_at", "updated_at"])
