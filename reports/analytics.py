"""Analytics an owner can act on: stored demand forecasts (refreshed nightly), days of stock left and
reorder suggestions, products rising and falling, basket pairs, customer segments (RFM) and cashiers
whose voids, refunds or over/short stand out from their peers.

`*_refresh` functions write (the nightly task and `manage.py analytics_refresh` call them); the others
only read, through `use_replica()`. Aggregation happens in the database; Python only ranks and scores
the per-product / per-customer / per-cashier rows that come back.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Abs, Coalesce
from django.utils import timezone

from cashdesk.models import CashSession, SessionStatus
from core.money import ZERO
from core.ops.db_router import use_replica
from inventory.errors import StockError
from inventory.models import Product, PurchaseLine, StockLevel, Supplier
from inventory.purchase_services import purchase_create, purchase_line_set
from inventory.selectors import OPEN_PURCHASE_STATUSES
from pos.people.audit import AuditAction
from pos.people.models import AuditLog, Branch
from pos.sales.models import Sale, SaleLine, SaleStatus
from reports.analytics_models import BasketPair, ForecastMethod, ProductForecast
from reports.forecasting import forecast_series
from reports.selectors import MONEY, QTY, as_date, local_date, local_offset

Q3 = Decimal("0.001")
HISTORY_DAYS = 120  # days of sales history a forecast looks at


def local_today() -> dt.date:
    return timezone.localdate()


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _q(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(Q3, rounding=ROUND_HALF_UP)


def _completed_lines(*, branch_ids, start: dt.date, end: dt.date):
    """Lines of completed sales with local dates start..end (both included)."""
    lines = SaleLine.objects.filter(
        sale__status=SaleStatus.COMPLETED,
        sale__completed_at__gte=_day_start(start),
        sale__completed_at__lt=_day_start(end + dt.timedelta(days=1)),
    )
    if branch_ids is not None:
        lines = lines.filter(sale__branch_id__in=branch_ids)
    return lines


# ---------------------------------------------------------------------------- forecasts
def daily_sales_by_product(*, branch_id: int, start: dt.date, end: dt.date) -> dict[int, dict[dt.date, float]]:
    """{product_id: {local date: quantity sold net of returns}} for one branch, summed in the database."""
    rows = (
        _completed_lines(branch_ids=[branch_id], start=start, end=end)
        .annotate(day=local_date("sale__completed_at", local_offset()))
        .values("product_id", "day")
        .annotate(qty=Sum(F("quantity") - F("returned_quantity"), output_field=QTY))
        .order_by()
    )
    out: dict[int, dict[dt.date, float]] = {}
    for row in rows.iterator(chunk_size=5000):
        out.setdefault(row["product_id"], {})[as_date(row["day"])] = float(row["qty"] or 0)
    return out


def _series(by_day: dict[dt.date, float], end: dt.date) -> list[float]:
    """Gap-free daily series from the first day with a sale to `end`; missing days are zeros."""
    first = min(day for day, qty in by_day.items() if qty > 0) if any(q > 0 for q in by_day.values()) else None
    if first is None:
        return []
    days = (end - first).days + 1
    return [by_day.get(first + dt.timedelta(days=i), 0.0) for i in range(days)]


def forecasts_refresh(*, today: dt.date | None = None, branch_ids: list[int] | None = None) -> int:
    """Recompute every branch's forecasts from the last HISTORY_DAYS full days (up to yesterday).

    Products sold in the window get a fresh row; rows of products that no longer sell are removed.
    Returns the number of forecasts stored.
    """
    today = today or local_today()
    end = today - dt.timedelta(days=1)
    start = end - dt.timedelta(days=HISTORY_DAYS - 1)
    branches = Branch.objects.filter(is_active=True)
    if branch_ids is not None:
        branches = branches.filter(pk__in=branch_ids)
    stored = 0
    now = timezone.now()
    for branch in branches:
        with use_replica():
            history = daily_sales_by_product(branch_id=branch.pk, start=start, end=end)
        rows = []
        for product_id, by_day in history.items():
            series = _series(by_day, end)
            result = forecast_series(series)
            rows.append(
                ProductForecast(
                    product_id=product_id,
                    branch=branch,
                    computed_at=now,
                    as_of=end,
                    method=result.method,
                    history_days=result.history_days,
                    sold_last_28=_q(max(sum(series[-28:]), 0)),
                    next_7=_q(result.next_7),
                    next_30=_q(result.next_30),
                    daily=[str(_q(x)) for x in result.daily],
                    holdout_days=result.holdout_days,
                    holdout_sold=_q(result.holdout_sold),
                    mae=None if result.mae is None else _q(result.mae),
                    wape=None if result.wape is None else Decimal(str(result.wape)).quantize(Decimal("0.1")),
                )
            )
        with transaction.atomic():
            ProductForecast.objects.filter(branch=branch).delete()
            ProductForecast.objects.bulk_create(rows, batch_size=1000)
        stored += len(rows)
    return stored


def forecast_list(*, branch_id: int, query: str = ""):
    """Stored forecasts of a branch (largest expected sales first), with stock on hand."""
    on_hand = StockLevel.objects.filter(product_id=OuterRef("product_id"), branch_id=branch_id).values("quantity")[:1]
    forecasts = (
        ProductForecast.objects.filter(branch_id=branch_id)
        .select_related("product", "product__unit")
        .annotate(on_hand=Coalesce(Subquery(on_hand, output_field=QTY), Value(Decimal("0")), output_field=QTY))
        .order_by("-next_30", "product__name")
    )
    if query:
        forecasts = forecasts.filter(Q(product__name__icontains=query) | Q(product__sku__iexact=query))
    return forecasts


def forecast_accuracy(*, branch_id: int) -> dict:
    """The branch's overall held-out error (WAPE weighted by units sold) and the methods used."""
    with use_replica():
        rows = list(
            ProductForecast.objects.filter(branch_id=branch_id)
            .values("method")
            .annotate(n=Count("id"), last=Max("computed_at"))
            .order_by("method")
        )
        totals = ProductForecast.objects.filter(branch_id=branch_id, mae__isnull=False).aggregate(
            abs_error=Sum(F("mae") * F("holdout_days"), output_field=QTY),
            sold=Sum("holdout_sold", output_field=QTY),
        )
    labels = dict(ForecastMethod.choices)
    wape = None
    if totals["sold"]:
        wape = (totals["abs_error"] * 100 / totals["sold"]).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return {
        "methods": [{"method": labels.get(r["method"], r["method"]), "count": r["n"]} for r in rows],
        "computed_at": max((r["last"] for r in rows), default=None),
        "count": sum(r["n"] for r in rows),
        "wape": wape,
    }


