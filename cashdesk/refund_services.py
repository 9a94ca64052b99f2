"""Money back to customers: returns (credit notes) and voids of completed sales.

The goods side (credit note, returned quantities, stock back, points taken back) is
`pos.sales.services.sale_return_record` / `sale_void_record`; this module pays the money back in
the same transaction and keeps the drawer's maths right: a cash refund is a `pos.Refund` tied to
the open cash session of whoever hands the cash over, and `session_expected_cash` subtracts it.

Refunding "the way they paid" goes back, in this order, to: the customer's account (what they owe
drops), loyalty points (given back at the rate they were spent), card, M-Pesa, voucher, then cash
— each up to what that method paid on the sale net of earlier refunds. Card and M-Pesa refunds are
recorded with the reference of the reversal done on the terminal or the M-Pesa portal.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from cashdesk.etims.services import etims_credit_note_queue, etims_void_queue
from cashdesk.models import CashSession, Payment, PaymentMethod, PaymentStatus
from cashdesk.services import PaymentConflictError, PaymentError, session_expected_cash
from core.db import retry_on_deadlock
from core.money import ZERO, money
from pos.customers.models import Customer, LoyaltyEntry, LoyaltyKind
from pos.people.models import User
from pos.sales.models import Refund, RefundTo, Sale, SaleReturn
from pos.sales.services import ReturnItem, loyalty_change, sale_return_record, sale_void_record

# The order in which "the way they paid" is refunded when a sale was paid several ways.
REFUND_ORDER = [
    PaymentMethod.CUSTOMER_CREDIT,
    PaymentMethod.LOYALTY,
    PaymentMethod.CARD,
    PaymentMethod.MPESA,
    PaymentMethod.VOUCHER,
    PaymentMethod.CASH,
]


@dataclass(frozen=True)
class RefundPart:
    method: str
    amount: Decimal


def refundable_by_method(*, sale: Sale) -> dict[str, Decimal]:
    """What each method paid on the sale (net of change) less what was already refunded that way."""
    paid: dict[str, Decimal] = {}
    for payment in sale.payments.filter(status__in=[PaymentStatus.CONFIRMED, PaymentStatus.REFUNDED]):
        paid[payment.method] = paid.get(payment.method, ZERO) + payment.amount - payment.change_given
    for row in sale.refunds.values("method").annotate(amount=Sum("amount")):
        paid[row["method"]] = paid.get(row["method"], ZERO) - row["amount"]
    return {method: amount for method, amount in paid.items() if amount > 0}


def plan_refund(*, sale: Sale, amount: Decimal, refund_to: str) -> list[RefundPart]:
    """Split a refund over the methods the sale was paid with (or all in cash)."""
    amount = money(amount)
    if amount <= 0:
        return []
    if refund_to == RefundTo.CASH:
        return [RefundPart(PaymentMethod.CASH, amount)]
    left = amount
    parts = []
    available = refundable_by_method(sale=sale)
    for method in REFUND_ORDER:
        take = min(left, available.get(method, ZERO))
        if take > 0:
            parts.append(RefundPart(method, take))
            left -= take
    if left > 0:  # paid by a method we do not refund to (or rounding): the rest in cash
        parts.append(RefundPart(PaymentMethod.CASH, left))
    merged: dict[str, Decimal] = {}
    for part in parts:
        merged[part.method] = merged.get(part.method, ZERO) + part.amount
    return [RefundPart(method, value) for method, value in merged.items()]


def _pay_back(
    *,
    sale: Sale,
    parts: list[RefundPart],
    user: User,
    session: CashSession | None,
    sale_return: SaleReturn | None,
    reference: str,
    when,
) -> list[Refund]:
    cash = sum((p.amount for p in parts if p.method == PaymentMethod.CASH), ZERO)
    if cash:
        if session is None:
            raise PaymentConflictError(
                f"KES {cash} goes back in cash: open a cash session first (the cash comes out of your drawer).",
                code="no_session",
            )
        if session.branch_id != sale.branch_id:
            raise PaymentConflictError("Your cash session is at another branch than this sale.")
        in_drawer = session_expected_cash(session=session)
        if cash > in_drawer:
            raise PaymentError(
                f"The drawer should hold only KES {in_drawer}; it cannot pay back KES {cash} in cash.",
                code="drawer_short",
            )
    needs_reference = sorted({p.method for p in parts if p.method in (PaymentMethod.CARD, PaymentMethod.MPESA)})
    if needs_reference and not reference.strip():
        labels = " and ".join(PaymentMethod(m).label for m in needs_reference)
        raise PaymentError(
            f"Part of this refund goes back by {labels}: do the reversal on the terminal or M-Pesa portal and "
            "type its reference.",
            field="reference",
            code="reference_needed",
        )
    customer = None
    if any(p.method in (PaymentMethod.CUSTOMER_CREDIT, PaymentMethod.LOYALTY) for p in parts):
        # Already locked by the goods side in this transaction (sale → session → customer order).
        customer = Customer.objects.select_for_update().get(pk=sale.customer_id)
    refunds = []
    for part in parts:
        if part.method == PaymentMethod.CUSTOMER_CREDIT:
            customer.balance -= part.amount  # below zero means the shop owes the customer (store credit)
            customer.save(update_fields=["balance", "updated_at"])
        elif part.method == PaymentMethod.LOYALTY:
            spent = LoyaltyEntry.objects.filter(sale=sale, kind=LoyaltyKind.REDEEMED).aggregate(
                points=Sum("points"), amount=Sum("amount")
            )
            rate = (-(spent["points"] or ZERO) / spent["amount"]) if spent["amount"] else Decimal("1")
            loyalty_change(customer=customer, points=part.amount * rate, kind=LoyaltyKind.GIVEN_BACK, user=user,
                           sale=sale, amount=part.amount, when=when)
        refunds.append(
            Refund(
                sale=sale,
                sale_return=sale_return,
                branch_id=sale.branch_id,
                method=part.method,
                amount=part.amount,
                reference=reference.strip()[:64] if part.method in (PaymentMethod.CARD, PaymentMethod.MPESA) else "",
                cash_session=session if part.method == PaymentMethod.CASH else None,
                refunded_by=user,
            )
        )
    Refund.objects.bulk_create(refunds)
    return refunds


def _lock_session(user: User) -> CashSession | None:
    return CashSession.objects.select_for_update().filter(open_for_cashier=user.pk).first()


@retry_on_deadlock
def sale_return_refund(
    *,
    sale: Sale,
    items: list[ReturnItem],
    user: User,
    reason: str,
    authorised_by: User | None = None,
    refund_to: str = RefundTo.ORIGINAL,
    reference: str = "",
    request=None,
) -> SaleReturn:
    """Take goods back and pay the customer, all or nothing. Needs `Perm.REFUND` (or a manager's PIN)."""
    with transaction.atomic():
        Sale.objects.select_for_update().filter(pk=sale.pk).first()  # sale first: the till's lock order
        session = _lock_session(user)
        now = timezone.now()
        sale_return = sale_return_record(
            sale=sale,
            items=items,
            user=user,
            reason=reason,
            authorised_by=authorised_by,
            refund_to=refund_to,
            request=request,
            when=now,
        )
        parts = plan_refund(sale=sale_return.sale, amount=sale_return.total, refund_to=refund_to)
        _pay_back(sale=sale_return.sale, parts=parts, user=user, session=session, sale_return=sale_return,
                  reference=reference, when=now)
        etims_credit_note_queue(sale_return=sale_return)  # KRA eTIMS credit note, sent after the commit
    return sale_return


@retry_on_deadlock
def sale_void_completed(
    *,
    sale: Sale,
    user: User,
    reason: str,
    authorised_by: User | None = None,
    reference: str = "",
    request=None,
) -> Sale:
    """Void a completed sale: stock back, every payment refunded the way it came, status VOIDED.

    The cash goes back out of the drawer of the person doing the void (their open session), which
    may not be the drawer that took it (yesterday's sale); card and M-Pesa refunds are recorded with
    the reversal's reference. Payments are marked REFUNDED.
    """
    with transaction.atomic():
        Sale.objects.select_for_update().filter(pk=sale.pk).first()
        session = _lock_session(user)
        now = timezone.now()
        sale = sale_void_record(
            sale=sale, user=user, reason=reason, authorised_by=authorised_by, request=request, when=now
        )
        parts = [RefundPart(method, amount) for method, amount in refundable_by_method(sale=sale).items()]
        parts.sort(key=lambda part: REFUND_ORDER.index(part.method) if part.method in REFUND_ORDER else 99)
        _pay_back(sale=sale, parts=parts, user=user, session=session, sale_return=None, reference=reference, when=now)
        Payment.objects.filter(sale=sale, status=PaymentStatus.CONFIRMED).update(status=PaymentStatus.REFUNDED)
        etims_void_queue(sale=sale)  # KRA eTIMS credit note for the whole sale, sent after the commit
    return sale
