"""HTML views for suppliers, purchase orders (with the printable PDF), reorder suggestions and
transfers between branches."""

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from core.branches import for_viewer, may_use_branch
from core.forms import add_domain_error
from core.htmx import render_partial
from core.permissions import require_perm
from core.roles import Perm
from inventory import catalogue_services, purchase_services
from inventory.documents import purchase_order_pdf
from inventory.errors import StockError
from inventory.filters import PurchaseFilter, TransferFilter
from inventory.forms import (
    LineForm,
    PurchaseForm,
    PurchaseLineForm,
    SupplierForm,
    TransferForm,
    parse_quantity,
)
from inventory.models import MovementKind, Purchase, PurchaseStatus, StockMovement, Supplier, Transfer, TransferStatus
from inventory.selectors import purchase_list, reorder_suggestions, transfer_list
from inventory.tables import PurchaseTable, SupplierTable, TransferTable
from inventory.views import viewing_branch
from pos.people.models import Branch

PER_PAGE = 25


# ---------------------------------------------------------------------------- suppliers
@require_perm(Perm.VIEW_SUPPLIERS)
def supplier_list(request):
    query = request.GET.get("q", "").strip()
    qs = Supplier.objects.all()
    if query:
        qs = qs.filter(name__icontains=query)
    table = SupplierTable(qs, order_by=request.GET.get("sort") or "name")
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    return render_partial(request, "inventory/supplier_list.html", "supplier-table", {"table": table, "query": query})


@require_perm(Perm.VIEW_SUPPLIERS)
def supplier_detail(request, pk: int):
    supplier = get_object_or_404(Supplier, pk=pk)
    purchases = purchase_list(viewer=request.user).filter(supplier=supplier)
    table = PurchaseTable(purchases, order_by="-created_at", orderable=False)
    table.columns.hide("supplier")
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    products = supplier.products.filter(is_active=True).order_by("name")[:50]
    return render(
        request, "inventory/supplier_detail.html", {"supplier": supplier, "table": table, "products": products}
    )


def _supplier_form(request, supplier=None):
    form = SupplierForm(request.POST or None, instance=Supplier.objects.get(pk=supplier.pk) if supplier else None)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.fields}
        try:
            saved = catalogue_services.supplier_save(actor=request.user, data=data, supplier=supplier)
        except (StockError, ValidationError) as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"Saved {saved.name}.")
            return redirect(saved)
    title = supplier.name if supplier else "New supplier"
    return render(
        request,
        "inventory/simple_form.html",
        {"form": form, "title": title, "instance": supplier, "back": reverse("inventory:supplier_list")},
    )


@require_perm(Perm.MANAGE_SUPPLIERS)
@require_http_methods(["GET", "POST"])
def supplier_create(request):
    return _supplier_form(request)


@require_perm(Perm.MANAGE_SUPPLIERS)
@require_http_methods(["GET", "POST"])
def supplier_edit(request, pk: int):
    return _supplier_form(request, get_object_or_404(Supplier, pk=pk))


# ---------------------------------------------------------------------------- purchases
@require_perm(Perm.MANAGE_PURCHASES)
def purchase_index(request):
    purchase_filter = PurchaseFilter(request.GET, queryset=purchase_list(viewer=request.user))
    table = PurchaseTable(purchase_filter.qs, order_by=request.GET.get("sort") or "-created_at")
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    context = {"filter": purchase_filter, "table": table}
    return render_partial(request, "inventory/purchase_list.html", "purchase-table", context)


@require_perm(Perm.MANAGE_PURCHASES)
@require_http_methods(["GET", "POST"])
def purchase_create(request):
    initial = {"branch": request.user.branch_id, "supplier": request.GET.get("supplier")}
    form = PurchaseForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            purchase = purchase_services.purchase_create(
                user=request.user,
                supplier=data["supplier"],
                branch=data["branch"],
                expected_date=data["expected_date"],
                supplier_reference=data["supplier_reference"],
                notes=data["notes"],
            )
        except StockError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"{purchase.number} started for {purchase.supplier.name}: add the products.")
            return redirect(purchase)
    return render(request, "inventory/purchase_form.html", {"form": form, "title": "New purchase order"})


def _visible_purchase(request, pk: int) -> Purchase:
    return get_object_or_404(
        for_viewer(
            Purchase.objects.select_related("supplier", "branch", "created_by", "ordered_by"), request.user
        ),
        pk=pk,
    )


def _purchase_context(request, purchase, line_form=None):
    lines = list(purchase.lines.select_related("product", "product__unit").order_by("pk"))
    return {
        "purchase": purchase,
        "lines": lines,
        "line_form": line_form or PurchaseLineForm(),
        "movements": StockMovement.objects.filter(
            kind=MovementKind.PURCHASE_RECEIPT, reference_id=str(purchase.pk), reference_type__model="purchase"
        )
        .select_related("product", "user")
        .order_by("created_at", "pk"),
    }


