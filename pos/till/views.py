"""The browser till: scan and search, the cart, overrides with a manager's PIN, hold/resume, pay.

Every cart change answers with the cart fragment and the totals, customer bar and scan feedback out of
band (`pos/till.html#cart-update`); nothing reloads the page. Dialogs (line, discount, void, customer,
held sales, pay) are fragments of `pos/till_dialogs.html` shown in one modal; without JavaScript each
is a page of its own and every form posts normally, so the till still works.

The till is the edge where sales meet the cash desk: its views call `cashdesk.services` (open a
session, check out); the sale services themselves never import the cash desk.
"""

import re
import uuid
from decimal import ROUND_CEILING, Decimal

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget, trigger_client_event

from cashdesk.services import PaymentError, sale_checkout, session_current, session_open, tender_figures
from core.db import run_retrying
from core.decimal_input import DecimalInputError, parse_decimal
from core.errors import DomainError
from core.forms import add_domain_error
from core.money import ZERO
from core.ops.queue import enqueue_on_commit
from core.permissions import require_perm
from core.roles import Perm
from inventory.barcodes import VALID_LENGTHS, barcode_problem
from inventory.errors import StockError
from inventory.models import Product
from inventory.scale_labels import ScaleLabelError
from inventory.selectors import category_products, product_for_scan, product_search, till_categories, till_favourites
from pos.customers.models import Customer
from pos.customers.selectors import customer_search
from pos.customers.services import CustomerError, customer_create
from pos.people.authorise import authoriser_from_post, pin_context
from pos.people.selectors import shop_settings
from pos.people.services import PinError
from pos.sales.models import Sale, SaleLine, SaleStatus
from pos.sales.receipts import receipt_grant
from pos.sales.selectors import (
    SALE_NUMBER,
    held_sales,
    held_sales_count,
    sale_amount_due,
    sale_amount_paid,
    vat_breakdown,
)
from pos.sales.services import (
    AuthorisationRequired,
    SaleError,
    sale_add_product,
    sale_add_scanned,
    sale_get_or_open,
    sale_hold,
    sale_line_override_price,
    sale_line_remove,
    sale_line_set_discount,
    sale_line_set_quantity,
    sale_resume,
    sale_set_cart_discount,
    sale_set_customer,
    sale_set_note,
    sale_void_open,
)
from pos.sales.tasks import receipt_email_send
from pos.till.forms import (
    TENDER_FIELDS,
    VOID_REASONS,
    DiscountForm,
    NoteForm,
    OpenSessionForm,
    PayForm,
    PriceOverrideForm,
    QuantityForm,
    QuickCustomerForm,
    ReasonForm,
    typed_tenders,
)

DIALOGS = "pos/till_dialogs.html"
ONE = Decimal("1")
SCAN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MULTIPLIER = re.compile(r"^\s*(\d{1,5}(?:[.,]\d{1,3})?)\s*[*xX×]\s*(\S.*)$")
SHORTCUTS = [
    ("F2", "Search"), ("F4", "Pay"), ("+ / −", "Quantity"), ("↑ ↓", "Choose line"), ("Enter", "Edit line"),
    ("Del", "Remove line"), ("F6", "Hold"), ("F7", "Held"), ("F8", "Customer"), ("F9", "Discount"), ("Esc", "Close"),
]


# ---------------------------------------------------------------------------- helpers
def _sale(request) -> Sale:
    return sale_get_or_open(cashier=request.user)


def _product_create_url(request) -> str | None:
    """The catalogue's "new product" page, for managers, when the inventory pages provide one."""
    if not request.user.has_perm(Perm.MANAGE_CATALOGUE):
        return None
    try:
        return reverse("inventory:product_create")
    except NoReverseMatch:
        return None


def _cart_context(request, sale: Sale, *, selected: int | None = None) -> dict:
    lines = list(sale.lines.all())
    if selected is None and lines:
        selected = lines[-1].pk
    return {
        "sale": sale,
        "lines": lines,
        "vat": vat_breakdown(lines),
        "selected_line": selected,
        "customer": sale.customer if sale.customer_id else None,
        "held_count": held_sales_count(user=request.user),
        "item_count": sum((line.quantity for line in lines), ZERO),
    }


