"""M-Pesa views: the pay panel's M-Pesa block (start a push, poll its status, stop, type a code), the
callbacks Safaricom posts (secret path, answered at once), unmatched incoming payments and flagged
mismatches for managers.
"""

from decimal import Decimal

import structlog
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseNotAllowed, HttpResponseNotFound, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event
from django_tables2 import RequestConfig

from cashdesk.models import PaymentMethod, PaymentStatus
from cashdesk.mpesa import services as mpesa
from cashdesk.mpesa import tasks
from cashdesk.mpesa.daraja import (
    c2b_confirmation_received,
    callback_secret_matches,
    callback_too_large,
    get_config,
    stk_callback_accepted,
)
from cashdesk.mpesa.forms import (
    C2BAttachForm,
    C2BConfirmForm,
    MismatchResolveForm,
    OverpaymentResolveForm,
    SetAsideForm,
    UnverifiedResolveForm,
)
from cashdesk.mpesa.models import STK_TO_CHECK, InboxKind, InboxOutcome, MpesaReconciliation, StkRequest, StkStatus
from cashdesk.mpesa.selectors import c2b_unmatched, c2b_unverified, stk_requests_flagged
from cashdesk.mpesa.tables import C2BPaymentTable
from cashdesk.selectors import sale_reference
from cashdesk.services import Tender
from core.branches import for_viewer, may_use_branch
from core.decimal_input import DecimalInputError, parse_decimal
from core.errors import DomainError
from core.forms import add_domain_error
from core.htmx import render_partial
from core.ops.client_address import client_address
from core.permissions import require_perm
from core.phone import format_phone_local, phone_or_none
from core.roles import Perm
from pos.customers.models import Customer
from pos.sales.models import Sale, SaleStatus
from pos.sales.receipts import receipt_grant
from pos.sales.selectors import for_sales_viewer, sale_amount_due, sale_id_from_pay_reference, sales_visible_to

log = structlog.get_logger("cashdesk.mpesa")
MAX_BODY = settings.MPESA_CALLBACK_MAX_BYTES  # Safaricom's bodies are a few hundred bytes

# The simulator's customers (docs/mpesa.md): shown on the panel in simulator mode only.
SIMULATOR_PHONES = [
    ("0708 374 149", "pays"),
    ("0700 000 001", "cancels"),
    ("0700 000 002", "never answers"),
    ("0700 000 003", "not enough money"),
    ("0700 000 006", "pays 1 shilling less"),
]


# ---------------------------------------------------------------------------- the callbacks
def _wrong_secret(request, kind: str):
    # Never log the path itself: a near-miss of the secret is still half a secret.
    log.warning(
        "M-Pesa %s with a wrong secret from %s (path length %s): answered 404",
        InboxKind(kind).label,
        client_address(request),
        len(request.path),
    )
    return _unlogged(HttpResponseNotFound("Not found", content_type="text/plain"))


def _unlogged(response):
    # Django's request logger would write the path (with the secret, or a near miss of it) to the log.
    response._has_been_logged = True
    return response


def _too_large(request, kind: str, size: int):
    log.warning("M-Pesa %s of %s bytes refused (limit %s)", InboxKind(kind).label, size, MAX_BODY)
    body = callback_too_large(getattr(request, "request_id", "") or "", MAX_BODY)
    return _unlogged(JsonResponse(body, status=413))


def _callback(request, secret: str, kind: str):
    if not callback_secret_matches(secret):
        return None, _wrong_secret(request, kind)
    if request.method != "POST":
        return None, _unlogged(HttpResponseNotAllowed(["POST"]))
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY:  # refused unread
        return None, _too_large(request, kind, declared)
    body = request.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return None, _too_large(request, kind, len(body))
    inbox = mpesa.mpesa_inbox_store(kind=kind, raw_body=body, remote_addr=client_address(request))
    return inbox, None


@csrf_exempt
def stk_callback(request, secret: str):
    """Daraja's STK result: stored raw, applied by a Huey task, answered at once."""
    inbox, refused = _callback(request, secret, InboxKind.STK_CALLBACK)
    if refused is not None:
        return refused
    if inbox.outcome != InboxOutcome.MALFORMED:

        mpesa.enqueue_task(tasks.mpesa_apply_stk_callback, inbox.pk)
    else:
        log.warning("M-Pesa STK callback #%s is malformed (%s): stored, nothing changed", inbox.pk, inbox.detail)
    return JsonResponse(stk_callback_accepted())


