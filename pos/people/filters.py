"""django-filter filter sets for the people pages."""

from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone

from core.phone import phone_or_none
from pos.people.models import AuditLog, User
from pos.people.selectors import staff_visible_to


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class AuditLogFilter(django_filters.FilterSet):
    """Search and narrow the audit log. Pass `request=`: "Who" offers only people the viewer may see."""

    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Reason, name, phone, record…"}),
    )
    action = django_filters.ChoiceFilter(choices=(), label="Action", empty_label="All actions")
    user = django_filters.ModelChoiceFilter(queryset=User.objects.none(), label="Who", empty_label="Anyone")
    # Dates are turned into the shop's local midnights here rather than with `created_at__date`:
    # MariaDB without its time-zone tables answers every `__date` lookup with NULL.
    start = django_filters.DateFilter(method="from_date", label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = django_filters.DateFilter(method="to_date", label="To", widget=forms.DateInput(attrs={"type": "date"}))

    class Meta:
        model = AuditLog
        fields = ["q", "action", "user", "start", "end"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        actions = AuditLog.objects.order_by("action").values_list("action", flat=True).distinct()
        self.filters["action"].extra["choices"] = [(a, a.replace("_", " ")) for a in actions]
        viewer = getattr(self.request, "user", None)
        self.filters["user"].queryset = staff_visible_to(viewer) if viewer is not None else User.objects.none()

    def from_date(self, queryset, name, value):
        return queryset.filter(created_at__gte=_local_midnight(value))

    def to_date(self, queryset, name, value):
        return queryset.filter(created_at__lt=_local_midnight(value + timedelta(days=1)))

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        match = (
            Q(reason__icontains=value)
            | Q(action__icontains=value.replace(" ", "_"))
            | Q(model_name__icontains=value)
            | Q(object_id=value)
            | Q(user__full_name__icontains=value)
            | Q(authorised_by__full_name__icontains=value)
        )
        phone = phone_or_none(value)
        if phone:
            match |= Q(user__phone_number=phone) | Q(after_data__phone_number=phone)
        return queryset.filter(match)
