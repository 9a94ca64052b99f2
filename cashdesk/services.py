"""Writes for the cash desk: cash sessions (open, paid in/out, close, force-close) and the checkout
that takes a sale's payments.

`sale_checkout` is the one service that completes a sale: in one transaction it records the payments,
then asks `pos.sales.services.sale_finalise` to number the sale and move the stock. It is idempotent
on the till's idempotency key: a double tap or a retried request returns the first result.

A closed session never changes: every write that touches a session locks its row and refuses a
closed one (`_lock_open_session`).
"""

import re
import time
from dataclasses import dataclass
from decimal import Decimal

import structlog
from django.db import IntegrityError, transaction
from django.utils import timezone

from cashdesk.etims.services import etims_sale_queue
from cashdesk.models import (
    CashMovement,
    CashMovementKind,
    CashSession,
    Payment,
    PaymentMethod,
    PaymentStatus,
    SessionStatus,
)
from cashdesk.mpesa.models import STK_WAITING, StkRequest
from cashdesk.printing.services import receipt_print_queue
from cashdesk.selectors import DENOMINATIONS, expected_cash_visible_to, session_cash_figures, session_report
from core.branches import may_use_branch
from core.db import retry_on_deadlock
from core.errors import ConflictError, DomainError
from core.money import ZERO, money
from core.ops import metrics
from core.ops.logs import bind_log_context
from core.roles import Perm
from pos.customers.models import Customer, LoyaltyKind
from pos.people.audit import AuditAction, audit_record
from pos.people.models import ShopSettings, User
from pos.sales.models import Sale, SaleStatus
from pos.sales.selectors import sale_amount_due, sale_amount_paid
from pos.sales.services import (
    AuthorisationRequired,
    SaleError,
    authority_for,
    loyalty_change,
    loyalty_points_needed,
    sale_finalise,
    sale_recalculate,
)

MAX_SPLIT_PARTS = 10  # cash, card, M-Pesa… a real split has two or three parts
MAX_TENDER = Decimal("10000000.00")

log = structlog.get_logger("cashdesk.checkout")


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


@dataclass(frozen=True)
class TenderFigures:
    """What the customer has handed over against what is due: the pay panel shows these, checkout
    checks them. Only cash is given change."""

    paid: Decimal
    still_due: Decimal
    change: Decimal


def tender_figures(*, due: Decimal, tenders: list[Tender]) -> TenderFigures:
    paid = sum((t.amount for t in tenders), ZERO)
    cash = sum((t.amount for t in tenders if t.method == PaymentMethod.CASH), ZERO)
    return TenderFigures(
        paid=money(paid),
        still_due=money(max(due - paid, ZERO)),
        change=money(min(max(paid - due, ZERO), cash)),
    )


# ---------------------------------------------------------------------------- sessions
def session_current(*, cashier: User) -> CashSession | None:
    return CashSession.objects.filter(open_for_cashier=cashier.pk).first()


def clean_amount(value, *, field: str = "amount", allow_zero: bool = False, what: str = "The amount") -> Decimal:
    try:
        amount = money(value)
    except (TypeError, ValueError) as exc:
        raise PaymentError(f"{what} is not an amount.", field=field) from exc
    if amount < 0 or (amount == 0 and not allow_zero):
        message = f"{what} cannot be negative." if allow_zero else f"{what} must be more than zero."
        raise PaymentError(message, field=field)
    if amount > MAX_TENDER:
        raise PaymentError(f"{what} is not believable.", field=field)
    return amount


def _lock_open_session(session: CashSession) -> CashSession:
    """Lock the session's row and refuse a closed one: a closed session never changes."""
    locked = CashSession.objects.select_for_update().get(pk=session.pk)
    if locked.status != SessionStatus.OPEN:
        raise PaymentConflictError(
            f"Cash session #{locked.pk} is closed: nothing can be added to it. Open a new session.",
            code="session_closed",
        )
    return locked


def _may_act_on_session(user: User, session: CashSession) -> bool:
    """The session's cashier, or a manager of its branch (any branch with ALL_BRANCHES)."""
    if session.cashier_id == user.pk:
        return True
    if not user.has_perm(Perm.VIEW_ALL_CASH_SESSIONS):
        return False
    return may_use_branch(user, session.branch_id)