@csrf_exempt
def c2b_validation(request, secret: str):
    """Safaricom asks whether to accept a till/paybill payment (answer within ~8 s)."""
    inbox, refused = _callback(request, secret, InboxKind.C2B_VALIDATION)
    if refused is not None:
        return refused
    return JsonResponse(mpesa.mpesa_c2b_validate(inbox=inbox))


@csrf_exempt
def c2b_confirmation(request, secret: str):
    """Safaricom tells us a till/paybill payment went through: stored, matched by a Huey task."""
    inbox, refused = _callback(request, secret, InboxKind.C2B_CONFIRMATION)
    if refused is not None:
        return refused
    if inbox.outcome != InboxOutcome.MALFORMED:

        mpesa.enqueue_task(tasks.mpesa_apply_c2b_confirmation, inbox.pk)
    return JsonResponse(c2b_confirmation_received())


@csrf_exempt
def status_result(request, secret: str):
    """Daraja's answer to a Transaction Status (or Account Balance) request: stored, applied by a task."""
    inbox, refused = _callback(request, secret, InboxKind.STATUS_RESULT)
    if refused is not None:
        return refused
    if inbox.outcome != InboxOutcome.MALFORMED:
        mpesa.enqueue_task(tasks.mpesa_apply_status_result, inbox.pk)
    return JsonResponse(stk_callback_accepted())


@csrf_exempt
def result_timeout(request, secret: str):
    """Daraja's queue timed out on one of our requests: kept for the record; the sweep asks again."""
    inbox, refused = _callback(request, secret, InboxKind.RESULT_TIMEOUT)
    if refused is not None:
        return refused
    if not inbox.processed_at:
        mpesa.mpesa_inbox_note(inbox=inbox, detail="Queue timeout noted; the request is asked again.")
    return JsonResponse(stk_callback_accepted())


# ---------------------------------------------------------------------------- the pay panel
def _visible_sale(request, sale_id: int) -> Sale:
    """The cashier's own sale, or any sale of the branch for someone who sees all sales."""
    return get_object_or_404(sales_visible_to(user=request.user), pk=sale_id)


def _visible_stk(request, pk: int) -> StkRequest:
    qs = StkRequest.objects.select_related("sale", "branch", "payment")
    return get_object_or_404(for_sales_viewer(qs, request.user, sale="sale"), pk=pk)


def panel_context(
    *,
    sale: Sale,
    user,
    stk: StkRequest | None = None,
    error: str = "",
    values: dict | None = None,
    in_till: bool = False,
) -> dict:
    """What the M-Pesa block of the pay panel shows (also used by the `mpesa_pay_panel` template tag)."""
    if stk is None:  # a fresh panel shows a push still waiting, or the last one that paid / was flagged
        stk = StkRequest.objects.filter(sale=sale).order_by("-created_at", "-id").first()
        if stk is not None and not (stk.is_pending or stk.status == StkStatus.PAID or stk.status in STK_TO_CHECK):
            stk = None
    due = sale_amount_due(sale=sale)
    config = get_config()
    default_phone = ""
    if sale.customer_id and sale.customer and sale.customer.phone_number:
        default_phone = format_phone_local(sale.customer.phone_number)
    values = values or {}
    return {
        "sale": sale,
        "stk": stk,
        "due": due,
        "due_whole": mpesa.whole_shillings_due(due),
        "reference": sale_reference(sale),
        "branch": sale.branch,
        "error": error,
        "phone_value": values.get("mpesa_phone", default_phone),
        "amount_value": values.get("mpesa_amount", ""),
        "code_value": values.get("mpesa_code", ""),
        "simulator_phones": SIMULATOR_PHONES if config.is_simulator else [],
        "in_till": in_till,
    }


def _in_till(request) -> bool:
    """The block sits in the till's pay panel (it sends in_till=1 with every request)."""
    return (request.POST.get("in_till") or request.GET.get("in_till")) == "1"


def _panel(request, sale: Sale, *, stk=None, error: str = "", status: int = 200):
    context = panel_context(
        sale=sale, user=request.user, stk=stk, error=error, values=request.POST or None, in_till=_in_till(request)
    )
    return render_partial(request, "cashdesk/mpesa_panel.html", "panel", context, status=status)