def _cart_response(request, sale: Sale, *, selected=None, feedback: str = "", level: str = "success",
                   close_dialog: bool = False, extra: dict | None = None):
    """The cart after a change, with totals, customer bar and feedback out of band."""
    if not request.htmx:
        if feedback:
            messages.add_message(request, messages.ERROR if level == "danger" else messages.SUCCESS, feedback)
        return redirect("till:index")
    context = _cart_context(request, sale, selected=selected)
    context.update({"oob": True, "feedback": feedback, "level": level, **(extra or {})})
    response = render(request, "pos/till.html#cart-update", context)
    events = {}
    if close_dialog:
        events["till:dialog-close"] = True
    if level == "danger":
        events["till:error"] = feedback
    for name, value in events.items():
        trigger_client_event(response, name, value)
    return response


def _feedback(request, message: str, *, level: str = "danger", extra: dict | None = None):
    """Only the scan feedback (and search results) change: the cart stays as it is."""
    if not request.htmx:
        messages.error(request, message) if level == "danger" else messages.info(request, message)
        return redirect("till:index")
    response = render(request, "pos/till.html#feedback", {"feedback": message, "level": level, **(extra or {})})
    response = retarget(response, "#scan-feedback")
    response = reswap(response, "innerHTML")
    if level == "danger":
        trigger_client_event(response, "till:error", message)
    return response


def _dialog(request, partial: str, context: dict, *, status: int = 200):
    """A till dialog: into the modal for htmx, a page of its own without JavaScript."""
    context = {**context, "dialog": partial}
    if request.htmx:
        response = render(request, f"{DIALOGS}#{partial}", context, status=status)
        if request.method == "POST":  # the form again, with its errors: back into the dialog, not the cart
            response = reswap(retarget(response, "#till-dialog-content"), "innerHTML")
        return response
    return render(request, "pos/till_dialog_page.html", context, status=status)


def _guarded(request, *, perm: str, run, partial: str, context: dict, form, pin_always: bool = True):
    """Run a till action that may need a manager; show its dialog again (with the PIN) when it does."""
    try:
        authoriser = authoriser_from_post(request, perm=perm)
        return run(authoriser)
    except PinError as exc:
        pin = pin_context(request, perm=perm, error=exc.message, always=True)
    except AuthorisationRequired as exc:
        pin = pin_context(request, perm=exc.perm, message=exc.message, always=True)
    except DomainError as exc:
        add_domain_error(form, exc)
        pin = pin_context(request, perm=perm, always=pin_always)
    return _dialog(request, partial, {**context, "form": form, **pin})


def _open_line(request, pk: int) -> SaleLine:
    """A line of this cashier's open sale (404 for anyone else's)."""
    return get_object_or_404(
        SaleLine.objects.select_related("sale", "product__unit"), pk=pk, sale__open_for_cashier=request.user.pk
    )


# ---------------------------------------------------------------------------- the page
@require_perm(Perm.USE_TILL)
@require_GET
def index(request):
    sale = _sale(request)
    if request.htmx:
        return render(request, "pos/till.html#cart-update", {**_cart_context(request, sale), "oob": True})
    query = request.GET.get("q", "").strip()
    category = request.GET.get("category", "")
    context = _cart_context(request, sale)
    context.update(
        {
            "favourites": till_favourites(),
            "categories": till_categories(),
            "category_id": int(category) if category.isdigit() else None,
            "grid": category_products(category_id=int(category)) if category.isdigit() else None,
            "query": query,
            "results": product_search(query=query, branch_id=request.user.branch_id) if query else None,
            "cash_session": session_current(cashier=request.user),
            "shortcuts": SHORTCUTS,
            "product_create_url": _product_create_url(request),
        }
    )
    return render(request, "pos/till.html", context)


