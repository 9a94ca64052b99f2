"""M-Pesa payments of sales: STK push (the PIN prompt on the customer's phone), the callback inbox,
settling from the STK query, C2B payments (the customer pays the till/paybill from their phone),
matching them to sales, and the manager's decisions on amounts that do not match.

Rules (docs/cashdesk.md, "M-Pesa"):
- A push asks for whole shillings: an amount with cents is refused (the cents are taken in cash),
  never rounded up, because the shop cannot give change on M-Pesa.
- A callback is applied at most once per CheckoutRequestID: the request's row is locked while it
  is applied, and the inbox copy that was applied carries a unique `applied_key`; every other copy
  is recorded as a repeat.
- An amount that differs from the one asked is flagged (status MISMATCH) for a manager and never
  confirms the payment by itself.
- One M-Pesa receipt number pays one sale: `Payment.mpesa_receipt` is unique, and an STK payment
  that also arrives as a C2B confirmation is linked to the same payment.
- The sale is completed through `sale_checkout` (with the other tenders the cashier declared, e.g.
  the cash part of a split) once confirmed payments cover it — exactly once, by idempotency key.

Daraja itself is reached only through `cashdesk.mpesa.daraja` and only from Huey tasks (`tasks.py`).
"""

from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal

import structlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from cashdesk.models import CashSession, Payment, PaymentMethod, PaymentStatus, SessionStatus
from cashdesk.mpesa import tasks
from cashdesk.mpesa.daraja import (
    C2BRejection,
    CallbackShapeError,
    DarajaClient,
    DarajaError,
    c2b_validation_accepted,
    c2b_validation_rejected,
    callback_url,
    get_config,
    parse_c2b_confirmation,
    parse_c2b_validation,
    parse_stk_callback,
    result_message,
    validate_callback_url,
)
from cashdesk.mpesa.daraja import StkStatus as DarajaStatus
from cashdesk.mpesa.daraja.config import BUY_GOODS as BUY_GOODS_TYPE
from cashdesk.mpesa.models import (
    STK_WAITING,
    C2BPayment,
    C2BStatus,
    InboxKind,
    InboxOutcome,
    MpesaInbox,
    StkRequest,
    StkStatus,
)
from cashdesk.selectors import sale_amount_due, sale_reference
from cashdesk.services import PaymentConflictError, PaymentError, Tender, _validate_tenders, sale_checkout
from core.errors import DomainError
from core.money import ZERO, money
from core.ops import metrics
from core.ops.logs import bind_log_context
from core.ops.queue import enqueue_on_commit, schedule
from core.phone import format_phone_local, mask_phone, msisdn, phone_or_none
from core.roles import Perm
from pos.people.audit import AuditAction, audit_record
from pos.people.models import Branch, User
from pos.sales.models import Sale, SaleStatus

log = structlog.get_logger("cashdesk.mpesa")

MAX_STK_AMOUNT = Decimal("250000")
STK_DESCRIPTION = "Shop payment"  # 1–13 characters, shown on the customer's phone


def query_after() -> timedelta:
    """How long to wait for a callback before asking Daraja (STK query) how the push ended."""
    return timedelta(seconds=int(getattr(settings, "MPESA_STK_QUERY_AFTER", 60)))


def give_up_after() -> timedelta:
    """After this long with no answer at all, the request is settled as timed out."""
    return timedelta(seconds=int(getattr(settings, "MPESA_STK_GIVE_UP_AFTER", 300)))


def _enqueue(task, *args) -> None:
    """Run a Huey task once the current transaction has committed (the task must see our rows).

    If the queue is down (Redis), the request runs the task itself: a push must still be sent and a
    callback still applied (`core.ops.queue`, fallback "inline"; every task here is idempotent)."""
    enqueue_on_commit(task, *args, fallback="inline")


_STATUS_FROM_DARAJA = {
    DarajaStatus.PAID: StkStatus.PAID,
    DarajaStatus.CANCELLED: StkStatus.CANCELLED,
    DarajaStatus.TIMED_OUT: StkStatus.TIMED_OUT,
    DarajaStatus.FAILED: StkStatus.FAILED,
}


# ---------------------------------------------------------------------------- starting a push
def _may_take_payment_for(user: User, sale: Sale) -> bool:
    if sale.cashier_id == user.pk:
        return True
    return user.has_perm(Perm.VIEW_ALL_SALES) and (user.has_perm(Perm.ALL_BRANCHES) or user.branch_id == sale.branch_id)


def whole_shillings_due(due: Decimal) -> Decimal:
    return due.quantize(Decimal("1"), rounding=ROUND_FLOOR)


