"""HTML views of the stock pages: catalogue, CSV import/export, movements, alerts, adjustments and
stock counts. Each view parses input, calls one service, renders (a fragment for htmx)."""

import csv
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event
from django_tables2 import RequestConfig

from core.branches import for_viewer
from core.forms import add_domain_error
from core.htmx import render_partial
from core.permissions import require_perm
from core.roles import Perm
from inventory import adjustment_services, catalogue_services, import_services
from inventory.errors import StockError
from inventory.filters import AdjustmentFilter, AlertFilter, MovementFilter, ProductFilter
from inventory.forms import (
    AdjustmentRequestForm,
    CategoryForm,
    CountStartForm,
    DeactivateForm,
    ImportUploadForm,
    ProductForm,
    UnitForm,
    parse_quantity,
)
from inventory.models import (
    Category,
    CountStatus,
    ImportStatus,
    Product,
    ProductImport,
    StockAlert,
    StockCount,
    StockCountLine,
    Unit,
)
from inventory.selectors import (
    adjustment_list,
    count_list,
    low_stock_products,
    movement_list,
    out_of_stock_products,
    pending_adjustments,
    product_has_open_requests,
    product_search,
    product_stock_by_branch,
    products_with_stock,
    search_products,
    stock_on_hand_map,
)
from inventory.tables import (
    AdjustmentTable,
    AlertTable,
    CategoryTable,
    CountTable,
    MovementTable,
    ProductTable,
    UnitTable,
)
from inventory.templatetags.inventory_tags import signed_qty
from pos.people.models import Branch

PER_PAGE = 25


def viewing_branch(request) -> Branch:
    """The branch whose stock a page shows: your own, or (owners) the one picked with ?branch=."""
    user = request.user
    wanted = request.GET.get("branch") or request.POST.get("branch")
    if wanted and user.has_perm(Perm.ALL_BRANCHES):
        branch = Branch.objects.filter(pk=wanted if str(wanted).isdigit() else 0, is_active=True).first()
        if branch is not None:
            return branch
    return user.branch


def _branches(request):
    return (
        list(Branch.objects.filter(is_active=True).order_by("name")) if request.user.has_perm(Perm.ALL_BRANCHES) else []
    )



def _error_message(exc) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return exc.message


# ---------------------------------------------------------------------------- products
@require_perm(Perm.VIEW_PRODUCTS)
def product_list(request):
    branch = viewing_branch(request)
    product_filter = ProductFilter(request.GET, queryset=products_with_stock(branch_id=branch.pk))
    show_cost = request.user.has_perm(Perm.VIEW_COST_PRICES)
    table = ProductTable(product_filter.qs, show_cost=show_cost, order_by=request.GET.get("sort") or "name")
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    context = {"filter": product_filter, "table": table, "branch": branch, "branches": _branches(request)}
    return render_partial(request, "inventory/product_list.html", "product-table", context)


def _state_list(request, *, title: str, selector, empty: str, current: str):
    branch = viewing_branch(request)
    qs = selector(branch_id=branch.pk)
    query = request.GET.get("q", "").strip()
    if query:

        qs = search_products(qs, query)
    table = ProductTable(
        qs, show_cost=request.user.has_perm(Perm.VIEW_COST_PRICES), order_by=request.GET.get("sort") or "name"
    )
    table.empty_text = empty
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    context = {
        "table": table,
        "title": title,
        "branch": branch,
        "branches": _branches(request),
        "query": query,
        "current": current,
    }
    return render_partial(request, "inventory/stock_state_list.html", "product-table", context)


@require_perm(Perm.VIEW_ALERTS)
def low_stock(request):
    """The API's /products/low_stock: at or under the reorder level, not out."""
    return _state_list(
        request, title="Low stock", selector=low_stock_products, empty="Nothing is running low.", current="low"
    )


@require_perm(Perm.VIEW_ALERTS)
def out_of_stock(request):
    """The API's /products/out_of_stock: nothing (or less) left on the shelf."""
    return _state_list(
        request, title="Out of stock", selector=out_of_stock_products, empty="Nothing is out of stock.", current="out"
    )