@retry_on_deadlock
@transaction.atomic
def session_open(*, cashier: User, opening_float: Decimal, note: str = "", when=None) -> CashSession:
    opening_float = clean_amount(opening_float, field="opening_float", allow_zero=True, what="The opening float")
    try:
        with transaction.atomic():
            return CashSession.objects.create(
                cashier=cashier,
                branch_id=cashier.branch_id,
                status=SessionStatus.OPEN,
                open_for_cashier=cashier.pk,
                opened_at=when or timezone.now(),
                opening_float=opening_float,
                note=(note or "")[:255],
            )
    except IntegrityError:
        raise PaymentConflictError(
            "You already have an open cash session: close it before opening another."
        ) from None


class XReportRefused(PaymentError):
    """A cashier asked for their open drawer's figures under a blind close."""

    status_code = 403


def session_x_report_read(*, session: CashSession, user: User, request=None) -> None:
    """Someone reads an open drawer's figures (the X report): refused to a cashier under a blind
    close, audited for everyone else — reading the drawer mid-shift is how a count gets "fixed"."""
    if session.status != SessionStatus.OPEN:
        return
    if not expected_cash_visible_to(user=user):
        raise XReportRefused(
            "Blind close: the drawer's figures show after you count it. A manager can read the X report.",
            code="blind_close",
        )
    audit_record(
        action=AuditAction.X_REPORT_READ,
        user=user,
        instance=session,
        after={"cashier": session.cashier_id},
        branch=session.branch_id,
        request=request,
    )


def session_expected_cash(*, session: CashSession) -> Decimal:
    """Float + cash taken − change + paid in − paid out + cash customer receipts − cash supplier
    payments − cash expenses − cash refunds (`pos.Refund` paid from this drawer) — see
    `selectors.session_cash_figures`. A cash payment later refunded still came into this drawer."""
    return session_cash_figures(session=session).expected


CASH_OUT_KINDS = (CashMovementKind.PAID_OUT, CashMovementKind.CASH_DROP)
_MOVEMENT_ACTIONS = {
    CashMovementKind.PAID_IN: AuditAction.CASH_PAID_IN,
    CashMovementKind.PAID_OUT: AuditAction.CASH_PAID_OUT,
    CashMovementKind.CASH_DROP: AuditAction.CASH_DROP,
}


@retry_on_deadlock
@transaction.atomic
def cash_movement_record(
    *,
    session: CashSession,
    kind: str,
    amount: Decimal,
    reason: str,
    user: User,
    authorised_by: User | None = None,
    request=None,
) -> CashMovement:
    """Petty cash paid into or out of an open drawer, or a cash drop to the safe, with a reason.

    Cannot take out more than is there. Taking out more than the shop's `cash_out_pin_limit` needs a
    manager: `user` holding AUTHORISE_OVERRIDES, or an `authorised_by` manager whose PIN the view
    checked (the till's rule for guarded actions, `authority_for`).
    """
    if kind not in CashMovementKind.values:
        raise PaymentError("Choose paid in or paid out, or a cash drop.", field="kind")
    amount = clean_amount(amount)
    reason = (reason or "").strip()
    if not reason:
        raise PaymentError("Say what the money is for.", field="reason")
    session = _lock_open_session(session)
    if not _may_act_on_session(user, session):
        raise PaymentError("This is another cashier's drawer.")
    authority = None
    if kind in CASH_OUT_KINDS:
        limit = ShopSettings.load().cash_out_pin_limit
        if amount > limit:
            try:
                authority = authority_for(
                    user=user, authorised_by=authorised_by, perm=Perm.AUTHORISE_OVERRIDES,
                    what=f"Taking more than KES {limit:,.2f} out of the drawer",
                )
            except AuthorisationRequired as exc:
                raise PaymentError(exc.message, field="amount", code="needs_pin") from exc
        _check_drawer_has(session, amount)
    movement = CashMovement.objects.create(
        session=session, kind=kind, amount=amount, reason=reason[:255], recorded_by=user
    )
    audit_record(
        action=_MOVEMENT_ACTIONS[kind],
        user=user,
        instance=movement,
        reason=reason,
        after={"session": session.pk, "amount": amount, "kind": kind},
        authorised_by=authority if authority is not None and authority.pk != user.pk else None,
        branch=session.branch_id,
        request=request,
    )
    return movement


