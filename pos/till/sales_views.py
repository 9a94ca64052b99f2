"""Sales pages: the list, a sale's detail, receipts (original and authorised copies), returns with a
credit note, and voids of completed sales. Guarded actions use the same manager-PIN flow as the till."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from cashdesk.printing.services import receipt_print_queue
from cashdesk.refund_services import refundable_by_method, sale_return_refund, sale_void_completed
from core.errors import DomainError
from core.forms import add_domain_error
from core.htmx import render_partial
from core.permissions import require_perm
from core.roles import Perm
from pos.people.authorise import authoriser_from_post, pin_context
from pos.people.services import PinError
from pos.sales.models import Sale, SaleReturn, SaleStatus
from pos.sales.receipts import (
    credit_note_pdf,
    receipt_context,
    receipt_grant,
    receipt_may_print,
    receipt_pdf,
    sale_has_receipt,
)
from pos.sales.selectors import (
    sale_audit_trail,
    sale_find,
    sale_list,
    sale_returns,
    sales_returnable_by,
    sales_visible_to,
    vat_breakdown,
)
from pos.sales.services import AuthorisationRequired, sale_receipt_reprint
from pos.sales.tasks import receipt_email_send
from pos.till.filters import SaleFilter
from pos.till.forms import ReprintForm, ReturnForm, VoidCompletedForm
from pos.till.tables import SaleTable

VOID_REASONS = ["Rang up the wrong items", "Duplicate sale", "Customer cancelled the purchase"]


def _visible_sale(request, pk: int) -> Sale:
    return get_object_or_404(sales_visible_to(user=request.user), pk=pk)


def _guarded_post(request, *, perm: str, run, render_form):
    """The manager-PIN flow of the sales pages (full-page forms): run, or show the form again."""
    try:
        authoriser = authoriser_from_post(request, perm=perm)
        return run(authoriser)
    except PinError as exc:
        return render_form(pin_context(request, perm=perm, error=exc.message, always=True), None)
    except AuthorisationRequired as exc:
        return render_form(pin_context(request, perm=exc.perm, message=exc.message, always=True), None)
    except DomainError as exc:
        return render_form(pin_context(request, perm=perm, always=True), exc)


# ---------------------------------------------------------------------------- list and detail
@require_perm(Perm.VIEW_SALES)
@require_GET
def sale_index(request):
    f = SaleFilter(request.GET or None, queryset=sale_list(user=request.user), viewer=request.user)
    qs = f.qs if f.is_bound and f.is_valid() else f.queryset
    table = SaleTable(qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return render_partial(request, "pos/sales/list.html", "sales-table", {"filter": f, "table": table})


@require_perm(Perm.VIEW_SALES)
@require_GET
def sale_detail(request, pk: int):
    sale = _visible_sale(request, pk)
    lines = list(sale.lines.select_related("price_overridden_by"))
    returns = sale_returns(sale=sale)
    user = request.user
    context = {
        "sale": sale,
        "lines": lines,
        "vat": vat_breakdown(lines),
        "payments": list(sale.payments.select_related("received_by")),
        "refunds": list(sale.refunds.select_related("refunded_by", "sale_return")),
        "returns": returns,
        "audit": list(sale_audit_trail(sale=sale)),
        "may_return": sale.status == SaleStatus.COMPLETED and user.has_perm(Perm.USE_TILL)
        and any(line.returned_quantity < line.quantity for line in lines),
        "may_void": sale.status == SaleStatus.COMPLETED and not returns and user.has_perm(Perm.USE_TILL),
        "may_reprint": sale_has_receipt(sale),
        "grant": receipt_may_print(request, sale),
    }
    return render_partial(request, "pos/sales/detail.html", "sale-body", context)


@require_perm(Perm.VIEW_SALES)
@require_GET
def sale_find_view(request):
    """Find a sale by its number or the receipt's QR code (typed, scanned or read by the camera)."""
    query = request.GET.get("q", "").strip()
    if query:
        sale = sale_find(user=request.user, text=query)
        if sale is not None:
            return redirect("sales:detail", pk=sale.pk)
        if request.user.has_perm(Perm.USE_TILL):  # a colleague's sale: the customer came back with the receipt
            sale = sale_find(user=request.user, text=query, returnable=True)
            if sale is not None:
                return redirect("sales:return", pk=sale.pk)
    return render(request, "pos/sales/find.html", {"query": query, "not_found": bool(query)})