# ---------------------------------------------------------------------------- stock outlook and reorder
@dataclass
class Suggestion:
    product: Product
    on_hand: Decimal
    on_order: Decimal
    daily_rate: Decimal
    days_left: Decimal | None
    need: Decimal  # expected sales over lead time + cover
    quantity: Decimal  # what to order
    unit_cost: Decimal

    @property
    def line_cost(self) -> Decimal:
        return (self.quantity * self.unit_cost).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass
class SupplierSuggestions:
    supplier: Supplier | None
    suggestions: list[Suggestion] = field(default_factory=list)

    @property
    def total_cost(self) -> Decimal:
        return sum((s.line_cost for s in self.suggestions), ZERO)


def order_quantity(*, need: Decimal, reorder_level: Decimal, on_hand: Decimal, on_order: Decimal,
                   reorder_quantity: Decimal, decimal_places: int) -> Decimal:
    """What to order so stock covers the expected sales plus the reorder level (the safety stock).

    Rounded up to what the unit allows, and up to whole multiples of the reorder quantity (the case
    or pack size) when one is set. Zero when stock on hand and on order already cover it.
    """
    shortfall = need + reorder_level - on_hand - on_order
    if shortfall <= 0:
        return Decimal("0")
    step = Decimal(1).scaleb(-decimal_places)
    quantity = (shortfall / step).to_integral_value(rounding=ROUND_CEILING) * step
    if reorder_quantity > 0:
        packs = (quantity / reorder_quantity).to_integral_value(rounding=ROUND_CEILING)
        quantity = packs * reorder_quantity
    return quantity


def _need(daily: list, days: int) -> Decimal:
    values = [Decimal(x) for x in daily]
    if days <= len(values):
        return sum(values[:days], Decimal("0"))
    rate = sum(values, Decimal("0")) / len(values) if values else Decimal("0")
    return rate * days


