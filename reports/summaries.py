"""Writing the report summaries (reports/summary_models.py explains what they hold and why).

- `summaries_catch_up()`: sums every finished local day not yet summed, a month at a time (the Huey
  task `report_summaries_catch_up` runs it every 15 minutes; after midnight it sums yesterday; on a new
  install, or after `manage.py report_summaries --rebuild`, it works through the whole history);
- `summaries_sale_voided(sale)`: a completed sale of an already summed day was voided: its day and
  month are summed again for its branch, inside the void's own transaction;
- `summaries_rebuild()`: forget every summary and sum the whole history again (after bulk imports);
- `summaries_check()`: compare the summaries with the sales and movements they were summed from.

Every write takes the `SummaryState` row lock first, so a catch-up and a void never sum the same day
at once, and each reads what the other committed (READ COMMITTED on MariaDB, one writer on SQLite).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import structlog
from django.db import transaction
from django.db.models import Case, Count, DecimalField, F, Max, Min, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from cashdesk.models import Payment, PaymentStatus
from inventory.models import StockMovement
from pos.sales.models import Sale, SaleLine, SaleStatus
from reports.selectors import as_date, local_date, local_hour, local_offset
from reports.summary_models import (
    SUM_COST,
    SUM_MONEY,
    SUM_QTY,
    PaymentSummary,
    ProductSalesSummary,
    SalesHourSummary,
    Span,
    StockMovementSummary,
    SummaryState,
)

logger = structlog.get_logger(__name__)

COST = DecimalField(**SUM_COST)
MONEY = DecimalField(**SUM_MONEY)
QTY = DecimalField(**SUM_QTY)
ZERO = Decimal("0")
BATCH = 5000


def _start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def _branches(branch_ids, field: str = "branch_id") -> Q:
    return Q() if branch_ids is None else Q(**{f"{field}__in": branch_ids})


# ---------------------------------------------------------------------------- summing days
def _product_day_rows(first: dt.date, last: dt.date, branch_ids, product_ids=None) -> list[ProductSalesSummary]:
    offset = local_offset(_start(first))
    rows = (
        SaleLine.objects.filter(
            _branches(branch_ids, "sale__branch_id"),
            Q() if product_ids is None else Q(product_id__in=product_ids),
            sale__completed_at__gte=_start(first),
            sale__completed_at__lt=_start(last + dt.timedelta(days=1)),
            sale__status=SaleStatus.COMPLETED,
        )
        .annotate(day=local_date("sale__completed_at", offset), sale_branch=F("sale__branch_id"))
        .values("day", "sale_branch", "product_id", "tax_class", "tax_rate")
        .annotate(
            n=Count("id"),
            sum_units=Sum("quantity", output_field=QTY),
            sum_sales=Sum("line_total", output_field=MONEY),
            sum_vat=Sum("tax_amount", output_field=MONEY),
            sum_cost=Sum(F("quantity") * F("cost_price"), output_field=COST),
            last=Max("sale__completed_at"),
        )
        .order_by()
    )
    return [
        ProductSalesSummary(
            span=Span.DAY, starts_on=as_date(r["day"]), branch_id=r["sale_branch"], product_id=r["product_id"],
            tax_class=r["tax_class"], tax_rate=r["tax_rate"], lines=r["n"], units=r["sum_units"],
            sales=r["sum_sales"], vat=r["sum_vat"], cost=r["sum_cost"], last_sold_at=r["last"],
        )
        for r in rows.iterator(chunk_size=BATCH)
    ]


def _movement_day_rows(first: dt.date, last: dt.date, branch_ids) -> list[StockMovementSummary]:
    offset = local_offset(_start(first))
    rows = (
        StockMovement.objects.filter(
            _branches(branch_ids), created_at__gte=_start(first), created_at__lt=_start(last + dt.timedelta(days=1))
        )
        .annotate(day=local_date("created_at", offset))
        .values("day", "branch_id", "product_id", "kind")
        .annotate(
            n=Count("id"),
            sum_in=Coalesce(Sum(Case(When(quantity__gt=0, then=F("quantity")), default=Value(ZERO), output_field=QTY)),
                            Value(ZERO), output_field=QTY),
            sum_out=Coalesce(Sum(Case(When(quantity__lt=0, then=-F("quantity")), default=Value(ZERO),
                                      output_field=QTY)),
                             Value(ZERO), output_field=QTY),
            sum_cost=Coalesce(Sum(F("quantity") * Coalesce(F("unit_cost"), Value(ZERO)), output_field=COST),
                              Value(ZERO), output_field=COST),
        )
        .order_by()
    )
    return [
        StockMovementSummary(
            span=Span.DAY, starts_on=as_date(r["day"]), branch_id=r["branch_id"], product_id=r["product_id"],
            kind=r["kind"], movements=r["n"], quantity_in=r["sum_in"], quantity_out=r["sum_out"],
            cost_value=r["sum_cost"],
        )
        for r in rows.iterator(chunk_size=BATCH)
    ]


def _sales_hour_rows(first: dt.date, last: dt.date, branch_ids) -> list[SalesHourSummary]:
    offset = local_offset(_start(first))
    rows = (
        Sale.objects.filter(
            _branches(branch_ids),
            completed_at__gte=_start(first),
            completed_at__lt=_start(last + dt.timedelta(days=1)),
            status=SaleStatus.COMPLETED,
        )
        .annotate(day=local_date("completed_at", offset), hour=local_hour("completed_at", offset))
        .values("day", "hour", "branch_id", "cashier_id")
        .annotate(
            n=Count("id"),
            sum_total=Sum("total", output_field=MONEY),
            sum_discounts=Sum("discount_total", output_field=MONEY),
            sum_vat=Sum("tax_total", output_field=MONEY),
        )
        .order_by()
    )
    return [
        SalesHourSummary(
            day=as_date(r["day"]), hour=r["hour"], branch_id=r["branch_id"], cashier_id=r["cashier_id"], sales=r["n"],
            total=r["sum_total"], discounts=r["sum_discounts"], vat=r["sum_vat"],
        )
        for r in rows.iterator(chunk_size=BATCH)
    ]


def _payment_day_rows(first: dt.date, last: dt.date, branch_ids) -> list[PaymentSummary]:
    offset = local_offset(_start(first))
    rows = (
        Payment.objects.filter(
            _branches(branch_ids, "sale__branch_id"),
            sale__completed_at__gte=_start(first),
            sale__completed_at__lt=_start(last + dt.timedelta(days=1)),
            sale__status=SaleStatus.COMPLETED,
            status=PaymentStatus.CONFIRMED,
        )
        .annotate(day=local_date("sale__completed_at", offset), sale_branch=F("sale__branch_id"))
        .values("day", "sale_branch", "method")
        .annotate(
            n=Count("id"),
            n_sales=Count("sale_id", distinct=True),
            sum_amount=Sum(F("amount") - F("change_given"), output_field=MONEY),
        )
        .order_by()
    )
    return [
        PaymentSummary(
            day=as_date(r["day"]), branch_id=r["sale_branch"], method=r["method"], payments=r["n"],
            sales=r["n_sales"], amount=r["sum_amount"],
        )
        for r in rows.iterator(chunk_size=BATCH)
    ]


ALL_TABLES = ("products", "movements", "sales", "payments")
PRODUCT_FIGURES = {"lines": None, "units": QTY, "sales": MONEY, "vat": MONEY, "cost": COST}
MOVEMENT_FIGURES = {"movements": None, "quantity_in": QTY, "quantity_out": QTY, "cost_value": COST}
PRODUCT_KEY = ("product_id", "tax_class", "tax_rate")
MOVEMENT_KEY = ("product_id", "kind")


def _roll_up(model, source: Q, group: tuple[str, ...], figures: dict, latest: tuple[str, ...] = (), **fixed) -> None:
    """Write `model` rows summing the `source` rows of the same model per `group` (fixed fields set)."""
    sums = {f"s_{name}": Sum(name, output_field=field) if field else Sum(name) for name, field in figures.items()}
    sums.update({f"m_{name}": Max(name) for name in latest})
    rows = model.objects.filter(source).values(*group).annotate(**sums).order_by().iterator(chunk_size=BATCH)
    model.objects.bulk_create(
        (
            model(
                **fixed,
                **{g: r[g] for g in group},
                **{n: r[f"s_{n}"] for n in figures},
                **{n: r[f"m_{n}"] for n in latest},
            )
            for r in rows
        ),
        batch_size=BATCH,
    )


def _sum_days(first: dt.date, last: dt.date, *, branch_ids=None, product_ids=None, tables=ALL_TABLES) -> None:
    """Replace the day rows of `first`..`last` (both included) with sums of what is there now
    (only those of `branch_ids` and, for product sales, of `product_ids` when given)."""
    days = Q(span=Span.DAY, starts_on__gte=first, starts_on__lte=last) & _branches(branch_ids)
    plain = Q(day__gte=first, day__lte=last) & _branches(branch_ids)
    if "products" in tables:
        products = Q() if product_ids is None else Q(product_id__in=product_ids)
        ProductSalesSummary.objects.filter(days, products).delete()
        ProductSalesSummary.objects.bulk_create(
            _product_day_rows(first, last, branch_ids, product_ids), batch_size=BATCH
        )
    if "movements" in tables:
        StockMovementSummary.objects.filter(days).delete()
        StockMovementSummary.objects.bulk_create(_movement_day_rows(first, last, branch_ids), batch_size=BATCH)
    if "sales" in tables:
        SalesHourSummary.objects.filter(plain).delete()
        SalesHourSummary.objects.bulk_create(_sales_hour_rows(first, last, branch_ids), batch_size=BATCH)
    if "payments" in tables:
        PaymentSummary.objects.filter(plain).delete()
        PaymentSummary.objects.bulk_create(_payment_day_rows(first, last, branch_ids), batch_size=BATCH)


def _sum_month(month: dt.date, *, branch_ids=None, product_ids=None, tables=("products", "movements")) -> None:
    """Replace the month rows of `month` with the sums of its day rows: each branch's (of `branch_ids`
    when given) and every branch's together (day rows are kept per branch only). For product sales,
    only `product_ids`' rows when given."""
    month = month_start(month)
    in_month = Q(span=Span.DAY, starts_on__gte=month, starts_on__lte=month_end(month))
    the_month = Q(span=Span.MONTH, starts_on=month)
    for model, wanted, key, figures, latest in (
        (ProductSalesSummary, "products", PRODUCT_KEY, PRODUCT_FIGURES, ("last_sold_at",)),
        (StockMovementSummary, "movements", MOVEMENT_KEY, MOVEMENT_FIGURES, ()),
    ):
        if wanted not in tables:
            continue
        only = Q(product_id__in=product_ids) if product_ids is not None and wanted == "products" else Q()
        model.objects.filter(the_month, only, _branches(branch_ids)).delete()
        _roll_up(model, in_month & only & _branches(branch_ids), ("branch_id", *key), figures, latest,
                 span=Span.MONTH, starts_on=month)
        model.objects.filter(the_month, only, branch__isnull=True).delete()
        _roll_up(model, in_month & only, key, figures, latest, span=Span.MONTH, starts_on=month, branch=None)