def _check_drawer_has(session: CashSession, amount: Decimal) -> None:
    available = session_cash_figures(session=session).expected
    if amount > available:
        if ShopSettings.load().blind_close:  # whoever asks: the refusal is the same for everyone
            # With a blind close the cashier is never told what should be in the drawer.
            raise PaymentError(f"KES {amount} is more than should be in the drawer.", field="amount")
        raise PaymentError(
            f"Only KES {available} should be in the drawer; you cannot take out KES {amount}.", field="amount"
        )


def session_cash_out(*, user: User, amount: Decimal) -> CashSession:
    """Lock `user`'s open session for cash that leaves the drawer (supplier payment, expense)."""
    session = CashSession.objects.select_for_update().filter(open_for_cashier=user.pk).first()
    if session is None:
        raise PaymentConflictError(
            "Open your cash session first: cash paid out comes from your drawer.", code="no_session"
        )
    _check_drawer_has(session, amount)
    return session


def session_cash_in(*, user: User) -> CashSession:
    """Lock `user`'s open session for cash that goes into the drawer (a customer paying their account)."""
    session = CashSession.objects.select_for_update().filter(open_for_cashier=user.pk).first()
    if session is None:
        raise PaymentConflictError("Open your cash session first: cash goes into your drawer.", code="no_session")
    return session


def denominations_total(denominations: dict | None) -> tuple[Decimal, dict[str, int]]:
    """Count × value of the KES notes and coins given; refuses unknown values and bad counts."""
    allowed = {str(value) for value, _ in DENOMINATIONS}
    clean: dict[str, int] = {}
    total = ZERO
    for key, count in (denominations or {}).items():
        key = str(key).strip()
        if key not in allowed:
            raise PaymentError(f"KES {key} is not a Kenyan note or coin.", field="denominations")
        if count in (None, ""):
            continue
        text = str(count).strip()
        if not text.isdigit() or int(text) > 100000:
            raise PaymentError(
                f"The count of KES {key} notes/coins must be a whole number, 0 or more.", field="denominations"
            )
        number = int(text)
        if number:
            clean[key] = number
            total += Decimal(key) * number
    return money(total), clean


def _clean_counted_by_method(counted: dict | None) -> dict[str, str]:
    clean = {}
    for method, value in (counted or {}).items():
        if value in (None, ""):
            continue
        if method not in PaymentMethod.values or method == PaymentMethod.CASH:
            raise PaymentError(f"Unknown payment method {method!r}.", field="counted_by_method")
        clean[method] = str(clean_amount(value, field="counted_by_method", allow_zero=True, what="A counted total"))
    return clean


def _may_approve(manager: User | None, session: CashSession) -> bool:
    """A manager (APPROVE_CASH_DIFFERENCE) of the session's branch, or of every branch."""
    if manager is None or not manager.is_active or not manager.has_perm(Perm.APPROVE_CASH_DIFFERENCE):
        return False
    return may_use_branch(manager, session.branch_id)


def _counted_cash(closing_total, denominations: dict | None) -> tuple[Decimal, dict[str, int]]:
    """The cash counted: the total typed, or the notes and coins added up (which must agree)."""
    counted_from_notes, clean_denominations = denominations_total(denominations)
    if closing_total in (None, ""):
        if not clean_denominations:
            raise PaymentError("Enter the cash you counted, or the count of each note and coin.", field="closing_total")
        closing_total = counted_from_notes
    closing_total = clean_amount(closing_total, field="closing_total", allow_zero=True, what="Counted cash")
    if clean_denominations and counted_from_notes != closing_total:
        raise PaymentError(
            f"The notes and coins add up to KES {counted_from_notes}, not KES {closing_total}.", field="closing_total"
        )
    return closing_total, clean_denominations


