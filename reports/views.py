"""Report pages: the dashboard, the list of reports, one page pattern for every report, CSV, PDF, exports."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from core.htmx import render_partial
from core.permissions import require_perm
from core.roles import Perm
from reports import selectors
from reports.export_services import ReportError, export_job_create, report_filters_text
from reports.forms import MAX_SPAN_DAYS, ReportFilterForm
from reports.models import ExportFormat, ExportJob, ExportStatus
from reports.pdf import csv_lines, render_report_pdf
from reports.registry import REPORTS, Report, reports_for

PAGE_ROWS = 200  # rows on the page; the CSV and PDF carry them all
PDF_INLINE_MAX_ROWS = 1500  # more than this and the PDF is written in the background


def _report_or_404(request, slug: str) -> Report:
    report = REPORTS.get(slug)
    if report is None:
        raise Http404("No such report.")
    if not request.user.has_perm(report.perm):
        raise PermissionDenied
    return report


def _filter_form(request) -> ReportFilterForm:
    return ReportFilterForm(request.GET or {"preset": "today"}, user=request.user)


# ---------------------------------------------------------------------------- dashboard
@require_GET
@require_perm(Perm.VIEW_DASHBOARD)
def dashboard(request):
    """Today against the same weekday last week, for the branches the viewer may see."""
    form = ReportFilterForm({"preset": "today", "branch": request.GET.get("branch", "")}, user=request.user)
    branch_error = None
    if not form.is_valid():
        branch_error = " ".join(form.errors.get("branch", [])) or "Unknown branch."
        form = ReportFilterForm({"preset": "today"}, user=request.user)
        form.is_valid()
    period = form.period()
    figures = selectors.dashboard(today=timezone.localdate(), branch_ids=period.branch_ids)
    chart = {
        "labels": [f"{h['hour']:02d}" for h in figures["hours"]],
        "today": [str(h["today"]) for h in figures["hours"]],
        "week_ago": [str(h["week_ago"]) for h in figures["hours"]],
        "mix_labels": [m["label"] for m in figures["payment_mix"]],
        "mix": [str(m["amount"]) for m in figures["payment_mix"]],
    }
    context = {
        "figures": figures,
        "chart": chart,
        "form": form,
        "branch_label": form.branch_label(),
        "branch_error": branch_error,
        "show_margin": request.user.has_perm(Perm.VIEW_PROFIT),
        "groups": reports_for(request.user),
    }
    return render(request, "reports/dashboard.html", context)


@require_GET
@require_perm(Perm.VIEW_REPORTS)
def report_index(request):
    return render(request, "reports/index.html", {"groups": reports_for(request.user)})


# ---------------------------------------------------------------------------- one page for every report
@require_GET
@require_perm(Perm.VIEW_REPORTS)
def report_page(request, slug: str):
    report = _report_or_404(request, slug)
    form = _filter_form(request)
    context = {"report": report, "form": form, "max_span": MAX_SPAN_DAYS, "groups": reports_for(request.user)}
    if form.is_valid():
        rows = report.fetch(form.period())
        page = Paginator(rows, PAGE_ROWS).get_page(request.GET.get("page"))
        query = urlencode(form.as_params())
        context.update(
            rows=page.object_list,
            page=page,
            row_count=len(rows),
            totals=report.totals(rows),
            filters=report_filters_text(form),
            query=query,
            pdf_in_background=len(rows) > PDF_INLINE_MAX_ROWS,
        )
    status = 200 if form.is_valid() else 400
    return render_partial(request, "reports/report.html", "report-body", context, status=status)


def _invalid(request, report: Report, form: ReportFilterForm) -> HttpResponse:
    context = {"report": report, "form": form, "max_span": MAX_SPAN_DAYS, "groups": reports_for(request.user)}
    return render(request, "reports/report.html", context, status=400)


@require_GET
@require_perm(Perm.VIEW_REPORTS)
def report_csv(request, slug: str):
    """The whole report as CSV, streamed row by row."""

    report = _report_or_404(request, slug)
    form = _filter_form(request)
    if not form.is_valid():
        return _invalid(request, report, form)
    rows = report.fetch(form.period())
    filters = report_filters_text(form)
    response = StreamingHttpResponse(
        csv_lines(report=report, rows=rows, totals=report.totals(rows), filters=filters),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, filters, "csv")}"'
    return response


@require_GET
@require_perm(Perm.VIEW_REPORTS)
def report_pdf(request, slug: str):
    """The report as an A4 PDF; a long one is written by a background task instead."""

    report = _report_or_404(request, slug)
    form = _filter_form(request)
    if not form.is_valid():
        return _invalid(request, report, form)
    rows = report.fetch(form.period())
    if len(rows) > PDF_INLINE_MAX_ROWS:
        job = export_job_create(user=request.user, report_slug=slug, fmt=ExportFormat.PDF, params=form.as_params())
        messages.info(request, f"{len(rows):,} rows: the PDF is being written in the background.")
        return redirect("reports:export_detail", token=job.token)
    filters = report_filters_text(form)
    pdf = render_report_pdf(report=report, rows=rows, totals=report.totals(rows), filters=filters,
                            user=request.user, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, filters, "pdf")}"'
    return response


def _filename(report: Report, filters: dict, extension: str) -> str:
    return f"{report.slug}-{filters['start']:%Y%m%d}-{filters['end']:%Y%m%d}.{extension}"


# ---------------------------------------------------------------------------- background exports
@require_POST
@require_perm(Perm.VIEW_REPORTS)
def export_start(request, slug: str):
    report = _report_or_404(request, slug)
    try:
        job = export_job_create(
            user=request.user, report_slug=report.slug, fmt=request.POST.get("format", ""), params=request.POST.dict()
        )
    except ReportError as exc:
        messages.error(request, exc.message)
        return redirect(f"{reverse('reports:report', args=[slug])}?{urlencode(_safe_params(request.POST))}")
    return redirect("reports:export_detail", token=job.token)


def _safe_params(data) -> dict:
    return {k: data.get(k, "") for k in ("preset", "start", "end", "branch") if data.get(k)}


def _own_job(request, token) -> ExportJob:
    # Someone else's export is not found, not forbidden: its existence is not theirs to know.
    return get_object_or_404(ExportJob, token=token, user=request.user)


@require_GET
@require_perm(Perm.VIEW_REPORTS)
def export_detail(request, token):
    job = _own_job(request, token)
    report = REPORTS.get(job.report)
    context = {"job": job, "report": report, "done": job.status == ExportStatus.DONE}
    response = render_partial(request, "reports/export_detail.html", "export-status", context)
    if request.htmx and job.is_finished:
        response.status_code = 286  # htmx: stop polling
    return response


@require_GET
@require_perm(Perm.VIEW_REPORTS)
def export_download(request, token):
    job = _own_job(request, token)
    if job.status != ExportStatus.DONE or not job.file:
        raise Http404("This export is not ready.")
    report = REPORTS.get(job.report)
    if report is None or not request.user.has_perm(report.perm):
        raise PermissionDenied
    filename = job.file.name.rsplit("/", 1)[-1]
    content_type = "application/pdf" if job.format == ExportFormat.PDF else "text/csv; charset=utf-8"
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=filename, content_type=content_type)


@require_GET
@require_perm(Perm.VIEW_REPORTS)
def export_list(request):
    jobs = ExportJob.objects.filter(user=request.user).order_by("-created_at")[:50]
    return render(request, "reports/export_list.html", {"jobs": jobs, "reports": REPORTS})