def _money_or_none(value: str) -> Decimal | None:
    try:
        return parse_decimal((value or "").replace(",", ""), allow_blank=True)
    except DecimalInputError:
        raise DomainError("Enter amounts as numbers, e.g. 500 or 500.50.", field="amount") from None


def _other_tenders(post) -> list[Tender]:
    """The rest of a split, as typed in the till's pay panel around the M-Pesa block."""
    tenders = []
    for name, method in (
        ("cash", PaymentMethod.CASH),
        ("card", PaymentMethod.CARD),
        ("account", PaymentMethod.CUSTOMER_CREDIT),
        ("loyalty", PaymentMethod.LOYALTY),
    ):
        amount = _money_or_none(post.get(name, ""))
        if amount:
            reference = post.get("card_reference", "") if method == PaymentMethod.CARD else ""
            tenders.append(Tender(method, amount, reference))
    return tenders


@require_perm(Perm.TAKE_PAYMENT)
def mpesa_panel(request, sale_id: int):
    sale = _visible_sale(request, sale_id)
    return _panel(request, sale)


@require_perm(Perm.TAKE_PAYMENT)
@require_POST
def mpesa_stk_start(request, sale_id: int):
    sale = _visible_sale(request, sale_id)
    try:
        stk = mpesa.mpesa_stk_start(
            sale=sale,
            phone=request.POST.get("mpesa_phone", ""),
            amount=_money_or_none(request.POST.get("mpesa_amount", "")),
            other_tenders=_other_tenders(request.POST),
            user=request.user,
            request=request,
        )
    except DomainError as exc:
        return _panel(request, sale, error=exc.message, status=200 if request.htmx else 400)
    stk.refresh_from_db()
    return _status_response(request, stk)


def _announce(response, sale: Sale, amount) -> None:
    """Tell the page (after the panel has settled): `mpesaPaid`, and `saleCompleted` once the sale is done.

    cashdesk.js reloads the till's pay panel on a partial payment (its "still to pay" changes) and
    locks the pay form once the sale is complete.
    """
    complete = sale.status == SaleStatus.COMPLETED
    trigger_client_event(
        response, "mpesaPaid", {"sale": sale.pk, "amount": str(amount), "complete": complete}, after="settle"
    )
    if complete:
        trigger_client_event(response, "saleCompleted", {"sale": sale.pk, "number": sale.number}, after="settle")


def _till_paid(request, sale: Sale):
    """In the till, a sale M-Pesa completed turns the whole pay dialog into "paid" (no reload): the
    response is retargeted from the M-Pesa block to the dialog's content."""
    if sale.cashier_id == request.user.pk:  # the till's own rule: who rang it up may print its receipt
        receipt_grant(request, sale, "original")
    payments = sale.payments.filter(status=PaymentStatus.CONFIRMED).order_by("pk")
    response = render(request, "cashdesk/partials/mpesa_till_paid.html", {"sale": sale, "payments": payments})
    retarget(response, "#till-dialog-content")
    reswap(response, "innerHTML")
    return response


def _status_response(request, stk: StkRequest):
    sale = Sale.objects.select_related("branch", "customer").get(pk=stk.sale_id)
    if stk.status == StkStatus.PAID and sale.status == SaleStatus.OPEN:
        # The callback's completion may have failed or not run yet (another worker): try again; idempotent.
        if mpesa.mpesa_sale_complete_if_paid(stk=stk) is not None:
            sale.refresh_from_db()
        stk.refresh_from_db()
    if request.htmx and _in_till(request) and stk.status == StkStatus.PAID and sale.status == SaleStatus.COMPLETED:
        response = _till_paid(request, sale)
        _announce(response, sale, stk.amount)
        return response
    context = panel_context(sale=sale, user=request.user, stk=stk, in_till=_in_till(request))
    response = render_partial(request, "cashdesk/mpesa_panel.html", "panel", context)
    if request.htmx and stk.status == StkStatus.PAID:
        _announce(response, sale, stk.amount)
    return response


@require_perm(Perm.TAKE_PAYMENT)
def mpesa_status(request, pk: int):
    """Polled by the panel every second while the customer is typing their PIN."""
    return _status_response(request, _visible_stk(request, pk))


