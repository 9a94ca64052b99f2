"""Pages of the analytics (forecasts, reorder, trends, basket, customers, anomalies) and of each
person's notifications. Thin: parse the filters, call a selector or a service, render.

Who sees what: forecasts, reorder, trends and basket pairs — managers and owners (VIEW_REPORTS);
turning suggestions into a draft purchase — MANAGE_PURCHASES; customer segments and cashier
anomalies — owners (VIEW_ANALYTICS). Everyone sees their own notifications. Branch scoping: a user
who may not see all branches always gets their own branch, whatever the query string says.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.permissions import require_perm
from core.roles import Perm
from inventory.errors import StockError
from inventory.models import Supplier
from pos.people.models import Branch
from reports import analytics

PER_PAGE = 50


@dataclass
class BranchScope:
    branches: list[Branch]  # what the user may pick
    branch: Branch | None  # the one shown; None = all branches
    error: str = ""
    status: int = 200

    @property
    def branch_ids(self) -> list[int] | None:
        return None if self.branch is None else [self.branch.pk]


def _scope(request, *, allow_all: bool) -> BranchScope:
    """The branch a page shows. `?branch=<id>` or `?branch=all`; a bad value is a clear message."""
    user = request.user
    raw = request.GET.get("branch", "").strip()
    if not user.sees_all_branches:
        scope = BranchScope([user.branch], user.branch)
        if raw and raw != str(user.branch_id):
            scope.error, scope.status = "You can only see your own branch.", 403
        return scope
    branches = list(Branch.objects.filter(is_active=True).order_by("name"))
    if not raw:
        return BranchScope(branches, None if allow_all else user.branch)
    if raw == "all" and allow_all:
        return BranchScope(branches, None)
    match = next((b for b in branches if str(b.pk) == raw), None)
    if match is None:
        return BranchScope(branches, None if allow_all else user.branch, "There is no such branch.", 400)
    return BranchScope(branches, match)


def _render(request, template: str, context: dict, scope: BranchScope, partial: str | None = None):
    context = {"scope": scope, **context}
    if partial and request.htmx and not scope.error:
        template = f"{template}#{partial}"
    return render(request, template, context, status=scope.status)


def _days(request, default: int, allowed=(7, 14, 28, 30, 60, 90)) -> tuple[int, str]:
    raw = request.GET.get("days", "")
    if not raw:
        return default, ""
    try:
        days = int(raw)
    except ValueError:
        return default, "The period must be a number of days."
    if days not in allowed:
        return default, f"Choose a period of {', '.join(map(str, allowed))} days."
    return days, ""


# ---------------------------------------------------------------------------- analytics
@require_perm(Perm.VIEW_REPORTS)
def analytics_index(request):
    scope = _scope(request, allow_all=False)
    accuracy = analytics.forecast_accuracy(branch_id=scope.branch.pk) if not scope.error else None
    return _render(request, "reports/analytics/index.html", {"accuracy": accuracy}, scope)


@require_perm(Perm.VIEW_REPORTS)
def forecast_list(request):
    scope = _scope(request, allow_all=False)
    query = request.GET.get("q", "").strip()[:100]
    page = None
    accuracy = None
    if not scope.error:
        forecasts = analytics.forecast_list(branch_id=scope.branch.pk, query=query)
        page = Paginator(forecasts, PER_PAGE).get_page(request.GET.get("page"))
        accuracy = analytics.forecast_accuracy(branch_id=scope.branch.pk)
    context = {"page": page, "q": query, "accuracy": accuracy}
    return _render(request, "reports/analytics/forecasts.html", context, scope, partial="forecast-table")


@require_perm(Perm.MANAGE_PURCHASES)
def reorder(request):
    scope = _scope(request, allow_all=False)
    groups = [] if scope.error else analytics.reorder_suggestions(branch_id=scope.branch.pk)
    context = {"groups": groups, "lead_days": settings.REORDER_LEAD_DAYS, "cover_days": settings.REORDER_COVER_DAYS}
    return _render(request, "reports/analytics/reorder.html", context, scope)


@require_perm(Perm.MANAGE_PURCHASES)
@require_POST
def reorder_draft(request):
    """One supplier's suggestions → a draft purchase (inventory's purchase services do the writing)."""
    user = request.user
    supplier_raw = request.POST.get("supplier", "")
    supplier = Supplier.objects.filter(pk=supplier_raw, is_active=True).first() if supplier_raw.isdigit() else None
    branch_raw = request.POST.get("branch", "")
    branch = Branch.objects.filter(pk=branch_raw, is_active=True).first() if branch_raw.isdigit() else None
    back = "reports:analytics_reorder"
    if supplier is None or branch is None:
        messages.error(request, "Choose a supplier and a branch from the suggestions.")
        return redirect(back)
    if not user.sees_all_branches and branch.pk != user.branch_id:
        messages.error(request, "You can only order for your own branch.")
        return redirect(back)
    try:
        purchase = analytics.reorder_draft_purchase(user=user, branch=branch, supplier=supplier)
    except StockError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(request, f"Draft purchase {purchase.number} for {supplier.name}: check it and order.")
    return redirect(purchase.get_absolute_url())


@require_perm(Perm.VIEW_REPORTS)
def trends(request):
    scope = _scope(request, allow_all=True)
    days, error = _days(request, 28, allowed=(7, 14, 28, 56, 91))
    if error and not scope.error:
        scope.error, scope.status = error, 400
    rising, falling = ([], []) if scope.error else analytics.product_trends(branch_ids=scope.branch_ids, days=days)
    return _render(request, "reports/analytics/trends.html",
                   {"rising": rising, "falling": falling, "days": days, "day_choices": (7, 14, 28, 56, 91)}, scope)


@require_perm(Perm.VIEW_REPORTS)
def basket(request):
    scope = _scope(request, allow_all=True)
    page = None
    if not scope.error:
        page = Paginator(analytics.basket_pair_list(branch_ids=scope.branch_ids), PER_PAGE).get_page(
            request.GET.get("page")
        )
    return _render(request, "reports/analytics/basket.html", {"page": page}, scope)


@require_perm(Perm.VIEW_ANALYTICS)
def customers(request):
    scope = _scope(request, allow_all=True)
    segment = request.GET.get("segment", "")
    names = [name for name, _, _ in analytics.SEGMENTS]
    if segment and segment not in names and not scope.error:
        scope.error, scope.status = "There is no such segment.", 400
    scores = [] if scope.error else analytics.customer_segments(branch_ids=scope.branch_ids)
    summary = []
    for name, advice, _ in analytics.SEGMENTS:
        members = [c for c in scores if c.segment == name]
        summary.append({"name": name, "advice": advice, "count": len(members),
                        "spend": sum((c.monetary for c in members), analytics.ZERO)})
    shown = [c for c in scores if not segment or c.segment == segment][:100]
    context = {"summary": summary, "customers": shown, "segment": segment, "total": len(scores)}
    return _render(request, "reports/analytics/customers.html", context, scope)


@require_perm(Perm.VIEW_ANALYTICS)
def anomalies(request):
    scope = _scope(request, allow_all=True)
    days, error = _days(request, 30, allowed=(7, 30, 90))
    if error and not scope.error:
        scope.error, scope.status = error, 400
    end = analytics.local_today()
    start = end - dt.timedelta(days=days - 1)
    people = [] if scope.error else analytics.cashier_anomalies(branch_ids=scope.branch_ids, start=start, end=end)
    context = {
        "people": people, "days": days, "start": start, "end": end, "threshold": analytics.ANOMALY_Z,
        "labels": analytics.METRIC_LABELS, "day_choices": (7, 30, 90),
    }
    return _render(request, "reports/analytics/anomalies.html", context, scope)
