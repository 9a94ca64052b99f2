"""Models of the analytics and notifications half of `reports`: stored forecasts, basket pairs,
in-app notifications, each person's notification preferences and each outgoing message.

Forecasts and basket pairs are written only by the nightly task (`reports.tasks`), never on page load.
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q

from core.money import QuantityField

__all__ = [
    "BasketPair",
    "ForecastMethod",
    "ProductForecast",
]


class ForecastMethod(models.TextChoices):
    HOLT_WINTERS = "HW", "Holt-Winters (weekly seasonality)"
    WEEKDAY_AVERAGE = "WDAVG", "Weekday-weighted average (short history)"
    DAILY_AVERAGE = "AVG", "Daily average (under a week of history)"
    NO_SALES = "NONE", "No recent sales"


class ProductForecast(models.Model):
    """Expected sales of one product at one branch, computed nightly from its daily sales history."""

    product = models.ForeignKey("inventory.Product", on_delete=models.CASCADE, related_name="forecasts")
    branch = models.ForeignKey("pos.Branch", on_delete=models.CASCADE, related_name="+")
    computed_at = models.DateTimeField()
    as_of = models.DateField(help_text="Last full day of history used (shop's local date).")
    method = models.CharField(max_length=5, choices=ForecastMethod.choices)
    history_days = models.PositiveIntegerField(default=0, help_text="Days from the first sale seen to as_of.")
    sold_last_28 = QuantityField(default=Decimal("0"))
    next_7 = QuantityField(default=Decimal("0"))
    next_30 = QuantityField(default=Decimal("0"))
    daily = models.JSONField(default=list, help_text="The next 30 days' expected quantities, as strings.")
    # Held-out error: the method refitted without the last `holdout_days`, compared with what sold.
    holdout_days = models.PositiveSmallIntegerField(default=0)
    holdout_sold = QuantityField(default=Decimal("0"), help_text="Units sold in the held-out days.")
    mae = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    wape = models.DecimalField(
        "WAPE %", max_digits=7, decimal_places=1, null=True, blank=True,
        help_text="Sum of absolute errors over sum of sales in the held-out days, in percent.",
    )

    class Meta:
        ordering = ["-next_30", "product_id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "branch"], name="productforecast_one_per_branch"),
            models.CheckConstraint(condition=Q(next_7__gte=0) & Q(next_30__gte=0), name="productforecast_not_negative"),
            models.CheckConstraint(condition=Q(method__in=ForecastMethod.values), name="productforecast_method_valid"),
        ]
        indexes = [models.Index(fields=["branch", "next_30"], name="forecast_branch_next30_idx")]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.branch_id}: {self.next_7}/7d {self.next_30}/30d ({self.method})"

    @property
    def daily_rate(self) -> Decimal:
        return self.next_30 / 30


class BasketPair(models.Model):
    """Two products often bought together at a branch, over the nightly task's window."""

    branch = models.ForeignKey("pos.Branch", on_delete=models.CASCADE, related_name="+")
    product_a = models.ForeignKey("inventory.Product", on_delete=models.CASCADE, related_name="+")
    product_b = models.ForeignKey("inventory.Product", on_delete=models.CASCADE, related_name="+")
    computed_at = models.DateTimeField()
    window_days = models.PositiveSmallIntegerField()
    sales_count = models.PositiveIntegerField(help_text="Sales in the window at the branch.")
    pair_count = models.PositiveIntegerField(help_text="Sales holding both products.")
    count_a = models.PositiveIntegerField()
    count_b = models.PositiveIntegerField()
    support = models.DecimalField(max_digits=7, decimal_places=5)
    confidence_a_b = models.DecimalField(max_digits=7, decimal_places=5, help_text="P(b in sale | a in sale)")
    confidence_b_a = models.DecimalField(max_digits=7, decimal_places=5, help_text="P(a in sale | b in sale)")
    lift = models.DecimalField(max_digits=10, decimal_places=3)

    class Meta:
        ordering = ["-lift", "-pair_count"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "product_a", "product_b"], name="basketpair_unique"),
            models.CheckConstraint(condition=Q(product_a__lt=models.F("product_b")), name="basketpair_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.product_a_id}+{self.product_b_id}@{self.branch_id} lift {self.lift}"
