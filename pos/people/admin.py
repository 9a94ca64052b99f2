"""Admin: staff, branches and settings; the audit log is read-only and searchable."""

from django.contrib import admin

from pos.people.models import AuditLog, Branch, ShopSettings, User


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "mpesa_till_number", "mpesa_paybill", "is_active")
    search_fields = ("name", "code")


@admin.register(ShopSettings)
class ShopSettingsAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    """Read and search staff here; add, change roles and reset passwords on the Staff page (audited)."""

    ordering = ("full_name",)
    list_display = ("full_name", "phone_number", "role", "branch", "is_active", "last_login")
    list_filter = ("role", "branch", "is_active")
    search_fields = ("full_name", "phone_number", "email")
    fields = ("phone_number", "full_name", "email", "role", "branch", "is_active", "last_login", "date_joined")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ("created_at", "action", "model_name", "object_id", "user", "authorised_by", "branch", "ip_address")
    list_filter = ("action", "model_name", "branch", ("created_at", admin.DateFieldListFilter))
    search_fields = ("object_id", "reason", "user__full_name", "user__phone_number", "model_name")
    # No date_hierarchy: it needs MariaDB's time-zone tables (CONVERT_TZ) and answers 500 without
    # them; the "created at" filter (today, past 7 days, this month…) works on any database.
    list_select_related = ("user", "authorised_by", "branch")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