@require_perm(Perm.USE_TILL)
@require_GET
def search(request):
    query = request.GET.get("q", "").strip()
    if not request.htmx:
        return redirect(f"{reverse('till:index')}?q={query}" if query else reverse("till:index"))
    if len(query) < 2:  # one letter matches half the shop: wait for more
        return HttpResponse("")
    results = product_search(query=query, branch_id=request.user.branch_id, limit=12)
    return render(request, "pos/till.html#search-results", {"results": results, "query": query})


@require_perm(Perm.USE_TILL)
@require_GET
def category(request, pk: int):
    products = category_products(category_id=pk)
    if not request.htmx:
        return redirect(f"{reverse('till:index')}?category={pk}")
    return render(request, "pos/till.html#product-grid", {"grid": products, "category_id": pk, "favourites": [],
                                                           "categories": till_categories()})


@require_perm(Perm.USE_TILL)
@require_GET
def favourites(request):
    if not request.htmx:
        return redirect("till:index")
    return render(request, "pos/till.html#product-grid", {"grid": None, "favourites": till_favourites(),
                                                           "categories": till_categories()})


# ---------------------------------------------------------------------------- adding
def _parse_multiplier(text: str) -> tuple[Decimal | None, str]:
    """`3*6161234567890` or `3 x soap` adds three: the cashier types the count before scanning.
    None when no count was typed (a product sold by weight then asks for its weight)."""
    match = MULTIPLIER.match(text)
    if match:
        return Decimal(match.group(1).replace(",", ".")), match.group(2).strip()
    return None, text.strip()


def _sold_by_weight(product: Product) -> bool:
    """Counted in fractions of its unit (kg, litre): the till asks how much instead of adding 1."""
    return product.unit.decimal_places > 0


def _scan_id(request) -> str | None:
    """The till's own id for this scan ("" when none was sent); None when it is not one we accept."""
    value = (request.POST.get("scan_id") or "").strip()
    return value if not value or SCAN_ID.match(value) else None


def _weigh(request, product: Product, *, scan_id: str = "", error: str = "", typed: str = ""):
    """Ask for the weight of a product sold by weight (keypad dialog) instead of adding 1 kg.

    The dialog carries a scan id (the scan's own, or a new one for a tap), so a double tap on its
    Add button adds the weight once.
    """
    context = {"product": product, "scan_id": scan_id or uuid.uuid4().hex, "error": error, "typed": typed}
    return _dialog(request, "weight", context)  # a POST's answer goes into the dialog, not the cart


def _add(request, product: Product, quantity: Decimal, *, scan_id: str = "", on_error=None):
    """Into the cashier's open sale: the service reads and locks it once (no read before it here)."""
    try:
        if scan_id:
            line = sale_add_scanned(product=product, user=request.user, quantity=quantity, scan_id=scan_id)
        else:
            line = sale_add_product(product=product, user=request.user, quantity=quantity)
    except SaleError as exc:
        return on_error(exc.message) if on_error else _feedback(request, exc.message)
    if line is None:  # this scan was added already (a retried request): show the cart as it is
        return _cart_response(request, _sale(request), close_dialog=on_error is not None)
    return _cart_response(request, line.sale, selected=line.pk, close_dialog=on_error is not None,
                          feedback=f"{line.product_name} × {line.quantity.normalize():f}")


def _unreadable_code(code: str) -> str | None:
    """Why a string of digits is not one barcode (glued scans, a partial read, a wrong check digit)."""
    if len(code) > max(VALID_LENGTHS):
        return f"{code} is more than one barcode ({len(code)} digits): scan one item at a time."
    if len(code) not in VALID_LENGTHS:
        return f"{code} is only part of a barcode ({len(code)} digits; a barcode has 8, 12 or 13): scan it again."
    problem = barcode_problem(code)
    return f"{code}: {problem}" if problem else None


