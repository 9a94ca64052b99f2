"""Read-only JSON of the reports and the dashboard (under /api/reports/), for accounting exports and apps.

The same filters, permissions, branch limits and selectors as the pages: `?preset=` (today, yesterday,
this_week, this_month, last_month, custom), `start`/`end` (YYYY-MM-DD) and `branch` (an id). Amounts are
strings with two decimals (never floats), dates ISO 8601.
"""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.roles import Perm
from reports import selectors
from reports.forms import ReportFilterForm
from reports.registry import REPORTS, reports_for


def plain(value):
    """JSON-safe without floats: Decimal → "12.50", dates → ISO, model rows → their id."""
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


class ColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=["text", "money", "qty", "int", "percent", "date"])


class ReportInfoSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()
    group = serializers.CharField()
    description = serializers.CharField()
    columns = ColumnSerializer(many=True)


class ReportResultSerializer(serializers.Serializer):
    report = serializers.SlugField()
    title = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    branch = serializers.IntegerField(
        allow_null=True, help_text="The branch asked for; null: every branch you may see."
    )
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(child=serializers.DictField(), help_text="One object per row, keyed by column; "
                                 "amounts are strings with two decimals.")
    totals = serializers.DictField(allow_null=True)


FILTER_PARAMETERS = [
    OpenApiParameter("preset", OpenApiTypes.STR, enum=["today", "yesterday", "this_week", "this_month", "last_month",
                                                       "custom"]),
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day (custom); at most 366 days to `end`."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day, included (custom)."),
    OpenApiParameter("branch", OpenApiTypes.INT, description="A branch you may see; none: all of them."),
]


def _filters(request) -> ReportFilterForm:
    form = ReportFilterForm(request.query_params or {"preset": "today"}, user=request.user)
    if not form.is_valid():
        raise serializers.ValidationError({field: list(errors) for field, errors in form.errors.items()})
    return form


class ReportListView(APIView):
    """The reports this user may open, with their columns."""

    @extend_schema(operation_id="reports_list", responses=ReportInfoSerializer(many=True))
    def get(self, request):
        if not request.user.has_perm(Perm.VIEW_REPORTS):
            raise PermissionDenied
        return Response(
            [
                {
                    "slug": r.slug,
                    "title": r.title,
                    "group": group,
                    "description": r.description,
                    "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in r.columns],
                }
                for group, reports in reports_for(request.user).items()
                for r in reports
            ]
        )


class ReportDetailView(APIView):
    """One report's rows and totals for the filters given."""

    @extend_schema(operation_id="reports_detail", parameters=FILTER_PARAMETERS, responses=ReportResultSerializer)
    def get(self, request, slug: str):
        if not request.user.has_perm(Perm.VIEW_REPORTS):
            raise PermissionDenied
        report = REPORTS.get(slug)
        if report is None:
            raise Http404
        if not request.user.has_perm(report.perm):
            raise PermissionDenied
        form = _filters(request)
        period = form.period()
        rows = report.fetch(period)
        return Response(
            {
                "report": report.slug,
                "title": report.title,
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
                "branch": form.cleaned_data["branch"].pk if form.cleaned_data.get("branch") else None,
                "columns": [c.key for c in report.columns],
                "rows": [plain({c.key: row.get(c.key) for c in report.columns}) for row in rows],
                "totals": plain(report.totals(rows)),
            }
        )


class DashboardView(APIView):
    """Today against the same weekday last week, sales by hour, top products, payment mix."""

    @extend_schema(
        operation_id="reports_dashboard",
        parameters=[FILTER_PARAMETERS[-1]],
        responses=OpenApiTypes.OBJECT,
        description="Profit and margin are only in the answer for those who may see profit (owners).",
    )
    def get(self, request):
        if not request.user.has_perm(Perm.VIEW_DASHBOARD):
            raise PermissionDenied
        form = ReportFilterForm({"preset": "today", "branch": request.query_params.get("branch", "")},
                                user=request.user)
        if not form.is_valid():
            raise serializers.ValidationError({field: list(errors) for field, errors in form.errors.items()})
        figures = selectors.dashboard(today=timezone.localdate(), branch_ids=form.period().branch_ids)
        days = {}
        for key in ("today", "week_ago"):
            day = figures[key]
            days[key] = {"day": day.day, "sales": day.sales, "count": day.count, "average": day.average}
            if request.user.has_perm(Perm.VIEW_PROFIT):
                days[key].update(profit=day.profit, margin=day.margin)
        return Response(
            plain(
                {
                    **days,
                    "changes": figures["changes"],
                    "hours": figures["hours"],
                    "top_products": [
                        {"product_id": p["product_id"], "name": p["product__name"], "quantity": p["units"],
                         "sales": p["sales"]}
                        for p in figures["top_products"]
                    ],
                    "payment_mix": [{"method": m["method"], "amount": m["amount"], "share": m["share"]}
                                    for m in figures["payment_mix"]],
                    "open_alerts": figures["alert_count"],
                    "open_sessions": [
                        {"id": s.pk, "cashier": s.cashier.full_name, "branch": s.branch.code, "opened_at": s.opened_at}
                        for s in figures["open_sessions"]
                    ],
                }
            )
        )


urlpatterns = [
    path("reports/", ReportListView.as_view(), name="reports-api-list"),
    path("reports/dashboard/", DashboardView.as_view(), name="reports-api-dashboard"),
    path("reports/<slug:slug>/", ReportDetailView.as_view(), name="reports-api-detail"),
]
