"""Money in and out beyond sales: customer receipts (with PDF), supplier payments, expenses (with the
bill attached). Each page parses a form and calls one service in `money_services`."""

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django_tables2 import RequestConfig

from cashdesk import money_services
from cashdesk.forms import CustomerReceiptForm, ExpenseCategoryForm, ExpenseForm, SupplierPaymentForm
from cashdesk.models import ExpenseCategory
from cashdesk.pdf import pdf_response
from cashdesk.selectors import (
    customer_receipts_visible_to,
    expenses_visible_to,
    purchase_amount_owed,
    session_current,
    supplier_payments_visible_to,
    unpaid_account_sales,
)
from cashdesk.tables import CustomerReceiptTable, ExpenseTable, SupplierPaymentTable
from core.branches import for_viewer
from core.errors import DomainError
from core.forms import add_domain_error
from core.htmx import render_partial
from core.permissions import require_perm
from core.roles import Perm
from inventory.models import Purchase
from pos.customers.models import Customer
from pos.sales.models import Sale


def _list(request, *, table, template: str, partial: str, context: dict | None = None):
    RequestConfig(request, paginate={"per_page": 25}).configure(table)
    context = {"table": table, **(context or {})}
    return render_partial(request, template, partial, context)


# ---------------------------------------------------------------------------- customer receipts
@require_perm(Perm.RECORD_CUSTOMER_RECEIPT)
def receipt_list(request):
    table = CustomerReceiptTable(
        customer_receipts_visible_to(request.user), order_by=request.GET.get("sort", "-created_at")
    )
    return _list(request, table=table, template="cashdesk/receipt_list.html", partial="receipt-table")


@require_perm(Perm.RECORD_CUSTOMER_RECEIPT)
def receipt_customer_sales(request):
    """htmx: what the chosen customer owes, and their unpaid on-account sales to tick."""
    customer_id = request.GET.get("customer", "")
    customer = Customer.objects.filter(pk=int(customer_id)).first() if customer_id.isdigit() else None
    sales = unpaid_account_sales(customer=customer) if customer else []
    return render(request, "cashdesk/receipt_form.html#customer-sales", {"customer": customer, "open_sales": sales})


@require_perm(Perm.RECORD_CUSTOMER_RECEIPT)
@require_http_methods(["GET", "POST"])
def receipt_create(request):
    initial = {"customer": request.GET.get("customer")} if request.GET.get("customer", "").isdigit() else {}
    form = CustomerReceiptForm(request.POST or None, initial=initial)
    customer = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        customer = data["customer"]
        chosen = [int(pk) for pk in request.POST.getlist("sales") if pk.isdigit()]
        try:
            receipt = money_services.customer_receipt_record(
                customer=customer,
                amount=data["amount"],
                method=data["method"],
                user=request.user,
                reference=data["reference"],
                note=data["note"],
                sales=list(Sale.objects.filter(pk__in=chosen, customer=customer)),
                request=request,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                f"Receipt {receipt.number}: KES {receipt.amount:,.2f} from {customer.name}; "
                f"they now owe KES {receipt.balance_after:,.2f}.",
            )
            return redirect("cashdesk:receipt_detail", pk=receipt.pk)
    elif initial:
        customer = Customer.objects.filter(pk=int(initial["customer"])).first()
    elif form.is_bound and form.data.get("customer", "").isdigit():
        customer = Customer.objects.filter(pk=int(form.data["customer"])).first()
    context = {
        "form": form,
        "customer": customer,
        "open_sales": unpaid_account_sales(customer=customer) if customer else [],
        "has_session": session_current(cashier=request.user) is not None,
    }
    return render(request, "cashdesk/receipt_form.html", context, status=400 if form.errors else 200)


def _visible_receipt(request, pk: int):
    return get_object_or_404(customer_receipts_visible_to(request.user).prefetch_related("allocations__sale"), pk=pk)


@require_perm(Perm.RECORD_CUSTOMER_RECEIPT)
def receipt_detail(request, pk: int):
    return render(request, "cashdesk/receipt_detail.html", {"receipt": _visible_receipt(request, pk)})