@require_perm(Perm.MANAGE_PURCHASES)
def purchase_detail(request, pk: int):
    purchase = _visible_purchase(request, pk)
    context = _purchase_context(request, purchase)
    return render_partial(request, "inventory/purchase_detail.html", "purchase-lines", context)


@require_perm(Perm.MANAGE_PURCHASES)
@require_http_methods(["GET", "POST"])
def purchase_edit(request, pk: int):
    purchase = _visible_purchase(request, pk)
    initial = {
        "supplier": purchase.supplier_id,
        "branch": purchase.branch_id,
        "expected_date": purchase.expected_date,
        "supplier_reference": purchase.supplier_reference,
        "notes": purchase.notes,
    }
    form = PurchaseForm(request.POST or None, user=request.user, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in ("supplier", "expected_date", "supplier_reference", "notes")}
        try:
            purchase_services.purchase_update(user=request.user, purchase=purchase, data=data)
        except StockError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"{purchase.number} saved.")
            return redirect(purchase)
    return render(
        request,
        "inventory/purchase_form.html",
        {"form": form, "title": f"Edit {purchase.number}", "purchase": purchase},
    )


@require_perm(Perm.MANAGE_PURCHASES)
@require_POST
def purchase_line_add(request, pk: int):
    purchase = _visible_purchase(request, pk)
    form = PurchaseLineForm(request.POST)
    if form.is_valid():
        try:
            line = purchase_services.purchase_line_set(
                user=request.user,
                purchase=purchase,
                product=form.cleaned_data["product"],
                quantity=form.cleaned_data["quantity"],
                unit_cost=form.cleaned_data["unit_cost"],
            )
        except StockError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"{line.product.name} on the order.")
            form = None
    if not request.htmx:
        if form is not None:
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
        return redirect(purchase)
    purchase.refresh_from_db()
    return render(request, "inventory/purchase_detail.html#purchase-lines", _purchase_context(request, purchase, form))


@require_perm(Perm.MANAGE_PURCHASES)
@require_POST
def purchase_line_remove(request, pk: int, line_pk: int):
    purchase = _visible_purchase(request, pk)
    try:
        purchase_services.purchase_line_remove(user=request.user, purchase=purchase, line_id=line_pk)
    except StockError as exc:
        messages.error(request, exc.message)
    if not request.htmx:
        return redirect(purchase)
    purchase.refresh_from_db()
    return render(request, "inventory/purchase_detail.html#purchase-lines", _purchase_context(request, purchase))


def _purchase_action(request, pk: int, action, success: str):
    purchase = _visible_purchase(request, pk)
    try:
        action(purchase)
    except StockError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success.format(number=purchase.number))
    return redirect(purchase)


@require_perm(Perm.MANAGE_PURCHASES)
@require_POST
def purchase_order(request, pk: int):
    return _purchase_action(
        request,
        pk,
        lambda p: purchase_services.purchase_order(user=request.user, purchase=p),
        "{number} is ordered. Print or send the purchase order to the supplier.",
    )


@require_perm(Perm.MANAGE_PURCHASES)
@require_POST
def purchase_cancel(request, pk: int):
    return _purchase_action(
        request,
        pk,
        lambda p: purchase_services.purchase_cancel(
            user=request.user, purchase=p, reason=request.POST.get("reason", ""), request=request
        ),
        "{number} cancelled.",
    )


@require_perm(Perm.MANAGE_PURCHASES)
@require_POST
def purchase_close(request, pk: int):
    return _purchase_action(
        request,
        pk,
        lambda p: purchase_services.purchase_close(
            user=request.user, purchase=p, reason=request.POST.get("reason", ""), request=request
        ),
        "{number} closed: nothing more is expected.",
    )