@retry_on_deadlock
@transaction.atomic
def session_count_record(
    *, session: CashSession, counted_by: User, counted: Decimal, approved_by: User | None = None, request=None
) -> CashSession:
    """Keep the cashier's first count of the drawer; a different count later is a recount and needs a
    manager (`counted_by` holding APPROVE_CASH_DIFFERENCE, or an `approved_by` manager whose PIN the
    view checked). Its own transaction: the count stays recorded even when the close that follows is
    refused (a difference too big), so the over/short, once shown, cannot be counted away."""
    session = CashSession.objects.select_for_update().get(pk=session.pk)
    if session.status != SessionStatus.OPEN:
        raise PaymentConflictError("This cash session is already closed.", code="session_closed")
    if session.cashier_id != counted_by.pk:
        raise PaymentError("Only the cashier closes their own session; a manager can force-close it.")
    if session.first_count is None:
        session.first_count = counted
        session.first_count_at = timezone.now()
        session.save(update_fields=["first_count", "first_count_at", "updated_at"])
        return session
    if counted == session.first_count:
        return session
    if counted_by.has_perm(Perm.APPROVE_CASH_DIFFERENCE):
        authority = counted_by
    elif _may_approve(approved_by, session):
        authority = approved_by
    else:
        raise PaymentError(
            f"You counted KES {session.first_count:,.2f} at {timezone.localtime(session.first_count_at):%H:%M}: "
            "counting again needs a manager's PIN.",
            code="needs_approval",
            field="closing_total",
        )
    audit_record(
        action=AuditAction.COUNT_RECOUNTED,
        user=counted_by,
        instance=session,
        before={"counted": session.first_count},
        after={"counted": counted},
        authorised_by=authority if authority.pk != counted_by.pk else None,
        branch=session.branch_id,
        request=request,
    )
    return session


def session_close(
    *,
    session: CashSession,
    closed_by: User,
    closing_total: Decimal | None = None,
    denominations: dict | None = None,
    counted_by_method: dict | None = None,
    approved_by: User | None = None,
    note: str = "",
    force: bool = False,
    request=None,
    when=None,
) -> CashSession:
    """Count the drawer and lock the session. Once closed it never changes.

    `closing_total` is the counted cash; with `denominations` ({"1000": 3, "50": 4, …}) it is
    computed from the count (and must agree when both are given). A difference bigger than the
    shop's `max_cash_difference` needs a manager: `closed_by` holding APPROVE_CASH_DIFFERENCE, or an
    `approved_by` manager whose PIN the view checked. The cashier's first count is kept
    (`session_count_record`): a different count afterwards needs a manager too. `force` is a manager
    closing someone else's abandoned session (a reason is required; audited as a force-close).
    """
    if not force:
        counted, _ = _counted_cash(closing_total, denominations)
        _clean_counted_by_method(counted_by_method)
        session_count_record(
            session=session, counted_by=closed_by, counted=counted, approved_by=approved_by, request=request
        )
    return _session_close(
        session=session, closed_by=closed_by, closing_total=closing_total, denominations=denominations,
        counted_by_method=counted_by_method, approved_by=approved_by, note=note, force=force, request=request,
        when=when,
    )