@require_perm(Perm.TAKE_PAYMENT)
@require_POST
def mpesa_stop(request, pk: int):
    stk = _visible_stk(request, pk)
    try:
        mpesa.mpesa_stk_stop_waiting(stk=stk, user=request.user, request=request)
    except DomainError as exc:
        return _panel(request, stk.sale, error=exc.message)
    return _panel(request, Sale.objects.get(pk=stk.sale_id))


@require_perm(Perm.TAKE_PAYMENT, Perm.ATTACH_MPESA)
@require_POST
def mpesa_code_attach(request, sale_id: int):
    """The customer paid the till/paybill from their phone and reads out the M-Pesa code."""
    sale = _visible_sale(request, sale_id)
    try:
        payment, sale = mpesa.mpesa_c2b_attach(
            sale=sale, user=request.user, code=request.POST.get("mpesa_code", ""), request=request
        )
    except DomainError as exc:
        return _panel(request, sale, error=exc.message, status=200 if request.htmx else 400)
    if request.htmx and _in_till(request) and sale.status == SaleStatus.COMPLETED:
        response = _till_paid(request, sale)
        _announce(response, sale, payment.amount)
        return response
    context = panel_context(sale=sale, user=request.user, in_till=_in_till(request))
    context["attached"] = payment
    response = render_partial(request, "cashdesk/mpesa_panel.html", "panel", context)
    if request.htmx:
        _announce(response, sale, payment.amount)
    return response


# ---------------------------------------------------------------------------- incoming payments (C2B)
@require_perm(Perm.ATTACH_MPESA)
def c2b_list(request):
    query = request.GET.get("q", "").strip()
    amount = None
    raw_amount = request.GET.get("amount", "").strip().replace(",", "")
    if raw_amount:
        try:
            amount = parse_decimal(raw_amount)
        except DecimalInputError:
            messages.error(request, "The amount must be a number.")
    table = C2BPaymentTable(c2b_unmatched(viewer=request.user, query=query, amount=amount))
    RequestConfig(request, paginate={"per_page": 25}).configure(table)
    my_sale = Sale.objects.filter(open_for_cashier=request.user.pk).first()
    context = {
        "table": table,
        "query": query,
        "amount": raw_amount,
        "my_sale": my_sale,
        "my_sale_due": sale_amount_due(sale=my_sale) if my_sale else None,
        "my_sale_reference": sale_reference(my_sale) if my_sale else "",
    }
    return render_partial(request, "cashdesk/c2b_list.html", "c2b-table", context)


def _sale_from_reference(request, text: str) -> Sale | None:
    text = (text or "").strip().upper()
    qs = sales_visible_to(user=request.user).filter(status=SaleStatus.OPEN)
    if not text:
        return qs.filter(open_for_cashier=request.user.pk).first()
    sale_id = sale_id_from_pay_reference(text)
    if sale_id is not None:
        return qs.filter(pk=sale_id).first()
    if text.startswith("S-") and text[2:].isdigit():  # the cashier's own shorthand, within what they may see
        return qs.filter(pk=int(text[2:])).first()
    return None


@require_perm(Perm.ATTACH_MPESA)
@require_POST
def c2b_attach(request, pk: int):
    row = get_object_or_404(c2b_unmatched(viewer=request.user), pk=pk)
    form = C2BAttachForm(request.POST)
    form.is_valid()
    sale = _sale_from_reference(request, form.cleaned_data.get("sale_number", ""))
    if sale is None:
        messages.error(request, "No open sale with that reference (S-… from the till's pay panel).")
        return redirect("cashdesk:c2b_list")
    try:
        payment, sale = mpesa.mpesa_c2b_attach(sale=sale, user=request.user, c2b=row, request=request)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("cashdesk:c2b_list")
    if sale.status == SaleStatus.COMPLETED:
        messages.success(
            request, f"M-Pesa {payment.mpesa_receipt} paid sale {sale.number} in full: the sale is complete."
        )
    else:
        messages.success(
            request,
            f"M-Pesa {payment.mpesa_receipt} (KES {payment.amount:,.2f}) added to {sale_reference(sale)}; "
            f"KES {sale_amount_due(sale=sale):,.2f} still to pay.",
        )
    return redirect("cashdesk:c2b_list")


