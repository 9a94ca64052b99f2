"""Reads for the reports and the dashboard: every figure is aggregated by the database.

Each report selector takes a `Period` (local dates, both included, and the branches to count) and
returns a list of plain dicts, one per row, with Decimal money rounded to the cent. Reads go through
`use_replica()`, so a chain's reports never slow its tills down.

Local days and hours: Africa/Nairobi has had no daylight saving since 1960, so "local time" is the
stored UTC time plus a fixed offset. Adding that offset in SQL and bucketing in UTC works the same on
SQLite and on MariaDB (whose CONVERT_TZ needs time-zone tables a managed server may not have) and
keeps the range filter on the raw, indexed column.

Which sales count: completed ones (a sale voided after completion no longer counts). Returns are
credit notes of their own day: the VAT report and the day report take them off.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    DecimalField,
    ExpressionWrapper,
    F,
    Max,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, ExtractHour, TruncDate
from django.utils import timezone

from cashdesk.models import CashSession, Payment, PaymentMethod, PaymentStatus, SessionStatus
from core.money import ZERO, money
from core.ops.db_router import use_replica
from inventory.models import Category, MovementKind, Product, StockAlert, StockLevel, StockMovement, TaxClass
from pos.customers.models import Customer, LoyaltyEntry, LoyaltyKind
from pos.people.models import AuditLog, User
from pos.sales.models import Refund, Sale, SaleLine, SaleReturnLine, SaleStatus
from reports.summary_models import (
    PaymentSummary,
    ProductSalesSummary,
    SalesHourSummary,
    Span,
    StockMovementSummary,
    SummaryState,
)

MONEY = DecimalField(max_digits=14, decimal_places=2)
QTY = DecimalField(max_digits=14, decimal_places=3)
COST = DecimalField(max_digits=20, decimal_places=5)  # quantity × unit cost, unrounded until the row is shown
UTC = dt.UTC


@dataclass(frozen=True)
class Period:
    """What a report covers: local dates `start`..`end` (both included) and the branches counted.

    `branch_ids` None means every branch (only for a viewer who may see them all; the view decides).
    """

    start: dt.date
    end: dt.date
    branch_ids: tuple[int, ...] | None = None

    @property
    def start_at(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.start, dt.time.min))

    @property
    def end_before(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def branches(self, field: str = "branch_id") -> Q:
        return Q() if self.branch_ids is None else Q(**{f"{field}__in": self.branch_ids})

    def between(self, field: str) -> Q:
        return Q(**{f"{field}__gte": self.start_at, f"{field}__lt": self.end_before})


def local_offset(when: dt.datetime | None = None) -> dt.timedelta:
    """The shop's UTC offset (+3 h in Nairobi, all year)."""
    when = when or timezone.now()
    return timezone.localtime(when).utcoffset() or dt.timedelta(0)


def _local(field: str, offset: dt.timedelta) -> ExpressionWrapper:
    return ExpressionWrapper(F(field) + Value(offset), output_field=DateTimeField())


def local_date(field: str, offset: dt.timedelta) -> TruncDate:
    return TruncDate(_local(field, offset), tzinfo=UTC)


def local_hour(field: str, offset: dt.timedelta) -> ExtractHour:
    return ExtractHour(_local(field, offset), tzinfo=UTC)


def _sum(expression, output=MONEY) -> Coalesce:
    return Coalesce(Sum(expression, output_field=output), Value(ZERO), output_field=output)


def as_date(value) -> dt.date:
    """A computed TruncDate as a date (SQLite hands it back as a string when the expression inside is
    computed)."""
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _money_rows(rows: list[dict], *keys: str) -> list[dict]:
    for row in rows:
        for key in keys:
            row[key] = money(row[key] or ZERO)
    return rows


def margin_percent(profit: Decimal, revenue: Decimal) -> Decimal | None:
    if not revenue:
        return None
    return (profit * 100 / revenue).quantize(Decimal("0.1"))


def _completed_sales(period: Period):
    return Sale.objects.filter(period.between("completed_at"), period.branches(), status=SaleStatus.COMPLETED)


def _sold_lines(period: Period):
    return SaleLine.objects.filter(
        period.between("sale__completed_at"), period.branches("sale__branch_id"), sale__status=SaleStatus.COMPLETED
    )


# The money in one group of sale lines: VAT-inclusive sales, VAT, sales before VAT, cost, profit.
def line_figures() -> dict:
    # Named `units`, not `quantity`: an annotation named like a field would shadow it in `cost`.
    return {
        "units": _sum("quantity", QTY),
        "sales": _sum("line_total"),
        "vat": _sum("tax_amount"),
        "cost": _sum(F("quantity") * F("cost_price"), COST),
    }