# ---------------------------------------------------------------------------- receipts
@require_perm(Perm.VIEW_SALES)
@require_GET
def receipt(request, pk: int):
    sale = _visible_sale(request, pk)
    if not sale_has_receipt(sale):
        raise Http404("This sale has no receipt yet.")
    grant = receipt_may_print(request, sale)
    context = {
        "grant": grant,
        "reprint_form": ReprintForm(),
        **pin_context(request, perm=Perm.AUTHORISE_OVERRIDES, always=True),
    }
    if grant:
        context.update(receipt_context(sale=sale, copy=grant == "copy"))
    else:
        context["sale"] = sale
    return render(request, "pos/receipts/receipt.html", context)


@require_perm(Perm.VIEW_SALES)
@require_GET
def receipt_pdf_view(request, pk: int):
    sale = _visible_sale(request, pk)
    grant = receipt_may_print(request, sale)
    if not grant:
        messages.error(request, "This receipt was already given out: a copy needs a manager's authorisation.")
        return redirect("sales:receipt", pk=sale.pk)
    pdf = receipt_pdf(sale=sale, copy=grant == "copy")
    response = HttpResponse(pdf, content_type="application/pdf")
    suffix = "-copy" if grant == "copy" else ""
    response["Content-Disposition"] = f'inline; filename="receipt-{sale.number}{suffix}.pdf"'
    return response


@require_perm(Perm.VIEW_SALES)
@require_POST
def receipt_email(request, pk: int):
    sale = _visible_sale(request, pk)
    if not receipt_may_print(request, sale):
        messages.error(request, "Sending a receipt again is a reprint: ask a manager first.")
    elif not (sale.customer_id and sale.customer.email):
        messages.error(request, "The customer on this sale has no e-mail address.")
    else:

        receipt_email_send(sale.pk, resend=True)
        messages.success(request, f"Receipt sent to {sale.customer.email}.")
    return redirect("sales:receipt", pk=sale.pk)


@require_perm(Perm.VIEW_SALES)
@require_POST
def reprint(request, pk: int):
    """A copy of the receipt: a manager authorises (their PIN on the cashier's screen), it is counted."""
    sale = _visible_sale(request, pk)
    form = ReprintForm(request.POST)
    form.is_valid()

    def run(authoriser):
        sale_receipt_reprint(sale=sale, user=request.user, reason=form.cleaned_data.get("reason", ""),
                             authorised_by=authoriser, request=request)
        receipt_grant(request, sale, "copy")
        # The branch's counter printer prints the COPY too (nothing happens where there is none).
        if receipt_print_queue(sale=sale, user=request.user, copy=True) is not None:
            messages.success(request, "Reprint authorised: a COPY is printing on the counter printer.")
        else:
            messages.success(request, "Reprint authorised: this receipt is marked COPY.")
        return redirect("sales:receipt", pk=sale.pk)

    def render_form(pin, exc):
        context = {"sale": sale, "grant": receipt_may_print(request, sale), "reprint_form": form, **pin}
        if exc is not None:
            context["pin_error"] = exc.message
        return render(request, "pos/receipts/receipt.html", context, status=200)

    return _guarded_post(request, perm=Perm.AUTHORISE_OVERRIDES, run=run, render_form=render_form)


# ---------------------------------------------------------------------------- returns and voids
def _return_lines(sale: Sale):
    return list(sale.lines.select_related("product__unit").order_by("position", "pk"))