@require_perm(Perm.MANAGE_MPESA)
@require_http_methods(["GET", "POST"])
def c2b_set_aside(request, pk: int):
    row = c2b_unverified(viewer=request.user).filter(pk=pk).first() or get_object_or_404(
        c2b_unmatched(viewer=request.user), pk=pk
    )
    form = SetAsideForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mpesa.mpesa_c2b_set_aside(c2b=row, user=request.user, note=form.cleaned_data["note"], request=request)
        except DomainError as exc:
            add_domain_error(form, exc, field="note")
        else:
            messages.success(request, f"M-Pesa {row.trans_id} set aside.")
            return redirect("cashdesk:c2b_list")
    return render(
        request, "cashdesk/c2b_set_aside.html", {"row": row, "form": form}, status=400 if form.errors else 200
    )


# ---------------------------------------------------------------------------- flagged pushes
@require_perm(Perm.MANAGE_MPESA)
def mpesa_flagged(request):
    context = {"flagged": stk_requests_flagged(viewer=request.user), "unverified": c2b_unverified(viewer=request.user)}
    return render(request, "cashdesk/mpesa_flagged.html", context)


def _decide(request, stk: StkRequest, form):
    data = form.cleaned_data
    if stk.status == StkStatus.OVERPAID:
        customer = None
        if data.get("customer_phone"):
            phone = phone_or_none(data["customer_phone"])
            customer = Customer.objects.filter(phone_number=phone).first() if phone else None
            if customer is None:
                raise DomainError("No customer has that phone number.", field="customer_phone")
        return mpesa.mpesa_overpayment_resolve(
            stk=stk, user=request.user, action=data["decision"], customer=customer, note=data["note"], request=request
        )
    if stk.status == StkStatus.UNVERIFIED:
        return mpesa.mpesa_unverified_resolve(
            stk=stk, user=request.user, confirmed=data["decision"] == "confirmed", note=data["note"], request=request
        )
    return mpesa.mpesa_mismatch_resolve(
        stk=stk, user=request.user, accept=data["decision"] == "accept", note=data["note"], request=request
    )


@require_perm(Perm.MANAGE_MPESA)
@require_http_methods(["GET", "POST"])
def mpesa_resolve(request, pk: int):
    qs = StkRequest.objects.select_related("sale", "sale__customer", "requested_by", "payment")
    qs = for_viewer(qs, request.user)
    stk = get_object_or_404(qs, pk=pk, status__in=STK_TO_CHECK, resolved_at__isnull=True)
    form_class = {StkStatus.OVERPAID: OverpaymentResolveForm, StkStatus.UNVERIFIED: UnverifiedResolveForm}.get(
        stk.status, MismatchResolveForm
    )
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            stk = _decide(request, stk, form)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, stk.message)
            return redirect("cashdesk:mpesa_flagged")
    context = {
        "stk": stk,
        "form": form,
        "phone": phone_or_none(stk.phone) and format_phone_local(phone_or_none(stk.phone)),
    }
    return render(request, "cashdesk/mpesa_resolve.html", context, status=400 if form.errors else 200)


@require_perm(Perm.MANAGE_MPESA)
@require_http_methods(["GET", "POST"])
def c2b_confirm(request, pk: int):
    """An incoming payment M-Pesa did not confirm: the manager found it on the portal."""
    row = get_object_or_404(c2b_unverified(viewer=request.user), pk=pk)
    form = C2BConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mpesa.mpesa_c2b_confirm_by_manager(c2b=row, user=request.user, note=form.cleaned_data["note"],
                                               request=request)
        except DomainError as exc:
            add_domain_error(form, exc, field="note")
        else:
            messages.success(request, f"M-Pesa {row.trans_id} confirmed: it can now be matched to a sale.")
            return redirect("cashdesk:mpesa_flagged")
    return render(request, "cashdesk/c2b_confirm.html", {"row": row, "form": form}, status=400 if form.errors else 200)


@require_perm(Perm.MANAGE_MPESA)
def mpesa_reconciliation(request):
    """The daily M-Pesa check: Safaricom's statement and balance against the payments recorded."""
    days = list(MpesaReconciliation.objects.all()[:31])
    whole_shop = request.user.has_perm(Perm.ALL_BRANCHES)
    for day in days:  # a branch manager sees their branch's differences, not the shop's totals
        day.shown = [d for d in day.differences if d.get("branch") is None or may_use_branch(request.user, d["branch"])]
    return render(request, "cashdesk/mpesa_reconciliation.html", {"days": days, "whole_shop": whole_shop})