# ---------------------------------------------------------------------------- the state
def _locked_state() -> SummaryState:
    """The state row, locked until the caller's transaction ends."""
    SummaryState.objects.get_or_create(pk=1)
    return SummaryState.objects.select_for_update().get(pk=1)


def summarized_through() -> dt.date | None:
    return SummaryState.objects.filter(pk=1).values_list("summarized_through", flat=True).first()


def _first_day() -> dt.date | None:
    """The first local day with a completed sale or a stock movement."""
    firsts = [
        Sale.objects.filter(status=SaleStatus.COMPLETED).aggregate(at=Min("completed_at"))["at"],
        StockMovement.objects.aggregate(at=Min("created_at"))["at"],
    ]
    firsts = [at for at in firsts if at is not None]
    return timezone.localtime(min(firsts)).date() if firsts else None


@dataclass(frozen=True)
class CatchUp:
    days: int
    through: dt.date | None


def summaries_catch_up(*, until: dt.date | None = None) -> CatchUp:
    """Sum every finished day after `summarized_through` up to `until` (default: yesterday).

    A month per transaction: the days, then the month's rows, then the state moves on, so a run cut
    short leaves the summaries whole up to the last month it finished.
    """
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    until = min(until or yesterday, yesterday)  # today is still selling: it is always read live
    summed = 0
    while True:
        with transaction.atomic():
            state = _locked_state()
            through = state.summarized_through
            if through is None:
                first = _first_day()
                if first is None or first > until:
                    # Nothing before `until` to sum: every day up to it is (trivially) summed.
                    state.summarized_through = until
                    state.save(update_fields=["summarized_through", "updated_at"])
                    return CatchUp(summed, until)
                start = first
            else:
                start = through + dt.timedelta(days=1)
            if start > until:
                return CatchUp(summed, through)
            last = min(month_end(start), until)
            _sum_days(start, last)
            _sum_month(start)
            state.summarized_through = last
            state.save(update_fields=["summarized_through", "updated_at"])
            summed += (last - start).days + 1
        logger.info("report summaries: summed %s..%s", start, last)