@require_perm(Perm.USE_TILL)
@require_POST
def scan(request):
    """What the scanner (or the cashier) typed, then Enter: a barcode, SKU or scale label adds at once.

    The till sends each scan with its own `scan_id`, so a retried request never adds it twice.
    """
    text = (request.POST.get("q") or "").strip()
    scan_id = _scan_id(request)
    if scan_id is None:
        return _feedback(request, "That scan came with an id the till does not use: scan the item again.")
    if not text:
        return _feedback(request, "Scan a barcode or type a name first.", level="info")
    count, code = _parse_multiplier(text)
    try:
        found = product_for_scan(code=code)
    except ScaleLabelError as exc:
        return _feedback(request, exc.message)
    if found is not None:
        quantity = found.quantity
        if quantity is None:
            if count is None and _sold_by_weight(found.product):
                return _weigh(request, found.product, scan_id=scan_id)
            quantity = count or ONE
        elif count is not None:  # "2*label": two packs of the weight on the label
            quantity = count * quantity
        return _add(request, found.product, quantity, scan_id=scan_id)
    if SALE_NUMBER.match(code.upper()):  # a receipt's QR code: go to that sale for a return or a copy
        url = f"{reverse('sales:find')}?q={code.upper()}"
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    if code.isdigit():
        unreadable = _unreadable_code(code)
        if unreadable:
            return _feedback(request, unreadable)
        return _feedback(
            request,
            f"No product has the barcode {code}. Check the item or type its name.",
            extra={"unknown_code": code, "product_create_url": _product_create_url(request)},
        )
    results = product_search(query=code, branch_id=request.user.branch_id, limit=12)
    if len(results) == 1:
        if count is None and _sold_by_weight(results[0]):
            return _weigh(request, results[0], scan_id=scan_id)
        return _add(request, results[0], count or ONE, scan_id=scan_id)
    if not results:
        return _feedback(request, f"Nothing matches “{code}”.",
                         extra={"unknown_code": code, "product_create_url": _product_create_url(request)})
    if not request.htmx:
        return redirect(f"{reverse('till:index')}?q={code}")
    response = render(request, "pos/till.html#search-results", {"results": results, "query": code})
    return reswap(retarget(response, "#search-results"), "innerHTML")


@require_perm(Perm.USE_TILL)
@require_POST
def add(request, pk: int):
    """A favourite, category or search result tapped; or the weight typed in its dialog."""
    product = Product.objects.select_related("unit").filter(pk=pk).first()
    if product is None:
        return _feedback(request, "That product no longer exists.")
    scan_id = _scan_id(request)
    if scan_id is None:
        return _feedback(request, "That request came with an id the till does not use: tap the product again.")
    typed = (request.POST.get("quantity") or "").strip()
    in_dialog = "dialog" in request.POST

    def dialog_error(message: str):
        return _weigh(request, product, scan_id=scan_id, error=message, typed=typed)

    if not typed:
        if in_dialog:
            return dialog_error(f"Type the weight in {product.unit.code}.")
        if _sold_by_weight(product):
            return _weigh(request, product)
        return _add(request, product, ONE, scan_id=scan_id)
    try:
        quantity = parse_decimal(typed)
    except DecimalInputError:
        return dialog_error("That weight is not a number.") if in_dialog else _feedback(
            request, "That quantity is not a number."
        )
    return _add(request, product, quantity, scan_id=scan_id,
                on_error=dialog_error if in_dialog else None)


# ---------------------------------------------------------------------------- lines
@require_perm(Perm.USE_TILL)
@require_POST
def line_quantity(request, pk: int):
    line = _open_line(request, pk)
    form = QuantityForm(request.POST)
    if not form.is_valid():
        message = "; ".join(e for errors in form.errors.values() for e in errors)
        if "dialog" in request.POST:
            return _dialog(request, "line", _line_context(request, line, quantity_form=form))
        return _cart_response(request, line.sale, selected=line.pk, feedback=message, level="danger")
    data = form.cleaned_data
    quantity = data["quantity"] if data.get("quantity") is not None else line.quantity + data["delta"]
    try:
        line = sale_line_set_quantity(line=line, quantity=quantity, user=request.user)
    except SaleError as exc:
        message = exc.message
        if quantity <= 0:
            message += " To take the item off, use Remove."
        if "dialog" in request.POST:
            form.add_error("quantity", message)
            return _dialog(request, "line", _line_context(request, line, quantity_form=form))
        return _cart_response(request, line.sale, selected=line.pk, feedback=message, level="danger")
    return _cart_response(request, line.sale, selected=line.pk, close_dialog="dialog" in request.POST)


