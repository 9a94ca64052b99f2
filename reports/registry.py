"""The list of reports: for each, its title, who may open it, its columns and the selector that fills it.

One page pattern, one CSV writer and one PDF template serve them all (`views.py`, `pdf.py`); adding a
report is adding an entry here and a selector in `selectors.py`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from core.money import ZERO, money
from core.roles import Perm
from reports import etims_selectors, selectors
from reports.selectors import Period


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text, money, qty, int, percent, date
    total: bool = False  # summed in the totals row

    @property
    def numeric(self) -> bool:
        return self.kind in ("money", "qty", "int", "percent")


@dataclass(frozen=True)
class Report:
    slug: str
    title: str
    group: str
    description: str
    columns: tuple[Column, ...]
    fetch: Callable[[Period], list[dict]]
    perm: str = Perm.VIEW_REPORTS
    dated: bool = True  # False: a picture of now (stock on hand); the dates do not apply
    finish_totals: Callable[[dict], None] | None = field(default=None, compare=False)

    def totals(self, rows: list[dict]) -> dict | None:
        summed = [c for c in self.columns if c.total]
        if not summed or not rows:
            return None
        totals = {}
        for column in summed:
            values = (row.get(column.key) or 0 for row in rows)
            total = sum(values, Decimal("0") if column.kind != "int" else 0)
            totals[column.key] = money(total) if column.kind == "money" else total
        if self.finish_totals:
            self.finish_totals(totals)
        return totals


def _c(key, label, kind="text", total=None) -> Column:
    return Column(key, label, kind, total if total is not None else kind in ("money", "qty", "int"))


def _average(totals: dict) -> None:
    count = totals.get("count") or 0
    totals["average"] = money(totals["sales"] / count) if count else ZERO


def _margin(totals: dict) -> None:
    totals["margin"] = selectors.margin_percent(totals["profit"], totals["net_sales"])


def _share(totals: dict) -> None:
    totals["share"] = Decimal("100.0") if totals.get("amount") else None


SALES = "Sales"
PROFIT = "Profit and tax"
STOCK = "Stock"
CASH = "Cash and exceptions"
CUSTOMERS = "Customers"

_REPORTS = [
    Report(
        "sales-by-day", "Sales by day", SALES, "Completed sales per day, with discounts, VAT and returns.",
        (_c("day", "Day", "date"), _c("count", "Sales", "int"), _c("sales", "Sales (KES)", "money"),
         _c("discounts", "Discounts", "money"), _c("vat", "VAT", "money"), _c("returns", "Returns", "money"),
         _c("net", "Net of returns", "money"), _c("average", "Average basket", "money", total=False)),
        lambda p: selectors.sales_by_day(period=p), finish_totals=_average,
    ),
    Report(
        "sales-by-product", "Sales by product", SALES, "What sold, how many and for how much.",
        (_c("product__sku", "SKU"), _c("product__name", "Product"), _c("units", "Quantity", "qty"),
         _c("sales", "Sales (KES)", "money"), _c("vat", "VAT", "money"), _c("net_sales", "Before VAT", "money")),
        lambda p: selectors.sales_by_product(period=p),
    ),
    Report(
        "sales-by-category", "Sales by category", SALES, "Sales per category of the catalogue.",
        (_c("product__category__name", "Category"), _c("units", "Quantity", "qty"), _c("sales", "Sales (KES)", "money"),
         _c("vat", "VAT", "money"), _c("net_sales", "Before VAT", "money")),
        lambda p: selectors.sales_by_category(period=p),
    ),
    Report(
        "sales-by-cashier", "Sales by cashier", SALES, "Who sold how much, and their average basket.",
        (_c("cashier__full_name", "Cashier"), _c("count", "Sales", "int"), _c("sales", "Sales (KES)", "money"),
         _c("discounts", "Discounts", "money"), _c("vat", "VAT", "money"),
         _c("average", "Average basket", "money", total=False)),
        lambda p: selectors.sales_by_cashier(period=p), finish_totals=_average,
    ),
    Report(
        "payment-methods", "Sales by payment method", SALES,
        "Cash (less change), M-Pesa, card, on account, loyalty and vouchers.",
        (_c("label", "Method"), _c("count", "Payments", "int"), _c("sales", "Sales", "int"),
         _c("amount", "Amount (KES)", "money"), _c("share", "Share %", "percent", total=False)),
        lambda p: selectors.sales_by_payment_method(period=p), finish_totals=_share,
    ),
    Report(
        "sales-by-hour", "Sales by hour of day", SALES, "When the shop is busy (local time), over the period's days.",
        (_c("label", "Hour"), _c("count", "Sales", "int"), _c("sales", "Sales (KES)", "money"),
         _c("average", "Average basket", "money", total=False)),
        lambda p: selectors.sales_by_hour(period=p), finish_totals=_average,
    ),
    Report(
        "profit-by-product", "Profit by product", PROFIT,
        "Margin from the cost recorded on each line when it was sold.",
        (_c("product__sku", "SKU"), _c("product__name", "Product"), _c("units", "Quantity", "qty"),
         _c("net_sales", "Sales before VAT", "money"), _c("cost", "Cost", "money"),
         _c("profit", "Gross profit", "money"),
         _c("margin", "Margin %", "percent", total=False)),
        lambda p: selectors.profit_by_product(period=p), perm=Perm.VIEW_PROFIT, finish_totals=_margin,
    ),
    Report(
        "profit-by-category", "Profit by category", PROFIT, "Gross profit and margin per category.",
        (_c("product__category__name", "Category"), _c("units", "Quantity", "qty"),
         _c("net_sales", "Sales before VAT", "money"), _c("cost", "Cost", "money"),
         _c("profit", "Gross profit", "money"),
         _c("margin", "Margin %", "percent", total=False)),
        lambda p: selectors.sales_by_category(period=p), perm=Perm.VIEW_PROFIT, finish_totals=_margin,
    ),
    Report(
        "vat", "VAT by tax class", PROFIT,
        "Taxable sales and VAT per KRA tax class, less credit notes: the figures for the monthly VAT return.",
        (_c("label", "Tax class"), _c("sales", "Sales incl. VAT", "money"), _c("returns", "Credit notes", "money"),
         _c("gross", "Net incl. VAT", "money"), _c("taxable", "Taxable amount", "money"), _c("vat", "VAT", "money")),
        lambda p: selectors.vat_by_tax_class(period=p),
    ),
    Report(
        "vat-etims", "VAT signed by KRA (eTIMS)", PROFIT,
        "VAT per tax band, split into what KRA eTIMS has signed and what still waits to be signed.",
        (_c("label", "Tax band"), _c("signed_gross", "Signed incl. VAT", "money"),
         _c("signed_vat", "Signed VAT", "money"), _c("unsigned_gross", "Unsigned incl. VAT", "money"),
         _c("unsigned_vat", "Unsigned VAT", "money")),
        lambda p: etims_selectors.vat_signed_unsigned(period=p),
    ),
    Report(
        "etims-reconciliation", "eTIMS reconciliation", PROFIT,
        "Sales with no KRA signature, KRA numbers with no sale, and credit notes beyond their original invoice.",
        (_c("kind", "Problem"), _c("document", "Document"), _c("when", "When", "date"),
         _c("amount", "KES", "money", total=False), _c("detail", "Detail")),
        lambda p: etims_selectors.reconciliation(period=p),
    ),
    Report(
        "inventory-valuation", "Inventory valuation", STOCK, "Stock on hand now at cost and at selling price.",
        (_c("product__sku", "SKU"), _c("product__name", "Product"), _c("product__category__name", "Category"),
         _c("on_hand", "On hand", "qty"), _c("cost_value", "At cost (KES)", "money"),
         _c("retail_value", "At retail (KES)", "money")),
        lambda p: selectors.inventory_valuation(period=p), perm=Perm.VIEW_COST_PRICES, dated=False,
    ),
    Report(
        "slow-movers", "Slow movers and dead stock", STOCK,
        "Products in stock that sold nothing (dead stock) or little in the period, slowest first.",
        (_c("product__sku", "SKU"), _c("product__name", "Product"), _c("status", "Status"),
         _c("on_hand", "On hand", "qty"), _c("sold", "Sold in period", "qty"), _c("last_sold", "Last sold", "date"),
         _c("days_of_stock", "Days of stock", "int", total=False), _c("cost_value", "Tied up at cost", "money")),
        lambda p: selectors.slow_movers(period=p), perm=Perm.VIEW_COST_PRICES,
    ),
    Report(
        "stock-movements", "Stock movement summary", STOCK, "The stock ledger of the period per kind of movement.",
        (_c("label", "Kind"), _c("count", "Movements", "int"), _c("products", "Products", "int", total=False),
         _c("quantity_in", "Quantity in", "qty"), _c("quantity_out", "Quantity out", "qty"),
         _c("cost_value", "Value at cost", "money")),
        lambda p: selectors.stock_movement_summary(period=p), perm=Perm.VIEW_COST_PRICES,
    ),
    Report(
        "cash-sessions", "Cash sessions: over and short", CASH, "Sessions closed in the period, per cashier.",
        (_c("cashier__full_name", "Cashier"), _c("sessions", "Sessions", "int"), _c("expected", "Expected", "money"),
         _c("counted", "Counted", "money"), _c("over", "Over", "money"), _c("short", "Short", "money"),
         _c("net", "Net", "money"), _c("short_sessions", "Sessions short", "int"),
         _c("approved", "Approved by a manager", "int")),
        lambda p: selectors.cash_sessions_by_cashier(period=p),
    ),
    Report(
        "exceptions", "Voids, refunds, overrides and discounts", CASH,
        "Per member of staff: counts from the audit log, amounts from their sales.",
        (_c("name", "Staff"), _c("sales", "Sales", "int"), _c("line_voids", "Line voids", "int"),
         _c("sale_voids", "Sale voids", "int"), _c("voided_amount", "Voided (KES)", "money"),
         _c("refunds", "Refunds", "int"), _c("refund_amount", "Refunded (KES)", "money"),
         _c("price_overrides", "Price overrides", "int"), _c("override_amount", "Below list price", "money"),
         _c("discounts", "Discounts approved", "int"), _c("discount_amount", "Discounts (KES)", "money")),
        lambda p: selectors.exceptions_by_cashier(period=p),
    ),
    Report(
        "top-customers", "Top customers", CUSTOMERS, "Customers by what they bought in the period.",
        (_c("customer__name", "Customer"), _c("customer__phone_number", "Phone"), _c("count", "Sales", "int"),
         _c("sales", "Bought (KES)", "money"), _c("average", "Average basket", "money", total=False),
         _c("last_sale", "Last purchase", "date")),
        lambda p: selectors.top_customers(period=p), finish_totals=_average,
    ),
    Report(
        "customer-balances", "Customer balances (aged)", CUSTOMERS,
        "What customers owe on account, by the age of the sales (as of the period's last day).",
        (_c("name", "Customer"), _c("phone_number", "Phone"), _c("credit_limit", "Credit limit", "money", total=False),
         _c("balance", "Owes (KES)", "money"), _c("age_0_30", "0–30 days", "money"),
         _c("age_31_60", "31–60 days", "money"),
         _c("age_61_90", "61–90 days", "money"), _c("age_over_90", "Over 90 days", "money")),
        lambda p: selectors.customer_balances(period=p),
    ),
    Report(
        "loyalty", "Loyalty points", CUSTOMERS, "Points earned and redeemed in the period, and each balance now.",
        (_c("customer__name", "Customer"), _c("earned", "Earned", "qty"), _c("redeemed", "Redeemed", "qty"),
         _c("redeemed_value", "Redeemed (KES)", "money"), _c("taken_back", "Given or taken back", "qty"),
         _c("customer__loyalty_points", "Balance now", "qty", total=False)),
        lambda p: selectors.loyalty_summary(period=p),
    ),
]

REPORTS: dict[str, Report] = {report.slug: report for report in _REPORTS}


def reports_for(user) -> dict[str, list[Report]]:
    """The reports a user may open, by group, in the order above."""
    groups: dict[str, list[Report]] = {}
    for report in _REPORTS:
        if user.has_perm(report.perm):
            groups.setdefault(report.group, []).append(report)
    return groups