def mpesa_stk_start(
    *,
    sale: Sale,
    phone: str,
    user: User,
    amount: Decimal | None = None,
    other_tenders: list[Tender] | None = None,
    request=None,
) -> StkRequest:
    """Ask the customer's phone for `amount` (default: what is left to pay) and wait for their PIN.

    `phone` in any Kenyan format; stored as 2547…/2541…. `other_tenders` are the rest of a split
    (e.g. the cash part): when M-Pesa confirms, the sale completes with them. Creates a PENDING
    Payment and an StkRequest; a Huey task sends the push after this transaction commits.
    """
    try:
        number = msisdn(phone)
    except ValidationError:
        raise PaymentError("Enter a Kenyan mobile number for M-Pesa, e.g. 0712 345 678.", field="phone") from None
    others = _validate_tenders(list(other_tenders or []))
    others_total = sum((t.amount for t in others), ZERO)
    others_non_cash = sum((t.amount for t in others if t.method != PaymentMethod.CASH), ZERO)

    with transaction.atomic():
        sale = Sale.objects.select_for_update().get(pk=sale.pk)
        if sale.status != SaleStatus.OPEN:
            raise PaymentConflictError(f"This sale is {sale.get_status_display().lower()}; it takes no more payments.")
        if not _may_take_payment_for(user, sale):
            raise PaymentError("This sale belongs to another cashier.")
        session = CashSession.objects.select_for_update().filter(open_for_cashier=user.pk).first()
        if session is None:
            raise PaymentConflictError("Open a cash session before taking payments.", code="no_session")
        if session.branch_id != sale.branch_id:
            raise PaymentConflictError("This sale belongs to another branch.")
        if StkRequest.objects.filter(sale=sale, status__in=STK_WAITING).exists():
            raise PaymentConflictError(
                "An M-Pesa request for this sale is already waiting for the customer's PIN.", code="mpesa_waiting"
            )
        if not sale.lines.exists() or sale.total <= 0:
            raise PaymentError("The sale is empty: add items before asking for payment.")
        due = sale_amount_due(sale=sale)
        if due <= 0:
            raise PaymentError("Nothing is left to pay on this sale.")
        if amount in (None, ""):
            amount = whole_shillings_due(max(due - others_total, ZERO))
            if amount <= 0:
                raise PaymentError("The other payments already cover the sale: no M-Pesa is needed.", field="amount")
        try:
            amount = money(amount)
        except (TypeError, ValueError):
            raise PaymentError("Enter the M-Pesa amount in shillings.", field="amount") from None
        if amount <= 0:
            raise PaymentError("The M-Pesa amount must be more than zero.", field="amount")
        if amount != amount.to_integral_value():
            whole = whole_shillings_due(amount)
            raise PaymentError(
                f"M-Pesa takes whole shillings only: ask for KES {whole} by M-Pesa and take "
                f"KES {amount - whole} in cash.",
                field="amount",
            )
        if amount > MAX_STK_AMOUNT:
            raise PaymentError("M-Pesa takes at most KES 250,000 at a time: split the payment.", field="amount")
        if amount + others_non_cash > due:
            raise PaymentError(
                f"The M-Pesa and other non-cash parts (KES {amount + others_non_cash}) are more than the "
                f"KES {due} still to pay.",
                field="amount",
            )
        if others and amount + others_total < due:
            raise PaymentError(
                f"M-Pesa KES {amount} and the other parts KES {others_total} "
                f"leave KES {due - amount - others_total} unpaid.",
                field="amount",
            )
        payment = Payment.objects.create(
            sale=sale,
            session=session,
            method=PaymentMethod.MPESA,
            status=PaymentStatus.PENDING,
            amount=amount,
            reference=mask_phone("+" + number),
            received_by=user,
        )
        stk = StkRequest.objects.create(
            sale=sale,
            payment=payment,
            branch_id=sale.branch_id,
            requested_by=user,
            phone=number,
            amount=amount,
            other_tenders=[{"method": t.method, "amount": str(t.amount), "reference": t.reference} for t in others],
            status=StkStatus.QUEUED,
            message=f"Sending the request to {format_phone_local('+' + number)}…",
        )

        _enqueue(tasks.mpesa_send_stk_push, stk.pk, _local_callback_base(request))
    log.info("stk %s: KES %s for sale %s to %s", stk.pk, amount, sale.pk, mask_phone("+" + number))
    return stk


def _local_callback_base(request) -> str | None:
    """With the local simulator the callback goes back to the server the cashier is using (whatever
    port or LAN address it runs on), not to SITE_URL, which may name another port. Never for Safaricom."""
    if request is None or not get_config().is_simulator:
        return None
    return request.build_absolute_uri("/").rstrip("/")


def _callback_url(base: str | None = None) -> str:
    config = get_config()
    path = reverse("cashdesk:stk_callback", args=[config.callback_secret])
    if base and config.is_simulator:

        return validate_callback_url(base + path, require_https=False)
    return callback_url(path, config=config)