def _line_context(request, line: SaleLine, tab: str = "quantity", **forms) -> dict:
    limit = shop_settings().cashier_discount_limit_percent
    context = {
        "line": line,
        "quantity_form": QuantityForm(initial={"quantity": line.quantity.normalize()}),
        "discount_form": DiscountForm(initial={"kind": line.discount_kind or "PERCENT",
                                               "value": line.discount_value if line.discount_kind else None}),
        "price_form": PriceOverrideForm(initial={"unit_price": line.unit_price}),
        "discount_limit": limit,
        "tab": tab,
        "may_override": request.user.has_perm(Perm.AUTHORISE_OVERRIDES),
    }
    for name, form in forms.items():
        context[name] = form
        context["tab"] = name.replace("_form", "")
    context.update(pin_context(request, perm=Perm.AUTHORISE_OVERRIDES, always=context["tab"] == "price"))
    return context


@require_perm(Perm.USE_TILL)
@require_GET
def line_edit(request, pk: int):
    line = _open_line(request, pk)
    tab = request.GET.get("tab") if request.GET.get("tab") in ("quantity", "discount", "price") else "quantity"
    return _dialog(request, "line", _line_context(request, line, tab=tab))


@require_perm(Perm.USE_TILL)
@require_POST
def line_discount(request, pk: int):
    line = _open_line(request, pk)
    form = DiscountForm(request.POST)
    context = _line_context(request, line, discount_form=form)
    if not form.is_valid():
        return _dialog(request, "line", context)

    def run(authoriser):
        data = form.cleaned_data
        changed = sale_line_set_discount(line=line, kind=data["kind"], value=data["value"] or ZERO, user=request.user,
                                         authorised_by=authoriser, reason=data["reason"], request=request)
        return _cart_response(request, changed.sale, selected=line.pk, close_dialog=True, feedback="Discount applied.")

    return _guarded(request, perm=Perm.AUTHORISE_OVERRIDES, run=run, partial="line", context=context, form=form,
                    pin_always=False)


@require_perm(Perm.USE_TILL)
@require_POST
def line_price(request, pk: int):
    line = _open_line(request, pk)
    form = PriceOverrideForm(request.POST)
    context = _line_context(request, line, price_form=form)
    if not form.is_valid():
        return _dialog(request, "line", context)

    def run(authoriser):
        data = form.cleaned_data
        changed = sale_line_override_price(line=line, unit_price=data["unit_price"], user=request.user,
                                           reason=data["reason"], authorised_by=authoriser, request=request)
        return _cart_response(request, changed.sale, selected=line.pk, close_dialog=True,
                              feedback=f"Price of {line.product_name} changed.")

    return _guarded(request, perm=Perm.AUTHORISE_OVERRIDES, run=run, partial="line", context=context, form=form)


@require_perm(Perm.USE_TILL)
@require_http_methods(["GET", "POST"])
def line_remove(request, pk: int):
    line = _open_line(request, pk)
    form = ReasonForm(request.POST or None)
    context = {"line": line, "reasons": VOID_REASONS}
    if request.method == "GET" or not form.is_valid():
        return _dialog(request, "line-remove", {**context, "form": form,
                                                **pin_context(request, perm=Perm.AUTHORISE_OVERRIDES, always=True)})

    def run(authoriser):
        sale = sale_line_remove(line=line, user=request.user, reason=form.cleaned_data["reason"],
                                authorised_by=authoriser, request=request)
        return _cart_response(request, sale, close_dialog=True, feedback=f"{line.product_name} removed.")

    return _guarded(request, perm=Perm.AUTHORISE_OVERRIDES, run=run, partial="line-remove", context=context, form=form)


