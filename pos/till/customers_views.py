"""Customers ("clients"): list and search, register, edit (credit limit: owners), purchase history."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django_tables2 import RequestConfig

from core.forms import add_domain_error
from core.htmx import render_partial
from core.permissions import require_perm
from core.roles import Perm
from pos.customers.models import Customer
from pos.customers.services import CustomerError, customer_create, customer_update
from pos.sales.selectors import customer_history, customer_list, customer_total_spent, loyalty_history
from pos.till.forms import CustomerForm
from pos.till.tables import CustomerTable, SaleTable


@require_perm(Perm.VIEW_CUSTOMERS)
@require_GET
def customer_index(request):
    query = request.GET.get("q", "").strip()
    table = CustomerTable(customer_list(query=query), order_by=request.GET.get("sort"))
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return render_partial(request, "pos/customers/list.html", "customers-table", {"table": table, "query": query})


@require_perm(Perm.MANAGE_CUSTOMERS)
@require_http_methods(["GET", "POST"])
def customer_add(request):
    may_limit = request.user.has_perm(Perm.SET_CREDIT_LIMIT)
    form = CustomerForm(request.POST or None, may_set_credit_limit=may_limit, creating=True)
    if request.method == "POST" and form.is_valid():
        try:
            customer = customer_create(actor=request.user, data=form.cleaned_data, request=request)
        except CustomerError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"{customer.name} is registered.")
            return redirect("customers:detail", pk=customer.pk)
    return render(request, "pos/customers/form.html", {"form": form, "creating": True})


@require_perm(Perm.MANAGE_CUSTOMERS)
@require_http_methods(["GET", "POST"])
def customer_edit(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    may_limit = request.user.has_perm(Perm.SET_CREDIT_LIMIT)
    initial = {
        "name": customer.name,
        "phone_number": customer.phone_number or "",
        "email": customer.email,
        "kra_pin": customer.kra_pin,
        "credit_limit": customer.credit_limit,
        "notes": customer.notes,
        "is_active": customer.is_active,
    }
    form = CustomerForm(request.POST or None, initial=initial, may_set_credit_limit=may_limit)
    if request.method == "POST" and form.is_valid():
        try:
            customer_update(actor=request.user, customer=customer, data=form.cleaned_data, request=request)
        except CustomerError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"Saved {form.cleaned_data['name']}.")
            return redirect("customers:detail", pk=customer.pk)
    return render(request, "pos/customers/form.html", {"form": form, "customer": customer})


@require_perm(Perm.VIEW_CUSTOMERS)
@require_GET
def customer_detail(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    table = SaleTable(customer_history(customer=customer, user=request.user), exclude=("customer", "returned"))
    RequestConfig(request, paginate={"per_page": 25}).configure(table)
    context = {
        "customer": customer,
        "table": table,
        "total_spent": customer_total_spent(customer=customer),
        "loyalty": loyalty_history(customer=customer, user=request.user),
        "credit_room": max(customer.credit_limit - customer.balance, 0),
    }
    return render_partial(request, "pos/customers/detail.html", "history", context)