def _line_rows(rows: list[dict]) -> list[dict]:
    for row in rows:
        row["sales"] = money(row["sales"])
        row["vat"] = money(row["vat"])
        row["cost"] = money(row["cost"])
        row["net_sales"] = row["sales"] - row["vat"]
        row["profit"] = row["net_sales"] - row["cost"]
        row["margin"] = margin_percent(row["profit"], row["net_sales"])
    return rows


# ---------------------------------------------------------------------------- summaries and live days
# Days up to `SummaryState.summarized_through` are read from the summaries (reports/summary_models.py):
# whole calendar months from the month rows, the days at either end from the day rows. Later days
# (today always) are read live from the sales, so a report is never behind the till.
@dataclass(frozen=True)
class Parts:
    day_ranges: tuple[tuple[dt.date, dt.date], ...] = ()
    months: tuple[dt.date, ...] = ()
    summed: tuple[dt.date, dt.date] | None = None  # first and last summed day in the period
    live: Period | None = None  # the days after them

    def summary_q(self, branch_ids: tuple[int, ...] | None) -> Q:
        """The rows of a day/month summary (`span`, `starts_on`, `branch`) that make up the summed days
        of these branches. Every branch (None): the months' every-branch rows, and the branches' own
        day rows (day rows are kept per branch only)."""

        branches = Q() if branch_ids is None else Q(branch_id__in=branch_ids)
        q = Q(pk__in=[])
        for first, last in self.day_ranges:
            q |= Q(branches, span=Span.DAY, starts_on__gte=first, starts_on__lte=last)
        if self.months:
            together = Q(branch__isnull=True) if branch_ids is None else branches
            q |= Q(together, span=Span.MONTH, starts_on__in=self.months)
        return q

    def days_q(self, field: str = "day") -> Q:
        """The rows of a day-only summary that make up the summed days."""
        first, last = self.summed
        return Q(**{f"{field}__gte": first, f"{field}__lte": last})