# ---------------------------------------------------------------------------- the whole sale
@require_perm(Perm.USE_TILL)
@require_http_methods(["GET", "POST"])
def cart_discount(request):
    sale = _sale(request)
    initial = {"kind": sale.cart_discount_kind or "PERCENT",
               "value": sale.cart_discount_value if sale.cart_discount_kind else None}
    form = DiscountForm(request.POST or None, initial=initial)
    context = {"sale": sale, "discount_limit": shop_settings().cashier_discount_limit_percent}
    if request.method == "GET" or not form.is_valid():
        return _dialog(request, "cart-discount", {**context, "form": form,
                                                  **pin_context(request, perm=Perm.AUTHORISE_OVERRIDES)})

    def run(authoriser):
        data = form.cleaned_data
        updated = sale_set_cart_discount(sale=sale, kind=data["kind"], value=data["value"] or ZERO, user=request.user,
                                         authorised_by=authoriser, reason=data["reason"], request=request)
        text = (
            f"KES {updated.cart_discount} off the sale." if updated.cart_discount else "Discount on the sale removed."
        )
        return _cart_response(request, updated, close_dialog=True, feedback=text)

    return _guarded(request, perm=Perm.AUTHORISE_OVERRIDES, run=run, partial="cart-discount", context=context,
                    form=form, pin_always=False)


@require_perm(Perm.USE_TILL)
@require_http_methods(["GET", "POST"])
def note(request):
    sale = _sale(request)
    form = NoteForm(request.POST or None, initial={"note": sale.note})
    if request.method == "POST" and form.is_valid():
        try:
            sale = sale_set_note(sale=sale, note=form.cleaned_data["note"], user=request.user)
        except SaleError as exc:
            add_domain_error(form, exc)
        else:
            feedback = "Note saved." if sale.note else "Note removed."
            return _cart_response(request, sale, close_dialog=True, feedback=feedback)
    return _dialog(request, "note", {"sale": sale, "form": form})


@require_perm(Perm.USE_TILL)
@require_http_methods(["GET", "POST"])
def void(request):
    sale = _sale(request)
    form = ReasonForm(request.POST or None)
    context = {"sale": sale, "line_count": sale.lines.count(), "reasons": ["Customer left", "Customer could not pay",
                                                                           "Rang up the wrong items"]}
    if request.method == "GET" or not form.is_valid():
        return _dialog(request, "void", {**context, "form": form,
                                         **pin_context(request, perm=Perm.AUTHORISE_OVERRIDES, always=True)})

    def run(authoriser):
        voided = sale_void_open(sale=sale, user=request.user, reason=form.cleaned_data["reason"],
                                authorised_by=authoriser, request=request)
        return _cart_response(request, _sale(request), close_dialog=True,
                              feedback=f"Sale voided (KES {voided.total}). The cart is empty.")

    return _guarded(request, perm=Perm.AUTHORISE_OVERRIDES, run=run, partial="void", context=context, form=form)


# ---------------------------------------------------------------------------- customers at the till
@require_perm(Perm.USE_TILL, Perm.VIEW_CUSTOMERS)
@require_http_methods(["GET", "POST"])
def customer(request):
    """Attach a customer to the sale (POST customer=<id>), or take them off (POST customer=)."""
    sale = _sale(request)
    if request.method == "POST":
        chosen = (request.POST.get("customer") or "").strip()
        person = None
        if chosen:
            person = Customer.objects.filter(pk=int(chosen) if chosen.isdigit() else 0, is_active=True).first()
            if person is None:
                return _dialog(request, "customer", {"sale": sale, "error": "That customer was not found.",
                                                     "create_form": QuickCustomerForm()})
        try:
            sale = sale_set_customer(sale=sale, customer=person, user=request.user)
        except SaleError as exc:
            return _dialog(
                request, "customer", {"sale": sale, "error": exc.message, "create_form": QuickCustomerForm()}
            )
        text = f"{person.name} is on this sale." if person else "Customer taken off the sale."
        return _cart_response(request, sale, close_dialog=True, feedback=text)
    query = request.GET.get("q", "").strip()
    context = {"sale": sale, "query": query, "results": customer_search(query=query) if query else None,
               "create_form": QuickCustomerForm(initial={"phone_number": query} if query[:1].isdigit() else {})}
    return _dialog(request, "customer", context)