def summaries_rebuild() -> CatchUp:
    """Forget every summary and sum the whole history again (after data was loaded in bulk)."""
    with transaction.atomic():
        state = _locked_state()
        for model in (ProductSalesSummary, StockMovementSummary, SalesHourSummary, PaymentSummary):
            model.objects.all().delete()
        state.summarized_through = None
        state.save(update_fields=["summarized_through", "updated_at"])
    return summaries_catch_up()


def summaries_sale_voided(sale: Sale) -> bool:
    """A completed sale was voided: if its day is already summed, sum again what it touched — its
    products' rows of that day and month at its branch, and that day's sales and payments there. Runs
    inside the void's transaction (the figures change with the void or not at all; its stock comes
    back today, which is read live). Returns whether anything was summed."""
    if sale.completed_at is None:
        return False
    day = timezone.localtime(sale.completed_at).date()
    if (summarized_through() or dt.date.min) < day:
        return False  # today (or a day not summed yet) is read live
    with transaction.atomic():
        state = _locked_state()
        if state.summarized_through is None or state.summarized_through < day:
            return False
        branch = (sale.branch_id,)
        products = sorted(set(SaleLine.objects.filter(sale=sale).values_list("product_id", flat=True)))
        _sum_days(day, day, branch_ids=branch, product_ids=products, tables=("products", "sales", "payments"))
        _sum_month(day, branch_ids=branch, product_ids=products, tables=("products",))
    logger.info("report summaries: %s of branch %s summed again after sale %s was voided", day, sale.branch_id, sale.pk)
    return True


