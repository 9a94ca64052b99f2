"""django-tables2 tables of the sales and customers pages."""

import django_tables2 as tables
from django.utils.html import format_html

from pos.customers.models import Customer
from pos.sales.models import Sale, SaleStatus
from pos.templatetags.till_tags import kes

STATUS_BADGES = {
    SaleStatus.COMPLETED: "text-bg-success",
    SaleStatus.VOIDED: "text-bg-danger",
    SaleStatus.HELD: "text-bg-warning",
    SaleStatus.OPEN: "text-bg-secondary",
}


class MoneyColumn(tables.Column):
    attrs = {"td": {"class": "money"}, "th": {"class": "money"}}

    def render(self, value):
        return kes(value)


class SaleTable(tables.Table):
    number = tables.Column(linkify=("sales:detail", {"pk": tables.A("pk")}), verbose_name="Sale", empty_values=())
    completed_at = tables.DateTimeColumn(format="d M Y H:i", verbose_name="When", empty_values=())
    cashier = tables.Column(accessor="cashier__full_name", verbose_name="Cashier", order_by="cashier__full_name")
    customer = tables.Column(accessor="customer__name", verbose_name="Customer", order_by="customer__name", default="—")
    status = tables.Column()
    total = MoneyColumn(verbose_name="Total (KES)")
    returned = MoneyColumn(verbose_name="Returned", orderable=False)

    class Meta:
        model = Sale
        fields = ("number", "completed_at", "cashier", "customer", "status", "total", "returned")
        attrs = {"class": "table table-hover align-middle"}
        empty_text = "No sales match these filters."

    def render_number(self, record):
        return record.number or f"#{record.pk}"

    def render_completed_at(self, record):
        when = record.completed_at or record.held_at or record.created_at
        return when.astimezone().strftime("%d %b %Y %H:%M") if when else "—"

    def render_status(self, value, record):
        return format_html('<span class="badge {}">{}</span>', STATUS_BADGES.get(record.status, "text-bg-light"),
                           record.get_status_display())

    def render_returned(self, value):
        return kes(value) if value else "—"


class CustomerTable(tables.Table):
    name = tables.Column(linkify=("customers:detail", {"pk": tables.A("pk")}))
    phone_number = tables.Column(verbose_name="Phone", default="—")
    email = tables.Column(default="—")
    total_spent = MoneyColumn(verbose_name="Spent (KES)")
    balance = MoneyColumn(verbose_name="Owes (KES)")
    credit_limit = MoneyColumn(verbose_name="Credit limit")
    loyalty_points = tables.Column(verbose_name="Points", attrs={"td": {"class": "qty"}, "th": {"class": "qty"}})
    is_active = tables.BooleanColumn(verbose_name="Active")

    class Meta:
        model = Customer
        fields = (
            "name", "phone_number", "email", "total_spent", "balance", "credit_limit", "loyalty_points", "is_active"
        )
        attrs = {"class": "table table-hover align-middle"}
        empty_text = "No customers match."