@require_perm(Perm.RECORD_CUSTOMER_RECEIPT)
def receipt_pdf(request, pk: int):
    receipt = _visible_receipt(request, pk)
    return pdf_response(request, "cashdesk/receipt_pdf.html", {"receipt": receipt}, filename=f"{receipt.number}.pdf")


# ---------------------------------------------------------------------------- supplier payments
@require_perm(Perm.PAY_SUPPLIER)
def supplier_payment_list(request):
    table = SupplierPaymentTable(
        supplier_payments_visible_to(request.user), order_by=request.GET.get("sort", "-created_at")
    )
    return _list(request, table=table, template="cashdesk/supplier_payment_list.html", partial="supplier-table")


@require_perm(Perm.PAY_SUPPLIER)
@require_http_methods(["GET", "POST"])
def supplier_payment_create(request):
    initial = {}
    purchase_id = request.GET.get("purchase", "")
    if purchase_id.isdigit():  # "Pay" from a purchase's page

        # Another branch's purchase is not there for this user (its supplier and amount owed are not theirs).
        purchase = for_viewer(Purchase.objects.all(), request.user).filter(pk=int(purchase_id)).first()
        if purchase is not None:

            initial = {
                "purchase": purchase.pk,
                "supplier": purchase.supplier_id,
                "amount": purchase_amount_owed(purchase=purchase),
            }
    form = SupplierPaymentForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payment = money_services.supplier_payment_record(
                supplier=data["supplier"],
                amount=data["amount"],
                method=data["method"],
                user=request.user,
                reference=data["reference"],
                purchase=data.get("purchase"),
                purchase_reference=data["purchase_reference"],
                note=data["note"],
                request=request,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"Paid KES {payment.amount:,.2f} to {payment.supplier.name}.")
            if payment.purchase_id:  # back to the purchase the "Pay" button was on: it now shows what is left
                return redirect(payment.purchase)
            return redirect("cashdesk:supplier_payment_list")
    context = {"form": form, "has_session": session_current(cashier=request.user) is not None}
    return render(request, "cashdesk/supplier_payment_form.html", context, status=400 if form.errors else 200)


# ---------------------------------------------------------------------------- expenses
@require_perm(Perm.RECORD_EXPENSE)
def expense_list(request):
    table = ExpenseTable(expenses_visible_to(request.user), order_by=request.GET.get("sort", "-spent_on"))
    context = {"category_form": ExpenseCategoryForm(), "categories": ExpenseCategory.objects.filter(is_active=True)}
    return _list(request, table=table, template="cashdesk/expense_list.html", partial="expense-table", context=context)


@require_perm(Perm.RECORD_EXPENSE)
@require_http_methods(["GET", "POST"])
def expense_create(request):

    form = ExpenseForm(request.POST or None, request.FILES or None, initial={"spent_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            expense = money_services.expense_record(
                category=data["category"],
                amount=data["amount"],
                method=data["method"],
                description=data["description"],
                spent_on=data["spent_on"],
                reference=data["reference"],
                attachment=data.get("attachment") or None,
                user=request.user,
                request=request,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"Expense recorded: {expense.category.name}, KES {expense.amount:,.2f}.")
            return redirect("cashdesk:expense_list")
    context = {"form": form, "has_session": session_current(cashier=request.user) is not None}
    return render(request, "cashdesk/expense_form.html", context, status=400 if form.errors else 200)


@require_perm(Perm.RECORD_EXPENSE)
@require_POST
def expense_category_create(request):
    form = ExpenseCategoryForm(request.POST)
    if form.is_valid():
        try:
            category = money_services.expense_category_create(name=form.cleaned_data["name"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Category {category.name} is ready to use.")
    else:
        messages.error(request, "Give the category a name.")
    return redirect("cashdesk:expense_list")


@require_perm(Perm.RECORD_EXPENSE)
def expense_attachment(request, pk: int):
    """The bill is private: served through a permission check, never from a public media URL."""
    expense = get_object_or_404(expenses_visible_to(request.user), pk=pk)
    if not expense.attachment:
        raise Http404("This expense has no attachment.")
    name = expense.attachment.name.rsplit("/", 1)[-1]
    return FileResponse(expense.attachment.open("rb"), as_attachment=False, filename=name)