@require_perm(Perm.VIEW_PRODUCTS)
def product_detail(request, pk: int):
    product = get_object_or_404(Product.objects.select_related("category", "unit", "default_supplier"), pk=pk)
    user = request.user
    context = {
        "product": product,
        "stock_rows": product_stock_by_branch(product_id=product.pk, user=user),
        "show_cost": user.has_perm(Perm.VIEW_COST_PRICES),
        "deactivate_form": DeactivateForm(),
        "pending_requests": product_has_open_requests(product_id=product.pk, viewer=user),
    }
    if user.has_perm(Perm.VIEW_STOCK_MOVEMENTS):
        context["movements"] = MovementTable(
            movement_list(viewer=user).filter(product=product)[:15],
            show_cost=context["show_cost"],
            orderable=False,
        )
        context["movements"].columns.hide("product")
    if user.has_perm(Perm.MANAGE_CATALOGUE):
        context["has_history"] = catalogue_services.product_has_history(product)
    return render(request, "inventory/product_detail.html", context)


def _product_data(form: ProductForm) -> dict:
    data = {
        name: form.cleaned_data.get(name) for name in catalogue_services.PRODUCT_FIELDS if name in form.cleaned_data
    }
    if not data.get("image"):
        data.pop("image", None)
    elif data["image"] is False:  # "clear" ticked
        data["image"] = ""
    for name in ("reorder_level", "reorder_quantity"):
        if data.get(name) is None:
            data[name] = Decimal("0")
    if data.get("cost_price") is None:
        data["cost_price"] = Decimal("0.00")
    return data


@require_perm(Perm.MANAGE_CATALOGUE)
@require_http_methods(["GET", "POST"])
def product_create(request):
    form = ProductForm(request.POST or None, request.FILES or None, creating=True)
    if request.method == "POST" and form.is_valid():
        try:
            product = catalogue_services.product_create(
                actor=request.user,
                data=_product_data(form),
                opening_stock=form.cleaned_data.get("opening_stock"),
                branch=request.user.branch,
                request=request,
            )
        except (StockError, ValidationError) as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"{product.name} added to the catalogue.")
            return redirect(product)
    return render(request, "inventory/product_form.html", {"form": form, "creating": True})


@require_perm(Perm.MANAGE_CATALOGUE)
@require_http_methods(["GET", "POST"])
def product_edit(request, pk: int):
    product = get_object_or_404(Product, pk=pk)
    form = ProductForm(request.POST or None, request.FILES or None, instance=Product.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            catalogue_services.product_update(
                actor=request.user, product=product, data=_product_data(form), request=request
            )
        except (StockError, ValidationError) as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"Saved {form.cleaned_data['name']}.")
            return redirect(product)
    return render(request, "inventory/product_form.html", {"form": form, "product": product})


@require_perm(Perm.MANAGE_CATALOGUE)
@require_POST
def product_toggle_active(request, pk: int):
    product = get_object_or_404(Product, pk=pk)
    form = DeactivateForm(request.POST)
    form.is_valid()
    catalogue_services.product_set_active(
        actor=request.user,
        product=product,
        active=not product.is_active,
        reason=form.cleaned_data.get("reason", ""),
        request=request,
    )
    messages.success(
        request, f"{product.name} {'deactivated: no longer sold' if product.is_active else 'is active again'}."
    )
    return redirect(product)


@require_perm(Perm.MANAGE_CATALOGUE)
@require_POST
def product_delete(request, pk: int):
    product = get_object_or_404(Product, pk=pk)
    try:
        catalogue_services.product_delete(actor=request.user, product=product, request=request)
    except StockError as exc:
        messages.error(request, exc.message)
        return redirect(product)
    messages.success(request, f"{product.name} deleted.")
    return redirect("inventory:product_list")


