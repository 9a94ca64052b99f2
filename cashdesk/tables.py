"""django-tables2 tables of the cash desk."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from cashdesk.models import CashSession, CustomerReceipt, Expense, SessionStatus, SupplierPayment


class CashSessionTable(tables.Table):
    id = tables.Column(linkify=("cashdesk:session_report", {"pk": tables.A("pk")}), verbose_name="#")
    cashier = tables.Column(accessor="cashier__full_name", verbose_name="Cashier", order_by="cashier__full_name")
    branch = tables.Column(accessor="branch__name", verbose_name="Branch", order_by="branch__name")
    opened_at = tables.DateTimeColumn(format="d M Y H:i", verbose_name="Opened")
    closed_at = tables.DateTimeColumn(format="d M Y H:i", verbose_name="Closed")
    opening_float = tables.Column(verbose_name="Float", attrs={"td": {"class": "money"}})
    expected_cash = tables.Column(verbose_name="Expected", attrs={"td": {"class": "money"}})
    closing_total = tables.Column(verbose_name="Counted", attrs={"td": {"class": "money"}})
    difference = tables.Column(verbose_name="Over / short", attrs={"td": {"class": "money"}})
    status = tables.Column()

    class Meta:
        model = CashSession
        fields = (
            "id",
            "cashier",
            "branch",
            "opened_at",
            "closed_at",
            "opening_float",
            "expected_cash",
            "closing_total",
            "difference",
            "status",
        )
        attrs = {"class": "table table-hover align-middle"}
        empty_text = "No cash sessions yet."
        order_by = ("-opened_at",)

    def render_status(self, record):
        if record.status == SessionStatus.OPEN:
            css, label = "success", "Open"
        elif record.force_closed:
            css, label = "warning", "Force-closed"
        else:
            css, label = "secondary", "Closed"
        return format_html('<span class="badge text-bg-{}">{}</span>', css, label)

    def render_difference(self, value):
        css = "text-success" if value > 0 else "text-danger" if value < 0 else "text-muted"
        word = "over" if value > 0 else "short" if value < 0 else "exact"
        return format_html('<span class="{}">{} {}</span>', css, f"{abs(value):,.2f}", word)


class CustomerReceiptTable(tables.Table):
    number = tables.Column(linkify=("cashdesk:receipt_detail", {"pk": tables.A("pk")}), verbose_name="Receipt")
    created_at = tables.DateTimeColumn(format="d M Y H:i", verbose_name="When")
    customer = tables.Column(accessor="customer__name", verbose_name="Customer")
    method = tables.Column()
    amount = tables.Column(attrs={"td": {"class": "money"}})
    balance_after = tables.Column(verbose_name="Still owes", attrs={"td": {"class": "money"}})

    class Meta:
        model = CustomerReceipt
        fields = ("number", "created_at", "customer", "method", "amount", "balance_after")
        attrs = {"class": "table table-hover align-middle"}
        empty_text = "No customer receipts yet."


class SupplierPaymentTable(tables.Table):
    created_at = tables.DateTimeColumn(format="d M Y H:i", verbose_name="When")
    supplier = tables.Column(accessor="supplier__name", verbose_name="Supplier")
    purchase = tables.Column(linkify=True, verbose_name="Purchase")
    purchase_reference = tables.Column(verbose_name="Invoice")
    method = tables.Column()
    reference = tables.Column()
    amount = tables.Column(attrs={"td": {"class": "money"}})
    paid_by = tables.Column(accessor="paid_by__full_name", verbose_name="Paid by")

    class Meta:
        model = SupplierPayment
        fields = (
            "created_at",
            "supplier",
            "purchase",
            "purchase_reference",
            "method",
            "reference",
            "amount",
            "paid_by",
        )
        attrs = {"class": "table table-hover align-middle"}
        empty_text = "No supplier payments yet."

    def render_purchase(self, value):
        return value.number


class ExpenseTable(tables.Table):
    spent_on = tables.DateColumn(format="d M Y", verbose_name="Date")
    category = tables.Column(accessor="category__name", verbose_name="Category")
    description = tables.Column()
    method = tables.Column()
    amount = tables.Column(attrs={"td": {"class": "money"}})
    attachment = tables.Column(verbose_name="Bill", orderable=False)

    class Meta:
        model = Expense
        fields = ("spent_on", "category", "description", "method", "amount", "attachment")
        attrs = {"class": "table table-hover align-middle"}
        empty_text = "No expenses recorded."

    def render_attachment(self, record):

        return format_html(
            '<a href="{}"><i class="bi bi-paperclip"></i> open</a>',
            reverse("cashdesk:expense_attachment", args=[record.pk]),
        )
