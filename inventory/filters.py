"""django-filter filter sets of the stock pages."""

import django_filters
from django import forms
from django.db.models import Q

from core.branches import for_viewer
from inventory.models import (
    AdjustmentReason,
    AdjustmentStatus,
    AlertKind,
    Category,
    MovementKind,
    Product,
    Purchase,
    PurchaseStatus,
    StockAdjustment,
    StockAlert,
    StockMovement,
    Supplier,
    Transfer,
    TransferStatus,
)
from inventory.selectors import StockState, filter_stock_state, search_products
from pos.people.models import User

DATE = forms.DateInput(attrs={"type": "date"})


def _bootstrap(form) -> None:
    for field in form.fields.values():
        widget = field.widget
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", css)


class BootstrapFilterSet(django_filters.FilterSet):
    @property
    def form(self):
        form = super().form
        _bootstrap(form)
        return form


class ProductFilter(BootstrapFilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, SKU or barcode", "autocomplete": "off"}),
    )
    category = django_filters.ModelChoiceFilter(queryset=Category.objects.all(), empty_label="All categories")
    state = django_filters.ChoiceFilter(
        choices=StockState.CHOICES, method="by_state", label="Stock", empty_label="Any stock"
    )
    active = django_filters.ChoiceFilter(
        choices=[("yes", "Active"), ("no", "Deactivated"), ("all", "Active and not")],
        method="by_active",
        label="Status",
        empty_label=None,
    )

    class Meta:
        model = Product
        fields = ["q", "category", "state", "active"]

    def __init__(self, data=None, *args, **kwargs):
        data = data.copy() if data is not None else {}
        if not data.get("active"):
            data["active"] = "yes"
        super().__init__(data, *args, **kwargs)

    def search(self, queryset, name, value):
        return search_products(queryset, value)

    def by_state(self, queryset, name, value):
        return filter_stock_state(queryset, value)

    def by_active(self, queryset, name, value):
        if value == "yes":
            return queryset.filter(is_active=True)
        if value == "no":
            return queryset.filter(is_active=False)
        return queryset


class MovementFilter(BootstrapFilterSet):
    product = django_filters.CharFilter(
        method="by_product",
        label="Product",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, SKU or barcode"}),
    )
    kind = django_filters.ChoiceFilter(choices=MovementKind.choices, empty_label="Every kind")
    user = django_filters.ModelChoiceFilter(queryset=User.objects.all(), label="Who", empty_label="Anyone")
    start = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label="From", widget=DATE)
    end = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label="To", widget=DATE)

    class Meta:
        model = StockMovement
        fields = ["product", "kind", "user", "start", "end"]

    def __init__(self, *args, viewer=None, **kwargs):
        super().__init__(*args, **kwargs)
        users = User.objects.order_by("full_name")
        if viewer is not None:
            users = for_viewer(users, viewer)
        self.filters["user"].queryset = users

    def by_product(self, queryset, name, value):
        value = value.strip()
        if value.isdigit() and len(value) < 8:  # a product id, from the product page's link
            return queryset.filter(product_id=int(value))
        return queryset.filter(product__in=search_products(Product.objects.all(), value).values("pk"))


class AdjustmentFilter(BootstrapFilterSet):
    status = django_filters.ChoiceFilter(choices=AdjustmentStatus.choices, empty_label="Any status")
    reason = django_filters.ChoiceFilter(choices=AdjustmentReason.choices, empty_label="Any reason")
    product = django_filters.CharFilter(method="by_product", label="Product")

    class Meta:
        model = StockAdjustment
        fields = ["status", "reason", "product"]

    def by_product(self, queryset, name, value):
        return queryset.filter(product__in=search_products(Product.objects.all(), value).values("pk"))


class AlertFilter(BootstrapFilterSet):
    state = django_filters.ChoiceFilter(
        choices=[("open", "Open"), ("resolved", "Resolved")],
        method="by_state",
        label="State",
        empty_label="Open and resolved",
    )
    kind = django_filters.ChoiceFilter(choices=AlertKind.choices, empty_label="Low and out")

    class Meta:
        model = StockAlert
        fields = ["state", "kind"]

    def __init__(self, data=None, *args, **kwargs):
        data = data.copy() if data is not None else {}
        if "state" not in data:
            data["state"] = "open"
        super().__init__(data, *args, **kwargs)

    def by_state(self, queryset, name, value):
        if value == "open":
            return queryset.filter(resolved_at__isnull=True)
        if value == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


class PurchaseFilter(BootstrapFilterSet):
    status = django_filters.ChoiceFilter(choices=PurchaseStatus.choices, empty_label="Any status")
    supplier = django_filters.ModelChoiceFilter(queryset=Supplier.objects.all(), empty_label="Every supplier")
    q = django_filters.CharFilter(method="search", label="Number or reference")

    class Meta:
        model = Purchase
        fields = ["status", "supplier", "q"]

    def search(self, queryset, name, value):
        value = value.strip().upper().removeprefix("PO-")
        condition = Q(supplier_reference__icontains=value)
        if value.isdigit():
            condition |= Q(pk=int(value))
        return queryset.filter(condition)


class TransferFilter(BootstrapFilterSet):
    status = django_filters.ChoiceFilter(choices=TransferStatus.choices, empty_label="Any status")

    class Meta:
        model = Transfer
        fields = ["status"]