@retry_on_deadlock  # a checkout paying into this drawer may lock the same rows in the other order
@transaction.atomic
def _session_close(
    *,
    session: CashSession,
    closed_by: User,
    closing_total,
    denominations: dict | None,
    counted_by_method: dict | None,
    approved_by: User | None,
    note: str,
    force: bool,
    request,
    when,
) -> CashSession:
    session = CashSession.objects.select_for_update().get(pk=session.pk)
    if session.status != SessionStatus.OPEN:
        raise PaymentConflictError("This cash session is already closed.", code="session_closed")
    if force:
        if not closed_by.has_perm(Perm.FORCE_CLOSE_SESSION) or not _may_act_on_session(closed_by, session):
            raise PaymentError("Only a manager of this branch can force-close a session.")
        if not (note or "").strip():
            raise PaymentError("Say why the session is being force-closed.", field="note")
    elif session.cashier_id != closed_by.pk:
        raise PaymentError("Only the cashier closes their own session; a manager can force-close it.")

    closing_total, clean_denominations = _counted_cash(closing_total, denominations)
    counted_other = _clean_counted_by_method(counted_by_method)

    expected = session_expected_cash(session=session)
    difference = closing_total - expected
    limit = ShopSettings.load().max_cash_difference
    authorised_by = None
    if abs(difference) > limit:
        if closed_by.has_perm(Perm.APPROVE_CASH_DIFFERENCE):
            authorised_by = closed_by
        elif _may_approve(approved_by, session):
            authorised_by = approved_by
        else:
            word = "over" if difference > 0 else "short"
            raise PaymentError(
                f"The drawer is KES {abs(difference)} {word} (more than the KES {limit} allowed): "
                "a manager must approve this close with their PIN.",
                code="needs_approval",
                field="closing_total",
            )

    session.status = SessionStatus.CLOSED
    session.open_for_cashier = None
    session.closing_total = closing_total
    session.expected_cash = expected
    session.difference = difference
    session.denominations = clean_denominations or None
    session.counted_by_method = counted_other or None
    session.closed_at = when or timezone.now()
    session.closed_by = closed_by
    session.close_approved_by = authorised_by
    session.force_closed = force
    session.close_note = (note or "").strip()[:255]
    session.report = session_report(session=session, counted_by_method=counted_other)
    session.save()
    audit_record(
        action=AuditAction.SESSION_FORCE_CLOSED if force else AuditAction.SESSION_CLOSED,
        user=closed_by,
        instance=session,
        reason=session.close_note,
        after={
            "cashier": session.cashier_id,
            "closing_total": closing_total,
            "expected_cash": expected,
            "difference": difference,
        },
        authorised_by=authorised_by,
        branch=session.branch_id,
        request=request,
    )
    return session


def session_force_close(
    *, session: CashSession, manager: User, closing_total: Decimal, reason: str, request=None
) -> CashSession:
    """A manager closes an abandoned session (the cashier went home with it open), counting the drawer."""
    return session_close(
        session=session, closed_by=manager, closing_total=closing_total, note=reason, force=True, request=request
    )


# ---------------------------------------------------------------------------- checkout
_CARD_NUMBER = re.compile(r"^\d{13,19}$")


def looks_like_card_number(text: str) -> bool:
    """A 13–19 digit number passing the Luhn check: someone typed the card number. Never store it."""
    digits = re.sub(r"[\s-]", "", text)
    if not _CARD_NUMBER.match(digits):
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        number = int(char)
        if index % 2:
            number *= 2
            if number > 9:
                number -= 9
        total += number
    return total % 10 == 0


def validate_tenders(tenders: list[Tender]) -> list[Tender]:
    if len(tenders) > MAX_SPLIT_PARTS:
        raise PaymentError(f"A sale can be split into at most {MAX_SPLIT_PARTS} payments.", field="payments")
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
        reference = (tender.reference or "").strip()
        if tender.method == PaymentMethod.CARD:
            if looks_like_card_number(reference):
                raise PaymentError(
                    "That looks like a card number: never type it. Enter the reference printed on the terminal slip.",
                    field="reference",
                )
            if not reference:
                raise PaymentError("Enter the card terminal's reference from the slip.", field="reference")
        if tender.method == PaymentMethod.VOUCHER and not reference:
            raise PaymentError("Enter the voucher's code.", field="reference")
        clean.append(Tender(tender.method, amount, reference[:64]))
    return clean