@require_perm(Perm.USE_TILL)
@require_http_methods(["GET", "POST"])
def sale_return(request, pk: int):
    # any completed sale of the branch (a colleague's too: the customer holds the receipt), else one they see
    sale = sales_returnable_by(user=request.user).filter(pk=pk).first() or _visible_sale(request, pk)
    if sale.status != SaleStatus.COMPLETED:
        messages.error(request, f"This sale is {sale.get_status_display().lower()}: only completed sales take returns.")
        return redirect("sales:detail", pk=sale.pk)
    lines = _return_lines(sale)
    form = ReturnForm(request.POST or None, lines=lines)

    def render_form(pin, exc=None):
        if exc is not None:
            add_domain_error(form, exc)
        context = {"sale": sale, "form": form, "paid_by": refundable_by_method(sale=sale), **pin,
                   "earlier": sale_returns(sale=sale),
                   "may_view": sales_visible_to(user=request.user).filter(pk=sale.pk).exists()}
        return render(request, "pos/sales/return.html", context)

    if request.method == "GET" or not form.is_valid():
        return render_form(pin_context(request, perm=Perm.REFUND, always=True))

    def run(authoriser):
        data = form.cleaned_data
        sale_return = sale_return_refund(
            sale=sale,
            items=form.items(),
            user=request.user,
            reason=data["reason"],
            authorised_by=authoriser,
            refund_to=data["refund_to"],
            reference=data.get("reference") or "",
            request=request,
        )
        parts = ", ".join(f"{r.get_method_display()} KES {r.amount}" for r in sale_return.refunds.all())
        messages.success(request, f"Credit note {sale_return.number}: KES {sale_return.total} refunded ({parts}).")
        if sales_visible_to(user=request.user).filter(pk=sale.pk).exists():
            return redirect(f"{reverse('sales:detail', args=[sale.pk])}#return-{sale_return.pk}")
        return redirect(f"{reverse('sales:return', args=[sale.pk])}#return-{sale_return.pk}")

    return _guarded_post(request, perm=Perm.REFUND, run=run, render_form=render_form)


@require_perm(Perm.USE_TILL)
@require_http_methods(["GET", "POST"])
def sale_void(request, pk: int):
    sale = _visible_sale(request, pk)
    if sale.status != SaleStatus.COMPLETED:
        messages.error(
            request, f"This sale is {sale.get_status_display().lower()}: only a completed sale can be voided here."
        )
        return redirect("sales:detail", pk=sale.pk)
    form = VoidCompletedForm(request.POST or None)

    def render_form(pin, exc=None):
        if exc is not None:
            add_domain_error(form, exc)
        context = {
            "sale": sale, "form": form, "paid_by": refundable_by_method(sale=sale), "void_reasons": VOID_REASONS, **pin
        }
        return render(request, "pos/sales/void.html", context)

    if request.method == "GET" or not form.is_valid():
        return render_form(pin_context(request, perm=Perm.AUTHORISE_OVERRIDES, always=True))

    def run(authoriser):
        sale_void_completed(sale=sale, user=request.user, reason=form.cleaned_data["reason"], authorised_by=authoriser,
                            reference=form.cleaned_data.get("reference") or "", request=request)
        messages.success(request, f"Sale {sale.number} voided: stock is back and the money refunded.")
        return redirect("sales:detail", pk=sale.pk)

    return _guarded_post(request, perm=Perm.AUTHORISE_OVERRIDES, run=run, render_form=render_form)


@require_perm(Perm.VIEW_SALES)
@require_GET
def credit_note(request, pk: int):
    sale_return = get_object_or_404(SaleReturn.objects.select_related("sale", "branch"), pk=pk)
    # whoever could see the sale, or take a return for it, may print its credit notes
    if not (
        sales_visible_to(user=request.user).filter(pk=sale_return.sale_id).exists()
        or (
            request.user.has_perm(Perm.USE_TILL)
            and sales_returnable_by(user=request.user).filter(pk=sale_return.sale_id).exists()
        )
    ):
        raise Http404("No such credit note.")
    response = HttpResponse(credit_note_pdf(sale_return=sale_return), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="credit-note-{sale_return.number}.pdf"'
    return response