@require_perm(Perm.VIEW_PRODUCTS)
@require_GET
def product_lookup(request):
    """Options for a product box's list as the user types (a <datalist> fragment)."""
    query = request.GET.get("q", "").strip() or request.GET.get("product", "").strip()
    products = product_search(query=query, branch_id=request.user.branch_id, limit=12) if len(query) >= 2 else []
    return render(request, "inventory/_product_options.html", {"products": products})


# ---------------------------------------------------------------------------- CSV
class _Echo:
    def write(self, value):
        return value


@require_perm(Perm.MANAGE_CATALOGUE)
@require_GET
def product_export(request):
    """Every product with its stock at the viewing branch, streamed (a big catalogue never sits in memory)."""
    branch = viewing_branch(request)
    writer = csv.writer(_Echo())
    rows = (writer.writerow(row) for row in import_services.product_export_rows(branch_id=branch.pk))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="products-{branch.code.lower()}.csv"'
    return response


@require_perm(Perm.MANAGE_CATALOGUE)
@require_GET
def import_template(request):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="products-template.csv"'
    writer = csv.writer(response)
    writer.writerow(import_services.COLUMNS)
    writer.writerows(import_services.TEMPLATE_ROWS)
    return response


@require_perm(Perm.MANAGE_CATALOGUE)
@require_http_methods(["GET", "POST"])
def import_upload(request):
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            product_import = import_services.product_import_preview(
                user=request.user, branch=request.user.branch, file_name=upload.name, raw=upload.read()
            )
        except StockError as exc:
            add_domain_error(form, exc, field="file")
        else:
            return redirect(product_import)
    # An import belongs to the branch it was uploaded at (its opening stock lands there): staff see their own.
    recent = for_viewer(ProductImport.objects.select_related("uploaded_by"), request.user)
    recent = recent.order_by("-created_at")[:10]
    return render(
        request, "inventory/import_upload.html", {"form": form, "recent": recent, "columns": import_services.COLUMNS}
    )


def _import_context(product_import):
    done, total = import_services.import_progress(product_import)
    percent = int(done * 100 / total) if total else 0
    return {"import": product_import, "done": done, "total": total, "percent": percent}


@require_perm(Perm.MANAGE_CATALOGUE)
def import_detail(request, pk: int):
    imports = for_viewer(ProductImport.objects.select_related("uploaded_by", "branch"), request.user)
    product_import = get_object_or_404(imports, pk=pk)
    context = _import_context(product_import)
    if request.htmx and request.GET.get("progress"):
        return render(request, "inventory/import_detail.html#progress", context)
    show = request.GET.get("show", "")
    rows = product_import.rows
    if show in ("create", "update", "reject", "unchanged"):
        rows = [row for row in rows if row["action"] == show]
    context.update({"rows": rows[:1000], "hidden_rows": max(len(rows) - 1000, 0), "show": show})
    return render(request, "inventory/import_detail.html", context)


@require_perm(Perm.MANAGE_CATALOGUE)
@require_POST
def import_confirm(request, pk: int):
    product_import = get_object_or_404(for_viewer(ProductImport.objects.all(), request.user), pk=pk)
    try:
        product_import = import_services.product_import_confirm(user=request.user, product_import=product_import)
    except StockError as exc:
        messages.error(request, exc.message)
    else:
        if product_import.status == ImportStatus.DONE:
            messages.success(
                request, f"Imported: {product_import.created_count} added, {product_import.updated_count} updated."
            )
        elif product_import.status == ImportStatus.FAILED:
            messages.error(request, f"Nothing was imported: {product_import.error}")
        else:
            messages.info(request, "The import is running; this page shows its progress.")
    return redirect(product_import)


# ---------------------------------------------------------------------------- categories and units
@require_perm(Perm.MANAGE_CATALOGUE)
def category_list(request):
    categories = CategoryTable(
        Category.objects.annotate(product_count=Count("products")).order_by("sort_order", "name"), orderable=False
    )
    RequestConfig(request, paginate=False).configure(categories)
    units = UnitTable(Unit.objects.annotate(product_count=Count("products")).order_by("name"), orderable=False)
    return render(request, "inventory/category_list.html", {"categories": categories, "units": units})