@require_perm(Perm.MANAGE_PURCHASES)
@require_http_methods(["GET", "POST"])
def purchase_receive(request, pk: int):
    """Goods arrived: quantities per line (the rest still to come by default), cost per line, and the
    over-receive tick with its reason."""
    purchase = _visible_purchase(request, pk)
    if not purchase.is_receivable:
        messages.error(request, f"{purchase.number} is {purchase.get_status_display().lower()}; nothing to receive.")
        return redirect(purchase)
    lines = list(purchase.lines.select_related("product", "product__unit").order_by("pk"))
    errors: list[str] = []
    field_errors: dict[str, str] = {}
    values = {}
    if request.method == "POST":
        quantities, costs = {}, {}
        for line in lines:
            raw_qty = request.POST.get(f"qty_{line.pk}", "")
            raw_cost = request.POST.get(f"cost_{line.pk}", "")
            values[line.pk] = (raw_qty, raw_cost)
            try:
                quantity = parse_quantity(raw_qty)
                if quantity is not None:
                    quantities[line.pk] = quantity
            except ValueError as exc:
                field_errors[f"qty_{line.pk}"] = str(exc)
            try:
                cost = parse_quantity(raw_cost)
                if cost is not None:
                    costs[line.pk] = cost
            except ValueError as exc:
                field_errors[f"cost_{line.pk}"] = str(exc)
        if not field_errors:
            try:
                purchase_services.purchase_receive(
                    user=request.user,
                    purchase=purchase,
                    quantities=quantities,
                    unit_costs=costs,
                    over_receive=request.POST.get("over_receive") == "on",
                    over_receive_reason=request.POST.get("over_receive_reason", ""),
                    supplier_reference=request.POST.get("supplier_reference", ""),
                    request=request,
                )
            except StockError as exc:
                if exc.field and exc.field.startswith(("qty_", "cost_")):
                    field_errors[exc.field] = exc.message
                else:
                    errors.append(exc.message)
            else:
                purchase.refresh_from_db()
                messages.success(
                    request,
                    f"Received into {purchase.branch.name}: "
                    f"{purchase.number} is {purchase.get_status_display().lower()}.",
                )
                return redirect(purchase)
    for line in lines:
        raw_qty, raw_cost = values.get(line.pk, (f"{line.outstanding.normalize():f}", f"{line.unit_cost:.2f}"))
        line.form_qty, line.form_cost = raw_qty, raw_cost
        line.qty_error = field_errors.get(f"qty_{line.pk}", "")
        line.cost_error = field_errors.get(f"cost_{line.pk}", "")
    context = {
        "purchase": purchase,
        "lines": lines,
        "errors": errors,
        "over_receive": request.POST.get("over_receive") == "on",
        "over_receive_reason": request.POST.get("over_receive_reason", ""),
        "supplier_reference": request.POST.get("supplier_reference", purchase.supplier_reference),
    }
    return render(request, "inventory/purchase_receive.html", context, status=400 if (errors or field_errors) else 200)


@require_perm(Perm.MANAGE_PURCHASES)
@require_GET
def purchase_pdf(request, pk: int):
    """The purchase order as an A4 PDF (WeasyPrint), to print or send to the supplier."""

    purchase = _visible_purchase(request, pk)
    response = HttpResponse(
        purchase_order_pdf(purchase=purchase, base_url=request.build_absolute_uri("/")), content_type="application/pdf"
    )
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{purchase.number}.pdf"'
    return response


@require_perm(Perm.MANAGE_PURCHASES)
@require_http_methods(["GET", "POST"])
def reorder(request):
    branch = viewing_branch(request)
    if request.method == "POST":
        supplier_ids = [int(v) for v in request.POST.getlist("suppliers") if v.isdigit()]
        try:
            created = purchase_services.purchases_from_suggestions(
                user=request.user, branch=branch, supplier_ids=supplier_ids or None
            )
        except StockError as exc:
            messages.error(request, exc.message)
        else:
            numbers = ", ".join(p.number for p in created)
            messages.success(request, f"Draft orders created: {numbers}. Check them, then mark them ordered.")
            return redirect(f"{reverse('inventory:purchase_list')}?status={PurchaseStatus.DRAFT}")
    groups = reorder_suggestions(branch_id=branch.pk)
    branches = list(Branch.objects.filter(is_active=True)) if request.user.has_perm(Perm.ALL_BRANCHES) else []
    return render(request, "inventory/reorder.html", {"groups": groups, "branch": branch, "branches": branches})


# ---------------------------------------------------------------------------- transfers
@require_perm(Perm.MANAGE_TRANSFERS)
def transfer_index(request):
    transfer_filter = TransferFilter(request.GET, queryset=transfer_list(viewer=request.user))
    table = TransferTable(transfer_filter.qs, order_by=request.GET.get("sort") or "-created_at")
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    in_transit = transfer_list(viewer=request.user).filter(status=TransferStatus.IN_TRANSIT)
    context = {"filter": transfer_filter, "table": table, "in_transit": in_transit}
    return render_partial(request, "inventory/transfer_list.html", "transfer-table", context)


@require_perm(Perm.MANAGE_TRANSFERS)
@require_http_methods(["GET", "POST"])
def transfer_create(request):
    form = TransferForm(request.POST or None, user=request.user, initial={"from_branch": request.user.branch_id})
    if request.method == "POST" and form.is_valid():
        try:
            transfer = purchase_services.transfer_create(
                user=request.user,
                from_branch=form.cleaned_data["from_branch"],
                to_branch=form.cleaned_data["to_branch"],
                note=form.cleaned_data["note"],
            )
        except StockError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"{transfer.number} started: add what you are sending.")
            return redirect(transfer)
    return render(
        request,
        "inventory/simple_form.html",
        {"form": form, "title": "Send stock to another branch", "back": reverse("inventory:transfer_list")},
    )