@require_perm(Perm.USE_TILL, Perm.VIEW_CUSTOMERS)
@require_GET
def customer_lookup(request):
    query = request.GET.get("q", "").strip()
    if not request.htmx:
        return redirect(f"{reverse('till:customer')}?q={query}")
    return render(request, f"{DIALOGS}#customer-results", {"results": customer_search(query=query) if query else None,
                                                           "query": query})


@transaction.atomic
def _customer_new(request, sale: Sale, data: dict) -> tuple[Customer, Sale]:
    """The new customer and the sale that names them: both or neither."""
    person = customer_create(actor=request.user, data=data, request=request)
    return person, sale_set_customer(sale=sale, customer=person, user=request.user)


@require_perm(Perm.USE_TILL, Perm.MANAGE_CUSTOMERS)
@require_POST
def customer_new(request):
    """Register a customer in place and put them on the sale."""
    sale = _sale(request)
    form = QuickCustomerForm(request.POST)
    if form.is_valid():
        try:
            person, sale = run_retrying(lambda: _customer_new(request, sale, form.cleaned_data))
        except (CustomerError, SaleError) as exc:
            add_domain_error(form, exc)
        else:
            return _cart_response(
                request, sale, close_dialog=True, feedback=f"{person.name} registered and on this sale."
            )
    return _dialog(request, "customer", {"sale": sale, "create_form": form, "creating": True})


# ---------------------------------------------------------------------------- hold and resume
@require_perm(Perm.USE_TILL)
@require_POST
def hold(request):
    sale = _sale(request)
    try:
        sale_hold(sale=sale, user=request.user)
    except SaleError as exc:
        return _cart_response(request, sale, feedback=exc.message, level="danger")
    return _cart_response(request, _sale(request), close_dialog=True,
                          feedback=f"Sale held (KES {sale.total}). Resume it from Held sales (F7).")


@require_perm(Perm.USE_TILL)
@require_GET
def held(request):
    sale = _sale(request)
    return _dialog(request, "held", {"held": held_sales(user=request.user), "cart_has_lines": sale.lines.exists()})


@require_perm(Perm.USE_TILL)
@require_POST
def resume(request, pk: int):
    target = get_object_or_404(Sale, pk=pk, status=SaleStatus.HELD, branch_id=request.user.branch_id)
    try:
        sale = sale_resume(sale=target, user=request.user, hold_current=request.POST.get("hold_current") == "1")
    except SaleError as exc:
        current = _sale(request)
        return _dialog(request, "held", {"held": held_sales(user=request.user), "error": exc.message,
                                         "cart_has_lines": current.lines.exists()})
    return _cart_response(request, sale, close_dialog=True, feedback=f"Sale resumed: {sale.lines.count()} lines.")


# ---------------------------------------------------------------------------- paying
def _quick_cash(total: Decimal) -> list[Decimal]:
    """Exact, then the notes a customer is likely to hand over."""
    amounts = [total]
    for step in (Decimal("50"), Decimal("100"), Decimal("500"), Decimal("1000")):
        rounded = (total / step).to_integral_value(rounding=ROUND_CEILING) * step
        if rounded > total and rounded not in amounts:
            amounts.append(rounded)
    return amounts[:5]


def _points_worth(customer: Customer) -> Decimal:
    return (customer.loyalty_points * shop_settings().loyalty_point_value).quantize(Decimal("0.01"))


def _pay_figures(sale: Sale, data, *, fill: str = "") -> dict:
    """The pay panel's summary: what is due, and paid / still to pay / change for the amounts typed so
    far, by the cash desk's own rule (`tender_figures`), so the browser does no sums with money.

    `fill` names an amount box to fill with the rest of what is due (its "Rest" / "Use" button); loyalty
    points pay at most what they are worth.
    """
    data = data.dict() if hasattr(data, "dict") else dict(data or {})
    # a payment confirmed before checkout (an M-Pesa push the customer accepted) already counts
    due = sale_amount_due(sale=sale)
    context = {"sale": sale, "paid_already": sale_amount_paid(sale=sale), "due": due, "fill": "", "fill_value": None}
    if fill in TENDER_FIELDS:
        rest = tender_figures(due=due, tenders=typed_tenders(data, without=fill)).still_due
        if fill == "loyalty" and sale.customer_id:
            rest = min(rest, _points_worth(sale.customer))
        data[fill] = f"{rest}"
        context.update(fill=fill, fill_value=rest)
    context["figures"] = tender_figures(due=due, tenders=typed_tenders(data))
    return context