def _simple_form(
    request,
    *,
    form,
    service,
    instance,
    title,
    success_url,
    template="inventory/simple_form.html",
    instance_arg="instance",
):
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.fields}
        try:
            saved = service(actor=request.user, data=data, **({instance_arg: instance} if instance else {}))
        except (StockError, ValidationError) as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"Saved {saved}.")
            return redirect(success_url(saved))
    back = reverse("inventory:category_list")
    return render(request, template, {"form": form, "title": title, "instance": instance, "back": back})


@require_perm(Perm.MANAGE_CATALOGUE)
@require_http_methods(["GET", "POST"])
def category_create(request):
    return _simple_form(
        request,
        form=CategoryForm(request.POST or None),
        service=catalogue_services.category_save,
        instance=None,
        title="New category",
        success_url=lambda c: reverse("inventory:category_list"),
    )


@require_perm(Perm.MANAGE_CATALOGUE)
@require_http_methods(["GET", "POST"])
def category_edit(request, pk: int):
    category = get_object_or_404(Category, pk=pk)
    return _simple_form(
        request,
        form=CategoryForm(request.POST or None, instance=Category.objects.get(pk=pk)),
        service=catalogue_services.category_save,
        instance=category,
        title=category.name,
        success_url=lambda c: reverse("inventory:category_list"),
        instance_arg="category",
    )


@require_perm(Perm.MANAGE_CATALOGUE)
@require_http_methods(["GET", "POST"])
def unit_create(request):
    return _simple_form(
        request,
        form=UnitForm(request.POST or None),
        service=catalogue_services.unit_save,
        instance=None,
        title="New unit",
        success_url=lambda u: reverse("inventory:category_list"),
    )


@require_perm(Perm.MANAGE_CATALOGUE)
@require_http_methods(["GET", "POST"])
def unit_edit(request, pk: int):
    unit = get_object_or_404(Unit, pk=pk)
    return _simple_form(
        request,
        form=UnitForm(request.POST or None, instance=Unit.objects.get(pk=pk)),
        service=catalogue_services.unit_save,
        instance=unit,
        title=unit.name,
        success_url=lambda u: reverse("inventory:category_list"),
        instance_arg="unit",
    )


# ---------------------------------------------------------------------------- the ledger
@require_perm(Perm.VIEW_STOCK_MOVEMENTS)
def movement_index(request):
    qs = movement_list(viewer=request.user)
    branch_id = request.GET.get("branch")
    branches = _branches(request)
    if branches and branch_id and branch_id.isdigit():
        qs = qs.filter(branch_id=int(branch_id))
    movement_filter = MovementFilter(request.GET or None, queryset=qs, viewer=request.user)
    rows = movement_filter.qs if movement_filter.is_bound and movement_filter.is_valid() else qs
    table = MovementTable(
        rows, show_cost=request.user.has_perm(Perm.VIEW_COST_PRICES), order_by=request.GET.get("sort")
    )
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    context = {"filter": movement_filter, "table": table, "branches": branches, "branch_id": branch_id}
    return render_partial(request, "inventory/movement_list.html", "movement-table", context)


# ---------------------------------------------------------------------------- alerts
@require_perm(Perm.VIEW_ALERTS)
def alert_list(request):

    qs = for_viewer(StockAlert.objects.select_related("product", "branch"), request.user)
    alert_filter = AlertFilter(request.GET, queryset=qs)
    table = AlertTable(alert_filter.qs, order_by=request.GET.get("sort") or "-opened_at")
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return render_partial(request, "inventory/alert_list.html", "alert-table", {"filter": alert_filter, "table": table})


# ---------------------------------------------------------------------------- adjustments
@require_perm(Perm.REQUEST_ADJUSTMENT)
def adjustment_index(request):
    qs = adjustment_list(viewer=request.user)
    adjustment_filter = AdjustmentFilter(request.GET, queryset=qs)
    table = AdjustmentTable(adjustment_filter.qs, order_by=request.GET.get("sort") or "-created_at")
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    context = {"filter": adjustment_filter, "table": table}
    return render_partial(request, "inventory/adjustment_list.html", "adjustment-table", context)