def _month_end(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def period_parts(period: Period) -> Parts:

    through = SummaryState.objects.filter(pk=1).values_list("summarized_through", flat=True).first()
    if through is None or period.start > through:
        return Parts(live=period)
    last = min(period.end, through)
    live = (
        Period(start=through + dt.timedelta(days=1), end=period.end, branch_ids=period.branch_ids)
        if period.end > through
        else None
    )
    ranges: list[tuple[dt.date, dt.date]] = []
    months: list[dt.date] = []
    day = period.start
    while day <= last:
        end_of_month = _month_end(day)
        # A month's row holds its summed days: the whole month, or (the current month) up to `through`.
        if day.day == 1 and min(end_of_month, through) <= last:
            months.append(day)
            day = min(end_of_month, through) + dt.timedelta(days=1)
            continue
        stop = min(end_of_month, last)
        if ranges and ranges[-1][1] == day - dt.timedelta(days=1):
            ranges[-1] = (ranges[-1][0], stop)
        else:
            ranges.append((day, stop))
        day = stop + dt.timedelta(days=1)
    return Parts(day_ranges=tuple(ranges), months=tuple(months), summed=(period.start, last), live=live)


def _merged(sources, keys: tuple[str, ...], sums: tuple[str, ...], latest: tuple[str, ...] = ()) -> list[dict]:
    """Rows of several sources with the same `keys` added together (`sums`) or the latest kept."""
    out: dict = {}
    for rows in sources:
        for row in rows:
            key = tuple(row[k] for k in keys)
            have = out.get(key)
            if have is None:
                out[key] = dict(row)
                continue
            for name in sums:
                if row[name] is not None:
                    have[name] = row[name] if have[name] is None else have[name] + row[name]
            for name in latest:
                if row[name] is not None and (have[name] is None or row[name] > have[name]):
                    have[name] = row[name]
    return list(out.values())


def _renamed(rows, names: dict[str, str]) -> list[dict]:
    """Summary rows are annotated under other names (an annotation may not shadow a field); counts
    (`n…`) come back from MariaDB's SUM as Decimal and are made whole numbers again."""
    return [{names.get(k, k): int(v) if k.startswith("n") else v for k, v in row.items()} for row in rows]


LINE_SUMS = ("lines", "units", "sales", "vat", "cost")


def product_sales(
    period: Period,
    keys: tuple[str, ...] = ("product_id",),
    *,
    figures: tuple[str, ...] = LINE_SUMS,
    last_sold: bool = False,
) -> list[dict]:
    """Sold lines grouped by `keys` (of product_id, tax_class, tax_rate): `figures` (of lines, units,
    sales, vat, cost — unrounded) and, with `last_sold`, last_sold_at, from the summaries and the live days."""

    summed = {
        "lines": ("n", Coalesce(Sum("lines"), Value(0))),
        "units": ("s_units", _sum("units", QTY)),
        "sales": ("s_sales", _sum("sales")),
        "vat": ("s_vat", _sum("vat")),
        "cost": ("s_cost", _sum("cost", COST)),
    }
    live = {"lines": Count("id"), **line_figures()}
    if last_sold:
        summed["last_sold_at"] = ("s_last", Max("last_sold_at"))
        live["last_sold_at"] = Max("sale__completed_at")
    wanted = (*figures, "last_sold_at") if last_sold else figures
    sources = []
    with use_replica():
        parts = period_parts(period)  # from the same database as the summaries it points to
        if parts.summed:
            sources.append(_renamed(
                ProductSalesSummary.objects.filter(parts.summary_q(period.branch_ids))
                .values(*keys)
                .annotate(**{summed[name][0]: summed[name][1] for name in wanted})
                .order_by(),
                {alias: name for name, (alias, _) in summed.items()},
            ))
        if parts.live:
            sources.append(
                _sold_lines(parts.live).values(*keys).annotate(**{name: live[name] for name in wanted}).order_by()
            )
        return _merged(sources, keys, figures, ("last_sold_at",) if last_sold else ())


SALE_SUMS = ("count", "sales", "discounts", "vat")


def sale_totals(period: Period, keys: tuple[str, ...]) -> list[dict]:
    """Completed sales grouped by `keys` (of day, hour, cashier_id): count, sales, discounts, VAT."""

    sources = []
    with use_replica():
        parts = period_parts(period)  # from the same database as the summaries it points to
        if parts.summed:
            sources.append(_renamed(
                SalesHourSummary.objects.filter(parts.days_q(), period.branches())
                .values(*keys)
                .annotate(
                    n=Coalesce(Sum("sales"), Value(0)),
                    s_sales=_sum("total"),
                    s_discounts=_sum("discounts"),
                    s_vat=_sum("vat"),
                )
                .order_by(),
                {"n": "count", "s_sales": "sales", "s_discounts": "discounts", "s_vat": "vat"},
            ))
        if parts.live:
            offset = local_offset(parts.live.start_at)
            live = _completed_sales(parts.live)
            if "day" in keys:
                live = live.annotate(day=local_date("completed_at", offset))
            if "hour" in keys:
                live = live.annotate(hour=local_hour("completed_at", offset))
            rows = list(
                live.values(*keys)
                .annotate(
                    count=Count("id"), sales=_sum("total"), discounts=_sum("discount_total"), vat=_sum("tax_total")
                )
                .order_by()
            )
            if "day" in keys:
                for row in rows:
                    row["day"] = as_date(row["day"])
            sources.append(rows)
        return _merged(sources, keys, SALE_SUMS)


# ---------------------------------------------------------------------------- sales
def sales_by_day(*, period: Period) -> list[dict]:
    """One row per local day that had sales or returns: sales, discounts, VAT, returns, net."""
    offset = local_offset(period.start_at)
    sales = {row["day"]: row for row in sale_totals(period, ("day",))}
    with use_replica():
        returns = {
            as_date(row["day"]): row["returns"]
            for row in SaleReturnLine.objects.filter(
                period.between("sale_return__created_at"), period.branches("sale_return__branch_id")
            )
            .annotate(day=local_date("sale_return__created_at", offset))
            .values("day")
            .annotate(returns=_sum("amount"))
        }
    rows = []
    for day in sorted(set(sales) | set(returns)):
        row = sales.get(day, {})
        sold = money(row.get("sales", ZERO))
        returned = money(returns.get(day, ZERO))
        count = row.get("count", 0)
        rows.append(
            {
                "day": day,
                "count": count,
                "sales": sold,
                "discounts": money(row.get("discounts", ZERO)),
                "vat": money(row.get("vat", ZERO)),
                "returns": returned,
                "net": sold - returned,
                "average": money(sold / count) if count else ZERO,
            }
        )
    return rows


def sales_by_product(*, period: Period) -> list[dict]:
    # Summed by the product id alone, names fetched after: grouping a year of lines by id, SKU and name
    # makes MariaDB build a temporary table twice as wide and takes twice as long (bench/README.md).
    rows = product_sales(period)
    with use_replica():
        names = _product_names([row["product_id"] for row in rows])
    for row in rows:
        row["product__sku"], row["product__name"] = names.get(row["product_id"], ("", "?"))
    rows.sort(key=lambda r: (-r["sales"], r["product__name"]))
    return _line_rows(rows)


def _product_names(ids: list[int]) -> dict[int, tuple[str, str]]:

    qs = Product.objects.all() if len(ids) > 2000 else Product.objects.filter(pk__in=ids)
    wanted = set(ids)
    return {pk: (sku, name) for pk, sku, name in qs.values_list("pk", "sku", "name") if pk in wanted}


def sales_by_category(*, period: Period) -> list[dict]:
    """Summed per product by the database, then the (at most a few thousand) product rows per category
    here: joining a year of lines to products and categories made MariaDB pick a plan that walked the
    lines product by product, twenty times slower (bench/README.md)."""

    per_product = product_sales(period)
    with use_replica():
        ids = [row["product_id"] for row in per_product]
        qs = Product.objects.all() if len(ids) > 2000 else Product.objects.filter(pk__in=ids)
        category_of = dict(qs.values_list("pk", "category_id"))
        names = dict(Category.objects.values_list("pk", "name"))
    totals: dict[int, dict] = {}
    for row in per_product:
        category_id = category_of.get(row["product_id"])
        total = totals.setdefault(
            category_id,
            {"product__category_id": category_id, "product__category__name": names.get(category_id, "?"),
             "lines": 0, "units": Decimal("0"), "sales": ZERO, "vat": ZERO, "cost": ZERO},
        )
        for key in LINE_SUMS:
            total[key] += row[key]
    rows = sorted(totals.values(), key=lambda r: (-r["sales"], r["product__category__name"]))
    return _line_rows(rows)


def sales_by_cashier(*, period: Period) -> list[dict]:

    rows = sale_totals(period, ("cashier_id",))
    with use_replica():
        names = dict(User.objects.filter(pk__in=[row["cashier_id"] for row in rows]).values_list("pk", "full_name"))
    for row in _money_rows(rows, "sales", "discounts", "vat"):
        row["cashier__full_name"] = names.get(row["cashier_id"], "?")
        row["average"] = money(row["sales"] / row["count"]) if row["count"] else ZERO
    rows.sort(key=lambda r: (-r["sales"], r["cashier__full_name"]))
    return rows


def sales_by_payment_method(*, period: Period) -> list[dict]:
    """What came in by each method for the period's sales: amount handed over less change."""

    labels = dict(PaymentMethod.choices)
    sources = []
    with use_replica():
        parts = period_parts(period)  # from the same database as the summaries it points to
        if parts.summed:
            sources.append(_renamed(
                PaymentSummary.objects.filter(parts.days_q(), period.branches())
                .values("method")
                .annotate(n=Coalesce(Sum("payments"), Value(0)),
                           n_sales=Coalesce(Sum("sales"), Value(0)), s_amount=_sum("amount"))
                .order_by(),
                {"n": "count", "n_sales": "sales", "s_amount": "amount"},
            ))
        if parts.live:
            live = parts.live
            sources.append(
                Payment.objects.filter(
                    live.between("sale__completed_at"),
                    live.branches("sale__branch_id"),
                    sale__status=SaleStatus.COMPLETED,
                    status=PaymentStatus.CONFIRMED,
                )
                .values("method")
                .annotate(
                    count=Count("id"),
                    sales=Count("sale_id", distinct=True),
                    amount=_sum(F("amount") - F("change_given")),
                )
                .order_by()
            )
        # A sale belongs to one day, so the sales counted per day add up without counting one twice.
        rows = _merged(sources, ("method",), ("count", "sales", "amount"))
    rows = _money_rows(rows, "amount")
    rows.sort(key=lambda r: -r["amount"])
    total = sum((r["amount"] for r in rows), ZERO)
    for row in rows:
        row["label"] = labels.get(row["method"], row["method"])
        row["share"] = margin_percent(row["amount"], total)
    return rows


def sales_by_hour(*, period: Period) -> list[dict]:
    """Sales per local hour of the day, summed over the period's days (all 24 hours listed)."""
    found = {row["hour"]: row for row in sale_totals(period, ("hour",))}
    rows = []
    for hour in range(24):
        row = found.get(hour, {})
        count = row.get("count", 0)
        sales = money(row.get("sales", ZERO))
        rows.append(
            {
                "hour": hour,
                "label": f"{hour:02d}:00–{hour:02d}:59",
                "count": count,
                "sales": sales,
                "average": money(sales / count) if count else ZERO,
            }
        )
    return rows


def profit_by_product(*, period: Period) -> list[dict]:
    """Margin from the cost snapshotted on each line when it was sold (not today's cost)."""
    return sales_by_product(period=period)


# ---------------------------------------------------------------------------- VAT
def vat_by_tax_class(*, period: Period) -> list[dict]:
    """Per tax class: sales (VAT included), taxable amount and VAT, less credit notes of the period."""
    sold = {
        row["tax_class"]: row
        for row in _merged([product_sales(period, ("tax_class", "tax_rate"))], ("tax_class",), LINE_SUMS)
    }
    with use_replica():
        returned = {
            row["sale_line__tax_class"]: row
            for row in SaleReturnLine.objects.filter(
                period.between("sale_return__created_at"), period.branches("sale_return__branch_id")
            )
            .values("sale_line__tax_class")
            .annotate(gross=_sum("amount"), vat=_sum("tax_amount"))
        }
    labels = dict(TaxClass.choices)
    rows = []
    for tax_class in sorted(set(sold) | set(returned)):
        s = sold.get(tax_class, {})
        r = returned.get(tax_class, {})
        gross = money(s.get("sales", ZERO)) - money(r.get("gross", ZERO))
        vat = money(s.get("vat", ZERO)) - money(r.get("vat", ZERO))
        rows.append(
            {
                "tax_class": tax_class,
                "label": labels.get(tax_class, tax_class),
                "sales": money(s.get("sales", ZERO)),
                "returns": money(r.get("gross", ZERO)),
                "gross": gross,
                "taxable": gross - vat,
                "vat": vat,
            }
        )
    return rows


# ---------------------------------------------------------------------------- stock
def inventory_valuation(*, period: Period) -> list[dict]:
    """Stock on hand now, at today's cost and at today's selling price (the period's dates do not apply)."""
    with use_replica():
        rows = list(
            StockLevel.objects.filter(period.branches(), product__track_stock=True)
            .exclude(quantity=0)
            .values("product_id", "product__sku", "product__name", "product__category__name")
            .annotate(
                on_hand=_sum("quantity", QTY),
                cost_value=_sum(F("quantity") * F("product__cost_price")),
                retail_value=_sum(F("quantity") * F("product__selling_price")),
            )
            .order_by("-cost_value", "product__name")
        )
    return _money_rows(rows, "cost_value", "retail_value")


def slow_movers(*, period: Period, limit: int = 500) -> list[dict]:
    """Products in stock that sold little or nothing in the period: dead stock first, then the slowest.

    Two grouped queries (stock per product, sales per product) merged here: a correlated subquery per
    product is far slower on MariaDB with a year of lines.
    """

    with use_replica():
        # Grouped by the product id alone and named after (as sales by product): a narrower temporary table.
        stock = list(
            StockLevel.objects.filter(period.branches(), product__track_stock=True, quantity__gt=0)
            .values("product_id")
            .annotate(on_hand=_sum("quantity", QTY), cost_value=_sum(F("quantity") * F("product__cost_price")))
            .order_by()
        )
        ids = [row["product_id"] for row in stock]
        qs = Product.objects.all() if len(ids) > 2000 else Product.objects.filter(pk__in=ids)
        names = {pk: rest for pk, *rest in qs.values_list("pk", "sku", "name", "category__name")}
    for row in stock:
        row["product__sku"], row["product__name"], row["product__category__name"] = names.get(
            row["product_id"], ("", "?", None)
        )
    sold = {row["product_id"]: row for row in product_sales(period, figures=("units",), last_sold=True)}
    for row in stock:
        found = sold.get(row["product_id"], {})
        row["sold"] = found.get("units") or Decimal("0")
        row["last_sold"] = found.get("last_sold_at")
        row["cost_value"] = money(row["cost_value"])
        row["status"] = "Dead stock" if not row["sold"] else "Slow"
        row["days_of_stock"] = (
            (row["on_hand"] * period.days / row["sold"]).quantize(Decimal("1")) if row["sold"] else None
        )
    # Slowest first: nothing sold, then the most days of stock left at the period's pace.
    stock.sort(key=lambda r: (r["sold"] > 0, -(r["days_of_stock"] or 0), -r["cost_value"], r["product__name"]))
    stock = stock[:limit]
    for row in stock:  # the local day of the last sale, for the rows shown only
        row["last_sold"] = timezone.localtime(row["last_sold"]).date() if row["last_sold"] else None
    return stock[:limit]


def stock_movement_summary(*, period: Period) -> list[dict]:
    """Per kind of movement: how many, how many products, quantity in and out, value at cost."""

    labels = dict(MovementKind.choices)
    sources = []
    products: dict[str, int] = {}
    with use_replica():
        parts = period_parts(period)  # from the same database as the summaries it points to
        if parts.summed:
            summary = StockMovementSummary.objects.filter(parts.summary_q(period.branch_ids))
            sources.append(_renamed(
                summary.values("kind")
                .annotate(
                    n=Coalesce(Sum("movements"), Value(0)),
                    n_products=Count("product_id", distinct=True),
                    s_in=_sum("quantity_in", QTY),
                    s_out=_sum("quantity_out", QTY),
                    s_cost=_sum("cost_value", COST),
                )
                .order_by(),
                {
                    "n": "count",
                    "n_products": "products",
                    "s_in": "quantity_in",
                    "s_out": "quantity_out",
                    "s_cost": "cost_value",
                },
            ))
        if parts.live:
            live = StockMovement.objects.filter(parts.live.between("created_at"), parts.live.branches())
            rows = list(
                live.values("kind")
                .annotate(
                    count=Count("id"),
                    products=Count("product_id", distinct=True),
                    quantity_in=_sum(
                        Case(When(quantity__gt=0, then=F("quantity")), default=Value(ZERO), output_field=QTY), QTY
                    ),
                    quantity_out=_sum(
                        Case(When(quantity__lt=0, then=-F("quantity")), default=Value(ZERO), output_field=QTY), QTY
                    ),
                    cost_value=_sum(F("quantity") * Coalesce(F("unit_cost"), Value(ZERO)), COST),
                )
                .order_by()
            )
            sources.append(rows)
            if parts.summed:
                # A product that moved on both sides of the line is one product: take off those counted
                # twice (the live days are today, a few hundred pairs at most).
                live_pairs = set(live.values_list("kind", "product_id").distinct())
                for kind, _product in summary.filter(product_id__in={p for _, p in live_pairs}).values_list(
                    "kind", "product_id"
                ).distinct():
                    if (kind, _product) in live_pairs:
                        products[kind] = products.get(kind, 0) + 1
        rows = _merged(sources, ("kind",), ("count", "products", "quantity_in", "quantity_out", "cost_value"))
    for row in _money_rows(rows, "cost_value"):
        row["products"] -= products.get(row["kind"], 0)
        row["label"] = labels.get(row["kind"], row["kind"])
    rows.sort(key=lambda r: r["kind"])
    return rows


# ---------------------------------------------------------------------------- cash and exceptions
def cash_sessions_by_cashier(*, period: Period) -> list[dict]:
    """Sessions closed in the period, per cashier: count, over, short, net difference, worst short."""
    with use_replica():
        rows = list(
            CashSession.objects.filter(period.between("closed_at"), period.branches(), status=SessionStatus.CLOSED)
            .values("cashier_id", "cashier__full_name")
            .annotate(
                sessions=Count("id"),
                expected=_sum("expected_cash"),
                counted=_sum("closing_total"),
                over=_sum(Case(When(difference__gt=0, then=F("difference")), default=Value(ZERO))),
                short=_sum(Case(When(difference__lt=0, then=-F("difference")), default=Value(ZERO))),
                net=_sum("difference"),
                short_sessions=Count("id", filter=Q(difference__lt=0)),
                approved=Count("id", filter=Q(close_approved_by__isnull=False)),
            )
            .order_by("cashier__full_name")
        )
    return _money_rows(rows, "expected", "counted", "over", "short", "net")


EXCEPTION_ACTIONS = {
    "line_voids": "line_void",
    "sale_voids": "sale_void",
    "price_overrides": "price_override",
    "discounts": "discount",
    "refunds": "refund",
}


def exceptions_by_cashier(*, period: Period) -> list[dict]:
    """Voids, refunds, price overrides and discounts per member of staff (counts from the audit log,
    amounts from the sales they rang up)."""
    with use_replica():
        counts = {
            row["user_id"]: row
            for row in AuditLog.objects.filter(
                period.between("created_at"), period.branches(), action__in=EXCEPTION_ACTIONS.values(),
                user__isnull=False,
            )
            .values("user_id", "user__full_name")
            .annotate(**{key: Count("id", filter=Q(action=action)) for key, action in EXCEPTION_ACTIONS.items()})
        }
        # Voided sales are few: read live. Completed ones come from the summaries where they can.
        voided = {
            row["cashier_id"]: row
            for row in Sale.objects.filter(period.between("completed_at"), period.branches(), status=SaleStatus.VOIDED)
            .values("cashier_id")
            .annotate(sales=Count("id"), discount_amount=_sum("discount_total"), voided_amount=_sum("total"))
            .order_by()
        }
        overrides = {
            row["sale__cashier_id"]: row["override_amount"]
            for row in SaleLine.objects.filter(
                period.between("sale__completed_at"), period.branches("sale__branch_id"),
                sale__status=SaleStatus.COMPLETED, price_overridden_by__isnull=False,
            )
            .values("sale__cashier_id")
            .annotate(override_amount=_sum((F("list_price") - F("unit_price")) * F("quantity")))
        }
        refunds = {
            row["refunded_by_id"]: row["refund_amount"]
            for row in Refund.objects.filter(period.between("created_at"), period.branches())
            .values("refunded_by_id")
            .annotate(refund_amount=_sum("amount"))
        }
    completed = {row["cashier_id"]: row for row in sale_totals(period, ("cashier_id",))}
    people = set(counts) | set(completed) | set(voided) | set(refunds)

    with use_replica():
        names = dict(User.objects.filter(pk__in=people).values_list("pk", "full_name"))
    rows = []
    for user_id in people:
        c = counts.get(user_id, {})
        done = completed.get(user_id, {})
        void = voided.get(user_id, {})
        row = {
            "user_id": user_id, "name": names.get(user_id, "?"), "sales": done.get("count", 0) + void.get("sales", 0)
        }
        row.update({key: c.get(key, 0) for key in EXCEPTION_ACTIONS})
        row["discount_amount"] = money(done.get("discounts", ZERO)) + money(void.get("discount_amount", ZERO))
        row["override_amount"] = money(overrides.get(user_id, ZERO))
        row["voided_amount"] = money(void.get("voided_amount", ZERO))
        row["refund_amount"] = money(refunds.get(user_id, ZERO))
        rows.append(row)
    return sorted(rows, key=lambda r: r["name"])


# ---------------------------------------------------------------------------- customers
def top_customers(*, period: Period, limit: int = 100) -> list[dict]:
    with use_replica():
        rows = list(
            _completed_sales(period)
            .filter(customer__isnull=False)
            .values("customer_id", "customer__name", "customer__phone_number")
            .annotate(count=Count("id"), sales=_sum("total"), last_sale=Max("completed_at"))
            .order_by("-sales", "customer__name")[:limit]
        )
    for row in _money_rows(rows, "sales"):
        row["average"] = money(row["sales"] / row["count"]) if row["count"] else ZERO
        row["last_sale"] = timezone.localtime(row["last_sale"]).date() if row["last_sale"] else None
    return rows


AGE_BUCKETS = [("age_0_30", 0, 30), ("age_31_60", 31, 60), ("age_61_90", 61, 90), ("age_over_90", 91, None)]


def customer_balances(*, period: Period) -> list[dict]:
    """Who owes the shop now, aged by when the on-account sales were made (as of the period's end).

    Receipts are not always allocated to a sale, so the balance is aged first in, first out: what a
    customer still owes is taken to be their most recent on-account sales.
    """
    as_of = period.end_before
    with use_replica():
        customers = list(
            Customer.objects.filter(balance__gt=0)
            .values("id", "name", "phone_number", "balance", "credit_limit")
            .order_by("-balance", "name")
        )
        ids = [c["id"] for c in customers]
        buckets: dict[int, dict[str, Decimal]] = {}
        if ids:
            cases = {}
            for key, low, high in AGE_BUCKETS:
                q = Q(sale__completed_at__lte=as_of - dt.timedelta(days=low))
                if high is not None:
                    q &= Q(sale__completed_at__gt=as_of - dt.timedelta(days=high + 1))
                cases[key] = _sum(Case(When(q, then=F("amount")), default=Value(ZERO)))
            for row in (
                Payment.objects.filter(
                    period.branches("sale__branch_id"),
                    sale__customer_id__in=ids,
                    sale__status=SaleStatus.COMPLETED,
                    method=PaymentMethod.CUSTOMER_CREDIT,
                    status=PaymentStatus.CONFIRMED,
                    sale__completed_at__lt=as_of,
                )
                .values("sale__customer_id")
                .annotate(**cases)
            ):
                buckets[row["sale__customer_id"]] = row
    rows = []
    for customer in customers:
        left = money(customer["balance"])
        row = {
            "customer_id": customer["id"],
            "name": customer["name"],
            "phone_number": customer["phone_number"] or "",
            "credit_limit": money(customer["credit_limit"]),
            "balance": left,
        }
        found = buckets.get(customer["id"], {})
        for key, _low, _high in AGE_BUCKETS:  # newest first
            owed_here = min(left, money(found.get(key, ZERO)))
            row[key] = owed_here
            left -= owed_here
        row["age_over_90"] += left  # owed from before any sale we know of (opening balances)
        if period.branch_ids is not None and not found:
            continue  # a branch's report shows the customers who bought on account there
        rows.append(row)
    return rows


def loyalty_summary(*, period: Period, limit: int = 200) -> list[dict]:
    """Loyalty points per customer: earned, redeemed (and its KES value) in the period, balance now."""
    with use_replica():
        rows = list(
            LoyaltyEntry.objects.filter(period.between("created_at"), period.branches("sale__branch_id"))
            .values("customer_id", "customer__name", "customer__loyalty_points")
            .annotate(
                earned=_sum(
                    Case(When(kind=LoyaltyKind.EARNED, then=F("points")), default=Value(ZERO), output_field=QTY), QTY
                ),
                redeemed=_sum(
                    Case(When(kind=LoyaltyKind.REDEEMED, then=-F("points")), default=Value(ZERO), output_field=QTY), QTY
                ),
                redeemed_value=_sum(Case(When(kind=LoyaltyKind.REDEEMED, then=F("amount")), default=Value(ZERO))),
                taken_back=_sum(
                    Case(When(kind__in=[LoyaltyKind.TAKEN_BACK, LoyaltyKind.GIVEN_BACK], then=F("points")),
                         default=Value(ZERO), output_field=QTY),
                    QTY,
                ),
            )
            .order_by("-earned", "customer__name")[:limit]
        )
    return _money_rows(rows, "redeemed_value")


# ---------------------------------------------------------------------------- dashboard
@dataclass(frozen=True)
class DayFigures:
    day: dt.date
    sales: Decimal
    count: int
    average: Decimal
    net_sales: Decimal
    profit: Decimal
    margin: Decimal | None


def day_figures(*, day: dt.date, branch_ids: tuple[int, ...] | None) -> DayFigures:
    period = Period(start=day, end=day, branch_ids=branch_ids)
    with use_replica():
        head = _completed_sales(period).aggregate(count=Count("id"), sales=_sum("total"))
        lines = _sold_lines(period).aggregate(vat=_sum("tax_amount"), cost=_sum(F("quantity") * F("cost_price")))
    sales = money(head["sales"])
    net = sales - money(lines["vat"])
    profit = net - money(lines["cost"])
    count = head["count"]
    return DayFigures(
        day=day,
        sales=sales,
        count=count,
        average=money(sales / count) if count else ZERO,
        net_sales=net,
        profit=profit,
        margin=margin_percent(profit, net),
    )


def change_percent(now: Decimal | int, before: Decimal | int) -> Decimal | None:
    if not before:
        return None
    return (Decimal(now - before) * 100 / Decimal(before)).quantize(Decimal("0.1"))


def dashboard(*, today: dt.date, branch_ids: tuple[int, ...] | None, top: int = 5) -> dict:
    """Today against the same weekday last week, by hour, top products, payment mix, alerts, drawers."""
    week_ago = today - dt.timedelta(days=7)
    now_figures = day_figures(day=today, branch_ids=branch_ids)
    then_figures = day_figures(day=week_ago, branch_ids=branch_ids)
    today_period = Period(start=today, end=today, branch_ids=branch_ids)
    by_hour_now = sales_by_hour(period=today_period)
    by_hour_then = sales_by_hour(period=Period(start=week_ago, end=week_ago, branch_ids=branch_ids))
    branch_filter = Q() if branch_ids is None else Q(branch_id__in=branch_ids)
    with use_replica():
        top_products = _line_rows(
            list(
                _sold_lines(today_period)
                .values("product_id", "product__name")
                .annotate(lines=Count("id"), **line_figures())
                .order_by("-sales", "product__name")[:top]
            )
        )
        alerts = list(
            StockAlert.objects.filter(branch_filter, resolved_at__isnull=True)
            .select_related("product", "branch")
            .order_by("-opened_at")[:10]
        )
        alert_count = StockAlert.objects.filter(branch_filter, resolved_at__isnull=True).count()
        sessions = list(
            CashSession.objects.filter(branch_filter, status=SessionStatus.OPEN)
            .select_related("cashier", "branch")
            .order_by("opened_at")
        )
    return {
        "today": now_figures,
        "week_ago": then_figures,
        "changes": {
            "sales": change_percent(now_figures.sales, then_figures.sales),
            "count": change_percent(now_figures.count, then_figures.count),
            "average": change_percent(now_figures.average, then_figures.average),
        },
        "hours": [
            {"hour": n["hour"], "label": n["label"], "today": n["sales"], "week_ago": t["sales"],
             "today_count": n["count"], "week_ago_count": t["count"]}
            for n, t in zip(by_hour_now, by_hour_then, strict=True)  # both list all 24 hours
        ],
        "top_products": top_products,
        "payment_mix": sales_by_payment_method(period=today_period),
        "alerts": alerts,
        "alert_count": alert_count,
        "open_sessions": sessions,
    }
