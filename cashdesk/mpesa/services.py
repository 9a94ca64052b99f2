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

import ipaddress
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

import structlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from cashdesk.models import CashSession, Payment, PaymentMethod, PaymentStatus, SessionStatus
from cashdesk.mpesa import tasks
from cashdesk.mpesa.daraja import (
    C2BRejection,
    CallbackShapeError,
    CallbackURLError,
    DarajaClient,
    DarajaError,
    c2b_validation_accepted,
    c2b_validation_rejected,
    callback_url,
    get_config,
    parse_account_balance,
    parse_c2b_confirmation,
    parse_c2b_validation,
    parse_result,
    parse_stk_callback,
    result_message,
    validate_callback_url,
)
from cashdesk.mpesa.daraja import StkStatus as DarajaStatus
from cashdesk.mpesa.daraja.config import BUY_GOODS as BUY_GOODS_TYPE
from cashdesk.mpesa.models import (
    STK_TO_CHECK,
    STK_WAITING,
    C2BPayment,
    C2BStatus,
    InboxKind,
    InboxOutcome,
    MpesaInbox,
    MpesaReconciliation,
    ReconciliationStatus,
    StkRequest,
    StkStatus,
)
from cashdesk.selectors import sale_reference
from cashdesk.services import PaymentConflictError, PaymentError, Tender, sale_checkout, validate_tenders
from core.branches import may_use_branch
from core.db import retry_on_deadlock
from core.errors import DomainError
from core.money import ZERO, money
from core.ops import metrics
from core.ops.client_address import in_networks, valid_ip
from core.ops.logs import bind_log_context
from core.ops.queue import enqueue_on_commit, schedule
from core.phone import format_phone_local, mask_phone, msisdn, phone_or_none
from core.roles import Perm
from pos.customers.models import Customer
from pos.people.audit import AuditAction, audit_record
from pos.people.models import Branch, User
from pos.people.selectors import shop_settings
from pos.sales.models import Sale, SaleStatus
from pos.sales.selectors import sale_amount_due, sale_id_from_pay_reference

log = structlog.get_logger("cashdesk.mpesa")

MAX_STK_AMOUNT = Decimal("250000")
STK_DESCRIPTION = "Shop payment"  # 1–13 characters, shown on the customer's phone


def query_after() -> timedelta:
    """How long to wait for a callback before asking Daraja (STK query) how the push ended."""
    return timedelta(seconds=int(getattr(settings, "MPESA_STK_QUERY_AFTER", 60)))


def give_up_after() -> timedelta:
    """After this long with no answer at all, the request is settled as timed out."""
    return timedelta(seconds=int(getattr(settings, "MPESA_STK_GIVE_UP_AFTER", 300)))


def verification_on() -> bool:
    """Callbacks are confirmed with Daraja before they pay. Only the test suite switches this off
    (`MPESA_VERIFY_CALLBACKS = False`) for tests that are not about verification."""
    return bool(getattr(settings, "MPESA_VERIFY_CALLBACKS", True))


def confirm_wait() -> timedelta:
    """How long the till waits for Daraja to confirm a reported payment (the owner's shop setting)."""
    return timedelta(seconds=int(shop_settings().mpesa_confirm_wait_seconds or 60))


def from_safaricom(address: str | None) -> bool:
    """The owner accepts callbacks by address (off by default) and this one came from Safaricom's
    published networks, judged on the trusted client address (`core.ops.client_address`)."""
    address = valid_ip(address)
    if address is None or not shop_settings().mpesa_accept_safaricom_addresses:
        return False
    return in_networks(address, _safaricom_networks())


def _safaricom_networks() -> tuple:
    return tuple(ipaddress.ip_network(n.strip(), strict=False) for n in settings.MPESA_SAFARICOM_NETWORKS if n.strip())


def enqueue_task(task, *args) -> None:
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
    return user.has_perm(Perm.VIEW_ALL_SALES) and may_use_branch(user, sale.branch_id)


def whole_shillings_due(due: Decimal) -> Decimal:
    return due.quantize(Decimal("1"), rounding=ROUND_FLOOR)


@retry_on_deadlock
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
    others = validate_tenders(list(other_tenders or []))
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

        enqueue_task(tasks.mpesa_send_stk_push, stk.pk, _local_callback_base(request))
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


