"""Money in and out that is not a sale: customers paying off their account, suppliers paid, expenses.

Each one paid in cash goes through the drawer of whoever hands the cash over or takes it (their open
cash session), so the session's expected cash stays right; cash out can never be more than the
drawer should hold. Other methods need a reference (M-Pesa code, cheque number, bank reference).
"""

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cashdesk.models import (
    CustomerReceipt,
    CustomerReceiptAllocation,
    Expense,
    ExpenseCategory,
    MoneyMethod,
    Payment,
    SupplierPayment,
)
from cashdesk.mpesa.models import C2BPayment, C2BStatus
from cashdesk.selectors import purchase_amount_owed, unpaid_account_sales
from cashdesk.services import (
    PaymentConflictError,
    PaymentError,
    clean_amount,
    looks_like_card_number,
    session_cash_in,
    session_cash_out,
)
from core.branches import may_use_branch
from core.db import retry_on_deadlock
from core.money import ZERO
from inventory.models import Purchase, PurchaseStatus
from pos.customers.models import Customer
from pos.people.audit import AuditAction, audit_record
from pos.people.models import User
from pos.sales.models import Sale

ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024


def _clean_method(method: str) -> str:
    if method not in MoneyMethod.values:
        raise PaymentError(f"Unknown way of paying {method!r}.", field="method")
    return method


def _clean_reference(method: str, reference: str) -> str:
    reference = (reference or "").strip()
    if method == MoneyMethod.CASH:
        return reference[:64]
    if method == MoneyMethod.CARD and looks_like_card_number(reference):
        raise PaymentError(
            "That looks like a card number: never type it. Enter the terminal slip's reference.", field="reference"
        )
    if not reference:
        what = {
            MoneyMethod.MPESA: "the M-Pesa code",
            MoneyMethod.CARD: "the card terminal's reference",
            MoneyMethod.BANK: "the bank reference",
            MoneyMethod.CHEQUE: "the cheque number",
        }[method]
        raise PaymentError(f"Enter {what}.", field="reference")
    return reference[:64]


# ---------------------------------------------------------------------------- customer receipts
@retry_on_deadlock
@transaction.atomic
def customer_receipt_record(
    *,
    customer: Customer,
    amount: Decimal,
    method: str,
    user: User,
    reference: str = "",
    note: str = "",
    sales: list[Sale] | None = None,
    request=None,
) -> CustomerReceipt:
    """A customer pays off what they owe. The money settles their unpaid on-account sales, the ones
    chosen first, then the oldest; what they owe (`Customer.balance`) drops by the amount."""
    amount = clean_amount(amount)
    method = _clean_method(method)
    reference = _clean_reference(method, reference)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    c2b = None
    if method == MoneyMethod.MPESA:
        reference = "".join(ch for ch in reference if ch.isalnum()).upper()
        c2b = C2BPayment.objects.select_for_update().filter(trans_id=reference).first()
        if c2b is None:
            raise PaymentError(
                f"M-Pesa has not told us about {reference} yet: wait a moment and try again.", field="reference"
            )
        if c2b.status != C2BStatus.UNMATCHED or Payment.objects.filter(mpesa_receipt=reference).exists():
            raise PaymentConflictError(f"M-Pesa payment {reference} was already used.", field="reference")
        if c2b.amount != amount:
            raise PaymentError(f"M-Pesa payment {reference} was KES {c2b.amount}, not KES {amount}.", field="amount")
    if customer.balance <= 0:
        raise PaymentError(f"{customer.name} owes the shop nothing.", field="amount")
    if amount > customer.balance:
        raise PaymentError(f"{customer.name} owes only KES {customer.balance}; take no more than that.", field="amount")
    session = session_cash_in(user=user) if method == MoneyMethod.CASH else None

    receipt = CustomerReceipt.objects.create(
        customer=customer,
        branch_id=user.branch_id,
        session=session,
        method=method,
        amount=amount,
        reference=reference,
        balance_before=customer.balance,
        balance_after=customer.balance - amount,
        received_by=user,
        note=(note or "").strip()[:255],
        c2b_payment=c2b,
    )
    receipt.number = f"RC-{receipt.pk:06d}"
    receipt.save(update_fields=["number"])
    Customer.objects.filter(pk=customer.pk).update(balance=F("balance") - amount, updated_at=timezone.now())
    if c2b is not None:
        c2b.status = C2BStatus.RECEIPT
        c2b.matched_by = user
        c2b.matched_at = timezone.now()
        c2b.save(update_fields=["status", "matched_by", "matched_at", "updated_at"])

    chosen = {sale.pk for sale in sales or []}
    open_sales = unpaid_account_sales(customer=customer)
    ordered = [s for s in open_sales if s.pk in chosen] + [s for s in open_sales if s.pk not in chosen]
    if chosen - {s.pk for s in open_sales}:
        raise PaymentError("Only this customer's unpaid on-account sales can be settled.", field="sales")
    left = amount
    allocations = []
    for sale in ordered:
        if left <= 0:
            break
        part = min(left, sale.outstanding)
        if part > 0:
            allocations.append(CustomerReceiptAllocation(receipt=receipt, sale=sale, amount=part))
            left -= part
    CustomerReceiptAllocation.objects.bulk_create(allocations)
    audit_record(
        action=AuditAction.CUSTOMER_RECEIPT,
        user=user,
        instance=receipt,
        before={"balance": customer.balance},
        after={
            "balance": receipt.balance_after,
            "amount": amount,
            "method": method,
            "sales": [a.sale_id for a in allocations],
        },
        request=request,
    )
    return receipt