def mpesa_stk_send(*, stk_request_id: int, callback_base: str | None = None) -> StkRequest:
    """Send a queued push to Daraja (called by the Huey task). Idempotent: only a QUEUED request is sent."""
    stk = StkRequest.objects.select_related("sale", "branch").get(pk=stk_request_id)
    bind_log_context(sale_id=stk.sale_id, payment_id=stk.payment_id, stk_request_id=stk.pk)
    if stk.status != StkStatus.QUEUED or stk.checkout_request_id:
        return stk
    try:
        config = get_config()
        party_b = None
        if config.transaction_type == BUY_GOODS_TYPE and stk.branch.mpesa_till_number:
            party_b = stk.branch.mpesa_till_number
        with DarajaClient(config) as client:
            result = client.stk_push(
                stk.phone,
                stk.amount.to_integral_value(),
                sale_reference(stk.sale)[:12],
                STK_DESCRIPTION,
                _callback_url(callback_base),
                party_b=party_b,
            )
    except DarajaError as exc:
        metrics.mpesa_outcome("stk_push", exc.code or "failed")
        if exc.code == "timeout":
            message = (
                "M-Pesa did not answer in time. If the customer gets the prompt and pays, type their M-Pesa code; "
                "otherwise try again."
            )
        else:
            message = f"The request could not be sent: {exc.message} Try again, or pay another way."
        _finish_without_payment(
            stk, status=StkStatus.FAILED, code=exc.code or "", desc=exc.message, message=message, by="send"
        )
        return StkRequest.objects.get(pk=stk.pk)
    except Exception as exc:  # a bad setting (callback URL refused…): tell the cashier, keep the details in the log
        metrics.mpesa_outcome("stk_push", "config")
        log.exception("stk %s: could not send", stk.pk)
        _finish_without_payment(
            stk,
            status=StkStatus.FAILED,
            code="config",
            desc=str(exc)[:255],
            message="M-Pesa is not set up correctly on this shop's server: tell the manager. Pay another way.",
            by="send",
        )
        return StkRequest.objects.get(pk=stk.pk)

    metrics.mpesa_outcome("stk_push", "accepted")
    with transaction.atomic():
        stk = StkRequest.objects.select_for_update().get(pk=stk.pk)
        stk.merchant_request_id = result.merchant_request_id[:64]
        stk.checkout_request_id = result.checkout_request_id[:64]
        stk.sent_at = timezone.now()
        fields = ["merchant_request_id", "checkout_request_id", "sent_at", "updated_at"]
        if stk.status == StkStatus.QUEUED:  # the cashier may have stopped waiting meanwhile
            stk.status = StkStatus.SENT
            stk.message = (
                f"Waiting for the customer to enter their M-Pesa PIN on {format_phone_local('+' + stk.phone)}."
            )
            fields += ["status", "message"]
        stk.save(update_fields=fields)

    # Queue down: no scheduled query, but the periodic `mpesa_settle_stale_requests` asks about it later.
    schedule(tasks.mpesa_query_stk, args=(stk.pk,), delay=int(query_after().total_seconds()))
    return stk


def _finish_without_payment(stk: StkRequest, *, status: str, code: str, desc: str, message: str, by: str) -> None:
    with transaction.atomic():
        stk = StkRequest.objects.select_for_update().get(pk=stk.pk)
        if stk.status not in STK_WAITING:
            return
        stk.status = status
        stk.result_code = (code or "")[:20]
        stk.result_desc = (desc or "")[:255]
        stk.message = message[:255]
        stk.answered_at = timezone.now()
        stk.answered_by = by
        stk.save()
        Payment.objects.filter(pk=stk.payment_id, status=PaymentStatus.PENDING).update(
            status=PaymentStatus.FAILED, updated_at=timezone.now()
        )


@transaction.atomic
def mpesa_stk_stop_waiting(*, stk: StkRequest, user: User, request=None) -> StkRequest:
    """The cashier gives up on a push (the customer walked away, wants to pay another way).

    If M-Pesa later says the customer paid after all, the request is flagged for a manager.
    """
    stk = StkRequest.objects.select_for_update().get(pk=stk.pk)
    if not _may_take_payment_for(user, stk.sale):
        raise PaymentError("This sale belongs to another cashier.")
    if stk.status not in STK_WAITING:
        return stk
    stk.status = StkStatus.FAILED
    stk.message = "You stopped waiting for this M-Pesa payment."
    stk.answered_at = timezone.now()
    stk.answered_by = "cashier"
    stk.save()
    Payment.objects.filter(pk=stk.payment_id, status=PaymentStatus.PENDING).update(
        status=PaymentStatus.FAILED, updated_at=timezone.now()
    )
    audit_record(
        action=AuditAction.MPESA_STOPPED_WAITING, user=user, instance=stk, branch=stk.branch_id, request=request
    )
    return stk


# ---------------------------------------------------------------------------- settling a push
def _settle(
    stk: StkRequest,
    *,
    result_code: str,
    result_desc: str,
    by: str,
    amount: Decimal | None = None,
    receipt: str | None = None,
    phone: str | None = None,
    when=None,
) -> str:
    """Record how a push ended. Caller holds the request's row lock. Returns an InboxOutcome."""
    outcome = result_message(result_code, result_desc)
    now = timezone.now()
    payment = Payment.objects.select_for_update().get(pk=stk.payment_id)
    stk.result_code = str(result_code)[:20]
    stk.result_desc = (result_desc or "")[:255]
    stk.answered_at = now
    stk.answered_by = by
    if receipt:
        stk.receipt_number = receipt[:20]
    if amount is not None:
        stk.paid_amount = money(amount)
    if phone:
        stk.paid_phone = str(phone)[:16]
    if when is not None:
        stk.transaction_date = when

    if outcome.status != DarajaStatus.PAID:
        stk.status = _STATUS_FROM_DARAJA[outcome.status]
        stk.message = outcome.message[:255]
        stk.save()
        if payment.status == PaymentStatus.PENDING:
            payment.status = PaymentStatus.FAILED
            payment.save(update_fields=["status", "updated_at"])
        return InboxOutcome.APPLIED

    # Paid. Anything odd is flagged for a manager instead of confirming the payment.
    problem = ""
    if stk.status not in STK_WAITING:
        problem = "The customer paid after the cashier stopped waiting."
    elif amount is not None and money(amount) != stk.amount:
        problem = f"M-Pesa received KES {money(amount)}, not the KES {stk.amount} asked."
    elif receipt and Payment.objects.filter(mpesa_receipt=receipt).exclude(pk=payment.pk).exists():
        problem = f"M-Pesa receipt {receipt} was already used for another payment."
    if problem:
        stk.status = StkStatus.MISMATCH
        stk.message = f"{problem} A manager must check this payment."[:255]
        stk.save()
        if payment.status == PaymentStatus.PENDING:
            payment.status = PaymentStatus.FAILED  # not counted until a manager accepts it
            payment.save(update_fields=["status", "updated_at"])
        log.warning("stk %s flagged: %s", stk.pk, problem)
        return InboxOutcome.MISMATCH

    stk.status = StkStatus.PAID
    stk.message = (f"Paid: M-Pesa receipt {receipt}." if receipt else "Paid: M-Pesa confirmed the payment.")[:255]
    stk.save()
    _confirm_payment(payment, receipt=receipt, user=stk.requested_by)
    return InboxOutcome.APPLIED