def reorder_suggestions(*, branch_id: int, supplier_id: int | None = None) -> list[SupplierSuggestions]:
    """Forecast-driven suggestions for a branch, grouped by the product's default supplier.

    Need = expected sales over REORDER_LEAD_DAYS + REORDER_COVER_DAYS (the forecast's daily figures);
    quantity = need + reorder level − on hand − already on order, rounded up (see `order_quantity`).
    """
    horizon = settings.REORDER_LEAD_DAYS + settings.REORDER_COVER_DAYS
    on_hand = StockLevel.objects.filter(product_id=OuterRef("product_id"), branch_id=branch_id).values("quantity")[:1]
    on_order = (
        PurchaseLine.objects.filter(
            product_id=OuterRef("product_id"),
            purchase__branch_id=branch_id,
            purchase__status__in=OPEN_PURCHASE_STATUSES,
        )
        .values("product_id")
        .annotate(total=Sum(F("quantity_ordered") - F("quantity_received")))
        .values("total")[:1]
    )
    forecasts = (
        ProductForecast.objects.filter(
            branch_id=branch_id, product__is_active=True, product__track_stock=True, next_30__gt=0
        )
        .select_related("product__unit", "product__default_supplier")
        .annotate(
            on_hand=Coalesce(Subquery(on_hand, output_field=QTY), Value(Decimal("0")), output_field=QTY),
            on_order=Coalesce(Subquery(on_order, output_field=QTY), Value(Decimal("0")), output_field=QTY),
        )
        .order_by("product__default_supplier__name", "product__name")
    )
    if supplier_id is not None:
        forecasts = forecasts.filter(product__default_supplier_id=supplier_id)
    groups: dict[int | None, SupplierSuggestions] = {}
    with use_replica():
        for f in forecasts:
            product = f.product
            need = _need(f.daily, horizon)
            quantity = order_quantity(
                need=need,
                reorder_level=product.reorder_level,
                on_hand=f.on_hand,
                on_order=f.on_order,
                reorder_quantity=product.reorder_quantity,
                decimal_places=product.unit.decimal_places,
            )
            if quantity <= 0:
                continue
            rate = f.next_30 / 30
            days_left = (max(f.on_hand, Decimal("0")) / rate).quantize(Decimal("0.1")) if rate > 0 else None
            group = groups.setdefault(product.default_supplier_id, SupplierSuggestions(product.default_supplier))
            group.suggestions.append(
                Suggestion(
                    product=product, on_hand=f.on_hand, on_order=f.on_order, daily_rate=_q(rate),
                    days_left=days_left, need=_q(need), quantity=quantity, unit_cost=product.cost_price,
                )
            )
    # Suppliers by name; products with no supplier last (they cannot become a purchase).
    return sorted(groups.values(), key=lambda g: (g.supplier is None, g.supplier.name if g.supplier else ""))


@transaction.atomic
def reorder_draft_purchase(*, user, branch: Branch, supplier: Supplier):
    """One click: the supplier's forecast suggestions at the branch become a draft purchase, through
    inventory's purchase services (which check the user's role and branch)."""

    groups = reorder_suggestions(branch_id=branch.pk, supplier_id=supplier.pk)
    suggestions = [s for g in groups if g.supplier is not None for s in g.suggestions]
    if not suggestions:
        raise StockError(f"Nothing to order from {supplier.name}: the forecast says stock is enough.")
    purchase = purchase_create(
        user=user, supplier=supplier, branch=branch, notes="From the demand forecast's reorder suggestions"
    )
    for s in suggestions:
        purchase_line_set(user=user, purchase=purchase, product=s.product, quantity=s.quantity, unit_cost=s.unit_cost)
    purchase.refresh_from_db()
    return purchase


# ---------------------------------------------------------------------------- trends
@dataclass(frozen=True)
class Trend:
    product_id: int
    name: str
    recent: Decimal
    previous: Decimal

    @property
    def change(self) -> Decimal:
        return self.recent - self.previous

    @property
    def change_percent(self) -> Decimal | None:
        if not self.previous:
            return None
        return (self.change * 100 / self.previous).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def product_trends(*, branch_ids, today: dt.date | None = None, days: int = 28, limit: int = 20,
                   min_units: Decimal = Decimal("5")) -> tuple[list[Trend], list[Trend]]:
    """Products whose units sold in the last `days` full days rose or fell most against the `days`
    before. Products selling fewer than `min_units` over both periods are left out (noise)."""
    today = today or local_today()
    end = today - dt.timedelta(days=1)
    mid = end - dt.timedelta(days=days - 1)  # first day of the recent period
    start = mid - dt.timedelta(days=days)
    net = F("quantity") - F("returned_quantity")
    recent_q = Q(sale__completed_at__gte=_day_start(mid))
    rows = (
        _completed_lines(branch_ids=branch_ids, start=start, end=end)
        .values("product_id")
        .annotate(
            name=Max("product__name"),
            recent=Coalesce(Sum(net, filter=recent_q, output_field=QTY), Value(Decimal("0")), output_field=QTY),
            previous=Coalesce(Sum(net, filter=~recent_q, output_field=QTY), Value(Decimal("0")), output_field=QTY),
        )
        .annotate(change=ExpressionWrapper(F("recent") - F("previous"), output_field=QTY))
        .filter(Q(recent__gte=min_units) | Q(previous__gte=min_units))
    )
    with use_replica():
        rising = [Trend(r["product_id"], r["name"], r["recent"], r["previous"])
                  for r in rows.filter(change__gt=0).order_by("-change", "product_id")[:limit]]
        falling = [Trend(r["product_id"], r["name"], r["recent"], r["previous"])
                   for r in rows.filter(change__lt=0).order_by("change", "product_id")[:limit]]
    return rising, falling


