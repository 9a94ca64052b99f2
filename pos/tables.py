"""django-tables2 tables for the people pages."""

import django_tables2 as tables
from django.utils.safestring import mark_safe

from .models import AuditLog, User


class StaffTable(tables.Table):
    full_name = tables.Column(linkify=("pos:staff_edit", {"pk": tables.A("pk")}), verbose_name="Name")
    phone_number = tables.Column(verbose_name="Phone")
    role = tables.Column()
    branch = tables.Column(accessor="branch__name", verbose_name="Branch", order_by="branch__name")
    is_active = tables.Column(verbose_name="Status")
    last_login = tables.DateTimeColumn(format="d M Y H:i", verbose_name="Last login")
    pin = tables.Column(accessor="till_pin", verbose_name="Till PIN", orderable=False)

    class Meta:
        model = User
        fields = ("full_name", "phone_number", "role", "branch", "is_active", "last_login")
        sequence = ("full_name", "phone_number", "role", "branch", "pin", "is_active", "last_login")
        attrs = {"class": "table table-hover align-middle"}
        empty_text = "No staff match."

    def render_is_active(self, value):
        if value:
            return mark_safe('<span class="badge text-bg-success">Active</span>')  # noqa: S308 - constant
        return mark_safe('<span class="badge text-bg-secondary">Deactivated</span>')  # noqa: S308 - constant

    def render_pin(self, value):
        return "set" if value else "—"


class AuditLogTable(tables.Table):
    created_at = tables.DateTimeColumn(format="d M Y H:i:s", verbose_name="When")
    user = tables.Column(verbose_name="Who")
    authorised_by = tables.Column(verbose_name="Authorised by")
    action = tables.Column()
    target = tables.Column(empty_values=(), orderable=False, verbose_name="What")
    reason = tables.Column()
    changes = tables.TemplateColumn(template_name="pos/_audit_changes.html", orderable=False, verbose_name="Before → after")

    class Meta:
        model = AuditLog
        fields = ("created_at", "user", "authorised_by", "action", "reason")
        sequence = ("created_at", "user", "authorised_by", "action", "target", "reason", "changes")
        attrs = {"class": "table table-sm align-middle"}
        empty_text = "Nothing recorded for these filters."

    def render_user(self, value):
        return value.full_name

    def render_authorised_by(self, value):
        return value.full_name

    def render_target(self, record):
        if not record.model_name:
            return "—"
        return f"{record.model_name} #{record.object_id}" if record.object_id else record.model_name