def _confirm_payment(payment: Payment, *, receipt: str | None, user: User | None) -> None:
    payment.status = PaymentStatus.CONFIRMED
    payment.confirmed_at = timezone.now()
    fields = ["status", "confirmed_at", "updated_at"]
    if receipt:
        payment.mpesa_receipt = receipt
        payment.reference = receipt
        fields += ["mpesa_receipt", "reference"]
    # A closed session never changes: a payment confirmed after its session closed moves to the
    # cashier's open session (or to none, and the next checkout counts it).
    if payment.session_id and CashSession.objects.filter(pk=payment.session_id, status=SessionStatus.CLOSED).exists():
        current = CashSession.objects.filter(open_for_cashier=user.pk).first() if user else None
        payment.session = current
        fields.append("session")
    payment.save(update_fields=fields)
    if receipt:  # the same money may already have arrived as a C2B confirmation
        C2BPayment.objects.filter(trans_id=receipt, status=C2BStatus.UNMATCHED).update(
            status=C2BStatus.STK, payment=payment, matched_at=timezone.now(), updated_at=timezone.now()
        )


def _mark(inbox: MpesaInbox, outcome: str, detail: str = "") -> MpesaInbox:
    inbox.outcome = outcome
    inbox.detail = detail[:255]
    inbox.processed_at = timezone.now()
    inbox.save(update_fields=["outcome", "detail", "processed_at"])
    return inbox


def mpesa_inbox_store(*, kind: str, raw_body: bytes, remote_addr: str | None = None) -> MpesaInbox:
    """Keep what was posted to us, exactly, before anything else. Malformed bodies are kept too."""
    text = raw_body.decode("utf-8", errors="replace") if isinstance(raw_body, (bytes, bytearray)) else str(raw_body)
    inbox = MpesaInbox(kind=kind, raw_body=text, remote_addr=remote_addr or None)
    try:
        if kind == InboxKind.STK_CALLBACK:
            inbox.checkout_request_id = parse_stk_callback(raw_body).checkout_request_id[:64]
        elif kind == InboxKind.C2B_CONFIRMATION:
            inbox.trans_id = parse_c2b_confirmation(raw_body).trans_id[:20]
        else:
            inbox.trans_id = parse_c2b_validation(raw_body).trans_id[:20]
    except CallbackShapeError as exc:
        inbox.outcome = InboxOutcome.MALFORMED
        inbox.detail = exc.message[:255] if not exc.path else f"{exc.path}: {exc.message}"[:255]
        inbox.processed_at = timezone.now()
    inbox.save()
    return inbox


def _verify_with_query(checkout_request_id: str) -> str | None:
    """Callbacks are unsigned: ask Daraja how the push ended. Returns its ResultCode, or None if unknown."""
    if not getattr(settings, "MPESA_VERIFY_CALLBACKS", True):
        return None
    try:
        with DarajaClient() as client:
            answer = client.stk_query(checkout_request_id)
    except DarajaError as exc:
        log.warning("stk query to verify %s failed: %s", checkout_request_id, exc.code)
        return None
    return None if answer.pending else answer.result_code


def _outcome_status(inbox: MpesaInbox) -> str:
    """The `status` label of `asiria_mpesa_outcomes_total` for a processed callback: how the push
    ended when it was applied (success, cancelled, failed, timed_out), else what was done with it."""
    if inbox.outcome == InboxOutcome.APPLIED and inbox.checkout_request_id:
        status = (
            StkRequest.objects.filter(checkout_request_id=inbox.checkout_request_id)
            .values_list("status", flat=True)
            .first()
        )
        return "success" if status == StkStatus.PAID else (status or "applied")
    return inbox.outcome or "pending"


def mpesa_stk_callback_apply(*, inbox_id: int) -> MpesaInbox:
    """Apply one stored STK callback. At most once per CheckoutRequestID, whatever Safaricom repeats.

    Counted in `asiria_mpesa_outcomes_total{kind="stk_callback"}` once it is processed (a repeat counts
    as `duplicate`); the sale, payment and request ids are bound to the log context.
    """
    bind_log_context(mpesa_inbox_id=inbox_id)
    already = MpesaInbox.objects.filter(pk=inbox_id, processed_at__isnull=False).exists()
    inbox = _stk_callback_apply(inbox_id=inbox_id)
    if not already and inbox.processed_at:
        metrics.mpesa_outcome("stk_callback", _outcome_status(inbox))
    return inbox


