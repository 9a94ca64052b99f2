"""django-tables2 tables for the people pages."""

import django_tables2 as tables
from django.utils.html import format_html

from core.phone import format_phone_local
from pos.people.models import AuditLog, User


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
        attrs = {"class": "table table-hover align-middle staff-table"}
        empty_text = "No staff match."

    def render_phone_number(self, value):
        return format_html('<span class="text-nowrap">{}</span>', format_phone_local(value))

    def render_is_active(self, value):
        if value:
            return format_html('<span class="badge text-bg-success">{}</span>', "Active")
        return format_html('<span class="badge text-bg-secondary">{}</span>', "Deactivated")

    def render_pin(self, value):
        return "set" if value else "—"


# What an audit row's `model_name` is called on the page.
MODEL_LABELS = {"pos.User": "Staff", "pos.ShopSettings": "Shop settings", "pos.Branch": "Branch"}


class AuditLogTable(tables.Table):
    created_at = tables.DateTimeColumn(format="d M Y H:i:s", verbose_name="When")
    user = tables.Column(verbose_name="Who", order_by=("user__full_name",))
    authorised_by = tables.Column(verbose_name="Authorised by", order_by=("authorised_by__full_name",))
    action = tables.Column()
    target = tables.Column(empty_values=(), orderable=False, verbose_name="What")
    reason = tables.Column()
    changes = tables.TemplateColumn(
        template_name="pos/_audit_changes.html", orderable=False, verbose_name="Before → after"
    )

    class Meta:
        model = AuditLog
        fields = ("created_at", "user", "authorised_by", "action", "reason")
        sequence = ("created_at", "user", "authorised_by", "action", "target", "reason", "changes")
        attrs = {"class": "table table-sm align-middle audit-table"}
        empty_text = "Nothing recorded for these filters."

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.staff_names: dict[str, str] = {}

    def name_people_on_page(self) -> None:
        """One query for the names of the staff records shown on this page (not one per row)."""
        rows = [row.record for row in self.page.object_list] if hasattr(self, "page") else []
        ids = {row.object_id for row in rows if row.model_name == "pos.User" and row.object_id.isdigit()}
        if ids:
            self.staff_names = {
                str(pk): name for pk, name in User.objects.filter(pk__in=ids).values_list("pk", "full_name")
            }

    def render_user(self, value):
        return value.full_name

    def render_authorised_by(self, value):
        return value.full_name

    def render_action(self, value):
        return value.replace("_", " ")

    def render_target(self, record):
        if not record.model_name:
            return "—"
        label = MODEL_LABELS.get(record.model_name, record.model_name)
        if record.model_name == "pos.User" and record.object_id in self.staff_names:
            return f"{label}: {self.staff_names[record.object_id]}"
        return f"{label} #{record.object_id}" if record.object_id else label
