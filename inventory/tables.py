"""django-tables2 tables of the stock pages. Sorting and paging links are htmx-boosted inside the
table's own container (see `inventory/_table.html`), so the page around them stays put."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from inventory.models import (
    Category,
    Product,
    Purchase,
    StockAdjustment,
    StockAlert,
    StockCount,
    StockMovement,
    Supplier,
    Transfer,
    Unit,
)
from inventory.selectors import reference_url, stock_state_of
from inventory.templatetags.inventory_tags import kes, qty, signed_qty, state_badge, status_badge


class HtmxTable(tables.Table):
    class Meta:
        template_name = "inventory/_table.html"
        attrs = {"class": "table table-hover align-middle", "thead": {"hx-boost": "true"}}


class QtyColumn(tables.Column):
    def __init__(self, *args, signed=False, **kwargs):
        kwargs.setdefault("attrs", {"td": {"class": "qty"}, "th": {"class": "qty"}})
        self.signed = signed
        super().__init__(*args, **kwargs)

    def render(self, value):
        return signed_qty(value) if self.signed else qty(value)


class MoneyColumn(tables.Column):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", {"td": {"class": "money"}, "th": {"class": "money"}})
        super().__init__(*args, **kwargs)

    def render(self, value):
        return kes(value)


class ProductTable(HtmxTable):
    name = tables.Column(linkify=True)
    sku = tables.Column(verbose_name="SKU")
    barcode = tables.Column()
    category = tables.Column(accessor="category__name", order_by="category__name", verbose_name="Category")
    selling_price = MoneyColumn(verbose_name="Price")
    cost_price = MoneyColumn(verbose_name="Cost")
    on_hand = QtyColumn(verbose_name="On hand")
    unit = tables.Column(accessor="unit__code", verbose_name="", orderable=False)
    reorder_level = QtyColumn(verbose_name="Reorder at")
    state = tables.Column(empty_values=(), orderable=False, verbose_name="Stock")

    class Meta(HtmxTable.Meta):
        model = Product
        fields = ()
        sequence = (
            "name",
            "sku",
            "barcode",
            "category",
            "selling_price",
            "cost_price",
            "on_hand",
            "unit",
            "reorder_level",
            "state",
        )
        empty_text = "No products match."
        row_attrs = {"class": lambda record: "" if record.is_active else "text-muted"}

    def __init__(self, *args, show_cost: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not show_cost:
            self.columns.hide("cost_price")

    def render_state(self, record):
        return state_badge(stock_state_of(record))

    def render_name(self, record, value):
        if not record.is_active:
            return format_html('{} <span class="badge text-bg-secondary">deactivated</span>', value)
        return format_html(
            "{}{}",
            value,
            mark_safe(' <i class="bi bi-star-fill text-warning" title="Till favourite"></i>')  # noqa: S308 - constant HTML, no user data  # nosec B308
            if record.is_favourite
            else "",
        )


class MovementTable(HtmxTable):
    created_at = tables.DateTimeColumn(format="d M Y H:i", verbose_name="When")
    product = tables.Column(
        accessor="product__name",
        order_by="product__name",
        verbose_name="Product",
        linkify=lambda record: record.product.get_absolute_url(),
    )
    branch = tables.Column(accessor="branch__code", verbose_name="Branch", order_by="branch__code")
    kind = tables.Column()
    quantity = QtyColumn(signed=True, verbose_name="Change")
    balance_after = QtyColumn(verbose_name="Balance")
    unit_cost = MoneyColumn(verbose_name="Unit cost")
    reference = tables.Column(empty_values=(), orderable=False, verbose_name="Caused by")
    user = tables.Column(accessor="user__full_name", verbose_name="Who", order_by="user__full_name")
    reason = tables.Column(orderable=False)

    class Meta(HtmxTable.Meta):
        model = StockMovement
        fields = ()
        sequence = (
            "created_at",
            "product",
            "branch",
            "kind",
            "quantity",
            "balance_after",
            "unit_cost",
            "reference",
            "user",
            "reason",
        )
        empty_text = "No movements match."
        attrs = {**HtmxTable.Meta.attrs, "class": "table table-sm table-hover align-middle"}

    def __init__(self, *args, show_cost: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not show_cost:
            self.columns.hide("unit_cost")

    def render_kind(self, record):
        return record.get_kind_display()

    def render_reference(self, record):
        label = record.reference_label or (f"#{record.reference_id}" if record.reference_id else "")
        if not label:
            return "—"
        url = reference_url(record)
        return format_html('<a href="{}">{}</a>', url, label) if url else label


class AdjustmentTable(HtmxTable):
    number = tables.Column(empty_values=(), order_by="id", verbose_name="No.", linkify=True)
    created_at = tables.DateTimeColumn(format="d M Y H:i", verbose_name="Requested")
    product = tables.Column(accessor="product__name", order_by="product__name", verbose_name="Product")
    branch = tables.Column(accessor="branch__code", verbose_name="Branch", order_by="branch__code")
    delta = QtyColumn(signed=True, verbose_name="Change")
    reason = tables.Column()
    requested_by = tables.Column(accessor="requested_by__full_name", verbose_name="By")
    status = tables.Column()
    decided_by = tables.Column(accessor="decided_by__full_name", verbose_name="Decided by", default="—")

    class Meta(HtmxTable.Meta):
        model = StockAdjustment
        fields = ()
        sequence = (
            "number",
            "created_at",
            "product",
            "branch",
            "delta",
            "reason",
            "requested_by",
            "status",
            "decided_by",
        )
        empty_text = "No adjustments."

    def render_reason(self, record):
        return record.get_reason_display()

    def render_status(self, record):
        return status_badge(record)


class AlertTable(HtmxTable):
    product = tables.Column(
        accessor="product__name",
        order_by="product__name",
        verbose_name="Product",
        linkify=lambda record: record.product.get_absolute_url(),
    )
    branch = tables.Column(accessor="branch__code", verbose_name="Branch", order_by="branch__code")
    kind = tables.Column(verbose_name="")
    balance = QtyColumn(verbose_name="Stock then")
    reorder_level = QtyColumn(verbose_name="Reorder at")
    opened_at = tables.DateTimeColumn(format="d M Y H:i", verbose_name="Opened")
    resolved_at = tables.DateTimeColumn(format="d M Y H:i", verbose_name="Resolved", default="open")

    class Meta(HtmxTable.Meta):
        model = StockAlert
        fields = ()
        sequence = ("kind", "product", "branch", "balance", "reorder_level", "opened_at", "resolved_at")
        empty_text = "No alerts: every product is above its reorder level."

    def render_kind(self, record):
        return state_badge(record.kind)


class CountTable(HtmxTable):
    number = tables.Column(empty_values=(), order_by="id", verbose_name="No.", linkify=True)
    created_at = tables.DateTimeColumn(format="d M Y H:i", verbose_name="Started")
    scope = tables.Column(empty_values=(), accessor="category__name", order_by="category__name", verbose_name="What")
    branch = tables.Column(accessor="branch__code", verbose_name="Branch")
    progress = tables.Column(empty_values=(), orderable=False, verbose_name="Counted")
    started_by = tables.Column(accessor="started_by__full_name", verbose_name="By")
    status = tables.Column()

    class Meta(HtmxTable.Meta):
        model = StockCount
        fields = ()
        sequence = ("number", "created_at", "scope", "branch", "progress", "started_by", "status")
        empty_text = "No stock counts yet."

    def render_scope(self, record):
        return record.scope

    def render_progress(self, record):
        return f"{record.counted} of {record.line_count}"

    def render_status(self, record):
        return status_badge(record)


class PurchaseTable(HtmxTable):
    number = tables.Column(empty_values=(), order_by="id", verbose_name="No.", linkify=True)
    created_at = tables.DateTimeColumn(format="d M Y", verbose_name="Created")
    supplier = tables.Column(accessor="supplier__name", order_by="supplier__name", verbose_name="Supplier")
    branch = tables.Column(accessor="branch__code", verbose_name="Branch")
    expected_date = tables.DateColumn(format="d M Y", verbose_name="Expected", default="—")
    line_count = tables.Column(verbose_name="Lines", attrs={"td": {"class": "qty"}})
    total_ordered = MoneyColumn(verbose_name="Total (KES)")
    status = tables.Column()

    class Meta(HtmxTable.Meta):
        model = Purchase
        fields = ()
        sequence = (
            "number",
            "created_at",
            "supplier",
            "branch",
            "expected_date",
            "line_count",
            "total_ordered",
            "status",
        )
        empty_text = "No purchases match."

    def render_status(self, record):
        return status_badge(record)


class TransferTable(HtmxTable):
    number = tables.Column(empty_values=(), order_by="id", verbose_name="No.", linkify=True)
    created_at = tables.DateTimeColumn(format="d M Y", verbose_name="Created")
    from_branch = tables.Column(accessor="from_branch__name", verbose_name="From")
    to_branch = tables.Column(accessor="to_branch__name", verbose_name="To")
    line_count = tables.Column(verbose_name="Lines", attrs={"td": {"class": "qty"}})
    units = QtyColumn(verbose_name="Units")
    dispatched_at = tables.DateTimeColumn(format="d M Y H:i", verbose_name="Sent", default="—")
    status = tables.Column()

    class Meta(HtmxTable.Meta):
        model = Transfer
        fields = ()
        sequence = (
            "number",
            "created_at",
            "from_branch",
            "to_branch",
            "line_count",
            "units",
            "dispatched_at",
            "status",
        )
        empty_text = "No transfers."

    def render_status(self, record):
        badge = status_badge(record)
        if record.status == "IN_TRANSIT":
            return format_html('{} <span class="small text-muted">{} units on the way</span>', badge, qty(record.units))
        return badge


class SupplierTable(HtmxTable):
    name = tables.Column(linkify=True)
    contact_person = tables.Column(verbose_name="Contact")
    phone_number = tables.Column(verbose_name="Phone")
    kra_pin = tables.Column(verbose_name="KRA PIN")
    is_active = tables.Column(verbose_name="Status")

    class Meta(HtmxTable.Meta):
        model = Supplier
        fields = ()
        sequence = ("name", "contact_person", "phone_number", "kra_pin", "is_active")
        empty_text = "No suppliers yet."

    def render_is_active(self, value):
        return format_html(
            '<span class="badge text-bg-{}">{}</span>',
            "success" if value else "secondary",
            "Active" if value else "Deactivated",
        )


class CategoryTable(HtmxTable):
    name = tables.Column(linkify=lambda record: reverse("inventory:category_edit", args=[record.pk]))
    product_count = tables.Column(verbose_name="Products", attrs={"td": {"class": "qty"}})
    show_on_till = tables.BooleanColumn(verbose_name="On the till")
    sort_order = tables.Column(verbose_name="Order")
    is_active = tables.BooleanColumn(verbose_name="Active")

    class Meta(HtmxTable.Meta):
        model = Category
        fields = ()
        sequence = ("name", "product_count", "show_on_till", "sort_order", "is_active")


class UnitTable(HtmxTable):
    name = tables.Column(linkify=lambda record: reverse("inventory:unit_edit", args=[record.pk]))
    code = tables.Column()
    decimal_places = tables.Column(verbose_name="Decimals")
    product_count = tables.Column(verbose_name="Products", attrs={"td": {"class": "qty"}})
    is_active = tables.BooleanColumn(verbose_name="Active")

    class Meta(HtmxTable.Meta):
        model = Unit
        fields = ()
        sequence = ("name", "code", "decimal_places", "product_count", "is_active")
