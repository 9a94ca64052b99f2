"""Roles and what each may do: the one place where a role becomes Django permissions.

The roles: Owner — everything; Manager — sales, purchases, stock approvals, users other than
owners; Employee — the till and their own cash session. Views and API endpoints check these
permission strings with `user.has_perm(...)` (see `pos.people.backends.RoleBackend`); templates only use
them to hide what the server refuses anyway.
"""

from django.db import models


class Role(models.TextChoices):
    OWNER = "OWNER", "Owner"
    MANAGER = "MANAGER", "Manager"
    EMPLOYEE = "EMPLOYEE", "Employee"


# Permission strings, grouped by app. A new area adds its own here and to the role sets below.
class Perm:
    # pos: people and settings
    VIEW_STAFF = "pos.view_user"
    MANAGE_STAFF = "pos.change_user"  # add/edit/deactivate staff who are not owners
    MANAGE_OWNERS = "pos.manage_owners"  # create or edit an owner, make someone an owner
    VIEW_AUDIT_LOG = "pos.view_auditlog"
    CHANGE_SHOP_SETTINGS = "pos.change_shopsettings"
    VIEW_BRANCHES = "pos.view_branch"
    MANAGE_BRANCHES = "pos.change_branch"
    ALL_BRANCHES = "pos.all_branches"  # see every branch's records, not only one's own

    # pos: the till and sales
    USE_TILL = "pos.use_till"
    VIEW_SALES = "pos.view_sale"
    VIEW_ALL_SALES = "pos.view_all_sales"  # other cashiers' sales, not only one's own
    AUTHORISE_OVERRIDES = "pos.authorise_overrides"  # price overrides, voids, big discounts, reprints
    REFUND = "pos.refund_sale"
    VIEW_CUSTOMERS = "pos.view_customer"
    MANAGE_CUSTOMERS = "pos.change_customer"
    SET_CREDIT_LIMIT = "pos.set_credit_limit"

    # inventory
    VIEW_PRODUCTS = "inventory.view_product"
    MANAGE_CATALOGUE = "inventory.change_product"
    REQUEST_ADJUSTMENT = "inventory.add_stockadjustment"
    APPROVE_ADJUSTMENT = "inventory.approve_stockadjustment"
    VIEW_STOCK_MOVEMENTS = "inventory.view_stockmovement"
    COUNT_STOCK = "inventory.add_stockcount"
    VIEW_SUPPLIERS = "inventory.view_supplier"
    MANAGE_SUPPLIERS = "inventory.change_supplier"
    MANAGE_PURCHASES = "inventory.change_purchase"
    VIEW_ALERTS = "inventory.view_stockalert"
    MANAGE_TRANSFERS = "inventory.change_transfer"
    VIEW_COST_PRICES = "inventory.view_cost_price"  # cost prices, stock value, purchase costs

    # cashdesk
    USE_OWN_CASH_SESSION = "cashdesk.add_cashsession"
    VIEW_ALL_CASH_SESSIONS = "cashdesk.view_all_cashsessions"
    FORCE_CLOSE_SESSION = "cashdesk.force_close_cashsession"
    APPROVE_CASH_DIFFERENCE = "cashdesk.approve_cash_difference"
    TAKE_PAYMENT = "cashdesk.add_payment"
    MANAGE_MPESA = "cashdesk.manage_mpesa"  # resolve amount mismatches, set aside incoming payments, the inbox
    ATTACH_MPESA = "cashdesk.attach_c2bpayment"  # attach an incoming M-Pesa payment to a sale (cashiers too)
    PAY_IN_OUT = "cashdesk.add_cashmovement"  # petty cash paid in / paid out of one's own drawer
    RECORD_CUSTOMER_RECEIPT = "cashdesk.add_customerreceipt"
    PAY_SUPPLIER = "cashdesk.add_supplierpayment"
    RECORD_EXPENSE = "cashdesk.add_expense"
    VIEW_MONEY_OUT = "cashdesk.view_expense"  # lists of supplier payments and expenses
    MANAGE_ETIMS = "cashdesk.change_etimsdevice"  # the branch's eTIMS device: PIN, branch id, serial, environment
    VIEW_ETIMS_QUEUE = "cashdesk.view_etimssubmission"  # the eTIMS queue: resend, resume, purchases to accept

    # reports
    VIEW_DASHBOARD = "reports.view_dashboard"
    VIEW_REPORTS = "reports.view_reports"
    VIEW_PROFIT = "reports.view_profit"
    VIEW_ANALYTICS = "reports.view_analytics"


EMPLOYEE_PERMISSIONS = frozenset(
    {
        Perm.USE_TILL,
        Perm.VIEW_SALES,
        Perm.VIEW_CUSTOMERS,
        Perm.MANAGE_CUSTOMERS,
        Perm.VIEW_PRODUCTS,
        Perm.REQUEST_ADJUSTMENT,
        Perm.COUNT_STOCK,
        Perm.VIEW_ALERTS,
        Perm.USE_OWN_CASH_SESSION,
        Perm.TAKE_PAYMENT,
        Perm.RECORD_CUSTOMER_RECEIPT,
        Perm.ATTACH_MPESA,
        Perm.PAY_IN_OUT,
    }
)

MANAGER_PERMISSIONS = EMPLOYEE_PERMISSIONS | frozenset(
    {
        Perm.VIEW_STAFF,
        Perm.MANAGE_STAFF,
        Perm.VIEW_AUDIT_LOG,
        Perm.VIEW_BRANCHES,
        Perm.VIEW_ALL_SALES,
        Perm.AUTHORISE_OVERRIDES,
        Perm.REFUND,
        Perm.MANAGE_CATALOGUE,
        Perm.APPROVE_ADJUSTMENT,
        Perm.VIEW_STOCK_MOVEMENTS,
        Perm.VIEW_SUPPLIERS,
        Perm.MANAGE_SUPPLIERS,
        Perm.MANAGE_PURCHASES,
        Perm.MANAGE_TRANSFERS,
        Perm.VIEW_COST_PRICES,
        Perm.VIEW_ALL_CASH_SESSIONS,
        Perm.FORCE_CLOSE_SESSION,
        Perm.APPROVE_CASH_DIFFERENCE,
        Perm.MANAGE_MPESA,
        Perm.PAY_SUPPLIER,
        Perm.RECORD_EXPENSE,
        Perm.VIEW_MONEY_OUT,
        Perm.VIEW_ETIMS_QUEUE,
        Perm.VIEW_DASHBOARD,
        Perm.VIEW_REPORTS,
    }
)

# Owners may do everything, including whatever a later permission string names.
ROLE_PERMISSIONS: dict[str, frozenset[str] | None] = {
    Role.OWNER: None,
    Role.MANAGER: MANAGER_PERMISSIONS,
    Role.EMPLOYEE: EMPLOYEE_PERMISSIONS,
}


def role_has_perm(role: str, perm: str) -> bool:
    if role not in ROLE_PERMISSIONS:
        return False
    granted = ROLE_PERMISSIONS[role]
    return granted is None or perm in granted


def roles_a_user_may_assign(role: str) -> list[str]:
    """Owners assign any role; managers assign manager or employee, never owner."""
    if role == Role.OWNER:
        return [Role.OWNER, Role.MANAGER, Role.EMPLOYEE]
    if role == Role.MANAGER:
        return [Role.MANAGER, Role.EMPLOYEE]
    return []
