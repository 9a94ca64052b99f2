"""Recording the audit trail: one service every app calls for a sensitive action."""

from typing import Any

from django.db import models
from django.forms.models import model_to_dict
from django.http import HttpRequest

from core.ops.client_address import client_address
from pos.people.models import AuditLog


class AuditAction:
    """The actions we record. Free strings in the database so a new action needs no migration."""

    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    STAFF_CREATED = "staff_created"
    STAFF_UPDATED = "staff_updated"
    ROLE_CHANGED = "role_changed"
    STAFF_DEACTIVATED = "staff_deactivated"
    STAFF_REACTIVATED = "staff_reactivated"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - an audit action name, not a password
    PIN_SET = "pin_set"
    PIN_LOCKED = "pin_locked"
    PIN_RATE_LIMITED = "pin_rate_limited"  # too many wrong PINs from one till (person or address)
    SETTINGS_CHANGED = "settings_changed"
    # The till
    PRICE_OVERRIDE = "price_override"
    LINE_VOID = "line_void"
    SALE_VOID = "sale_void"
    DISCOUNT = "discount"
    REPRINT = "receipt_reprint"
    REFUND = "refund"
    CREDIT_LIMIT_CHANGED = "credit_limit_changed"
    # Stock
    ADJUSTMENT_APPROVED = "adjustment_approved"
    ADJUSTMENT_REJECTED = "adjustment_rejected"
    PRODUCT_CREATED = "product_created"
    PRODUCT_UPDATED = "product_updated"
    PRODUCT_DEACTIVATED = "product_deactivated"
    PRODUCT_REACTIVATED = "product_reactivated"
    PRODUCT_DELETED = "product_deleted"
    PRODUCTS_IMPORTED = "products_imported"
    STOCK_COUNT_POSTED = "stock_count_posted"
    PURCHASE_RECEIVED = "purchase_received"
    PURCHASE_CANCELLED = "purchase_cancelled"
    TRANSFER_DISPATCHED = "transfer_dispatched"
    TRANSFER_RECEIVED = "transfer_received"
    # Cash desk
    SESSION_CLOSED = "session_closed"
    SESSION_FORCE_CLOSED = "session_force_closed"
    CASH_PAID_IN = "cash_paid_in"
    CASH_PAID_OUT = "cash_paid_out"
    CASH_DROP = "cash_drop"
    COUNT_RECOUNTED = "cash_count_recounted"
    X_REPORT_READ = "x_report_read"
    DRAWER_OPENED = "drawer_opened"  # the cash drawer opened with no sale
    MPESA_MISMATCH_RESOLVED = "mpesa_mismatch_resolved"
    MPESA_OVERPAYMENT_RESOLVED = "mpesa_overpayment_resolved"
    MPESA_C2B_CONFIRMED = "mpesa_c2b_confirmed"
    MPESA_ATTACHED = "mpesa_attached"
    MPESA_SET_ASIDE = "mpesa_set_aside"
    MPESA_STOPPED_WAITING = "mpesa_stopped_waiting"
    CUSTOMER_RECEIPT = "customer_receipt"
    SUPPLIER_PAYMENT = "supplier_payment"
    EXPENSE = "expense"


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """A JSON-able picture of a model instance for `before_data` / `after_data`."""
    data = model_to_dict(instance, fields=fields)
    return {k: (str(v) if isinstance(v, models.Model) else v) for k, v in data.items()}


def audit_record(
    *,
    action: str,
    user=None,
    instance: models.Model | None = None,
    model_name: str = "",
    object_id: str | int = "",
    reason: str = "",
    before: dict | None = None,
    after: dict | None = None,
    authorised_by=None,
    branch=None,
    request: HttpRequest | None = None,
) -> AuditLog:
    """Insert one audit row. Call it inside the service's transaction so it lands with the change."""
    if instance is not None:
        model_name = model_name or instance._meta.label
        object_id = object_id or instance.pk
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    if branch is None and user is not None:
        branch_id = getattr(user, "branch_id", None)
    else:
        branch_id = getattr(branch, "pk", branch)
    if authorised_by is not None and user is not None and authorised_by.pk == user.pk:
        authorised_by = None
    return AuditLog.objects.create(
        action=action,
        model_name=model_name,
        object_id=str(object_id or ""),
        user=user,
        authorised_by=authorised_by,
        branch_id=branch_id,
        reason=reason or "",
        before_data=before,
        after_data=after,
        ip_address=client_address(request),
    )