@retry_on_deadlock
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

    # Paid. Anything odd is flagged for a manager instead of confirming the payment. The sale is read, not
    # locked (the lock order elsewhere is sale → request): a cash checkout is refused while a push waits,
    # so a sale settled another way always goes with a push that is no longer pending (`late`).
    sale = Sale.objects.get(pk=stk.sale_id)
    paid = money(amount) if amount is not None else stk.amount
    same_money = (
        Payment.objects.filter(
            mpesa_receipt=receipt, sale_id=stk.sale_id, status=PaymentStatus.CONFIRMED, amount=paid,
            c2b_payment__isnull=False,
        ).exclude(pk=payment.pk).first()
        if receipt
        else None
    )
    if same_money is not None:
        # The customer's money also reached the till as a C2B payment (same receipt): counted once.
        stk.status = StkStatus.PAID
        stk.message = f"Paid: M-Pesa receipt {receipt} (already counted as a payment to the till)."[:255]
        stk.save()
        if payment.status == PaymentStatus.PENDING:
            payment.status = PaymentStatus.FAILED  # superseded by the C2B payment of the same money
            payment.save(update_fields=["status", "updated_at"])
        return InboxOutcome.MATCHED
    late = payment.status != PaymentStatus.PENDING
    settled = sale.status != SaleStatus.OPEN or paid > sale_amount_due(sale=sale) + (
        payment.amount if payment.status == PaymentStatus.CONFIRMED else ZERO
    )
    if late or settled:
        stk.status = StkStatus.OVERPAID
        why = "after the push was given up" if late else "for a sale already paid"
        stk.message = (
            f"The customer paid KES {paid:,.2f} by M-Pesa {why}: a manager refunds it or keeps it as the customer's "
            "credit."
        )[:255]
        stk.save()
        if payment.status == PaymentStatus.PENDING:
            payment.status = PaymentStatus.FAILED  # never counted for the sale
            payment.save(update_fields=["status", "updated_at"])
        log.warning("stk %s: overpayment of KES %s (%s)", stk.pk, paid, why)
        return InboxOutcome.OVERPAID
    problem = ""
    if amount is not None and money(amount) != stk.amount:
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


def mpesa_inbox_note(*, inbox: MpesaInbox, detail: str) -> MpesaInbox:
    """Close an inbox entry that needs no work (a queue timeout: the sweep asks again)."""
    return _mark(inbox, InboxOutcome.APPLIED, detail)


def mpesa_inbox_store(*, kind: str, raw_body: bytes, remote_addr: str | None = None) -> MpesaInbox:
    """Keep what was posted to us, exactly, before anything else. Malformed bodies are kept too."""
    text = raw_body.decode("utf-8", errors="replace") if isinstance(raw_body, (bytes, bytearray)) else str(raw_body)
    inbox = MpesaInbox(kind=kind, raw_body=text, remote_addr=remote_addr or None)
    try:
        if kind == InboxKind.STK_CALLBACK:
            inbox.checkout_request_id = parse_stk_callback(raw_body).checkout_request_id[:64]
        elif kind == InboxKind.C2B_CONFIRMATION:
            inbox.trans_id = parse_c2b_confirmation(raw_body).trans_id[:20]
        elif kind == InboxKind.C2B_VALIDATION:
            inbox.trans_id = parse_c2b_validation(raw_body).trans_id[:20]
        elif kind in (InboxKind.STATUS_RESULT, InboxKind.BALANCE_RESULT):
            inbox.trans_id = parse_result(raw_body).transaction_id[:20]
        # RESULT_TIMEOUT: kept as it came
    except CallbackShapeError as exc:
        inbox.outcome = InboxOutcome.MALFORMED
        inbox.detail = exc.message[:255] if not exc.path else f"{exc.path}: {exc.message}"[:255]
        inbox.processed_at = timezone.now()
    inbox.save()
    return inbox