# ---------------------------------------------------------------------------- checking
def summaries_check(*, first: dt.date | None = None, last: dt.date | None = None) -> list[str]:
    """Differences between the summaries and the data they were summed from, day by day and month by
    month (an empty list: they agree). Reads only; a difference is mended by `summaries_rebuild()`."""
    through = summarized_through()
    if through is None:
        return []
    first = first or _first_day() or through
    last = min(last or through, through)
    if first > last:
        return []
    problems: list[str] = []

    def day_totals(rows, fields) -> dict:
        totals: dict = {}
        for row in rows:
            key = (row.starts_on if hasattr(row, "starts_on") else row.day, row.branch_id)
            total = totals.setdefault(key, [ZERO] * len(fields))
            for i, name in enumerate(fields):
                total[i] += Decimal(getattr(row, name))
        return {key: tuple(v) for key, v in totals.items()}

    checks = [
        ("product sales", ProductSalesSummary, _product_day_rows, ("lines", "units", "sales", "vat", "cost")),
        (
            "stock movements",
            StockMovementSummary,
            _movement_day_rows,
            ("movements", "quantity_in", "quantity_out", "cost_value"),
        ),
        ("sales by hour", SalesHourSummary, _sales_hour_rows, ("sales", "total", "discounts", "vat")),
        ("payments", PaymentSummary, _payment_day_rows, ("payments", "sales", "amount")),
    ]
    month = month_start(first)
    while month <= last:
        start, end = max(month, first), min(month_end(month), last)
        for label, model, build, fields in checks:
            expected = day_totals(build(start, end, None), fields)
            if hasattr(model, "span"):
                stored_rows = model.objects.filter(span=Span.DAY, starts_on__gte=start, starts_on__lte=end)
            else:
                stored_rows = model.objects.filter(day__gte=start, day__lte=end)
            stored = day_totals(stored_rows, fields)
            for key in sorted(set(expected) | set(stored), key=lambda k: (k[0], k[1] or 0)):
                if expected.get(key) != stored.get(key):
                    problems.append(
                        f"{label} {key[0]} branch {key[1] or 'all'}: summed {stored.get(key)}, now {expected.get(key)}"
                    )
            if hasattr(model, "span"):  # a month's row holds its summed days (the current month: so far)
                in_days: dict = {}
                zeros = (ZERO,) * len(fields)  # every total holds one figure per field: zip(strict=True) below
                for (_, branch), values in day_totals(
                    model.objects.filter(span=Span.DAY, starts_on__gte=month, starts_on__lte=month_end(month)), fields
                ).items():
                    in_days[branch] = tuple(a + b for a, b in zip(in_days.get(branch, zeros), values, strict=True))
                    # ... and every branch together, in the month's every-branch row
                    in_days[None] = tuple(a + b for a, b in zip(in_days.get(None, zeros), values, strict=True))
                in_month = {
                    b: v
                    for (_, b), v in day_totals(model.objects.filter(span=Span.MONTH, starts_on=month), fields).items()
                }
                for branch in sorted(set(in_days) | set(in_month), key=lambda b: b or 0):
                    if in_days.get(branch) != in_month.get(branch):
                        problems.append(
                            f"{label} month {month:%Y-%m} branch {branch or 'all'}: "
                            f"month row {in_month.get(branch)}, days {in_days.get(branch)}"
                        )
        month = month_end(month) + dt.timedelta(days=1)
    return problems
