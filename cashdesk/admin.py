"""Admin of the cash desk: read-only views for inspection (money only moves through the services and
their pages, which check the rules and write the audit log); expense categories may be edited."""

from django.contrib import admin

from cashdesk.models import (
    CashMovement,
    CashSession,
    CustomerReceipt,
    Expense,
    ExpenseCategory,
    Payment,
    PrintJob,
    ReceiptPrinter,
    SupplierPayment,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CashSession)
class CashSessionAdmin(ReadOnlyAdmin):
    list_display = (
        "pk",
        "cashier",
        "branch",
        "status",
        "opened_at",
        "closed_at",
        "expected_cash",
        "closing_total",
        "difference",
    )
    list_filter = ("status", "branch", "force_closed")
    search_fields = ("cashier__full_name",)
    date_hierarchy = "opened_at"


@admin.register(CashMovement)
class CashMovementAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "session", "kind", "amount", "reason", "recorded_by")
    list_filter = ("kind",)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "sale",
        "method",
        "status",
        "amount",
        "change_given",
        "reference",
        "mpesa_receipt",
        "session",
    )
    list_filter = ("method", "status")
    search_fields = ("mpesa_receipt", "reference", "sale__number")


@admin.register(CustomerReceipt)
class CustomerReceiptAdmin(ReadOnlyAdmin):
    list_display = ("number", "created_at", "customer", "method", "amount", "balance_after", "received_by")
    search_fields = ("number", "customer__name", "reference")


@admin.register(SupplierPayment)
class SupplierPaymentAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "supplier", "purchase_reference", "method", "amount", "reference", "paid_by")
    list_filter = ("method",)


@admin.register(Expense)
class ExpenseAdmin(ReadOnlyAdmin):
    list_display = ("spent_on", "category", "description", "method", "amount", "branch", "recorded_by")
    list_filter = ("category", "method", "branch")


@admin.register(ExpenseCategory)
class ExpenseCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "is_active")

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: expenses keep their category


# The M-Pesa and eTIMS records' admin is defined with each; Django finds it through this module.
from cashdesk.etims import admin as _etims_admin  # noqa: E402,F401
from cashdesk.mpesa import admin as _mpesa_admin  # noqa: E402,F401


# ---------------------------------------------------------------------------- the counter's printer
@admin.register(ReceiptPrinter)
class ReceiptPrinterAdmin(admin.ModelAdmin):
    """Where each branch's thermal printer is on the shop's network: set by the owner."""

    list_display = ("branch", "name", "host", "port", "paper_width", "is_active")
    list_filter = ("is_active", "paper_width")


@admin.register(PrintJob)
class PrintJobAdmin(ReadOnlyAdmin):
    list_display = ("pk", "printer", "kind", "sale", "status", "attempts", "error", "requested_by", "created_at")
    list_filter = ("status", "kind")
