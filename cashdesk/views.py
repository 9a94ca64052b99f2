"""HTML views of the cash desk: the cashier's desk, opening and closing sessions, paid in/out,
session lists, the X/Z report (page and PDF), and force-close for managers.

M-Pesa pages live in `mpesa_views.py`, money in and out in `money_views.py`.
"""

from datetime import datetime
from decimal import Decimal

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect
from django_tables2 import RequestConfig

from cashdesk import services
from cashdesk.forms import CashMovementForm, ForceCloseForm, SessionCloseForm, SessionOpenForm
from cashdesk.models import CashMovement, CashSession, SessionStatus
from cashdesk.mpesa.selectors import c2b_unmatched, stk_requests_flagged
from cashdesk.pdf import pdf_response
from cashdesk.printing.forms import DrawerOpenForm
from cashdesk.printing.selectors import print_jobs_failed, printer_for_branch
from cashdesk.selectors import (
    expected_cash_visible_to,
    session_cash_figures,
    session_current,
    session_report_for_display,
    sessions_visible_to,
)
from cashdesk.tables import CashSessionTable
from core.errors import DomainError
from core.forms import add_domain_error
from core.htmx import render_partial
from core.permissions import require_perm
from core.roles import Perm
from pos.people.authorise import authoriser_from_post, pin_context
from pos.people.services import PinError, staff_verify_pin


def _redirect(request, url: str):
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


# ---------------------------------------------------------------------------- the desk
def _desk_context(request, *, movement_form=None, open_form=None, pin=None, drawer_form=None) -> dict:

    session = session_current(cashier=request.user)
    context = {"session": session, "denominations": None, "show_expected": expected_cash_visible_to(user=request.user)}
    if session is not None:
        if context["show_expected"]:
            context["figures"] = session_cash_figures(session=session)
        context["movements"] = CashMovement.objects.filter(session=session).select_related("recorded_by")
        context["movement_form"] = movement_form or CashMovementForm()
        context.update(pin or {"show_pin": False})
    else:
        context["open_form"] = open_form or SessionOpenForm()
    printer = printer_for_branch(branch_id=request.user.branch_id)
    context["printer"] = printer
    if printer is not None:
        context["failed_prints"] = list(print_jobs_failed(branch_id=request.user.branch_id)[:10])
        context["drawer_form"] = drawer_form or DrawerOpenForm()
    context["recent_sessions"] = CashSession.objects.filter(cashier=request.user).select_related("branch")[:5]
    if request.user.has_perm(Perm.ATTACH_MPESA):
        context["unmatched_count"] = c2b_unmatched(viewer=request.user).count()
    if request.user.has_perm(Perm.MANAGE_MPESA):
        context["flagged_count"] = stk_requests_flagged(viewer=request.user).count()
    if request.user.has_perm(Perm.VIEW_ALL_CASH_SESSIONS):
        context["open_sessions"] = (
            sessions_visible_to(request.user).filter(status=SessionStatus.OPEN).exclude(cashier=request.user)
        )
    return context


@require_perm(Perm.USE_OWN_CASH_SESSION)
def index(request):
    context = _desk_context(request)
    return render_partial(request, "cashdesk/index.html", "drawer", context)


@require_perm(Perm.USE_OWN_CASH_SESSION)
@require_POST
def session_open(request):
    form = SessionOpenForm(request.POST)
    if form.is_valid():
        try:
            services.session_open(
                cashier=request.user, opening_float=form.cleaned_data["opening_float"], note=form.cleaned_data["note"]
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"Cash session opened with KES {form.cleaned_data['opening_float']:,.2f}.")
            return _redirect(request, reverse("cashdesk:index"))
    context = _desk_context(request, open_form=form)
    return render_partial(request, "cashdesk/index.html", "drawer", context, status=400)


@require_perm(Perm.PAY_IN_OUT)
@require_POST
def movement_create(request):
    form = CashMovementForm(request.POST)
    session = session_current(cashier=request.user)
    status = 200
    if session is None:
        messages.error(request, "Open your cash session first.")
        return _redirect(request, reverse("cashdesk:index"))
    pin = None
    if form.is_valid():
        try:
            # Big paid-outs and cash drops: the till's manager-PIN rule (pos.people.authorise).
            authoriser = authoriser_from_post(request, perm=Perm.AUTHORISE_OVERRIDES)
            movement = services.cash_movement_record(
                session=session, user=request.user, authorised_by=authoriser, request=request, **form.cleaned_data
            )
        except PinError as exc:
            pin = pin_context(request, perm=Perm.AUTHORISE_OVERRIDES, error=exc.message, always=True)
            status = 400
        except DomainError as exc:
            add_domain_error(form, exc)
            if exc.code == "needs_pin":
                pin = pin_context(request, perm=Perm.AUTHORISE_OVERRIDES, message=exc.message, always=True)
            status = 400
        else:
            messages.success(request, f"{movement.get_kind_display()}: KES {movement.amount:,.2f} ({movement.reason}).")
            if not request.htmx:
                return redirect("cashdesk:index")
            form = CashMovementForm()
    else:
        status = 400
    context = _desk_context(request, movement_form=form, pin=pin)
    return render_partial(request, "cashdesk/index.html", "drawer", context, status=status if not request.htmx else 200)