# ---------------------------------------------------------------------------- basket analysis
def basket_pairs_refresh(*, today: dt.date | None = None, window_days: int = 90, min_pair_count: int = 3,
                         keep: int = 200, branch_ids: list[int] | None = None) -> int:
    """Count, in the database, the sales holding each pair of products (per branch, last `window_days`)
    and store the `keep` pairs with the highest lift that occur at least `min_pair_count` times.

    support = pair / sales; confidence(a→b) = pair / sales with a; lift = support / (P(a) · P(b)).
    """
    today = today or local_today()
    start = _day_start(today - dt.timedelta(days=window_days))
    end = _day_start(today)
    line_table = SaleLine._meta.db_table
    sale_table = Sale._meta.db_table
    # A self-join of the lines on their sale: one row per pair of distinct products in the same sale.
    # Only the two table names (from our models' _meta) are formatted in; every value is a parameter.
    pair_sql = (
        f"SELECT a.product_id, b.product_id, COUNT(DISTINCT a.sale_id) AS n "  # noqa: S608  # nosec B608
        f"FROM {line_table} a JOIN {line_table} b ON b.sale_id = a.sale_id AND a.product_id < b.product_id "
        f"JOIN {sale_table} s ON s.id = a.sale_id "
        f"WHERE s.status = %s AND s.branch_id = %s AND s.completed_at >= %s AND s.completed_at < %s "
        f"GROUP BY a.product_id, b.product_id HAVING COUNT(DISTINCT a.sale_id) >= %s"
    )
    branches = Branch.objects.filter(is_active=True)
    if branch_ids is not None:
        branches = branches.filter(pk__in=branch_ids)
    now = timezone.now()
    stored = 0
    for branch in branches:
        with use_replica():
            sales = Sale.objects.filter(
                status=SaleStatus.COMPLETED, branch=branch, completed_at__gte=start, completed_at__lt=end
            )
            sales_count = sales.count()
            per_product = dict(
                SaleLine.objects.filter(sale__in=sales)
                .values("product_id")
                .annotate(n=Count("sale_id", distinct=True))
                .values_list("product_id", "n")
                .order_by()
            )
            with connection.cursor() as cursor:
                cursor.execute(pair_sql, [SaleStatus.COMPLETED, branch.pk, start, end, min_pair_count])
                pairs = cursor.fetchall()
        rows = []
        for a, b, n in pairs:
            na, nb = per_product.get(a, 0), per_product.get(b, 0)
            if not (sales_count and na and nb):
                continue
            support = Decimal(n) / sales_count
            lift = Decimal(n) * sales_count / (Decimal(na) * nb)
            rows.append(
                BasketPair(
                    branch=branch, product_a_id=a, product_b_id=b, computed_at=now, window_days=window_days,
                    sales_count=sales_count, pair_count=n, count_a=na, count_b=nb,
                    support=support.quantize(Decimal("0.00001"), rounding=ROUND_HALF_UP),
                    confidence_a_b=(Decimal(n) / na).quantize(Decimal("0.00001"), rounding=ROUND_HALF_UP),
                    confidence_b_a=(Decimal(n) / nb).quantize(Decimal("0.00001"), rounding=ROUND_HALF_UP),
                    lift=lift.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP),
                )
            )
        rows.sort(key=lambda r: (-r.lift, -r.pair_count, r.product_a_id, r.product_b_id))
        with transaction.atomic():
            BasketPair.objects.filter(branch=branch).delete()
            BasketPair.objects.bulk_create(rows[:keep])
        stored += len(rows[:keep])
    return stored