@require_perm(Perm.REQUEST_ADJUSTMENT)
@require_http_methods(["GET", "POST"])
def adjustment_request(request):
    initial = {"branch": request.user.branch_id, "product": request.GET.get("product", "")}
    form = AdjustmentRequestForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        counted = data["quantity"] if data["mode"] == AdjustmentRequestForm.MODE_COUNTED else None
        delta = data["quantity"] if data["mode"] == AdjustmentRequestForm.MODE_DELTA else None
        try:
            adjustment = adjustment_services.stock_adjustment_request(
                user=request.user,
                product=data["product"],
                branch=data["branch"],
                reason=data["reason"],
                note=data["note"],
                counted_quantity=counted,
                delta=delta,
            )
        except StockError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                f"{adjustment.number} sent: {adjustment.product.name} {_signed(adjustment.delta)}. "
                "It changes stock once a manager approves it.",
            )
            return redirect(adjustment)
    return render(request, "inventory/adjustment_request.html", {"form": form})


def _signed(value: Decimal) -> str:

    return signed_qty(value)


@require_perm(Perm.REQUEST_ADJUSTMENT)
def adjustment_detail(request, pk: int):
    adjustment = get_object_or_404(adjustment_list(viewer=request.user).select_related("movement"), pk=pk)
    return render(request, "inventory/adjustment_detail.html", {"adjustment": adjustment})


def _with_current_stock(rows):
    """Pending rows get the stock on hand now and what approving would leave (one query)."""
    by_branch: dict[int, list] = {}
    for row in rows:
        if row.is_pending:
            by_branch.setdefault(row.branch_id, []).append(row)
    for branch_id, branch_rows in by_branch.items():
        stock = stock_on_hand_map(product_ids={r.product_id for r in branch_rows}, branch_id=branch_id)
        for row in branch_rows:
            row.current_stock = stock.get(row.product_id, Decimal("0"))
            row.projected = row.current_stock + row.delta
    return rows


@require_perm(Perm.APPROVE_ADJUSTMENT)
def approvals(request):
    pending = _with_current_stock(list(pending_adjustments(viewer=request.user).select_related("product__unit")))
    return render_partial(
        request, "inventory/approvals.html", "approvals-table", {"rows": pending, "pending_count": len(pending)}
    )


def _decided_row(request, adjustment, error: str = ""):
    """The row, decided (or still pending with the reason it was refused), and the count out of band."""
    row = adjustment_list(viewer=request.user).select_related("product__unit").get(pk=adjustment.pk)
    _with_current_stock([row])
    row.error = error
    pending_count = pending_adjustments(viewer=request.user).count()
    html = render_to_string("inventory/approvals.html#approval-row", {"row": row}, request=request)
    html += render_to_string(
        "inventory/approvals.html#pending-count", {"pending_count": pending_count, "oob_count": True}, request=request
    )
    response = HttpResponse(html)
    if not error:
        trigger_client_event(response, "adjustmentDecided", {"id": row.pk, "status": row.status})
    return response


def _decide_one(request, pk: int, *, approve: bool):
    adjustment = get_object_or_404(adjustment_list(viewer=request.user), pk=pk)
    note = request.POST.get(f"note-{pk}", request.POST.get("note", ""))
    try:
        if approve:
            adjustment_services.stock_adjustment_approve(
                adjustment=adjustment, user=request.user, note=note, request=request
            )
        else:
            adjustment_services.stock_adjustment_reject(
                adjustment=adjustment, user=request.user, note=note, request=request
            )
    except StockError as exc:
        if request.htmx:
            return _decided_row(request, adjustment, error=exc.message)
        messages.error(request, exc.message)
        return redirect("inventory:approvals")
    if request.htmx:
        return _decided_row(request, adjustment)
    messages.success(request, f"{adjustment.number} {'approved' if approve else 'rejected'}.")
    return redirect("inventory:approvals")