# ---------------------------------------------------------------------------- closing
@require_perm(Perm.USE_OWN_CASH_SESSION)
@require_http_methods(["GET", "POST"])
def session_close(request):
    session = session_current(cashier=request.user)
    if session is None:
        messages.info(request, "You have no open cash session.")
        return redirect("cashdesk:index")
    form = SessionCloseForm(request.POST or None, branch_id=session.branch_id)
    needs_approval = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        approver = None
        try:
            if data.get("approver"):
                approver = staff_verify_pin(user=data["approver"], pin=data["approver_pin"], request=request)
            closed = services.session_close(
                session=session,
                closed_by=request.user,
                closing_total=data.get("closing_total"),
                denominations=form.denominations(),
                counted_by_method=form.counted_by_method(),
                approved_by=approver,
                note=data.get("note", ""),
                request=request,
            )
        except PinError as exc:
            form.add_error("approver_pin", exc.message)
            needs_approval = True
        except DomainError as exc:
            add_domain_error(form, exc)
            needs_approval = exc.code == "needs_approval"
        else:
            word = "over" if closed.difference > 0 else "short" if closed.difference < 0 else "exact"
            messages.success(
                request,
                f"Session closed. Counted KES {closed.closing_total:,.2f}, expected KES {closed.expected_cash:,.2f}"
                + (f": KES {abs(closed.difference):,.2f} {word}." if word != "exact" else ": the drawer is exact."),
            )
            return redirect("cashdesk:session_report", pk=closed.pk)
    session.refresh_from_db(fields=["first_count", "first_count_at"])
    context = {
        "session": session,
        "form": form,
        "needs_approval": needs_approval or bool(form.data.get("approver")) or session.first_count is not None,
    }
    return render(request, "cashdesk/session_close.html", context, status=400 if form.errors else 200)


@require_perm(Perm.FORCE_CLOSE_SESSION)
@require_http_methods(["GET", "POST"])
def session_force_close(request, pk: int):
    session = _visible_session(request, pk)
    if session.status != SessionStatus.OPEN:
        messages.info(request, "This session is already closed.")
        return redirect("cashdesk:session_report", pk=session.pk)
    form = ForceCloseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.session_force_close(
                session=session,
                manager=request.user,
                closing_total=form.cleaned_data["closing_total"],
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"{session.cashier.full_name}'s session was force-closed.")
            return redirect("cashdesk:session_report", pk=session.pk)
    context = {"session": session, "form": form, "figures": session_cash_figures(session=session)}
    return render(request, "cashdesk/session_force_close.html", context, status=400 if form.errors else 200)


# ---------------------------------------------------------------------------- lists and reports
def _visible_session(request, pk: int) -> CashSession:
    return get_object_or_404(sessions_visible_to(request.user).select_related("close_approved_by"), pk=pk)


@require_perm(Perm.USE_OWN_CASH_SESSION)
def session_list(request):
    qs = sessions_visible_to(request.user)
    status = request.GET.get("status", "")
    if status in SessionStatus.values:
        qs = qs.filter(status=status)
    table = CashSessionTable(qs, order_by=request.GET.get("sort"))
    RequestConfig(request, paginate={"per_page": 25}).configure(table)
    context = {"table": table, "status": status, "statuses": SessionStatus.choices}
    return render_partial(request, "cashdesk/session_list.html", "session-table", context)


def _as_datetimes(report: dict) -> dict:
    """The stored report keeps ISO strings; templates want datetimes."""

    def parse(value):
        return datetime.fromisoformat(value) if isinstance(value, str) and value else value

    report = {**report, "session": dict(report["session"])}
    for key in ("opened_at", "closed_at"):
        report["session"][key] = parse(report["session"].get(key))
    report["generated_at"] = parse(report.get("generated_at"))
    report["movements"] = [{**m, "at": parse(m["at"])} for m in report.get("movements", [])]
    return report


def _report_context(request, session: CashSession) -> dict:
    report = _as_datetimes(session_report_for_display(session=session))
    return {"session": session, "report": report, "denomination_rows": _denomination_rows(session)}


def _denomination_rows(session: CashSession) -> list[dict]:

    rows = []
    for value, count in sorted((session.denominations or {}).items(), key=lambda item: -int(item[0])):
        rows.append({"value": int(value), "count": count, "total": Decimal(value) * count})
    return rows


def _x_report_allowed(request, session: CashSession) -> bool:
    try:
        services.session_x_report_read(session=session, user=request.user, request=request)
    except DomainError as exc:
        messages.info(request, exc.message)
        return False
    return True


@require_perm(Perm.USE_OWN_CASH_SESSION)
def session_report(request, pk: int):
    session = _visible_session(request, pk)
    if not _x_report_allowed(request, session):
        return _redirect(request, reverse("cashdesk:index"))
    context = _report_context(request, session)
    return render_partial(request, "cashdesk/session_report.html", "report", context)


@require_perm(Perm.USE_OWN_CASH_SESSION)
def session_report_pdf(request, pk: int):
    session = _visible_session(request, pk)
    if not _x_report_allowed(request, session):
        return redirect("cashdesk:index")
    context = _report_context(request, session)
    kind = context["report"]["kind"]
    filename = f"{kind}-report-session-{session.pk}.pdf"
    return pdf_response(request, "cashdesk/session_report_pdf.html", context, filename=filename)