def sale_checkout(
    *,
    sale: Sale,
    user: User,
    tenders: list[Tender],
    idempotency_key: str,
    request=None,
    when=None,
    channel: str = "till",
) -> Sale:
    """Take the payments and complete the sale in one transaction, exactly once.

    `when` back-dates the sale (demo data, imports); the till never passes it. `channel` labels the
    checkout-latency metric: "till" (the pay panel), "mpesa" (completed when M-Pesa confirmed).

    Payments already confirmed on the sale (an M-Pesa push the customer accepted) count towards the
    total; `tenders` add what is paid now. Only cash gives change, and never more than the cash
    handed over. Nothing is written unless the sale completes.

    Every later log line of the request or task carries `sale_id` (and `sale_number` once completed);
    when the transaction commits, the sale is counted (`asiria_sales_completed_total`), its checkout
    time observed (`asiria_checkout_duration_seconds`) and one `sale_completed` line logged.
    """
    bind_log_context(sale_id=sale.pk)
    return _sale_checkout(sale=sale, user=user, tenders=tenders, idempotency_key=idempotency_key, when=when,
                          channel=channel, started=time.perf_counter())


def _sale_completed(*, sale: Sale, channel: str, started: float, methods: list[str]) -> None:
    """After the checkout's transaction commits: count it, time it, log it (a rollback does none of these)."""
    seconds = time.perf_counter() - started
    metrics.sale_completed(sale.branch.code)
    metrics.checkout_observed(seconds, channel=channel)
    bind_log_context(sale_id=sale.pk, sale_number=sale.number)
    log.info("sale_completed", total=str(sale.total), paid=str(sale.paid_total), change=str(sale.change_given),
             methods=methods, channel=channel, duration_ms=round(seconds * 1000, 1))


@retry_on_deadlock
def _sale_checkout(*, sale: Sale, user: User, tenders: list[Tender], idempotency_key: str, when, channel: str,
                   started: float) -> Sale:
    idempotency_key = (idempotency_key or "").strip()
    if not idempotency_key or len(idempotency_key) > 64:
        raise PaymentError("A checkout needs an idempotency key of 1–64 characters.", field="idempotency_key")
    earlier = Sale.objects.filter(idempotency_key=idempotency_key).first()
    if earlier is not None:
        if earlier.pk != sale.pk:
            raise PaymentConflictError("This idempotency key was already used for another sale.")
        return earlier
    tenders = validate_tenders(tenders)

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
        if StkRequest.objects.filter(sale=sale, status__in=STK_WAITING).exists():
            raise PaymentConflictError(
                "An M-Pesa request is still waiting for the customer's PIN: wait for it, or stop waiting first.",
                code="mpesa_waiting",
            )

        sale_recalculate(sale=sale)
        payments = list(sale.payments.all())
        confirmed = [p for p in payments if p.status == PaymentStatus.CONFIRMED]
        if sale_amount_paid(sale=sale, payments=payments) > sale.total:
            # An M-Pesa payment confirmed before lines came off the cart: the surplus is refunded, not kept.
            raise PaymentConflictError(
                "Payments already taken are more than this sale's total: add the items back, or a manager "
                "refunds the difference."
            )
        due = sale_amount_due(sale=sale, payments=payments)
        cash_now = sum((t.amount for t in tenders if t.method == PaymentMethod.CASH), ZERO)
        other_now = sum((t.amount for t in tenders if t.method != PaymentMethod.CASH), ZERO)
        if other_now > due:
            raise PaymentError(
                f"Card and other non-cash payments (KES {other_now}) are more than what is due (KES {due}); "
                "only cash can be given change."
            )
        figures = tender_figures(due=due, tenders=tenders)
        if figures.still_due > 0:
            raise PaymentError(f"KES {figures.still_due} is still to pay.", code="underpaid")
        # Non-cash tenders are at most what is due (checked above), so all the change comes out of the cash.
        change = figures.change

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
        etims_sale_queue(sale=sale)  # KRA eTIMS: into the branch's outbox, sent after the commit
        # The counter's printer (if the branch has one) prints after the commit; cash opens the drawer.
        receipt_print_queue(sale=sale, user=user, open_drawer=cash_now > 0)
        methods = sorted({p.method for p in confirmed} | {t.method for t in tenders})
        completed = sale
        transaction.on_commit(
            lambda: _sale_completed(sale=completed, channel=channel, started=started, methods=methods)
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
                f"Refused: {customer.name} would owe KES {owes}, over their credit limit of "
                f"KES {customer.credit_limit} (they owe KES {customer.balance}; at most KES {room} more can go "
                "on account).",
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

