"""Report summaries: the sales, payments and stock movements of each past local day, summed once, so a
report over a year reads a few hundred thousand summed rows instead of a million sale lines.

What is summed and when (reports/summaries.py writes these; reports/selectors.py reads them):

- every day up to `SummaryState.summarized_through` (a past local day) is summed; later days, today
  always among them, are read live from the sales themselves, so a report is never behind the till;
- product sales and stock movements are also summed per calendar month (`Span.MONTH`), per branch and
  for every branch together, so a year is read from twelve month rows per product plus the days at
  either end of the range (day rows are kept per branch only);
- a completed sale voided on a later day changes its own day's figures: the void re-sums that day (and
  its month) for that branch in the same transaction, so the report and the sale never disagree.

Nothing else changes a completed sale: returns are credit notes of their own day (read live from the
return lines), stock movements are never edited, and payments only change status through a void.

Money sums keep every place the lines have (cost is quantity × unit cost: five places), so summing the
summaries gives the same cent as summing the lines.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

__all__ = [
    "PaymentSummary",
    "ProductSalesSummary",
    "SalesHourSummary",
    "Span",
    "StockMovementSummary",
    "SummaryState",
]

SUM_MONEY = {"max_digits": 16, "decimal_places": 2}
SUM_COST = {"max_digits": 20, "decimal_places": 5}  # quantity (3 places) × unit cost (2 places)
SUM_QTY = {"max_digits": 16, "decimal_places": 3}
# The two big summaries refer to their branch and product without a database constraint or an index of
# their own: the rows are derived (summed again from the sales at will), and MariaDB, given an index on
# product_id, walked a year of rows product by product through it to group them (6.6 s instead of 0.4 s,
# bench/README.md). Their one index is the unique key, which starts with the span and the day.
DERIVED = {"db_constraint": False, "db_index": False}
EVERY_BRANCH = "Empty: every branch together (month rows only; an owner's report reads these, half as many)."


class Span(models.TextChoices):
    DAY = "D", "Day"
    MONTH = "M", "Month"


class SummaryState(models.Model):
    """One row: the last local day whose figures are in the summaries (None: nothing summed yet)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    summarized_through = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="summarystate_single_row")]

    def __str__(self) -> str:
        return f"Report summaries through {self.summarized_through or '—'}"


class ProductSalesSummary(models.Model):
    """The lines of completed sales per local day (or calendar month), branch (or every branch
    together), product and tax class."""

    span = models.CharField(max_length=1, choices=Span.choices)
    starts_on = models.DateField(help_text="The day, or the first day of the month.")
    branch = models.ForeignKey(
        "pos.Branch",
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
        help_text=EVERY_BRANCH,
        **DERIVED,
    )
    product = models.ForeignKey("inventory.Product", on_delete=models.CASCADE, related_name="+", **DERIVED)
    tax_class = models.CharField(max_length=1)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2)
    lines = models.PositiveIntegerField()
    units = models.DecimalField(**SUM_QTY)
    sales = models.DecimalField(**SUM_MONEY, help_text="Line totals, VAT included.")
    vat = models.DecimalField(**SUM_MONEY)
    cost = models.DecimalField(**SUM_COST, help_text="Quantity × cost at the time of sale.")
    last_sold_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["span", "starts_on", "branch", "product", "tax_class", "tax_rate"],
                name="productsales_summary_key",
            ),
            models.CheckConstraint(condition=Q(span__in=Span.values), name="productsales_summary_span_valid"),
            models.CheckConstraint(condition=Q(lines__gt=0), name="productsales_summary_has_lines"),
        ]
        # Reports read only this index (it holds every figure): a year in one range scan, no row lookups.
        # The unique key cannot hold the every-branch rows to one per key (NULL branches are distinct);
        # the writer does, under the SummaryState lock (reports/summaries.py).
        indexes = [
            models.Index(
                fields=[
                    "span", "starts_on", "branch", "product", "tax_class", "tax_rate",
                    "lines", "units", "sales", "vat", "cost", "last_sold_at",
                ],
                name="productsales_summary_read",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_span_display()} {self.starts_on} branch {self.branch_id} product {self.product_id}"


class StockMovementSummary(models.Model):
    """Stock movements per local day (or calendar month), branch (or every branch together), product and kind."""

    span = models.CharField(max_length=1, choices=Span.choices)
    starts_on = models.DateField()
    branch = models.ForeignKey(
        "pos.Branch",
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
        help_text=EVERY_BRANCH,
        **DERIVED,
    )
    product = models.ForeignKey("inventory.Product", on_delete=models.CASCADE, related_name="+", **DERIVED)
    kind = models.CharField(max_length=20)
    movements = models.PositiveIntegerField()
    quantity_in = models.DecimalField(**SUM_QTY)
    quantity_out = models.DecimalField(**SUM_QTY)
    cost_value = models.DecimalField(**SUM_COST, help_text="Signed quantity × unit cost.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["span", "starts_on", "branch", "kind", "product"], name="stockmovement_summary_key"
            ),
            models.CheckConstraint(condition=Q(span__in=Span.values), name="stockmovement_summary_span_valid"),
            models.CheckConstraint(condition=Q(movements__gt=0), name="stockmovement_summary_has_movements"),
        ]
        # Reports read only this index (it holds every figure): a year in one range scan, no row lookups.
        # The unique key cannot hold the every-branch rows to one per key (NULL branches are distinct);
        # the writer does, under the SummaryState lock (reports/summaries.py).
        indexes = [
            models.Index(
                fields=[
                    "span", "starts_on", "branch", "kind", "product",
                    "movements", "quantity_in", "quantity_out", "cost_value",
                ],
                name="stockmovement_summary_read",
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_span_display()} {self.starts_on} branch {self.branch_id} {self.kind} product {self.product_id}"
        )


class SalesHourSummary(models.Model):
    """Completed sales per local day, hour, branch and cashier (sales by day, hour and cashier)."""

    day = models.DateField()
    hour = models.PositiveSmallIntegerField()
    branch = models.ForeignKey("pos.Branch", on_delete=models.CASCADE, related_name="+")
    cashier = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sales = models.PositiveIntegerField(help_text="How many sales.")
    total = models.DecimalField(**SUM_MONEY)
    discounts = models.DecimalField(**SUM_MONEY)
    vat = models.DecimalField(**SUM_MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "hour", "branch", "cashier"], name="saleshour_summary_key"),
            models.CheckConstraint(condition=Q(hour__lte=23), name="saleshour_summary_hour_valid"),
            models.CheckConstraint(condition=Q(sales__gt=0), name="saleshour_summary_has_sales"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.hour:02d}h branch {self.branch_id} cashier {self.cashier_id}"


class PaymentSummary(models.Model):
    """Confirmed payments of completed sales per local day (of the sale), branch and method."""

    day = models.DateField()
    branch = models.ForeignKey("pos.Branch", on_delete=models.CASCADE, related_name="+")
    method = models.CharField(max_length=20)
    payments = models.PositiveIntegerField()
    sales = models.PositiveIntegerField(help_text="Sales paid (partly) by this method.")
    amount = models.DecimalField(**SUM_MONEY, help_text="Handed over less change.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "branch", "method"], name="payment_summary_key"),
            models.CheckConstraint(condition=Q(payments__gt=0), name="payment_summary_has_payments"),
        ]

    def __str__(self) -> str:
        return f"{self.day} branch {self.branch_id} {self.method}"