def basket_pair_list(*, branch_ids):
    pairs = BasketPair.objects.select_related("product_a", "product_b", "branch").order_by("-lift", "-pair_count")
    if branch_ids is not None:
        pairs = pairs.filter(branch_id__in=branch_ids)
    return pairs


# ---------------------------------------------------------------------------- customer segments (RFM)
SEGMENTS = [
    # (name, what to do, test on (R, F, M) scores 1–5)
    ("Champions", "Bought recently, often and a lot: thank them, first to hear of new stock.",
     lambda r, f, m: r >= 4 and f >= 4),
    ("Loyal", "Buy often: a loyalty offer keeps them.", lambda r, f, m: f >= 4),
    ("Big spenders", "Spend a lot per visit.", lambda r, f, m: m >= 4 and r >= 3),
    ("New", "First visits lately: welcome them back.", lambda r, f, m: r >= 4 and f <= 2),
    ("At risk", "Used to buy often, not lately: call or message them.", lambda r, f, m: r <= 2 and f >= 3),
    ("Lost", "Long gone and rarely bought.", lambda r, f, m: r <= 2),
    ("Regular", "Everyone else.", lambda r, f, m: True),
]


def quintile_scores(values: list, *, higher_is_better: bool = True) -> list[int]:
    """Score each value 1–5 by its mid-rank among the others: 1 + ⌊5 · (worse + ties / 2) / n⌋.

    Distinct values fall in fifths (the top fifth scores 5); tied values share one score; a value
    with nobody to compare with (or all equal) sits in the middle, 3.
    """
    n = len(values)
    if n == 0:
        return []
    ordered = sorted(values, reverse=not higher_is_better)  # worst first
    first, count = {}, {}
    for i, v in enumerate(ordered):
        first.setdefault(v, i)
        count[v] = count.get(v, 0) + 1
    return [1 + min(4, (10 * first[v] + 5 * count[v]) // (2 * n)) for v in values]


@dataclass(frozen=True)
class CustomerScore:
    customer_id: int
    name: str
    last_purchase: dt.date
    recency_days: int
    frequency: int
    monetary: Decimal
    r: int
    f: int
    m: int
    segment: str


def customer_segments(*, branch_ids, today: dt.date | None = None, days: int = 365) -> list[CustomerScore]:
    """Customers with a completed sale in the last `days`, scored 1–5 on recency, frequency and spend
    (quintiles among each other), each put in the first segment whose rule fits."""
    today = today or local_today()
    sales = Sale.objects.filter(
        status=SaleStatus.COMPLETED,
        customer__isnull=False,
        completed_at__gte=_day_start(today - dt.timedelta(days=days)),
    )
    if branch_ids is not None:
        sales = sales.filter(branch_id__in=branch_ids)
    with use_replica():
        rows = list(
            sales.values("customer_id")
            .annotate(name=Max("customer__name"), last=Max("completed_at"), frequency=Count("id"),
                      monetary=Sum("total", output_field=MONEY))
            .order_by()
        )
    recency = [(today - timezone.localtime(r["last"]).date()).days for r in rows]
    r_scores = quintile_scores(recency, higher_is_better=False)
    f_scores = quintile_scores([r["frequency"] for r in rows])
    m_scores = quintile_scores([r["monetary"] for r in rows])
    out = []
    for row, rec, r, f, m in zip(rows, recency, r_scores, f_scores, m_scores, strict=True):
        segment = next(name for name, _, rule in SEGMENTS if rule(r, f, m))
        out.append(CustomerScore(row["customer_id"], row["name"], timezone.localtime(row["last"]).date(), rec,
                                 row["frequency"], row["monetary"], r, f, m, segment))
    out.sort(key=lambda c: (-(c.r + c.f + c.m), -c.monetary, c.customer_id))
    return out


# ---------------------------------------------------------------------------- cashier anomalies
ANOMALY_Z = 3.5  # Iglewicz & Hoaglin's cut-off for the modified z-score


def robust_z(values: list[float]) -> list[float]:
    """Modified z-score of each value against the others: 0.6745 · (x − median) / MAD.

    When more than half the values are equal (MAD = 0) the mean absolute deviation stands in
    (scaled by 1.2533 so both estimate the same spread); when that is 0 too, nothing stands out.
    """
    if len(values) < 3:
        return [0.0] * len(values)
    median = statistics.median(values)
    deviations = [abs(v - median) for v in values]
    mad = statistics.median(deviations)
    if mad > 0:
        return [0.6745 * (v - median) / mad for v in values]
    mean_ad = statistics.fmean(deviations)
    if mean_ad > 0:
        return [(v - median) / (1.2533 * mean_ad) for v in values]
    return [0.0] * len(values)


@dataclass
class CashierFigures:
    cashier_id: int
    name: str
    sales: int = 0
    voids: int = 0
    refunds: int = 0
    overrides: int = 0
    sessions: int = 0
    abs_difference: Decimal = ZERO  # sum of |over/short| over closed sessions
    net_difference: Decimal = ZERO
    z: dict = field(default_factory=dict)

    def per_100_sales(self, count: int) -> float:
        return count * 100 / self.sales if self.sales else 0.0

    @property
    def metrics(self) -> dict[str, float]:
        return {
            "voids": self.per_100_sales(self.voids),
            "refunds": self.per_100_sales(self.refunds),
            "overrides": self.per_100_sales(self.overrides),
            "over_short": float(self.abs_difference / self.sessions) if self.sessions else 0.0,
        }

    @property
    def flags(self) -> list[str]:
        return [name for name, z in self.z.items() if z > ANOMALY_Z]


METRIC_LABELS = {
    "voids": "voids per 100 sales",
    "refunds": "refunds per 100 sales",
    "overrides": "price overrides per 100 sales",
    "over_short": "average over/short per session (KES)",
}


def cashier_anomalies(*, branch_ids, start: dt.date, end: dt.date) -> list[CashierFigures]:
    """Each cashier's voids, refunds and price overrides per 100 sales and average |over/short| per
    closed session in local dates start..end, with a robust z-score against the other cashiers.
    A z above 3.5 is flagged; only "more than the others" counts (fewer voids is not a problem)."""
    lo, hi = _day_start(start), _day_start(end + dt.timedelta(days=1))
    sales = Sale.objects.filter(status=SaleStatus.COMPLETED, completed_at__gte=lo, completed_at__lt=hi)
    audit = AuditLog.objects.filter(
        created_at__gte=lo, created_at__lt=hi, user__isnull=False,
        action__in=[AuditAction.SALE_VOID, AuditAction.LINE_VOID, AuditAction.REFUND, AuditAction.PRICE_OVERRIDE],
    )
    sessions = CashSession.objects.filter(status=SessionStatus.CLOSED, closed_at__gte=lo, closed_at__lt=hi)
    if branch_ids is not None:
        sales = sales.filter(branch_id__in=branch_ids)
        audit = audit.filter(branch_id__in=branch_ids)
        sessions = sessions.filter(branch_id__in=branch_ids)
    figures: dict[int, CashierFigures] = {}

    def get(pk, name):
        return figures.setdefault(pk, CashierFigures(pk, name))

    with use_replica():
        for row in sales.values("cashier_id").annotate(name=Max("cashier__full_name"), n=Count("id")).order_by():
            get(row["cashier_id"], row["name"]).sales = row["n"]
        for row in (
            audit.values("user_id")
            .annotate(
                name=Max("user__full_name"),
                voids=Count("id", filter=Q(action__in=[AuditAction.SALE_VOID, AuditAction.LINE_VOID])),
                refunds=Count("id", filter=Q(action=AuditAction.REFUND)),
                overrides=Count("id", filter=Q(action=AuditAction.PRICE_OVERRIDE)),
            )
            .order_by()
        ):
            c = get(row["user_id"], row["name"])
            c.voids, c.refunds, c.overrides = row["voids"], row["refunds"], row["overrides"]
        for row in sessions.values("cashier_id").annotate(
            name=Max("cashier__full_name"),
            n=Count("id"),
            net=Coalesce(Sum("difference"), Value(ZERO), output_field=MONEY),
        ).order_by():
            c = get(row["cashier_id"], row["name"])
            c.sessions, c.net_difference = row["n"], row["net"]

        for row in sessions.values("cashier_id").annotate(
            abs_sum=Coalesce(Sum(Abs("difference")), Value(ZERO), output_field=MONEY)
        ).order_by():
            figures[row["cashier_id"]].abs_difference = row["abs_sum"]
    # Only people who actually worked a till (sales or a session) are peers.
    people = [c for c in figures.values() if c.sales or c.sessions]
    for metric in METRIC_LABELS:
        zs = robust_z([c.metrics[metric] for c in people])
        for c, z in zip(people, zs, strict=True):
            c.z[metric] = round(z, 2)
    people.sort(key=lambda c: (-max(c.z.values(), default=0), c.name))
    return people

