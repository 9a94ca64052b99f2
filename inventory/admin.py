"""Admin for the stock app: for looking things up. Every change goes through the stock pages and their
services (validation, the ledger, the audit log), so nothing here can add, change or delete."""

from django.contrib import admin

from inventory.models import (
    Category,
    Product,
    ProductImport,
    Purchase,
    PurchaseLine,
    StockAdjustment,
    StockAlert,
    StockCount,
    StockLevel,
    StockMovement,
    Supplier,
    Transfer,
    TransferLine,
    Unit,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Category)
class CategoryAdmin(ReadOnlyAdmin):
    list_display = ("name", "sort_order", "show_on_till", "is_active")
    search_fields = ("name",)


@admin.register(Unit)
class UnitAdmin(ReadOnlyAdmin):
    list_display = ("name", "code", "decimal_places", "is_active")


@admin.register(Supplier)
class SupplierAdmin(ReadOnlyAdmin):
    list_display = ("name", "contact_person", "phone_number", "kra_pin", "is_active")
    search_fields = ("name", "kra_pin", "phone_number")


@admin.register(Product)
class ProductAdmin(ReadOnlyAdmin):
    list_display = ("name", "sku", "barcode", "category", "unit", "selling_price", "tax_class", "is_active")
    list_filter = ("is_active", "tax_class", "category", "track_stock")
    search_fields = ("name", "sku", "barcode")
    list_select_related = ("category", "unit")


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdmin):
    list_display = ("product", "branch", "quantity", "updated_at")
    list_filter = ("branch",)
    search_fields = ("product__name", "product__sku", "product__barcode")
    list_select_related = ("product", "branch")


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "product", "branch", "kind", "quantity", "balance_after", "reference_label", "user")
    list_filter = ("kind", "branch", ("created_at", admin.DateFieldListFilter))
    search_fields = ("product__name", "product__sku", "reference_label", "reason")
    date_hierarchy = "created_at"
    list_select_related = ("product", "branch", "user")


@admin.register(StockAdjustment)
class StockAdjustmentAdmin(ReadOnlyAdmin):
    list_display = (
        "number", "product", "branch", "delta", "reason", "status", "requested_by", "decided_by", "created_at"
    )
    list_filter = ("status", "reason", "branch")
    search_fields = ("product__name", "product__sku", "note", "decision_note")
    list_select_related = ("product", "branch", "requested_by", "decided_by")


@admin.register(StockAlert)
class StockAlertAdmin(ReadOnlyAdmin):
    list_display = ("product", "branch", "kind", "balance", "reorder_level", "opened_at", "resolved_at", "notified_at")
    list_filter = ("kind", "branch")
    list_select_related = ("product", "branch")


@admin.register(StockCount)
class StockCountAdmin(ReadOnlyAdmin):
    list_display = ("number", "branch", "category", "status", "started_by", "created_at", "closed_at")
    list_filter = ("status", "branch")


class PurchaseLineInline(ReadOnlyInline):
    model = PurchaseLine


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdmin):
    list_display = ("number", "supplier", "branch", "status", "total_ordered", "total_received", "created_at")
    list_filter = ("status", "branch", "supplier")
    inlines = [PurchaseLineInline]


class TransferLineInline(ReadOnlyInline):
    model = TransferLine


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ("number", "from_branch", "to_branch", "status", "dispatched_at", "received_at")
    list_filter = ("status",)
    inlines = [TransferLineInline]


@admin.register(ProductImport)
class ProductImportAdmin(ReadOnlyAdmin):
    list_display = ("file_name", "uploaded_by", "status", "to_create", "to_update", "to_reject", "created_at")
    list_filter = ("status",)
    exclude = ("content",)