def _stk_callback_apply(*, inbox_id: int) -> MpesaInbox:
    inbox = MpesaInbox.objects.get(pk=inbox_id)
    if inbox.processed_at:
        return inbox
    try:
        callback = parse_stk_callback(inbox.raw_body.encode())
    except CallbackShapeError as exc:
        return _mark(inbox, InboxOutcome.MALFORMED, exc.message)
    verified_code = _verify_with_query(callback.checkout_request_id) if callback.is_success else None

    completed_stk = None
    with transaction.atomic():
        inbox = MpesaInbox.objects.select_for_update().get(pk=inbox_id)
        if inbox.processed_at:
            return inbox
        stk = StkRequest.objects.select_for_update().filter(checkout_request_id=callback.checkout_request_id).first()
        if stk is None:
            return _mark(inbox, InboxOutcome.UNKNOWN, "No payment request has this CheckoutRequestID; nothing changed.")
        bind_log_context(sale_id=stk.sale_id, payment_id=stk.payment_id, stk_request_id=stk.pk)
        if stk.answered_by in ("callback", "query"):
            if stk.answered_by == "query" and callback.is_success and not stk.receipt_number:
                return _complete_query_settled(inbox, stk, callback)
            return _mark(
                inbox, InboxOutcome.DUPLICATE, f"Already settled ({stk.get_status_display().lower()}); repeat ignored."
            )
        if verified_code is not None and verified_code != "0":
            log.warning("stk %s: callback says paid, query says %s", stk.pk, verified_code)
            return _mark(
                inbox, InboxOutcome.REJECTED, f"The callback says paid but the STK query says {verified_code}."
            )
        inbox.applied_key = f"stk:{callback.checkout_request_id}"[:90]
        try:
            with transaction.atomic():
                inbox.save(update_fields=["applied_key"])
        except IntegrityError:
            inbox.applied_key = None
            return _mark(inbox, InboxOutcome.DUPLICATE, "Another copy of this callback was applied; repeat ignored.")
        outcome = _settle(
            stk,
            result_code=callback.result_code,
            result_desc=callback.result_desc,
            by="callback",
            amount=callback.amount,
            receipt=callback.receipt_number,
            phone=callback.phone,
            when=callback.transaction_date,
        )
        detail = f"{stk.get_status_display()}: {stk.message}"
        _mark(inbox, outcome, detail)
        if stk.status == StkStatus.PAID:
            completed_stk = stk
    if completed_stk is not None:
        mpesa_sale_complete_if_paid(stk=completed_stk)
    return inbox


def _complete_query_settled(inbox: MpesaInbox, stk: StkRequest, callback) -> MpesaInbox:
    """The query said paid before the callback came: the late callback brings the receipt and amount."""
    payment = Payment.objects.select_for_update().get(pk=stk.payment_id)
    stk.receipt_number = callback.receipt_number or ""
    stk.paid_amount = callback.amount
    stk.paid_phone = (callback.phone or "")[:16]
    stk.transaction_date = callback.transaction_date
    problem = ""
    if callback.amount is not None and callback.amount != stk.amount:
        problem = f"M-Pesa received KES {callback.amount}, not the KES {stk.amount} asked."
    elif (
        callback.receipt_number
        and Payment.objects.filter(mpesa_receipt=callback.receipt_number).exclude(pk=payment.pk).exists()
    ):
        problem = f"M-Pesa receipt {callback.receipt_number} was already used for another payment."
    if problem:
        stk.status = StkStatus.MISMATCH
        stk.message = f"{problem} A manager must check this payment."[:255]
        stk.save()
        return _mark(inbox, InboxOutcome.MISMATCH, problem)
    stk.save()
    if callback.receipt_number and not payment.mpesa_receipt:
        _confirm_payment(payment, receipt=callback.receipt_number, user=stk.requested_by)
    return _mark(inbox, InboxOutcome.APPLIED, "Receipt added to a payment the STK query had confirmed.")


def mpesa_stk_query_settle(*, stk_request_id: int) -> StkRequest:
    """No callback yet: ask Daraja. Pending → ask again later; final → settle; too old → timed out."""
    stk = StkRequest.objects.get(pk=stk_request_id)
    if stk.status != StkStatus.SENT or not stk.checkout_request_id:
        return stk
    answer = None
    error = None
    try:
        with DarajaClient() as client:
            answer = client.stk_query(stk.checkout_request_id)
    except DarajaError as exc:
        error = exc
    now = timezone.now()
    with transaction.atomic():
        stk = StkRequest.objects.select_for_update().get(pk=stk_request_id)
        if stk.status != StkStatus.SENT:
            return stk
        stk.query_count += 1
        stk.last_queried_at = now
        if answer is not None and not answer.pending:
            _settle(stk, result_code=answer.result_code, result_desc=answer.result_desc, by="query")
            paid = stk.status == StkStatus.PAID
        else:
            paid = False
            too_old = stk.sent_at is None or now - stk.sent_at > give_up_after()
            if too_old:
                reason = error.message if error else "M-Pesa still says the payment is being processed."
                _settle(stk, result_code="1037", result_desc=f"No answer from M-Pesa: {reason}"[:255], by="query")
            else:
                stk.save(update_fields=["query_count", "last_queried_at", "updated_at"])
    if paid:
        mpesa_sale_complete_if_paid(stk=stk)
    return stk