@require_perm(Perm.APPROVE_ADJUSTMENT)
@require_POST
def adjustment_approve(request, pk: int):
    return _decide_one(request, pk, approve=True)


@require_perm(Perm.APPROVE_ADJUSTMENT)
@require_POST
def adjustment_reject(request, pk: int):
    return _decide_one(request, pk, approve=False)


@require_perm(Perm.APPROVE_ADJUSTMENT)
@require_POST
def approvals_bulk(request):
    ids = [int(value) for value in request.POST.getlist("ids") if value.isdigit()]
    decision = request.POST.get("decision")
    visible = set(pending_adjustments(viewer=request.user).filter(pk__in=ids).values_list("pk", flat=True))
    if not ids or decision not in ("approve", "reject"):
        messages.error(request, "Tick at least one request, then approve or reject.")
        results = []
    else:
        results = adjustment_services.stock_adjustments_decide(
            adjustment_ids=sorted(visible),
            user=request.user,
            approve=decision == "approve",
            note=request.POST.get("bulk_note", ""),
            request=request,
        )
        done = [r for r in results if r.ok]
        failed = [r for r in results if not r.ok]
        if done:
            messages.success(
                request,
                f"{len(done)} request{'s' if len(done) != 1 else ''} "
                f"{'approved' if decision == 'approve' else 'rejected'}.",
            )
        for result in failed:
            messages.error(request, f"ADJ-{result.adjustment_id:06d}: {result.message}")
    if not request.htmx:
        return redirect("inventory:approvals")
    errors = {r.adjustment_id: r.message for r in results if not r.ok}
    pending = list(pending_adjustments(viewer=request.user).select_related("product__unit"))
    decided = list(
        adjustment_list(viewer=request.user)
        .filter(pk__in=[r.adjustment_id for r in results if r.ok])
        .select_related("product__unit")
    )
    rows = _with_current_stock(sorted(decided + pending, key=lambda a: (a.created_at, a.pk)))
    for row in rows:
        row.error = errors.get(row.pk, "")
    context = {"rows": rows, "pending_count": len(pending), "oob_count": True}
    return render(request, "inventory/approvals.html#approvals-table", context)


# ---------------------------------------------------------------------------- stock counts
@require_perm(Perm.COUNT_STOCK)
def count_index(request):
    table = CountTable(count_list(viewer=request.user), order_by=request.GET.get("sort") or "-created_at")
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    return render_partial(request, "inventory/count_list.html", "count-table", {"table": table})


@require_perm(Perm.COUNT_STOCK)
@require_http_methods(["GET", "POST"])
def count_start(request):
    form = CountStartForm(request.POST or None, user=request.user, initial={"branch": request.user.branch_id})
    if request.method == "POST" and form.is_valid():
        try:
            count = adjustment_services.stock_count_start(
                user=request.user,
                branch=form.cleaned_data["branch"],
                category=form.cleaned_data["category"],
                note=form.cleaned_data["note"],
            )
        except StockError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"{count.number} started: {count.lines.count()} products to count.")
            return redirect(count)
    return render(request, "inventory/count_start.html", {"form": form})


COUNT_SHEET_LIMIT = 500


def _count_context(request, count, *, highlight: int | None = None):
    show = request.GET.get("show", "") or request.POST.get("show", "")
    query = (request.GET.get("q", "") or request.POST.get("q", "")).strip()
    lines = count.lines.select_related("product", "product__unit", "counted_by")
    if show == "todo":
        lines = lines.filter(counted_quantity__isnull=True)
    elif show == "counted":
        lines = lines.filter(counted_quantity__isnull=False)
    if query:

        lines = lines.filter(product__in=search_products(Product.objects.all(), query).values("pk"))
    rows = list(lines.order_by("product__name")[: COUNT_SHEET_LIMIT + 1])
    more = len(rows) > COUNT_SHEET_LIMIT
    rows = rows[:COUNT_SHEET_LIMIT]
    if highlight and all(line.pk != highlight for line in rows):
        rows.insert(
            0, StockCountLine.objects.select_related("product", "product__unit", "counted_by").get(pk=highlight)
        )
    if show == "variance":
        rows = [line for line in rows if line.variance not in (None, 0)]
    totals = count.lines.aggregate(total=Count("pk"), counted=Count("counted_quantity"))
    return {
        "count": count,
        "rows": rows,
        "more": more,
        "show": show,
        "query": query,
        "highlight": highlight,
        "totals": totals,
        "is_open": count.status == CountStatus.OPEN,
        "may_post": request.user.has_perm(Perm.APPROVE_ADJUSTMENT),
    }


