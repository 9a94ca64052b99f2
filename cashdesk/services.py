"""Writes for the cash desk: cash sessions and the checkout that takes a sale's payments.

`sale_checkout` is the one service that completes a sale: in one transaction it records the payments,
then asks `pos.sale_services.sale_finalise` to number the sale and move the stock. It is idempotent
on the till's idempotency key: a double tap or a retried request returns the first result.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from pos.audit import AuditAction, audit_record
from pos.base import ZERO, ConflictError, DomainError, money, retry_on_deadlock
from pos.models import Customer, LoyaltyKind, Refund, RefundMethod, Sale, SaleStatus, User
from pos.sale_services import SaleError, loyalty_change, loyalty_points_needed, sale_finalise, sale_recalculate

from .models import CashSession, Payment, PaymentMethod, PaymentStatus, SessionStatus

MAX_TENDER = Decimal("10000000.00")


class PaymentError(DomainError):
    """A payment rule refused the request (no open session, amounts that do not add up…)."""


class PaymentConflictError(ConflictError, PaymentError):
    """The sale or session is not in a state that takes this payment (completed, closed…)."""


@dataclass(frozen=True)
class Tender:
    """One way the customer pays at checkout."""

    method: str
    amount: Decimal
    reference: str = ""


# ---------------------------------------------------------------------------- sessions
def session_current(*, cashier: User) -> CashSession | None:
    return CashSession.objects.filter(open_for_cashier=cashier.pk).first()


@transaction.atomic
def session_open(*, cashier: User, opening_float: Decimal, note: str = "", when=None) -> CashSession:
    opening_float = money(opening_float)
    if opening_float < 0:
        raise PaymentError("The opening float cannot be negative.", field="opening_float")
    if opening_float > MAX_TENDER:
        raise PaymentError("That opening float is not believable.", field="opening_float")
    try:
        with transaction.atomic():
            return CashSession.objects.create(
                cashier=cashier,
                branch_id=cashier.branch_id,
                status=SessionStatus.OPEN,
                open_for_cashier=cashier.pk,
                opened_at=when or timezone.now(),
                opening_float=opening_float,
                note=note[:255],
            )
    except IntegrityError:
        raise PaymentConflictError("You already have an open cash session: close it before opening another.")


def session_expected_cash(*, session: CashSession) -> Decimal:
    """Float + cash taken − change given − cash refunded (+ paid in − paid out, added by the cash-movement models).

    A cash payment later refunded (a voided sale) still came into this drawer: it counts as taken, and
    the refund (`pos.Refund`, from whichever drawer paid it back) counts as cash out of that drawer.
    """
    cash = Payment.objects.filter(
        session=session, method=PaymentMethod.CASH, status__in=[PaymentStatus.CONFIRMED, PaymentStatus.REFUNDED]
    ).aggregate(amount=Sum("amount"), change=Sum("change_given"))
    refunded = Refund.objects.filter(cash_session=session, method=RefundMethod.CASH).aggregate(amount=Sum("amount"))
    return money(
        session.opening_float + (cash["amount"] or ZERO) - (cash["change"] or ZERO) - (refunded["amount"] or ZERO)
    )


@transaction.atomic
def session_close(
    *, session: CashSession, closed_by: User, closing_total: Decimal, request=None, when=None
) -> CashSession:
    session = CashSession.objects.select_for_update().get(pk=session.pk)
    if session.status != SessionStatus.OPEN:
        raise PaymentConflictError("This cash session is already closed.")
    closing_total = money(closing_total)
    if closing_total < 0:
        raise PaymentError("Counted cash cannot be negative.", field="closing_total")
    expected = session_expected_cash(session=session)
    session.status = SessionStatus.CLOSED
    session.open_for_cashier = None
    session.closing_total = closing_total
    session.expected_cash = expected
    session.difference = closing_total - expected
    session.closed_at = when or timezone.now()
    session.closed_by = closed_by
    session.save()
    audit_record(
        action=AuditAction.SESSION_CLOSED,
        user=closed_by,
        instance=session,
        after={"closing_total": closing_total, "expected_cash": expected, "difference": session.difference},
        branch=session.branch_id,
        request=request,
    )
    return session


# ---------------------------------------------------------------------------- checkout
def _validate_tenders(tenders: list[Tender]) -> list[Tender]:
    clean = []
    for tender in tenders:
        if tender.method not in PaymentMethod.values:
            raise PaymentError(f"Unknown payment method {tender.method!r}.", field="method")
        if tender.method == PaymentMethod.MPESA:
            raise PaymentError(
                "M-Pesa is confirmed by Safaricom, not typed in: send a payment request to the customer's phone.",
                field="method",
            )
        try:
            amount = money(tender.amount)
        except (TypeError, ValueError) as exc:
            raise PaymentError(str(exc), field="amount") from exc
        if amount <= 0:
            raise PaymentError("Each payment must be more than zero.", field="amount")
        if amount > MAX_TENDER:
            raise PaymentError("That amount is not believable.", field="amount")
        clean.append(Tender(tender.method, amount, (tender.reference or "").strip()[:64]))
    return clean


@retry_on_deadlock
def sale_checkout(
    *,
    sale: Sale,
    user: User,
    tenders: list[Tender],
    idempotency_key: str,
    request=None,
    when=None,
) -> Sale:
    """Take the payments and complete the sale in one transaction, exactly once.

    `when` back-dates the sale (demo data, imports); the till never passes it.

    Payments already confirmed on the sale (an M-Pesa push the customer accepted) count towards the
    total; `tenders` add what is paid now. Only cash gives change, and never more than the cash
    handed over. Nothing is written unless the sale completes.
    """
    idempotency_key = (idempotency_key or "").strip()
    if not idempotency_key or len(idempotency_key) > 64:
        raise PaymentError("A checkout needs an idempotency key of 1–64 characters.", field="idempotency_key")
    earlier = Sale.objects.filter(idempotency_key=idempotency_key).first()
    if earlier is not None:
        if earlier.pk != sale.pk:
            raise PaymentConflictError("This idempotency key was already used for another sale.")
        return earlier
    tenders = _validate_tenders(tenders)

    with transaction.atomic():
        sale = Sale.objects.select_for_update().get(pk=sale.pk)
        if sale.status == SaleStatus.COMPLETED and sale.idempotency_key == idempotency_key:
            return sale  # a retry that waited for the first request's lock
        if sale.status != SaleStatus.OPEN:
            raise PaymentConflictError(f"This sale is {sale.get_status_display().lower()}; it cannot be paid again.")
        session = CashSession.objects.select_for_update().filter(open_for_cashier=user.pk).first()
        if session is None:
            raise PaymentConflictError("Open a cash session before taking payments.")
        if session.branch_id != sale.branch_id:
            raise PaymentConflictError("This sale belongs to another branch.")

        sale_recalculate(sale=sale)
        confirmed = list(sale.payments.filter(status=PaymentStatus.CONFIRMED))
        already = sum((p.amount - p.change_given for p in confirmed), ZERO)
        due = sale.total - already
        cash_now = sum((t.amount for t in tenders if t.method == PaymentMethod.CASH), ZERO)
        other_now = sum((t.amount for t in tenders if t.method != PaymentMethod.CASH), ZERO)
        if other_now > due:
            raise PaymentError(
                f"Card and other non-cash payments (KES {other_now}) are more than what is due (KES {due}); "
                "only cash can be given change."
            )
        if cash_now + other_now < due:
            raise PaymentError(f"KES {due - cash_now - other_now} is still to pay.", code="underpaid")
        change = cash_now + other_now - due
        if change > cash_now:  # cannot happen given the check above; kept as a guard
            raise PaymentError("Change cannot be more than the cash handed over.")

        now = when or timezone.now()
        loyalty_now, loyalty_references = _charge_customer(sale=sale, tenders=tenders, user=user, when=now)
        new_payments = []
        change_left = change
        for tender in tenders:
            change_here = ZERO
            if tender.method == PaymentMethod.CASH and change_left:
                change_here = min(change_left, tender.amount)
                change_left -= change_here
            new_payments.append(
                Payment(
                    sale=sale,
                    session=session,
                    method=tender.method,
                    status=PaymentStatus.CONFIRMED,
                    amount=tender.amount,
                    change_given=change_here,
                    reference=loyalty_references if tender.method == PaymentMethod.LOYALTY else tender.reference,
                    received_by=user,
                    confirmed_at=now,
                )
            )
        Payment.objects.bulk_create(new_payments)
        paid_total = sum((p.amount for p in confirmed), ZERO) + cash_now + other_now
        prior_change = sum((p.change_given for p in confirmed), ZERO)
        sale_finalise(
            sale=sale,
            user=user,
            idempotency_key=idempotency_key,
            paid_total=paid_total,
            change_given=prior_change + change,
            loyalty_redeemed=loyalty_now,
            when=now,
        )
    return sale


def _charge_customer(*, sale: Sale, tenders: list[Tender], user: User, when) -> tuple[Decimal, str]:
    """On account raises what the customer owes (refused past their credit limit); loyalty spends points.

    Runs under the sale's and the session's locks and takes the customer's row lock (the till's lock
    order: sale → session → customer → sequence → stock). Returns the KES paid with points and the
    reference for that payment.
    """
    on_account = sum((t.amount for t in tenders if t.method == PaymentMethod.CUSTOMER_CREDIT), ZERO)
    with_points = sum((t.amount for t in tenders if t.method == PaymentMethod.LOYALTY), ZERO)
    if not on_account and not with_points:
        return ZERO, ""
    if sale.customer_id is None:
        what = "sell on account" if on_account else "pay with loyalty points"
        raise PaymentError(f"Attach a customer to {what}.", field="method", code="no_customer")
    customer = Customer.objects.select_for_update().get(pk=sale.customer_id)
    if not customer.is_active:
        raise PaymentError(f"{customer.name} is no longer an active customer.", field="method")
    if on_account:
        owes = customer.balance + on_account
        if customer.credit_limit <= 0:
            raise PaymentError(f"{customer.name} has no credit with the shop (credit limit KES 0).",
                               field="method", code="credit_limit")
        if owes > customer.credit_limit:
            room = max(customer.credit_limit - customer.balance, ZERO)
            raise PaymentError(
                f"Refused: {customer.name} would owe KES {owes}, over their credit limit of KES {customer.credit_limit} "
                f"(they owe KES {customer.balance}; at most KES {room} more can go on account).",
                field="method",
                code="credit_limit",
            )
        customer.balance = owes
        customer.save(update_fields=["balance", "updated_at"])
    reference = ""
    if with_points:
        try:
            points = loyalty_points_needed(with_points)
            loyalty_change(customer=customer, points=-points, kind=LoyaltyKind.REDEEMED, user=user, sale=sale,
                           amount=with_points, when=when)
        except SaleError as exc:
            raise PaymentError(exc.message, field="method", code="loyalty") from exc
        reference = f"{points.normalize():f} points"
    return with_points, reference


def sale_payments_summary(*, sale: Sale) -> dict:
    payments = list(sale.payments.all())
    confirmed = [p for p in payments if p.status == PaymentStatus.CONFIRMED]
    paid = sum((p.amount - p.change_given for p in confirmed), ZERO)
    return {"payments": payments, "paid": paid, "due": max(sale.total - paid, ZERO)}

