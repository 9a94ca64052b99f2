"""django-filter filter set of the sales list."""

import django_filters
from django import forms

from core.branches import for_viewer
from core.roles import Perm
from pos.people.models import User
from pos.sales.models import Sale, SaleStatus


class SaleFilter(django_filters.FilterSet):
    number = django_filters.CharFilter(field_name="number", lookup_expr="icontains", label="Number")
    start = django_filters.DateFilter(field_name="completed_at", lookup_expr="date__gte", label="From",
                                      widget=forms.DateInput(attrs={"type": "date"}))
    end = django_filters.DateFilter(field_name="completed_at", lookup_expr="date__lte", label="To",
                                    widget=forms.DateInput(attrs={"type": "date"}))
    cashier = django_filters.ModelChoiceFilter(queryset=User.objects.none(), label="Cashier")
    status = django_filters.ChoiceFilter(
        choices=[(SaleStatus.COMPLETED, "Completed"), (SaleStatus.VOIDED, "Voided"), (SaleStatus.HELD, "Held")],
        label="Status",
    )

    class Meta:
        model = Sale
        fields = ["number", "start", "end", "cashier", "status"]

    def __init__(self, *args, viewer: User, **kwargs):
        super().__init__(*args, **kwargs)
        if viewer.has_perm(Perm.VIEW_ALL_SALES):
            people = User.objects.order_by("full_name")
            people = for_viewer(people, viewer)
            self.filters["cashier"].queryset = people
        else:
            del self.filters["cashier"]
        for field in self.form.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)
