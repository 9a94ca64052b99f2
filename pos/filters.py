"""django-filter filter sets for the people pages."""

import django_filters
from django import forms
from django.db.models import Q

from .models import AuditLog, User


class AuditLogFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    action = django_filters.ChoiceFilter(choices=(), label="Action")
    user = django_filters.ModelChoiceFilter(queryset=User.objects.all(), label="Who")
    start = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label="From",
                                      widget=forms.DateInput(attrs={"type": "date"}))
    end = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label="To",
                                    widget=forms.DateInput(attrs={"type": "date"}))

    class Meta:
        model = AuditLog
        fields = ["q", "action", "user", "start", "end"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        actions = AuditLog.objects.order_by("action").values_list("action", flat=True).distinct()
        self.filters["action"].extra["choices"] = [(a, a.replace("_", " ")) for a in actions]
        self.filters["user"].queryset = User.objects.order_by("full_name")

    def search(self, queryset, name, value):
        return queryset.filter(Q(reason__icontains=value) | Q(model_name__icontains=value) | Q(object_id=value))