def _visible_count(request, pk: int) -> StockCount:
    return get_object_or_404(
        for_viewer(StockCount.objects.select_related("branch", "category", "started_by"), request.user), pk=pk
    )


@require_perm(Perm.COUNT_STOCK)
def count_detail(request, pk: int):
    count = _visible_count(request, pk)
    context = _count_context(request, count)
    if count.status == CountStatus.POSTED:
        context["adjustments"] = count.adjustments.select_related("product", "product__unit").order_by("product__name")
    return render_partial(request, "inventory/count_detail.html", "count-lines", context)


@require_perm(Perm.COUNT_STOCK)
@require_POST
def count_line_save(request, pk: int, line_pk: int):
    count = _visible_count(request, pk)
    line = get_object_or_404(StockCountLine.objects.select_related("product"), pk=line_pk, count=count)
    error = ""
    try:
        quantity = parse_quantity(request.POST.get("counted"))
        line = adjustment_services.stock_count_enter(
            count=count, product=line.product, counted_quantity=quantity, user=request.user
        )
    except ValueError as exc:
        error = str(exc)
    except StockError as exc:
        error = exc.message
    if not request.htmx:
        if error:
            messages.error(request, f"{line.product.name}: {error}")
        return redirect(count)
    line = StockCountLine.objects.select_related("product", "product__unit", "counted_by").get(pk=line.pk)
    context = {"line": line, "count": count, "is_open": True, "error": error, "typed": request.POST.get("counted", "")}
    context["totals"] = count.lines.aggregate(total=Count("pk"), counted=Count("counted_quantity"))
    context["oob_totals"] = True
    return render(request, "inventory/count_detail.html#count-line", context)


@require_perm(Perm.COUNT_STOCK)
@require_POST
def count_scan(request, pk: int):
    count = _visible_count(request, pk)
    add_one = request.POST.get("add_one") == "on"
    try:
        line = adjustment_services.stock_count_scan(
            count=count, code=request.POST.get("code", ""), user=request.user, add_one=add_one
        )
    except StockError as exc:
        if not request.htmx:
            messages.error(request, exc.message)
            return redirect(count)
        response = render(
            request,
            "inventory/count_detail.html#count-lines",
            {**_count_context(request, count), "scan_error": exc.message},
        )
        return trigger_client_event(response, "countScanFailed", {"message": exc.message}, after="settle")
    if not request.htmx:
        return redirect(f"{count.get_absolute_url()}?q={line.product.sku}")
    response = render(
        request, "inventory/count_detail.html#count-lines", _count_context(request, count, highlight=line.pk)
    )
    return trigger_client_event(response, "countLineScanned", {"line": line.pk, "add_one": add_one}, after="settle")


@require_perm(Perm.APPROVE_ADJUSTMENT)
@require_POST
def count_post(request, pk: int):
    count = _visible_count(request, pk)
    try:
        adjustments = adjustment_services.stock_count_post(count=count, user=request.user, request=request)
    except StockError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"{count.number} posted: {len(adjustments)} product{'s' if len(adjustments) != 1 else ''} corrected.",
        )
    if request.htmx:
        return HttpResponseClientRedirect(count.get_absolute_url())
    return redirect(count)


@require_perm(Perm.COUNT_STOCK)
@require_POST
def count_cancel(request, pk: int):
    count = _visible_count(request, pk)
    try:
        adjustment_services.stock_count_cancel(count=count, user=request.user)
    except StockError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, f"{count.number} cancelled; stock is unchanged.")
    return redirect(count)