def _pay_context(request, sale: Sale, *, form=None, session_form=None, error: str = "") -> dict:
    session = session_current(cashier=request.user)
    customer = sale.customer if sale.customer_id else None
    context = _pay_figures(sale, form.data if form is not None and form.is_bound else {})
    due = context["due"]
    context.update({
        "cash_session": session,
        "session_form": session_form or OpenSessionForm(),
        "form": form or PayForm(initial={"sale": sale.pk, "idempotency_key": uuid.uuid4().hex}),
        "error": error,
        "customer": customer,
        "quick_cash": _quick_cash(due) if due else [],
        "line_count": sale.lines.count(),
    })
    if customer is not None:
        context["credit_room"] = max(customer.credit_limit - customer.balance, ZERO)
        context["points_worth"] = _points_worth(customer)
    return context


@require_perm(Perm.USE_TILL, Perm.TAKE_PAYMENT)
@require_GET
def pay(request):
    """The pay panel. Opening it makes the idempotency key the checkout will send."""
    return _dialog(request, "pay", _pay_context(request, _sale(request)))


@require_perm(Perm.USE_TILL, Perm.TAKE_PAYMENT)
@require_GET
def pay_summary(request):
    """The pay panel's figures for the amounts typed so far (htmx, as the cashier types); without
    JavaScript the pay page itself shows them when the form comes back."""
    if not request.htmx:
        return redirect("till:pay")
    context = _pay_figures(_sale(request), request.GET, fill=request.GET.get("fill", ""))
    return render(request, f"{DIALOGS}#pay-summary", context)


@require_perm(Perm.USE_TILL, Perm.USE_OWN_CASH_SESSION)
@require_POST
def cash_session_open(request):
    """Open the cashier's cash session from the pay panel (the cash desk has the full pages)."""
    sale = _sale(request)
    form = OpenSessionForm(request.POST)
    if form.is_valid():
        try:
            session_open(cashier=request.user, opening_float=form.cleaned_data["opening_float"])
        except PaymentError as exc:
            add_domain_error(form, exc)
        else:
            return _dialog(request, "pay", _pay_context(request, sale))
    return _dialog(request, "pay", _pay_context(request, sale, session_form=form))


@require_perm(Perm.USE_TILL, Perm.TAKE_PAYMENT)
@require_POST
def checkout(request):
    """Complete the sale through `sale_checkout`, once: the same key always answers with the same sale."""
    form = PayForm(request.POST)
    sale_id = request.POST.get("sale", "")
    sale = get_object_or_404(Sale, pk=int(sale_id) if sale_id.isdigit() else 0, cashier=request.user)
    if not form.is_valid():
        return _dialog(request, "pay", _pay_context(request, sale, form=form))
    try:
        sale = sale_checkout(
            sale=sale,
            user=request.user,
            tenders=form.tenders(),
            idempotency_key=form.cleaned_data["idempotency_key"],
            request=request,
        )
    except (PaymentError, SaleError, StockError) as exc:
        if exc.field in form.fields:
            add_domain_error(form, exc)
            return _dialog(request, "pay", _pay_context(request, sale, form=form))
        return _dialog(request, "pay", _pay_context(request, sale, form=form, error=exc.message))
    receipt_grant(request, sale, "original")
    if sale.customer_id and sale.customer.email and not sale.receipt_emailed_at:

        # Queue down: no e-mail now; the sale's page can send the receipt again.
        enqueue_on_commit(receipt_email_send, sale.pk, fallback="skip")
    url = reverse("sales:receipt", args=[sale.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