def mpesa_stale_requests(*, now=None) -> list[int]:
    """Pushes with no answer for longer than `query_after()` that were not asked about recently."""
    now = now or timezone.now()

    return list(
        StkRequest.objects.filter(status=StkStatus.SENT, sent_at__lte=now - query_after())
        .filter(Q(last_queried_at__isnull=True) | Q(last_queried_at__lte=now - timedelta(seconds=20)))
        .values_list("pk", flat=True)[:200]
    )


def mpesa_stranded_inbox(*, now=None, older_than: timedelta = timedelta(seconds=30)) -> list[tuple[int, str]]:
    """(id, kind) of stored callbacks nobody applied: their task was lost (the queue's Redis restarted
    without its append-only file, a consumer killed mid-task). The periodic sweep applies them."""
    now = now or timezone.now()
    return list(
        MpesaInbox.objects.filter(
            processed_at__isnull=True,
            kind__in=(InboxKind.STK_CALLBACK, InboxKind.C2B_CONFIRMATION),
            received_at__lte=now - older_than,
        )
        .order_by("received_at", "pk")
        .values_list("pk", "kind")[:200]
    )


# ---------------------------------------------------------------------------- completing the sale
def mpesa_sale_complete_if_paid(*, stk: StkRequest) -> Sale | None:
    """Complete the sale through `sale_checkout` once M-Pesa and the declared tenders cover it.

    Exactly once: the idempotency key is the sale's, so two paid pushes, a callback and a polling
    request racing all end with one completed sale. A failure (stock short, session closed) leaves
    the payment confirmed and tells the cashier on the panel.
    """
    stk = StkRequest.objects.select_related("sale", "requested_by").get(pk=stk.pk)
    sale = stk.sale
    if stk.status != StkStatus.PAID or sale.status != SaleStatus.OPEN:
        return None
    tenders = [Tender(t["method"], Decimal(t["amount"]), t.get("reference", "")) for t in stk.other_tenders or []]
    due = sale_amount_due(sale=sale)
    if sum((t.amount for t in tenders), ZERO) < due:
        return None
    try:
        return sale_checkout(sale=sale, user=stk.requested_by, tenders=tenders, idempotency_key=f"mpesa-sale-{sale.pk}",
                             channel="mpesa")
    except DomainError as exc:
        log.warning("stk %s: paid but the sale could not be completed: %s", stk.pk, exc.message)
        StkRequest.objects.filter(pk=stk.pk).update(
            message=f"Paid by M-Pesa, but the sale is not complete yet: {exc.message}"[:255], updated_at=timezone.now()
        )
        return None


# ---------------------------------------------------------------------------- C2B
def _branch_for_shortcode(shortcode: str) -> Branch | None:

    return Branch.objects.filter(Q(mpesa_till_number=shortcode) | Q(mpesa_paybill=shortcode)).order_by("pk").first()


def open_sale_for_reference(reference: str) -> Sale | None:
    """`S-000123` (what the push and the pay panel tell the customer to type) → that open sale."""
    text = (reference or "").strip().upper().replace(" ", "")
    if text.startswith("S-") and text[2:].isdigit():
        return Sale.objects.filter(pk=int(text[2:]), status=SaleStatus.OPEN).first()
    return None


def mpesa_c2b_validate(*, inbox: MpesaInbox) -> dict:
    """Answer a C2B validation: accept every well-formed payment (the customer's money is never refused
    for a typo in the account number: a cashier matches it), reject a malformed request."""

    if inbox.outcome == InboxOutcome.MALFORMED:
        return c2b_validation_rejected(C2BRejection.OTHER_ERROR)
    _mark(inbox, InboxOutcome.ACCEPTED, "")
    return c2b_validation_accepted()