def _visible_transfer(request, pk: int) -> Transfer:
    return get_object_or_404(transfer_list(viewer=request.user), pk=pk)


def _transfer_context(request, transfer, line_form=None):
    lines = list(transfer.lines.select_related("product", "product__unit").order_by("pk"))
    user = request.user
    return {
        "transfer": transfer,
        "lines": lines,
        "line_form": line_form or LineForm(),
        "may_send": may_use_branch(user, transfer.from_branch_id),
        "may_receive": may_use_branch(user, transfer.to_branch_id),
        "movements": StockMovement.objects.filter(reference_id=str(transfer.pk), reference_type__model="transfer")
        .select_related("product", "branch", "user")
        .order_by("created_at", "pk"),
    }


@require_perm(Perm.MANAGE_TRANSFERS)
def transfer_detail(request, pk: int):
    transfer = _visible_transfer(request, pk)
    context = _transfer_context(request, transfer)
    return render_partial(request, "inventory/transfer_detail.html", "transfer-lines", context)


@require_perm(Perm.MANAGE_TRANSFERS)
@require_POST
def transfer_line_add(request, pk: int):
    transfer = _visible_transfer(request, pk)
    form = LineForm(request.POST)
    if form.is_valid():
        try:
            purchase_services.transfer_line_set(
                user=request.user,
                transfer=transfer,
                product=form.cleaned_data["product"],
                quantity=form.cleaned_data["quantity"],
            )
        except StockError as exc:
            add_domain_error(form, exc)
        else:
            form = None
    if not request.htmx:
        if form is not None:
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
        return redirect(transfer)
    return render(request, "inventory/transfer_detail.html#transfer-lines", _transfer_context(request, transfer, form))


@require_perm(Perm.MANAGE_TRANSFERS)
@require_POST
def transfer_line_remove(request, pk: int, line_pk: int):
    transfer = _visible_transfer(request, pk)
    try:
        purchase_services.transfer_line_remove(user=request.user, transfer=transfer, line_id=line_pk)
    except StockError as exc:
        messages.error(request, exc.message)
    if not request.htmx:
        return redirect(transfer)
    return render(request, "inventory/transfer_detail.html#transfer-lines", _transfer_context(request, transfer))


@require_perm(Perm.MANAGE_TRANSFERS)
@require_POST
def transfer_dispatch(request, pk: int):
    transfer = _visible_transfer(request, pk)
    try:
        purchase_services.transfer_dispatch(user=request.user, transfer=transfer, request=request)
    except StockError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"{transfer.number} sent to {transfer.to_branch.name}: in transit until they receive it."
        )
    return redirect(transfer)


@require_perm(Perm.MANAGE_TRANSFERS)
@require_POST
def transfer_cancel(request, pk: int):
    transfer = _visible_transfer(request, pk)
    try:
        purchase_services.transfer_cancel(user=request.user, transfer=transfer)
    except StockError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, f"{transfer.number} cancelled.")
    return redirect(transfer)


@require_perm(Perm.MANAGE_TRANSFERS)
@require_http_methods(["GET", "POST"])
def transfer_receive(request, pk: int):
    transfer = _visible_transfer(request, pk)
    if transfer.status != TransferStatus.IN_TRANSIT or not may_use_branch(request.user, transfer.to_branch_id):
        messages.error(request, f"{transfer.number} cannot be received here.")
        return redirect(transfer)
    lines = list(transfer.lines.select_related("product", "product__unit").order_by("pk"))
    errors, field_errors = [], {}
    if request.method == "POST":
        quantities = {}
        for line in lines:
            try:
                value = parse_quantity(request.POST.get(f"qty_{line.pk}"))
            except ValueError as exc:
                field_errors[f"qty_{line.pk}"] = str(exc)
                continue
            quantities[line.pk] = value if value is not None else Decimal("0")
        if not field_errors:
            try:
                purchase_services.transfer_receive(
                    user=request.user,
                    transfer=transfer,
                    quantities=quantities,
                    note=request.POST.get("note", ""),
                    request=request,
                )
            except StockError as exc:
                if exc.field and exc.field.startswith("qty_"):
                    field_errors[exc.field] = exc.message
                else:
                    errors.append(exc.message)
            else:
                messages.success(request, f"{transfer.number} received at {transfer.to_branch.name}.")
                return redirect(transfer)
    for line in lines:
        line.form_qty = request.POST.get(f"qty_{line.pk}", f"{line.quantity.normalize():f}")
        line.qty_error = field_errors.get(f"qty_{line.pk}", "")
    context = {"transfer": transfer, "lines": lines, "errors": errors, "note": request.POST.get("note", "")}
    return render(request, "inventory/transfer_receive.html", context, status=400 if (errors or field_errors) else 200)