def _verify_with_query(checkout_request_id: str, *, force: bool = False) -> str | None:
    """Callbacks are unsigned: ask Daraja how the push ended. Returns its ResultCode, or None if unknown."""
    if not force and not verification_on():
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
    by_address = callback.is_success and from_safaricom(inbox.remote_addr)
    verified_code = None
    if callback.is_success and verification_on() and not by_address:
        verified_code = _verify_with_query(callback.checkout_request_id)

    completed_stk = None
    confirm_later = None
    with transaction.atomic():
        inbox = MpesaInbox.objects.select_for_update().get(pk=inbox_id)
        if inbox.processed_at:
            return inbox
        stk = StkRequest.objects.select_for_update().filter(checkout_request_id=callback.checkout_request_id).first()
        if stk is None:
            return _mark(inbox, InboxOutcome.UNKNOWN, "No payment request has this CheckoutRequestID; nothing changed.")
        bind_log_context(sale_id=stk.sale_id, payment_id=stk.payment_id, stk_request_id=stk.pk)
        if stk.merchant_request_id and callback.merchant_request_id != stk.merchant_request_id:
            log.warning("stk %s: callback with another MerchantRequestID", stk.pk)
            return _mark(
                inbox, InboxOutcome.REJECTED, "The MerchantRequestID is not the one M-Pesa gave for this push; ignored."
            )
        if stk.answered_by in ("callback", "query"):
            late_success = callback.is_success and stk.answered_by == "query" and stk.status != StkStatus.PAID
            if stk.answered_by == "query" and callback.is_success and not stk.receipt_number and not late_success:
                return _complete_query_settled(inbox, stk, callback)
            if not late_success:
                return _mark(
                    inbox,
                    InboxOutcome.DUPLICATE,
                    f"Already settled ({stk.get_status_display().lower()}); repeat ignored.",
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
        if callback.is_success and verification_on() and not by_address and verified_code != "0":
            # Daraja could not confirm it yet: "received, confirming"; nothing is paid on the callback alone.
            _hold_for_confirmation(stk, callback, remote_addr=inbox.remote_addr)
            confirm_later = stk.pk
            _mark(inbox, InboxOutcome.CONFIRMING, "Received; confirming with M-Pesa before it pays the sale.")
        else:
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
            _mark(inbox, outcome, f"{stk.get_status_display()}: {stk.message}")
            if stk.status == StkStatus.PAID:
                completed_stk = stk
    if confirm_later is not None:
        schedule(tasks.mpesa_confirm_stk, args=(confirm_later,), delay=5)
    if completed_stk is not None:
        mpesa_sale_complete_if_paid(stk=completed_stk)
    return inbox


def _hold_for_confirmation(stk: StkRequest, callback, *, remote_addr: str | None) -> None:
    """Keep what the callback reported on the request until Daraja confirms it (caller holds the lock)."""
    stk.status = StkStatus.CONFIRMING
    stk.result_code = str(callback.result_code)[:20]
    stk.result_desc = (callback.result_desc or "")[:255]
    stk.receipt_number = (callback.receipt_number or "")[:20]
    stk.paid_amount = money(callback.amount) if callback.amount is not None else None
    stk.paid_phone = str(callback.phone or "")[:16]
    stk.transaction_date = callback.transaction_date
    stk.answered_at = timezone.now()
    stk.answered_by = "callback"
    stk.callback_from = valid_ip(remote_addr)
    stk.confirm_by = timezone.now() + confirm_wait()
    stk.message = "Received, confirming with M-Pesa: the sale completes once Safaricom confirms it."
    stk.save()


def mpesa_stk_confirm(*, stk_request_id: int) -> StkRequest:
    """A payment reported by a callback and not yet confirmed: ask Daraja again (STK query).

    Confirmed → it pays (or is flagged like any payment); Daraja says it failed → the callback was
    wrong and nothing is paid; still unknown after the owner's wait → "M-Pesa to check" for a manager.
    """
    stk = StkRequest.objects.get(pk=stk_request_id)
    if stk.status != StkStatus.CONFIRMING:
        return stk
    code = _verify_with_query(stk.checkout_request_id, force=True)
    paid = False
    retry = False
    with transaction.atomic():
        stk = StkRequest.objects.select_for_update().get(pk=stk_request_id)
        if stk.status != StkStatus.CONFIRMING:
            return stk
        stk.query_count += 1
        stk.last_queried_at = timezone.now()
        if code == "0" or from_safaricom(stk.callback_from):
            _settle(stk, result_code="0", result_desc=stk.result_desc, by="callback", amount=stk.paid_amount,
                    receipt=stk.receipt_number or None, phone=stk.paid_phone or None, when=stk.transaction_date)
            paid = stk.status == StkStatus.PAID
        elif code is not None:
            log.warning("stk %s: the callback said paid, M-Pesa says %s", stk.pk, code)
            _settle(stk, result_code=code, result_desc=f"M-Pesa did not confirm the payment ({code}).", by="query")
        elif stk.confirm_by and timezone.now() >= stk.confirm_by:
            stk.status = StkStatus.UNVERIFIED
            stk.message = (
                f"M-Pesa reported KES {stk.paid_amount or stk.amount} paid but has not confirmed it: a manager "
                "checks it on the M-Pesa portal."
            )[:255]
            stk.save()
        else:
            stk.save(update_fields=["query_count", "last_queried_at", "updated_at"])
            retry = True
    if retry:
        schedule(tasks.mpesa_confirm_stk, args=(stk.pk,), delay=10)
    if paid:
        mpesa_sale_complete_if_paid(stk=stk)
    return StkRequest.objects.get(pk=stk.pk)


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


def mpesa_confirming_requests(*, now=None) -> list[int]:
    """Callbacks still waiting for Daraja's confirmation that were not asked about in the last 10 s."""
    now = now or timezone.now()
    return list(
        StkRequest.objects.filter(status=StkStatus.CONFIRMING)
        .filter(Q(last_queried_at__isnull=True) | Q(last_queried_at__lte=now - timedelta(seconds=10)))
        .values_list("pk", flat=True)[:200]
    )


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
            kind__in=(InboxKind.STK_CALLBACK, InboxKind.C2B_CONFIRMATION, InboxKind.STATUS_RESULT),
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
    """The pay reference the push and the pay panel tell the customer to type (`123-KQTX`) → that open
    sale. Anything else (a guessed or sequential number, a typo) matches nothing: a cashier matches it."""
    sale_id = sale_id_from_pay_reference(reference)
    if sale_id is None:
        return None
    return Sale.objects.filter(pk=sale_id, status=SaleStatus.OPEN).first()


def mpesa_c2b_validate(*, inbox: MpesaInbox) -> dict:
    """Answer a C2B validation: accept every well-formed payment (the customer's money is never refused
    for a typo in the account number: a cashier matches it), reject a malformed request."""

    if inbox.outcome == InboxOutcome.MALFORMED:
        return c2b_validation_rejected(C2BRejection.OTHER_ERROR)
    _mark(inbox, InboxOutcome.ACCEPTED, "")
    return c2b_validation_accepted()


def mpesa_c2b_confirmation_apply(*, inbox_id: int) -> MpesaInbox:
    """Record a C2B payment once per TransID. The same money already reported by STK is linked to it;
    anything else is confirmed with Daraja (Transaction Status, or Safaricom's address when the owner
    chose that) before it is matched: to a sale whose account reference the customer typed, else it waits
    on the unmatched list."""
    inbox = MpesaInbox.objects.get(pk=inbox_id)
    if inbox.processed_at:
        return inbox
    try:
        c2b = parse_c2b_confirmation(inbox.raw_body.encode())
    except CallbackShapeError as exc:
        return _mark(inbox, InboxOutcome.MALFORMED, exc.message)
    to_complete = None
    verify = None
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
        if verification_on() and not from_safaricom(inbox.remote_addr):
            row.status = C2BStatus.CONFIRMING
            row.confirm_by = timezone.now() + confirm_wait()
            row.save(update_fields=["status", "confirm_by", "updated_at"])
            _mark(inbox, InboxOutcome.CONFIRMING, "Received; confirming with M-Pesa (Transaction Status).")
            verify = row.pk
        else:
            if from_safaricom(inbox.remote_addr):
                row.verified_by = "address"
                row.save(update_fields=["verified_by", "updated_at"])
            to_complete = _c2b_match(row, inbox)
    if verify is not None:
        enqueue_task(tasks.mpesa_c2b_verify, verify)
    if to_complete is not None:
        _complete_after_attach(*to_complete)
    return inbox


def _c2b_match(row: C2BPayment, inbox: MpesaInbox | None):
    """Match a confirmed C2B payment (caller holds the transaction). Returns (sale, payment) to complete."""
    def mark(outcome, detail):
        if inbox is not None:
            _mark(inbox, outcome, detail)

    sale = open_sale_for_reference(row.bill_ref_number)
    if sale is None:
        mark(InboxOutcome.UNMATCHED, "Waiting for a cashier to match it to a sale.")
        return None
    sale = Sale.objects.select_for_update().get(pk=sale.pk)
    # An STK push the query confirmed without a receipt: this is the same money.
    stk = (
        StkRequest.objects.select_for_update()
        .filter(sale=sale, status=StkStatus.PAID, receipt_number="", amount=row.amount)
        .first()
    )
    if stk is not None:
        stk.receipt_number = row.trans_id
        stk.save(update_fields=["receipt_number", "updated_at"])
        payment = Payment.objects.select_for_update().get(pk=stk.payment_id)
        payment.mpesa_receipt = row.trans_id
        payment.reference = row.trans_id
        payment.save(update_fields=["mpesa_receipt", "reference", "updated_at"])
        row.status, row.payment, row.matched_at = C2BStatus.STK, payment, timezone.now()
        row.save(update_fields=["status", "payment", "matched_at", "updated_at"])
        mark(InboxOutcome.MATCHED, f"Receipt of the STK payment on {sale}.")
        return None
    session = CashSession.objects.filter(open_for_cashier=sale.cashier_id, branch_id=sale.branch_id).first()
    if session is not None and row.amount <= sale_amount_due(sale=sale):
        payment = _attach(row, sale=sale, session=session, user=None)
        mark(InboxOutcome.MATCHED, f"Paid {sale_reference(sale)} (account number typed by the customer).")
        return sale, payment
    mark(InboxOutcome.UNMATCHED, f"Account {row.bill_ref_number}: the sale cannot take KES {row.amount}.")
    return None


def _status_urls(request=None) -> tuple[str, str]:
    config = get_config()
    result = reverse("cashdesk:mpesa_status_result", args=[config.callback_secret])
    timeout = reverse("cashdesk:mpesa_result_timeout", args=[config.callback_secret])
    return callback_url(result, config=config), callback_url(timeout, config=config)


def mpesa_c2b_verify(*, c2b_id: int) -> C2BPayment:
    """Ask Daraja about a C2B payment (Transaction Status); its answer comes to our result URL."""
    row = C2BPayment.objects.get(pk=c2b_id)
    if row.status != C2BStatus.CONFIRMING:
        return row
    if row.confirm_by and timezone.now() >= row.confirm_by:
        return _c2b_unverified(row.pk, "M-Pesa has not confirmed it in time.")
    try:
        result_url, timeout_url = _status_urls()
        with DarajaClient() as client:
            answer = client.transaction_status(row.trans_id, result_url=result_url, timeout_url=timeout_url)
    except DarajaError as exc:
        log.warning("c2b %s: transaction status not sent: %s", row.pk, exc.code)
        return row
    ids = answer.conversation_id or answer.originator_conversation_id
    C2BPayment.objects.filter(pk=row.pk).update(verify_conversation_id=ids[:64], updated_at=timezone.now())
    return C2BPayment.objects.get(pk=row.pk)


def _c2b_unverified(c2b_id: int, why: str) -> C2BPayment:
    with transaction.atomic():
        row = C2BPayment.objects.select_for_update().get(pk=c2b_id)
        if row.status == C2BStatus.CONFIRMING:
            row.status = C2BStatus.UNVERIFIED
            row.note = f"{why} A manager checks it on the M-Pesa portal."[:255]
            row.save(update_fields=["status", "note", "updated_at"])
    return row


def mpesa_status_result_apply(*, inbox_id: int) -> MpesaInbox:
    """Daraja's Transaction Status answer: a C2B payment it confirms (same receipt, amount, completed) is
    matched; one it does not know goes to the managers' list. Nothing else pays on it."""
    inbox = MpesaInbox.objects.get(pk=inbox_id)
    if inbox.processed_at:
        return inbox
    try:
        result = parse_result(inbox.raw_body.encode())
    except CallbackShapeError as exc:
        return _mark(inbox, InboxOutcome.MALFORMED, exc.message)
    ids = [i for i in (result.conversation_id, result.originator_conversation_id) if i]
    to_complete = None
    with transaction.atomic():
        inbox = MpesaInbox.objects.select_for_update().get(pk=inbox_id)
        if inbox.processed_at:
            return inbox
        row = C2BPayment.objects.select_for_update().filter(verify_conversation_id__in=ids).first() if ids else None
        if row is None:
            if MpesaReconciliation.objects.filter(balance_conversation_id__in=ids).exists() and ids:
                return _balance_result_apply(inbox, result)
            return _mark(inbox, InboxOutcome.UNKNOWN, "No payment is being checked under this ConversationID.")
        if row.status != C2BStatus.CONFIRMING:
            return _mark(inbox, InboxOutcome.DUPLICATE, "This payment was already checked; repeat ignored.")
        parameters = result.parameters
        try:
            amount = money(str(parameters.get("Amount", "")))
        except ValueError:
            amount = None
        receipt = str(parameters.get("ReceiptNo") or result.transaction_id or "").upper()
        confirmed = (
            result.is_success
            and receipt == row.trans_id
            and amount == row.amount
            and str(parameters.get("TransactionStatus", "Completed")).lower() == "completed"
        )
        if not confirmed:
            row.status = C2BStatus.UNVERIFIED
            row.note = f"M-Pesa did not confirm it ({result.result_code}: {result.result_desc})."[:255]
            row.save(update_fields=["status", "note", "updated_at"])
            return _mark(inbox, InboxOutcome.REJECTED, f"Not confirmed: {row.trans_id} ({result.result_code}).")
        row.status = C2BStatus.UNMATCHED
        row.verified_by = "transaction status"
        row.save(update_fields=["status", "verified_by", "updated_at"])
        to_complete = _c2b_match(row, row.inbox)
        _mark(inbox, InboxOutcome.APPLIED, f"{row.trans_id} confirmed by M-Pesa.")
    if to_complete is not None:
        _complete_after_attach(*to_complete)
    return inbox


def mpesa_c2b_confirming(*, now=None) -> list[int]:
    """C2B payments still being confirmed: asked again (or given up) by the periodic sweep."""
    now = now or timezone.now()
    return list(
        C2BPayment.objects.filter(status=C2BStatus.CONFIRMING, updated_at__lte=now - timedelta(seconds=20))
        .values_list("pk", flat=True)[:200]
    )


@transaction.atomic
def mpesa_c2b_confirm_by_manager(*, c2b: C2BPayment, user: User, note: str, request=None) -> C2BPayment:
    """A manager found an unconfirmed incoming payment on the M-Pesa portal: it may now be matched."""
    if not user.has_perm(Perm.MANAGE_MPESA):
        raise PaymentError("Only a manager can confirm an M-Pesa payment.")
    note = (note or "").strip()
    if not note:
        raise PaymentError("Say how you checked it (e.g. seen on the M-Pesa portal).", field="note")
    row = C2BPayment.objects.select_for_update().get(pk=c2b.pk)
    if row.status != C2BStatus.UNVERIFIED:
        raise PaymentConflictError("This M-Pesa payment was already decided.")
    row.status = C2BStatus.UNMATCHED
    row.verified_by = "manager"
    row.note = note[:255]
    row.save(update_fields=["status", "verified_by", "note", "updated_at"])
    audit_record(action=AuditAction.MPESA_C2B_CONFIRMED, user=user, instance=row, reason=note, request=request)
    match = _c2b_match(row, None)
    if match is not None:
        transaction.on_commit(lambda: _complete_after_attach(*match))
    return row


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


@retry_on_deadlock
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
        if row.branch_id and row.branch_id != sale.branch_id and not may_use_branch(user, row.branch_id):
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
    if row.status not in (C2BStatus.UNMATCHED, C2BStatus.UNVERIFIED):
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
        if not may_use_branch(user, stk.branch_id):
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


def mpesa_unverified_resolve(
    *, stk: StkRequest, user: User, confirmed: bool, note: str = "", request=None
) -> StkRequest:
    """A payment M-Pesa reported but Daraja never confirmed: the manager checked the M-Pesa portal.
    Confirmed → it is applied like any paid callback (it may still be flagged: overpaid, wrong amount);
    not found → nothing is paid. Audited."""
    if not user.has_perm(Perm.MANAGE_MPESA):
        raise PaymentError("Only a manager can decide on a flagged M-Pesa payment.")
    note = (note or "").strip()
    paid = False
    with transaction.atomic():
        stk = StkRequest.objects.select_for_update().get(pk=stk.pk)
        if stk.status != StkStatus.UNVERIFIED:
            raise PaymentConflictError("This M-Pesa payment was already decided.")
        if not may_use_branch(user, stk.branch_id):
            raise PaymentError("This payment belongs to another branch.")
        before = {"status": stk.status}
        if confirmed:
            _settle(stk, result_code="0", result_desc=stk.result_desc, by="manager", amount=stk.paid_amount,
                    receipt=stk.receipt_number or None, phone=stk.paid_phone or None, when=stk.transaction_date)
            paid = stk.status == StkStatus.PAID
        else:
            _settle(stk, result_code="MANAGER", result_desc="Not found on the M-Pesa portal.", by="manager")
            stk.message = f"Not paid: {user.full_name} did not find this payment on the M-Pesa portal."[:255]
        if stk.status not in STK_TO_CHECK:
            stk.resolved_by = user
            stk.resolved_at = timezone.now()
        stk.resolution = (("Confirmed on the M-Pesa portal" if confirmed else "Not on the M-Pesa portal")
                          + (f": {note}" if note else ""))[:255]
        stk.save()
        audit_record(
            action=AuditAction.MPESA_MISMATCH_RESOLVED,
            user=user,
            instance=stk,
            reason=stk.resolution,
            before=before,
            after={"status": stk.status},
            branch=stk.branch_id,
            request=request,
        )
    if paid:
        mpesa_sale_complete_if_paid(stk=stk)
    return StkRequest.objects.get(pk=stk.pk)


REFUND, KEEP_AS_CREDIT = "refund", "credit"


def mpesa_overpayment_resolve(
    *, stk: StkRequest, user: User, action: str, customer: Customer | None = None, note: str = "", request=None
) -> StkRequest:
    """M-Pesa money that paid nothing (a late success, a sale already paid): the manager reverses it to the
    customer on the M-Pesa portal (`refund`), or keeps it as the customer's credit on their account
    (`credit`: what they owe drops by the amount). Audited; the receipt can never pay anything else."""
    if not user.has_perm(Perm.MANAGE_MPESA):
        raise PaymentError("Only a manager can decide on an M-Pesa overpayment.")
    if action not in (REFUND, KEEP_AS_CREDIT):
        raise PaymentError("Choose: refund it, or keep it as the customer's credit.", field="decision")
    note = (note or "").strip()
    with transaction.atomic():
        stk = StkRequest.objects.select_for_update().get(pk=stk.pk)
        if stk.status != StkStatus.OVERPAID or stk.resolved_at:
            raise PaymentConflictError("This M-Pesa overpayment was already decided.")
        if not may_use_branch(user, stk.branch_id):
            raise PaymentError("This payment belongs to another branch.")
        amount = stk.paid_amount if stk.paid_amount is not None else stk.amount
        payment = Payment.objects.select_for_update().get(pk=stk.payment_id)
        if stk.receipt_number and not Payment.objects.filter(mpesa_receipt=stk.receipt_number).exists():
            payment.mpesa_receipt = stk.receipt_number  # the receipt can never pay anything else
            payment.save(update_fields=["mpesa_receipt", "updated_at"])
        after = {"action": action, "amount": amount, "receipt": stk.receipt_number}
        if action == KEEP_AS_CREDIT:
            customer = customer or (stk.sale.customer if stk.sale.customer_id else None)
            if customer is None:
                raise PaymentError("Choose the customer whose account keeps the credit.", field="customer")
            customer = Customer.objects.select_for_update().get(pk=customer.pk)
            Customer.objects.filter(pk=customer.pk).update(balance=F("balance") - amount, updated_at=timezone.now())
            after.update(customer=customer.pk, balance_before=customer.balance, balance_after=customer.balance - amount)
            stk.resolution = f"Kept as credit for {customer.name} (KES {amount})"
            stk.message = f"KES {amount} kept as {customer.name}'s credit by {user.full_name}."
        else:
            stk.resolution = f"Refunded: reverse KES {amount} to the customer on the M-Pesa portal"
            stk.message = (
                f"{user.full_name}: reverse KES {amount} ({stk.receipt_number}) to the customer on the portal."
            )
        if note:
            stk.resolution = f"{stk.resolution}: {note}"
        stk.resolution, stk.message = stk.resolution[:255], stk.message[:255]
        stk.resolved_by = user
        stk.resolved_at = timezone.now()
        stk.save()
        audit_record(
            action=AuditAction.MPESA_OVERPAYMENT_RESOLVED,
            user=user,
            instance=stk,
            reason=stk.resolution,
            before={"status": stk.status, "payment_status": payment.status},
            after=after,
            branch=stk.branch_id,
            request=request,
        )
    return StkRequest.objects.get(pk=stk.pk)


# ---------------------------------------------------------------------------- the daily reconciliation
def _day_bounds(day) -> tuple:
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    return start, start + timedelta(days=1)


def mpesa_reconcile(*, day, now=None) -> MpesaReconciliation:
    """One day's M-Pesa against the shop's records: every receipt on Safaricom's statement (the Pull API
    where configured, else what Safaricom's callbacks reported) must be a confirmed payment, a customer
    receipt or a decided overpayment, and every confirmed M-Pesa payment must be on the statement. The
    differences are listed for a manager; the account balance is asked for too (its answer comes later)."""
    start, end = _day_bounds(day)
    config = get_config()
    statement: dict[str, Decimal] = {}
    source = "callbacks"
    detail = ""
    if config.pull_enabled:
        try:
            with DarajaClient(config) as client:
                for line in client.pull_transactions(start=start, end=end):
                    statement[line.transaction_id] = money(line.amount)
            source = "pull"
        except DarajaError as exc:
            detail = f"Safaricom's statement could not be fetched ({exc.code}); compared with the callbacks."
    if source == "callbacks":
        for trans_id, amount in C2BPayment.objects.filter(trans_time__gte=start, trans_time__lt=end).values_list(
            "trans_id", "amount"
        ):
            statement[trans_id] = amount
        for receipt, amount, asked in StkRequest.objects.filter(
            answered_at__gte=start, answered_at__lt=end, result_code="0"
        ).exclude(receipt_number="").values_list("receipt_number", "paid_amount", "amount"):
            statement.setdefault(receipt, amount if amount is not None else asked)

    recorded = {
        receipt: amount
        for receipt, amount in Payment.objects.filter(
            method=PaymentMethod.MPESA, status=PaymentStatus.CONFIRMED, confirmed_at__gte=start, confirmed_at__lt=end
        ).exclude(mpesa_receipt__isnull=True).exclude(mpesa_receipt="").values_list("mpesa_receipt", "amount")
    }
    accounted = set(recorded)
    accounted |= set(
        C2BPayment.objects.filter(trans_id__in=list(statement))
        .filter(status__in=[C2BStatus.RECEIPT, C2BStatus.IGNORED, C2BStatus.STK, C2BStatus.MATCHED])
        .values_list("trans_id", flat=True)
    )
    accounted |= set(
        StkRequest.objects.filter(receipt_number__in=list(statement), resolved_at__isnull=False).values_list(
            "receipt_number", flat=True
        )
    )
    receipts = list(set(statement) | set(recorded))
    branch_of: dict[str, int | None] = {}
    for receipt, branch_id in Payment.objects.filter(mpesa_receipt__in=receipts).values_list(
        "mpesa_receipt", "sale__branch_id"
    ):
        branch_of[receipt] = branch_id
    for receipt, branch_id in C2BPayment.objects.filter(trans_id__in=receipts).values_list("trans_id", "branch_id"):
        branch_of.setdefault(receipt, branch_id)
    for receipt, branch_id in StkRequest.objects.filter(receipt_number__in=receipts).values_list(
        "receipt_number", "branch_id"
    ):
        branch_of.setdefault(receipt, branch_id)
    differences = []
    for receipt, amount in sorted(statement.items()):
        if receipt not in accounted:
            differences.append({"receipt": receipt, "amount": amount,
                                "problem": "On M-Pesa's statement, but no sale, receipt or manager's decision has it."})
        elif receipt in recorded and recorded[receipt] != amount:
            differences.append({"receipt": receipt, "amount": amount,
                                "problem": f"M-Pesa says KES {amount}; the shop recorded KES {recorded[receipt]}."})
    for receipt, amount in sorted(recorded.items()):
        if receipt not in statement:
            differences.append({"receipt": receipt, "amount": amount,
                                "problem": "Recorded as paid by M-Pesa, but not on M-Pesa's statement."})
    for difference in differences:
        difference["branch"] = branch_of.get(difference["receipt"])
    row, _ = MpesaReconciliation.objects.update_or_create(
        day=day,
        defaults={
            "status": ReconciliationStatus.DIFFERENCES if differences else ReconciliationStatus.CLEAN,
            "source": source,
            "statement_count": len(statement),
            "statement_total": sum(statement.values(), ZERO),
            "recorded_count": len(recorded),
            "recorded_total": sum(recorded.values(), ZERO),
            "differences": differences,
            "detail": detail[:255],
        },
    )
    try:
        result_url, timeout_url = _status_urls()
        with DarajaClient(config) as client:
            answer = client.account_balance(result_url=result_url, timeout_url=timeout_url)
        row.balance_conversation_id = (answer.conversation_id or answer.originator_conversation_id)[:64]
        row.save(update_fields=["balance_conversation_id", "updated_at"])
    except (DarajaError, CallbackURLError) as exc:
        log.warning("reconciliation %s: account balance not asked: %s", day, getattr(exc, "code", exc))
    return row


def _balance_result_apply(inbox: MpesaInbox, result) -> MpesaInbox:
    row = MpesaReconciliation.objects.select_for_update().filter(
        balance_conversation_id__in=[result.conversation_id, result.originator_conversation_id]
    ).first()
    balances = parse_account_balance(result.parameters.get("AccountBalance"))
    working = balances.get("Working Account")
    if row is None or not result.is_success or working is None:
        return _mark(inbox, InboxOutcome.REJECTED, f"Account balance not usable ({result.result_code}).")
    row.balance = money(working)
    row.balance_at = timezone.now()
    row.save(update_fields=["balance", "balance_at", "updated_at"])
    return _mark(inbox, InboxOutcome.APPLIED, f"Balance for {row.day}: KES {row.balance}.")


def phone_for_display(number: str) -> str:
    e164 = phone_or_none(number)
    return format_phone_local(e164) if e164 else number