def mpesa_c2b_confirmation_apply(*, inbox_id: int) -> MpesaInbox:
    """Record a C2B payment once per TransID and match it: the same money reported by STK, or a sale
    whose reference the customer typed as the account number; else it waits on the unmatched list."""
    inbox = MpesaInbox.objects.get(pk=inbox_id)
    if inbox.processed_at:
        return inbox
    try:
        c2b = parse_c2b_confirmation(inbox.raw_body.encode())
    except CallbackShapeError as exc:
        return _mark(inbox, InboxOutcome.MALFORMED, exc.message)
    to_complete = None
    with transaction.atomic():
        inbox = MpesaInbox.objects.select_for_update().get(pk=inbox_id)
        if inbox.processed_at:
            return inbox
        inbox.applied_key = f"c2b:{c2b.trans_id}"[:90]
        try:
            with transaction.atomic():
                inbox.save(update_fields=["applied_key"])
                row = C2BPayment.objects.create(
                    trans_id=c2b.trans_id,
                    transaction_type=c2b.transaction_type[:40],
                    trans_time=c2b.trans_time,
                    amount=c2b.amount,
                    shortcode=c2b.business_shortcode,
                    bill_ref_number=c2b.bill_ref_number[:40],
                    msisdn=c2b.msisdn[:64],
                    phone=c2b.phone_e164 or "",
                    customer_name=c2b.customer_name[:150],
                    branch=_branch_for_shortcode(c2b.business_shortcode),
                    inbox=inbox,
                )
        except IntegrityError:
            inbox.applied_key = None
            return _mark(
                inbox, InboxOutcome.DUPLICATE, f"M-Pesa code {c2b.trans_id} was already recorded; repeat ignored."
            )

        same_money = Payment.objects.select_for_update().filter(mpesa_receipt=c2b.trans_id).first()
        if same_money is not None:
            row.status, row.payment, row.matched_at = C2BStatus.STK, same_money, timezone.now()
            row.save(update_fields=["status", "payment", "matched_at", "updated_at"])
            return _mark(inbox, InboxOutcome.MATCHED, f"Same payment as the STK push on {same_money.sale}.")
        sale = open_sale_for_reference(c2b.bill_ref_number)
        if sale is not None:
            sale = Sale.objects.select_for_update().get(pk=sale.pk)
            # An STK push the query confirmed without a receipt: this is the same money.
            stk = (
                StkRequest.objects.select_for_update()
                .filter(sale=sale, status=StkStatus.PAID, receipt_number="", amount=c2b.amount)
                .first()
            )
            if stk is not None:
                stk.receipt_number = c2b.trans_id
                stk.save(update_fields=["receipt_number", "updated_at"])
                payment = Payment.objects.select_for_update().get(pk=stk.payment_id)
                payment.mpesa_receipt = c2b.trans_id
                payment.reference = c2b.trans_id
                payment.save(update_fields=["mpesa_receipt", "reference", "updated_at"])
                row.status, row.payment, row.matched_at = C2BStatus.STK, payment, timezone.now()
                row.save(update_fields=["status", "payment", "matched_at", "updated_at"])
                return _mark(inbox, InboxOutcome.MATCHED, f"Receipt of the STK payment on {sale}.")
            session = CashSession.objects.filter(open_for_cashier=sale.cashier_id, branch_id=sale.branch_id).first()
            if session is not None and c2b.amount <= sale_amount_due(sale=sale):
                payment = _attach(row, sale=sale, session=session, user=None)
                _mark(
                    inbox, InboxOutcome.MATCHED, f"Paid {sale_reference(sale)} (account number typed by the customer)."
                )
                to_complete = (sale, payment)
            else:
                _mark(
                    inbox,
                    InboxOutcome.UNMATCHED,
                    f"Account {c2b.bill_ref_number}: the sale cannot take KES {c2b.amount}.",
                )
        else:
            _mark(inbox, InboxOutcome.UNMATCHED, "Waiting for a cashier to match it to a sale.")
    if to_complete is not None:
        _complete_after_attach(*to_complete)
    return inbox


def _attach(row: C2BPayment, *, sale: Sale, session: CashSession, user: User | None) -> Payment:
    payment = Payment.objects.create(
        sale=sale,
        session=session,
        method=PaymentMethod.MPESA,
        status=PaymentStatus.CONFIRMED,
        amount=row.amount,
        reference=row.trans_id,
        mpesa_receipt=row.trans_id,
        received_by=user,
        confirmed_at=timezone.now(),
    )
    row.status = C2BStatus.MATCHED
    row.payment = payment
    row.matched_by = user
    row.matched_at = timezone.now()
    if row.branch_id is None:
        row.branch_id = sale.branch_id
    row.save()
    return payment


def _complete_after_attach(sale: Sale, payment: Payment) -> Sale | None:
    sale.refresh_from_db()
    if sale.status != SaleStatus.OPEN or sale_amount_due(sale=sale) > 0:
        return None
    cashier = sale.cashier
    try:
        return sale_checkout(sale=sale, user=cashier, tenders=[], idempotency_key=f"mpesa-sale-{sale.pk}",
                             channel="mpesa")
    except DomainError as exc:
        log.warning("c2b %s: sale %s paid but not completed: %s", payment.mpesa_receipt, sale.pk, exc.message)
        return None


def normalise_code(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch.isalnum()).upper()


def mpesa_c2b_attach(
    *, sale: Sale, user: User, code: str | None = None, c2b: C2BPayment | None = None, request=None
) -> tuple[Payment, Sale]:
    """A cashier attaches an incoming M-Pesa payment to a sale (by the code the customer reads out, or
    from the unmatched list). Completes the sale when that pays it in full. Returns (payment, sale)."""
    if c2b is None:
        code = normalise_code(code or "")
        if not (6 <= len(code) <= 20):
            raise PaymentError("An M-Pesa code has 10 letters and digits, e.g. SAB3XK91LM.", field="code")
    with transaction.atomic():
        sale = Sale.objects.select_for_update().get(pk=sale.pk)
        if sale.status != SaleStatus.OPEN:
            raise PaymentConflictError(f"This sale is {sale.get_status_display().lower()}; it takes no more payments.")
        if not _may_take_payment_for(user, sale):
            raise PaymentError("This sale belongs to another cashier.")
        lookup = {"pk": c2b.pk} if c2b is not None else {"trans_id": code}
        row = C2BPayment.objects.select_for_update().filter(**lookup).first()
        if row is None:
            raise PaymentError(
                f"M-Pesa has not told us about {code} yet. Check the code with the customer, wait a few seconds "
                "and try again.",
                field="code",
                code="not_received",
            )
        if row.status != C2BStatus.UNMATCHED:
            used = f" for {row.payment.sale}" if row.payment_id else ""
            raise PaymentConflictError(f"M-Pesa payment {row.trans_id} was already used{used}.", code="already_used")
        if row.branch_id and row.branch_id != sale.branch_id and not user.has_perm(Perm.ALL_BRANCHES):
            raise PaymentError(f"M-Pesa payment {row.trans_id} went to another branch's till.")
        session = CashSession.objects.select_for_update().filter(open_for_cashier=user.pk).first()
        if session is None:
            raise PaymentConflictError("Open a cash session before taking payments.", code="no_session")
        due = sale_amount_due(sale=sale)
        if row.amount > due:
            raise PaymentError(
                f"The customer paid KES {row.amount} but only KES {due} is left to pay: M-Pesa cannot give change. "
                "Add the rest to the sale, or a manager reverses the payment.",
                field="code",
            )
        payment = _attach(row, sale=sale, session=session, user=user)
        audit_record(
            action=AuditAction.MPESA_ATTACHED,
            user=user,
            instance=payment,
            after={"trans_id": row.trans_id, "sale": sale.pk, "amount": row.amount},
            branch=sale.branch_id,
            request=request,
        )
    done = _complete_after_attach(sale, payment)
    return payment, done or Sale.objects.get(pk=sale.pk)