# ---------------------------------------------------------------------------- supplier payments
@retry_on_deadlock
@transaction.atomic
def supplier_payment_record(
    *,
    supplier,
    amount: Decimal,
    method: str,
    user: User,
    reference: str = "",
    purchase=None,
    purchase_reference: str = "",
    note: str = "",
    request=None,
) -> SupplierPayment:
    """Pay a supplier, for one purchase (never more than it still owes) or on their account."""
    amount = clean_amount(amount)
    method = _clean_method(method)
    reference = _clean_reference(method, reference)
    if not supplier.is_active:
        raise PaymentError(f"{supplier.name} is no longer an active supplier.", field="supplier")
    if purchase is not None:

        purchase = Purchase.objects.select_for_update().get(pk=purchase.pk)
        if purchase.supplier_id != supplier.pk:
            raise PaymentError(f"{purchase.number} is not from {supplier.name}.", field="purchase")
        if purchase.status in (PurchaseStatus.DRAFT, PurchaseStatus.CANCELLED):
            raise PaymentError(
                f"{purchase.number} is {purchase.get_status_display().lower()}: nothing is owed on it.",
                field="purchase",
            )
        if not may_use_branch(user, purchase.branch_id):
            raise PaymentError(f"{purchase.number} belongs to another branch.", field="purchase")
        owed = purchase_amount_owed(purchase=purchase)
        if amount > owed:
            raise PaymentError(f"{purchase.number} is owed only KES {owed}; pay no more than that.", field="amount")
    session = session_cash_out(user=user, amount=amount) if method == MoneyMethod.CASH else None
    payment = SupplierPayment.objects.create(
        supplier=supplier,
        purchase=purchase,
        purchase_reference=(purchase_reference or "").strip()[:64],
        branch_id=user.branch_id,
        session=session,
        method=method,
        amount=amount,
        reference=reference,
        paid_by=user,
        note=(note or "").strip()[:255],
    )
    audit_record(
        action=AuditAction.SUPPLIER_PAYMENT,
        user=user,
        instance=payment,
        after={
            "supplier": supplier.pk,
            "purchase": purchase.pk if purchase else None,
            "amount": amount,
            "method": method,
            "session": session.pk if session else None,
        },
        request=request,
    )
    return payment


# ---------------------------------------------------------------------------- expenses
@retry_on_deadlock
@transaction.atomic
def expense_record(
    *,
    category: ExpenseCategory,
    amount: Decimal,
    method: str,
    description: str,
    spent_on: date,
    user: User,
    reference: str = "",
    attachment=None,
    request=None,
) -> Expense:
    amount = clean_amount(amount)
    method = _clean_method(method)
    reference = _clean_reference(method, reference) if method != MoneyMethod.CASH else (reference or "").strip()[:64]
    description = (description or "").strip()
    if not description:
        raise PaymentError("Say what the money was spent on.", field="description")
    if not category.is_active:
        raise PaymentError(f"The category {category.name} is no longer used.", field="category")
    if spent_on is None or spent_on > timezone.localdate():
        raise PaymentError("An expense cannot be dated in the future.", field="spent_on")
    if attachment is not None and attachment.size > ATTACHMENT_MAX_BYTES:
        raise PaymentError("The attachment is larger than 5 MB.", field="attachment")
    session = session_cash_out(user=user, amount=amount) if method == MoneyMethod.CASH else None
    expense = Expense(
        category=category,
        branch_id=user.branch_id,
        session=session,
        method=method,
        amount=amount,
        description=description[:255],
        spent_on=spent_on,
        reference=reference,
        recorded_by=user,
    )
    if attachment is not None:
        expense.attachment = attachment
    expense.save()
    audit_record(
        action=AuditAction.EXPENSE,
        user=user,
        instance=expense,
        after={
            "category": category.name,
            "amount": amount,
            "method": method,
            "session": session.pk if session else None,
        },
        request=request,
    )
    return expense


@transaction.atomic
def expense_category_create(*, name: str) -> ExpenseCategory:
    name = (name or "").strip()
    if not name:
        raise PaymentError("Give the category a name.", field="name")
    existing = ExpenseCategory.objects.filter(name__iexact=name).first()
    if existing is not None:
        if not existing.is_active:
            existing.is_active = True
            existing.save(update_fields=["is_active", "updated_at"])
        return existing
    return ExpenseCategory.objects.create(name=name[:80])


def receipt_allocated_total(receipt: CustomerReceipt) -> Decimal:
    return sum((a.amount for a in receipt.allocations.all()), ZERO)