@transaction.atomic
def mpesa_c2b_set_aside(*, c2b: C2BPayment, user: User, note: str, request=None) -> C2BPayment:
    """A manager marks an incoming payment as belonging to no sale (paid twice and reversed, a deposit…)."""
    if not user.has_perm(Perm.MANAGE_MPESA):
        raise PaymentError("Only a manager can set an M-Pesa payment aside.")
    note = (note or "").strip()
    if not note:
        raise PaymentError("Say why this payment belongs to no sale.", field="note")
    row = C2BPayment.objects.select_for_update().get(pk=c2b.pk)
    if row.status != C2BStatus.UNMATCHED:
        raise PaymentConflictError("This M-Pesa payment is already matched.")
    row.status = C2BStatus.IGNORED
    row.note = note[:255]
    row.matched_by = user
    row.matched_at = timezone.now()
    row.save()
    audit_record(action=AuditAction.MPESA_SET_ASIDE, user=user, instance=row, reason=note, request=request)
    return row


# ---------------------------------------------------------------------------- manager decisions
def mpesa_mismatch_resolve(*, stk: StkRequest, user: User, accept: bool, note: str = "", request=None) -> StkRequest:
    """Accept what M-Pesa actually received (the payment becomes that amount) or reject it (the customer
    gets a reversal on the M-Pesa portal; the payment stays failed). Audited."""
    if not user.has_perm(Perm.MANAGE_MPESA):
        raise PaymentError("Only a manager can decide on a flagged M-Pesa payment.")
    completed = None
    with transaction.atomic():
        sale = Sale.objects.select_for_update().get(pk=stk.sale_id)
        stk = StkRequest.objects.select_for_update().get(pk=stk.pk)
        if stk.status != StkStatus.MISMATCH or stk.resolved_at:
            raise PaymentConflictError("This M-Pesa payment was already decided.")
        if not user.has_perm(Perm.ALL_BRANCHES) and stk.branch_id != user.branch_id:
            raise PaymentError("This payment belongs to another branch.")
        payment = Payment.objects.select_for_update().get(pk=stk.payment_id)
        received = stk.paid_amount if stk.paid_amount is not None else stk.amount
        before = {"status": stk.status, "payment_status": payment.status, "amount": payment.amount}
        if accept:
            if sale.status != SaleStatus.OPEN:
                raise PaymentConflictError(
                    f"Sale {sale} is {sale.get_status_display().lower()}: "
                    "reject this payment and reverse it for the customer."
                )
            due = sale_amount_due(sale=sale) + (payment.amount if payment.status == PaymentStatus.CONFIRMED else ZERO)
            if received > due:
                raise PaymentError(f"KES {received} is more than the KES {due} left on the sale: reject it instead.")
            if (
                stk.receipt_number
                and Payment.objects.filter(mpesa_receipt=stk.receipt_number).exclude(pk=payment.pk).exists()
            ):
                raise PaymentConflictError(f"Receipt {stk.receipt_number} already pays another sale: reject it.")
            payment.amount = received
            payment.save(update_fields=["amount", "updated_at"])
            _confirm_payment(payment, receipt=stk.receipt_number or None, user=stk.requested_by)
            stk.status = StkStatus.PAID
            stk.message = f"Paid KES {received} (accepted by {user.full_name})."[:255]
        else:
            if payment.status != PaymentStatus.FAILED:
                payment.status = PaymentStatus.FAILED
            if stk.receipt_number and not Payment.objects.filter(mpesa_receipt=stk.receipt_number).exists():
                payment.mpesa_receipt = stk.receipt_number  # the receipt cannot be used for anything else
            payment.save(update_fields=["status", "mpesa_receipt", "updated_at"])
            stk.message = f"Rejected by {user.full_name}: reverse KES {received} to the customer on the M-Pesa portal."[
                :255
            ]
        stk.resolved_by = user
        stk.resolved_at = timezone.now()
        stk.resolution = (("Accepted" if accept else "Rejected") + (f": {note}" if note else ""))[:255]
        stk.save()
        audit_record(
            action=AuditAction.MPESA_MISMATCH_RESOLVED,
            user=user,
            instance=stk,
            reason=stk.resolution,
            before=before,
            after={"status": stk.status, "payment_status": payment.status, "amount": payment.amount},
            branch=stk.branch_id,
            request=request,
        )
        if accept:
            completed = stk
    if completed is not None:
        mpesa_sale_complete_if_paid(stk=completed)
    return StkRequest.objects.get(pk=stk.pk)


def phone_for_display(number: str) -> str:
    e164 = phone_or_none(number)
    return format_phone_local(e164) if e164 else number
