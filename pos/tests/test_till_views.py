"""The till's views: every one as a full page and as an htmx fragment, bad input, the PIN flow, speed."""

import re
import uuid
from decimal import Decimal as D

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cashdesk.models import CashSession, Payment
from cashdesk.tests.factories import open_session
from core.roles import Role
from inventory.selectors import stock_on_hand
from inventory.tests.factories import CategoryFactory, ProductFactory, stock_in
from pos.customers.models import Customer
from pos.people.audit import AuditAction
from pos.people.models import AuditLog
from pos.sales.models import Sale, SaleStatus
from pos.sales.services import sale_add_product, sale_get_or_open
from pos.tests.factories import DEFAULT_PIN, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def hx_post(client, url, data=None):
    return client.post(url, data or {}, **HX)


def hx_get(client, url, data=None):
    return client.get(url, data or {}, **HX)


@pytest.fixture
def shelf(branch):
    groceries = CategoryFactory(name="Groceries")
    soap = ProductFactory(name="Geisha soap 225g", selling_price=D("116.00"), category=groceries, is_favourite=True)
    bread = ProductFactory(name="Supaloaf bread 400g", selling_price=D("65.00"), tax_class="A", category=groceries)
    milk = ProductFactory(name="Brookside milk 500ml", selling_price=D("60.00"), category=groceries, is_favourite=True)
    for product in (soap, bread, milk):
        stock_in(product, branch, 20)
    return soap, bread, milk


def cart_of(user):
    return Sale.objects.get(open_for_cashier=user.pk)


def scan(client, code):
    return hx_post(client, reverse("till:scan"), {"q": code})


# ---------------------------------------------------------------------------- the page
def test_the_till_page(employee_client, shelf):
    response = employee_client.get(reverse("till:index"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-autofocus' in html and 'data-till-search' in html and "js/till.js" in html
    assert "Geisha soap 225g" in html  # a favourite button
    assert "Groceries" in html  # a category button
    assert (
        "data-camera-open" in html and 'class="btn btn-outline-secondary d-none"' in html
    )  # shown by till.js only when supported
    assert "<kbd>F4</kbd>" in html


def test_the_till_fragment_is_the_cart_with_totals_out_of_band(employee_client, shelf):
    response = hx_get(employee_client, reverse("till:index"))
    html = response.content.decode()
    assert "<html" not in html and 'id="cart"' in html
    assert re.search(r'id="cart-totals"[^>]*hx-swap-oob="true"', html)


def test_no_inline_scripts_styles_or_handlers(employee_client, shelf, employee):
    soap, *_ = shelf
    scan(employee_client, soap.barcode)
    line = cart_of(employee).lines.get()
    pages = [
        employee_client.get(reverse("till:index")),
        employee_client.get(reverse("till:pay")),
        hx_get(employee_client, reverse("till:line_edit", args=[line.pk])),
        hx_get(employee_client, reverse("till:customer")),
        hx_get(employee_client, reverse("till:line_remove", args=[line.pk])),
    ]
    for response in pages:
        html = response.content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline <script>"
        assert not re.search(r"\sstyle=\"", html), "inline style"
        assert not re.search(r"\son[a-z]+=\"", html), "inline event handler"
        assert "hx-on" not in html


# ---------------------------------------------------------------------------- scanning and searching
def test_a_scanned_barcode_adds_at_once(employee_client, employee, shelf):
    soap, *_ = shelf
    response = scan(employee_client, soap.barcode)
    html = response.content.decode()
    assert response.status_code == 200 and "Geisha soap 225g" in html
    assert re.search(r'id="cart-totals"[^>]*hx-swap-oob="true"', html) and "116.00" in html
    response = scan(employee_client, soap.barcode)
    line = cart_of(employee).lines.get()
    assert line.quantity == 2 and cart_of(employee).total == D("232.00")
    # the totals sent out of band are the new ones (not the cart as it was before the scan)
    assert re.search(r'data-testid="total">232.00<', response.content.decode())
    response = scan(employee_client, shelf[1].barcode)
    assert re.search(r'data-testid="total">297.00<', response.content.decode())


def test_a_count_before_the_code_adds_that_many(employee_client, employee, shelf):
    soap, *_ = shelf
    scan(employee_client, f"3*{soap.barcode}")
    assert cart_of(employee).lines.get().quantity == 3


def test_typing_a_name_and_enter(employee_client, employee, shelf):
    response = scan(employee_client, "supaloaf")  # one match: added
    assert cart_of(employee).lines.get().product_name == "Supaloaf bread 400g"
    response = scan(employee_client, "00ml")  # no barcode, a name with several… here one: milk
    assert cart_of(employee).lines.count() == 2
    ProductFactory(name="Geisha soap 90g")
    response = scan(employee_client, "geisha")  # several: the list to choose from, nothing added
    assert response["HX-Retarget"] == "#search-results"
    assert response.content.decode().count('data-search-result') == 2
    assert cart_of(employee).lines.count() == 2


def test_search_as_you_type(employee_client, shelf):
    response = hx_get(employee_client, reverse("till:search"), {"q": "brook"})
    html = response.content.decode()
    assert "Brookside milk 500ml" in html and "Geisha" not in html and "<html" not in html
    assert ">20<" in html  # stock at the branch
    assert hx_get(employee_client, reverse("till:search"), {"q": "b"}).content.strip() == b""  # one letter: nothing yet
    full = employee_client.get(reverse("till:search"), {"q": "brook"})
    assert full.status_code == 302 and full["Location"].endswith("?q=brook")
    page = employee_client.get(full["Location"])
    assert "Brookside milk 500ml" in page.content.decode()


def test_unknown_barcode_is_a_clear_message_and_changes_nothing(employee_client, employee, shelf):
    response = scan(employee_client, "6161234567890")
    html = response.content.decode()
    assert response["HX-Retarget"] == "#scan-feedback"
    assert "No product has the barcode 6161234567890" in html
    assert "till:error" in response["HX-Trigger"]
    assert "Create product" not in html  # not for a cashier
    assert not Sale.objects.filter(open_for_cashier=employee.pk, lines__isnull=False).exists()


def test_unknown_barcode_offers_managers_create_product(manager_client, shelf, monkeypatch):
    import pos.till.views as views

    real_reverse = views.reverse

    def fake_reverse(name, *args, **kwargs):
        if name == "inventory:product_create":
            return "/stock/products/new/"
        return real_reverse(name, *args, **kwargs)

    monkeypatch.setattr(views, "reverse", fake_reverse)
    html = scan(manager_client, "6161234567890").content.decode()
    assert 'href="/stock/products/new/?barcode=6161234567890"' in html and "Create product" in html


def test_without_the_catalogue_page_there_is_no_shortcut(manager_client, shelf):
    # inventory:product_create may not exist yet: the message still shows, without a dead link
    html = scan(manager_client, "6161234567890").content.decode()
    assert "No product has the barcode" in html


def test_favourite_and_category_buttons(employee_client, employee, shelf):
    soap, bread, _ = shelf
    response = hx_post(employee_client, reverse("till:add", args=[bread.pk]))
    assert "Supaloaf bread 400g" in response.content.decode()
    grid = hx_get(employee_client, reverse("till:category", args=[soap.category_id])).content.decode()
    assert "Supaloaf bread 400g" in grid and 'id="product-grid"' in grid
    favourites = hx_get(employee_client, reverse("till:favourites")).content.decode()
    assert "Geisha soap 225g" in favourites and "Supaloaf" not in favourites
    assert employee_client.get(reverse("till:category", args=[soap.category_id])).status_code == 302


@pytest.mark.parametrize("with_scan_id", [False, True])
def test_a_scan_costs_the_same_handful_of_queries_at_1_10_and_50_lines(employee_client, employee, shelf,
                                                                        with_scan_id):
    """Session, user, product, the open sale locked, its lines, the insert, the sale's totals, the held
    count, and the savepoint pair the test's transaction puts around the service: 10, however full.
    The till's own scan id adds its row, in a savepoint of its own: 13."""

    def scan(client, code):
        data = {"q": code, **({"scan_id": uuid.uuid4().hex} if with_scan_id else {})}
        return hx_post(client, reverse("till:scan"), data)

    expected = 13 if with_scan_id else 10
    products = [ProductFactory() for _ in range(51)]
    with CaptureQueriesContext(connection) as first:
        assert scan(employee_client, products[0].barcode).status_code == 200
    assert len(first) <= expected + 6  # the first item also makes the sale
    counts = {}
    for size in (1, 10, 50):
        for product in products[len(cart_of(employee).lines.all()):size]:
            sale_add_product(product=product, user=employee)
        assert cart_of(employee).lines.count() == size
        with CaptureQueriesContext(connection) as new_line:
            response = scan(employee_client, products[size].barcode)
        assert response.status_code == 200 and response.content.decode().count('data-testid="cart-line"') == size + 1
        with CaptureQueriesContext(connection) as same_line:  # the same product again: onto its line
            response = scan(employee_client, products[size].barcode)
        assert 'data-testid="line-qty">2<' in response.content.decode()
        cart_of(employee).lines.filter(product=products[size]).delete()
        counts[size] = (len(new_line), len(same_line))
    assert set(counts.values()) == {(expected, expected)}, counts


def test_every_cart_line_links_to_its_own_pages(employee_client, employee, shelf):
    """The per-line URLs are built once per render; each line still gets its own."""
    for product in shelf:
        scan(employee_client, product.barcode)
    html = hx_get(employee_client, reverse("till:index")).content.decode()
    for line in cart_of(employee).lines.all():
        item = re.search(rf'<li [^>]*data-line="{line.pk}".*?</li>', html, re.S).group(0)
        quantity, edit, remove = (reverse(f"till:{name}", args=[line.pk])
                                  for name in ("line_quantity", "line_edit", "line_remove"))
        assert item.count(f'action="{quantity}" hx-post="{quantity}"') == 2
        assert f'href="{edit}" hx-get="{edit}"' in item and f'href="{remove}"' in item
        assert f'hx-get="{remove}"' in item


def test_a_scan_adds_to_the_plain_line_of_its_product(employee_client, employee, manager, shelf):
    """A line with its own price or discount keeps it; the next scan of that product goes on a new line."""
    soap, bread, _ = shelf
    scan(employee_client, soap.barcode)
    scan(employee_client, bread.barcode)
    discounted = cart_of(employee).lines.get(product=soap)
    hx_post(employee_client, reverse("till:line_discount", args=[discounted.pk]), {"kind": "PERCENT", "value": "5"})
    scan(employee_client, soap.barcode)
    scan(employee_client, soap.barcode)
    sale = cart_of(employee)
    rows = [(line.product_id, line.position, line.quantity, line.discount_kind) for line in sale.lines.all()]
    assert rows == [(soap.pk, 1, D("1"), "PERCENT"), (bread.pk, 2, D("1"), ""), (soap.pk, 3, D("2"), "")]
    assert sale.total == D("110.20") + D("65.00") + D("232.00")
    stored = {line.pk: line.line_total for line in sale.lines.all()}
    assert sorted(stored.values()) == [D("65.00"), D("110.20"), D("232.00")]


def test_a_scan_spreads_a_discount_on_the_whole_sale_over_every_line(employee_client, employee, shelf):
    soap, bread, milk = shelf
    scan(employee_client, soap.barcode)
    scan(employee_client, bread.barcode)
    hx_post(employee_client, reverse("till:cart_discount"), {"kind": "AMOUNT", "value": "5"})
    scan(employee_client, milk.barcode)
    sale = cart_of(employee)
    shares = [line.cart_discount_share for line in sale.lines.all()]
    assert sum(shares) == D("5.00") and all(share > 0 for share in shares)
    assert sale.total == D("116.00") + D("65.00") + D("60.00") - D("5.00")
    assert sum(line.line_total for line in sale.lines.all()) == sale.total


def test_the_cart_survives_a_reload(employee_client, employee, shelf):
    soap, *_ = shelf
    scan(employee_client, soap.barcode)
    assert "Geisha soap 225g" in employee_client.get(reverse("till:index")).content.decode()


# ---------------------------------------------------------------------------- quantities
def test_plus_and_minus(employee_client, employee, shelf):
    soap, *_ = shelf
    scan(employee_client, soap.barcode)
    line = cart_of(employee).lines.get()
    url = reverse("till:line_quantity", args=[line.pk])
    hx_post(employee_client, url, {"delta": "1"})
    hx_post(employee_client, url, {"delta": "1"})
    hx_post(employee_client, url, {"delta": "-1"})
    line.refresh_from_db()
    assert line.quantity == 2


@pytest.mark.parametrize("data,message", [
    ({"quantity": "0"}, "more than zero"),
    ({"quantity": "-3"}, "more than zero"),
    ({"quantity": "abc"}, "Enter a number"),
    ({"quantity": "1.5"}, "whole numbers"),
    ({}, "Type a quantity"),
])
def test_bad_quantities_are_clear_and_change_nothing(employee_client, employee, shelf, data, message):
    soap, *_ = shelf
    scan(employee_client, soap.barcode)
    line = cart_of(employee).lines.get()
    response = hx_post(employee_client, reverse("till:line_quantity", args=[line.pk]), data)
    assert message in response.content.decode()
    line.refresh_from_db()
    assert line.quantity == 1 and cart_of(employee).total == D("116.00")


def test_minus_below_one_says_to_remove(employee_client, employee, shelf):
    soap, *_ = shelf
    scan(employee_client, soap.barcode)
    line = cart_of(employee).lines.get()
    html = hx_post(employee_client, reverse("till:line_quantity", args=[line.pk]), {"delta": "-1"}).content.decode()
    assert "use Remove" in html
    line.refresh_from_db()
    assert line.quantity == 1


def test_the_quantity_dialog(employee_client, employee, shelf):
    soap, *_ = shelf
    scan(employee_client, soap.barcode)
    line = cart_of(employee).lines.get()
    url = reverse("till:line_edit", args=[line.pk])
    fragment = hx_get(employee_client, url).content.decode()
    assert "<html" not in fragment and "Set quantity" in fragment and "data-keypad" in fragment
    page = employee_client.get(url).content.decode()
    assert "<html" in page and "Set quantity" in page  # without JavaScript: a page of its own
    response = hx_post(employee_client, reverse("till:line_quantity", args=[line.pk]), {"quantity": "4", "dialog": "1"})
    assert "till:dialog-close" in response["HX-Trigger"]
    line.refresh_from_db()
    assert line.quantity == 4
    response = hx_post(employee_client, reverse("till:line_quantity", args=[line.pk]), {"quantity": "0", "dialog": "1"})
    assert response["HX-Retarget"] == "#till-dialog-content" and "more than zero" in response.content.decode()


def test_someone_elses_line_is_not_found(employee_client, manager, shelf):
    soap, *_ = shelf
    sale = sale_get_or_open(cashier=manager)
    line = sale_add_product(sale=sale, product=soap, user=manager)
    assert hx_post(employee_client, reverse("till:line_quantity", args=[line.pk]), {"delta": "1"}).status_code == 404


def test_no_js_forms_post_and_come_back(employee_client, employee, shelf):
    soap, *_ = shelf
    response = employee_client.post(reverse("till:scan"), {"q": soap.barcode})
    assert response.status_code == 302 and response["Location"] == reverse("till:index")
    assert cart_of(employee).lines.count() == 1


# ---------------------------------------------------------------------------- discounts and the manager's PIN
@pytest.fixture
def rung_up(employee_client, employee, shelf):
    soap, *_ = shelf
    scan(employee_client, soap.barcode)
    return cart_of(employee).lines.get()


def test_a_small_discount_goes_through(employee_client, employee, rung_up):
    response = hx_post(
        employee_client, reverse("till:line_discount", args=[rung_up.pk]), {"kind": "PERCENT", "value": "5"}
    )
    assert "till:dialog-close" in response["HX-Trigger"]
    assert cart_of(employee).total == D("110.20")


def test_a_big_discount_asks_for_a_manager_then_takes_their_pin(employee_client, employee, manager, rung_up):
    url = reverse("till:line_discount", args=[rung_up.pk])
    response = hx_post(employee_client, url, {"kind": "PERCENT", "value": "20", "reason": "regular"})
    html = response.content.decode()
    assert response["HX-Retarget"] == "#till-dialog-content"
    assert "needs a manager" in html and 'data-testid="pin-box"' in html and manager.full_name in html
    assert cart_of(employee).total == D("116.00")
    wrong = hx_post(employee_client, url, {"kind": "PERCENT", "value": "20", "authoriser": manager.pk, "pin": "9999"})
    assert "Wrong PIN" in wrong.content.decode() and cart_of(employee).total == D("116.00")
    right = hx_post(employee_client, url, {"kind": "PERCENT", "value": "20", "reason": "regular",
                                           "authoriser": manager.pk, "pin": DEFAULT_PIN})
    assert "till:dialog-close" in right["HX-Trigger"]
    assert cart_of(employee).total == D("92.80")
    entry = AuditLog.objects.get(action=AuditAction.DISCOUNT)
    assert (entry.user, entry.authorised_by, entry.reason) == (employee, manager, "regular")


def test_the_pin_locks_after_repeated_failures(employee_client, employee, manager, rung_up):
    url = reverse("till:line_discount", args=[rung_up.pk])
    for _ in range(settings.TILL_PIN_MAX_FAILURES):
        hx_post(employee_client, url, {"kind": "PERCENT", "value": "20", "authoriser": manager.pk, "pin": "0000"})
    response = hx_post(
        employee_client, url, {"kind": "PERCENT", "value": "20", "authoriser": manager.pk, "pin": DEFAULT_PIN}
    )
    assert "Too many wrong PINs" in response.content.decode()
    assert cart_of(employee).total == D("116.00")
    assert AuditLog.objects.filter(action=AuditAction.PIN_LOCKED, object_id=str(manager.pk)).exists()


def test_a_cashier_cannot_authorise_with_their_own_pin(employee_client, employee, rung_up):
    other_cashier = UserFactory(role=Role.EMPLOYEE, branch=employee.branch)
    response = hx_post(employee_client, reverse("till:line_discount", args=[rung_up.pk]),
                       {"kind": "PERCENT", "value": "20", "authoriser": other_cashier.pk, "pin": DEFAULT_PIN})
    assert "cannot authorise" in response.content.decode()
    assert cart_of(employee).total == D("116.00")


def test_a_manager_discounts_without_a_pin(manager_client, manager, shelf):
    soap, *_ = shelf
    scan(manager_client, soap.barcode)
    line = cart_of(manager).lines.get()
    hx_post(manager_client, reverse("till:line_discount", args=[line.pk]), {"kind": "AMOUNT", "value": "50"})
    assert cart_of(manager).total == D("66.00")


def test_a_discount_above_the_line_is_refused(manager_client, manager, shelf):
    soap, *_ = shelf
    scan(manager_client, soap.barcode)
    line = cart_of(manager).lines.get()
    response = hx_post(
        manager_client, reverse("till:line_discount", args=[line.pk]), {"kind": "AMOUNT", "value": "500"}
    )
    assert "bigger than the amount it applies to" in response.content.decode()
    assert cart_of(manager).total == D("116.00")


def test_price_override_with_a_pin(employee_client, employee, manager, rung_up):
    url = reverse("till:line_price", args=[rung_up.pk])
    dialog = hx_get(employee_client, reverse("till:line_edit", args=[rung_up.pk]), {"tab": "price"}).content.decode()
    assert 'data-testid="pin-box"' in dialog
    no_reason = hx_post(employee_client, url, {"unit_price": "100", "authoriser": manager.pk, "pin": DEFAULT_PIN})
    assert "This field is required" in no_reason.content.decode()
    response = hx_post(
        employee_client, url, {"unit_price": "100", "reason": "dented", "authoriser": manager.pk, "pin": DEFAULT_PIN}
    )
    assert "till:dialog-close" in response["HX-Trigger"]
    rung_up.refresh_from_db()
    assert rung_up.unit_price == D("100.00") and rung_up.price_overridden_by == manager
    assert "<s" in response.content.decode()  # the catalogue price struck through in the cart


def test_line_void_with_a_pin_and_a_reason(employee_client, employee, manager, rung_up):
    url = reverse("till:line_remove", args=[rung_up.pk])
    dialog = hx_get(employee_client, url).content.decode()
    assert "Scanned by mistake" in dialog and 'data-testid="pin-box"' in dialog
    assert "<html" in employee_client.get(url).content.decode()
    refused = hx_post(employee_client, url, {"reason": "Scanned by mistake"})
    assert "needs a manager" in refused.content.decode() and cart_of(employee).lines.count() == 1
    done = hx_post(employee_client, url, {"reason": "Scanned by mistake", "authoriser": manager.pk, "pin": DEFAULT_PIN})
    assert "till:dialog-close" in done["HX-Trigger"] and cart_of(employee).lines.count() == 0
    assert AuditLog.objects.get(action=AuditAction.LINE_VOID).authorised_by == manager


def test_cart_discount_and_void_dialogs(employee_client, employee, manager, rung_up):
    fragment = hx_get(employee_client, reverse("till:cart_discount")).content.decode()
    assert "Discount on the whole sale" in fragment and "<html" not in fragment
    assert "<html" in employee_client.get(reverse("till:cart_discount")).content.decode()
    hx_post(employee_client, reverse("till:cart_discount"), {"kind": "AMOUNT", "value": "5"})
    assert cart_of(employee).cart_discount == D("5.00")
    void = reverse("till:void")
    assert "Void the sale" in hx_get(employee_client, void).content.decode()
    hx_post(employee_client, void, {"reason": "Customer left", "authoriser": manager.pk, "pin": DEFAULT_PIN})
    voided = Sale.objects.get(status=SaleStatus.VOIDED)
    assert voided.voided_by == manager and voided.void_reason == "Customer left"
    assert cart_of(employee).lines.count() == 0


def test_note(employee_client, employee, rung_up):
    assert "Note on this sale" in hx_get(employee_client, reverse("till:note")).content.decode()
    hx_post(employee_client, reverse("till:note"), {"note": "Deliver to gate B"})
    assert cart_of(employee).note == "Deliver to gate B"


# ---------------------------------------------------------------------------- customers at the till
def test_attach_a_customer_by_phone(employee_client, employee, rung_up):
    person = CustomerFactory(name="Wanjiku Kamau", phone_number="+254711000101")
    results = hx_get(employee_client, reverse("till:customer_lookup"), {"q": "0711 000 101"}).content.decode()
    assert "Wanjiku Kamau" in results
    assert "Wanjiku Kamau" in hx_get(employee_client, reverse("till:customer_lookup"), {"q": "wanji"}).content.decode()
    response = hx_post(employee_client, reverse("till:customer"), {"customer": person.pk})
    assert cart_of(employee).customer == person and "Wanjiku Kamau" in response.content.decode()
    hx_post(employee_client, reverse("till:customer"), {"customer": ""})
    assert cart_of(employee).customer is None


def test_create_a_customer_in_place(employee_client, employee, rung_up):
    response = hx_post(
        employee_client, reverse("till:customer_new"), {"name": "Baraka Otieno", "phone_number": "0722 111 222"}
    )
    assert "till:dialog-close" in response["HX-Trigger"]
    person = Customer.objects.get(name="Baraka Otieno")
    assert person.phone_number == "+254722111222" and cart_of(employee).customer == person
    again = hx_post(employee_client, reverse("till:customer_new"), {"name": "Someone", "phone_number": "0722111222"})
    assert "already has this phone number" in again.content.decode()
    bad = hx_post(employee_client, reverse("till:customer_new"), {"name": "X", "phone_number": "12"})
    assert "Kenyan mobile number" in bad.content.decode()
    assert Customer.objects.count() == 1


# ---------------------------------------------------------------------------- hold and resume
def test_hold_and_resume(employee_client, employee, rung_up, shelf):
    response = hx_post(employee_client, reverse("till:hold"))
    assert "Sale held" in response.content.decode()
    held = Sale.objects.get(status=SaleStatus.HELD)
    assert cart_of(employee).lines.count() == 0
    listing = hx_get(employee_client, reverse("till:held")).content.decode()
    assert "116.00" in listing and "Resume" in listing
    assert "<html" in employee_client.get(reverse("till:held")).content.decode()
    scan(employee_client, shelf[1].barcode)  # another sale in the cart
    refused = hx_post(employee_client, reverse("till:resume", args=[held.pk]))
    assert "Finish or hold the sale in the cart first" in refused.content.decode()
    hx_post(employee_client, reverse("till:resume", args=[held.pk]), {"hold_current": "1"})
    assert cart_of(employee).pk == held.pk
    assert Sale.objects.filter(status=SaleStatus.HELD).count() == 1


def test_an_empty_cart_cannot_be_held(employee_client, employee):
    assert "nothing to hold" in hx_post(employee_client, reverse("till:hold")).content.decode()
    assert not Sale.objects.filter(status=SaleStatus.HELD).exists()


# ---------------------------------------------------------------------------- paying
def test_the_pay_panel_opens_a_cash_session_when_there_is_none(employee_client, employee, rung_up):
    panel = hx_get(employee_client, reverse("till:pay")).content.decode()
    assert "Open the cash session" in panel
    bad = hx_post(employee_client, reverse("till:session_open"), {"opening_float": "-5"})
    assert "cannot be negative" in bad.content.decode() and not CashSession.objects.exists()
    ok = hx_post(employee_client, reverse("till:session_open"), {"opening_float": "2000"}).content.decode()
    assert "Complete the sale" in ok and 'name="idempotency_key"' in ok
    assert CashSession.objects.get().opening_float == D("2000.00")
    assert "<html" in employee_client.get(reverse("till:pay")).content.decode()


def test_an_extra_pay_method_slot_stays_empty_until_the_cash_desk_fills_it(employee_client, employee, rung_up):
    open_session(employee)
    html = hx_get(employee_client, reverse("till:pay")).content.decode()
    assert "Complete the sale" in html  # renders without cashdesk/partials/pay_methods_extra.html


def test_include_if_exists():
    from django.template import Context, Template

    template = Template('{% load till_tags %}[{% include_if_exists "no/such/template.html" %}]'
                        '[{% include_if_exists "partials/error_fragment.html" %}]')
    html = template.render(Context({"status": 418, "message": "teapot"}))
    assert html.startswith("[][") and "teapot" in html


def _pay(client, user, **amounts):
    sale = cart_of(user)
    data = {"sale": sale.pk, "idempotency_key": amounts.pop("key", "key-1"), **amounts}
    return hx_post(client, reverse("till:checkout"), data), sale


def test_cash_with_change_through_the_view(employee_client, employee, rung_up, branch):
    open_session(employee)
    response, sale = _pay(employee_client, employee, cash="200")
    assert response["HX-Redirect"] == reverse("sales:receipt", args=[sale.pk])
    sale.refresh_from_db()
    assert (sale.status, sale.change_given) == (SaleStatus.COMPLETED, D("84.00"))
    receipt = employee_client.get(response["HX-Redirect"]).content.decode()
    assert "Change: KES 84.00" in receipt and sale.number in receipt and "COPY" not in receipt
    assert stock_on_hand(product_id=rung_up.product_id, branch_id=branch.pk) == D("19")


def test_a_double_tap_returns_the_same_sale(employee_client, employee, rung_up):
    open_session(employee)
    first, sale = _pay(employee_client, employee, cash="200", key="tap-tap")
    data = {"sale": sale.pk, "idempotency_key": "tap-tap", "cash": "200"}
    second = hx_post(employee_client, reverse("till:checkout"), data)
    assert second["HX-Redirect"] == first["HX-Redirect"]
    assert Sale.objects.filter(status=SaleStatus.COMPLETED).count() == 1
    assert Payment.objects.count() == 1


@pytest.mark.parametrize("amounts,message", [
    ({"cash": "100"}, "KES 16.00 is still to pay"),
    ({"card": "116"}, "Type the reference"),
    ({"card": "200", "card_reference": "T1"}, "only cash can be given change"),
    ({"cash": "-5"}, "cannot be negative"),
    ({"account": "116"}, "Attach a customer"),
    ({}, "still to pay"),
])
def test_payment_errors_are_clear_and_change_nothing(employee_client, employee, rung_up, amounts, message):
    open_session(employee)
    response, sale = _pay(employee_client, employee, **amounts)
    assert message in response.content.decode()
    assert response["HX-Retarget"] == "#till-dialog-content"
    sale.refresh_from_db()
    assert sale.status == SaleStatus.OPEN and not Payment.objects.exists()


def test_completing_an_empty_sale_is_refused(employee_client, employee):
    open_session(employee)
    sale = sale_get_or_open(cashier=employee)
    assert "The sale is empty" in hx_get(employee_client, reverse("till:pay")).content.decode()
    response = hx_post(
        employee_client, reverse("till:checkout"), {"sale": sale.pk, "idempotency_key": "e", "cash": "10"}
    )
    assert "The sale is empty" in response.content.decode() and not Payment.objects.exists()


def test_completing_while_stock_is_short_is_refused(employee_client, employee, branch):
    open_session(employee)
    scarce = ProductFactory(name="Last tin", selling_price=D("10.00"))
    stock_in(scarce, branch, 1)
    scan(employee_client, f"2*{scarce.barcode}")
    response, sale = _pay(employee_client, employee, cash="20")
    assert "Not enough stock — Last tin: 1 in stock, 2 needed" in response.content.decode()
    sale.refresh_from_db()
    assert sale.status == SaleStatus.OPEN and stock_on_hand(product_id=scarce.pk, branch_id=branch.pk) == 1


def test_without_a_session_checkout_is_refused(employee_client, employee, rung_up):
    response, sale = _pay(employee_client, employee, cash="200")
    assert "Open a cash session" in response.content.decode()
    sale.refresh_from_db()
    assert sale.status == SaleStatus.OPEN


def test_split_card_and_cash(employee_client, employee, rung_up):
    open_session(employee)
    response, sale = _pay(employee_client, employee, card="100", card_reference="AUTH-55", cash="20")
    sale.refresh_from_db()
    assert sale.status == SaleStatus.COMPLETED and sale.change_given == D("4.00")
    assert {p.method for p in sale.payments.all()} == {"CARD", "CASH"}


def test_on_account_past_the_limit_is_refused_at_the_till(employee_client, employee, rung_up):
    open_session(employee)
    person = CustomerFactory(credit_limit=D("100.00"))
    hx_post(employee_client, reverse("till:customer"), {"customer": person.pk})
    panel = hx_get(employee_client, reverse("till:pay")).content.decode()
    assert "On account" in panel and "up to 100.00 more" in panel
    response, sale = _pay(employee_client, employee, account="116")
    assert "Refused" in response.content.decode() and "credit limit" in response.content.decode()
    person.refresh_from_db()
    assert person.balance == 0
    _pay(employee_client, employee, account="100", cash="16", key="k2")
    person.refresh_from_db()
    assert person.balance == D("100.00")


def test_paying_with_loyalty_points_at_the_till(employee_client, employee, rung_up):
    open_session(employee)
    person = CustomerFactory(loyalty_points=D("50"))
    hx_post(employee_client, reverse("till:customer"), {"customer": person.pk})
    assert "worth KES 50.00" in hx_get(employee_client, reverse("till:pay")).content.decode()
    _pay(employee_client, employee, loyalty="50", cash="66")
    person.refresh_from_db()
    assert person.loyalty_points == D("0.66")  # 50 spent, 0.66 earned on the KES 66 paid in cash


# ---------------------------------------------------------------------------- the pay panel's figures
def _figures(html: str) -> dict:
    """Paid, still to pay and change as the pay panel shows them."""
    return {name: re.search(rf"data-pay-{name}[^>]*>([\d,.]+)<", html).group(1) for name in ("paid", "due", "change")}


def test_the_pay_panel_shows_the_servers_figures_before_anything_is_typed(employee_client, employee, rung_up):
    open_session(employee)
    panel = hx_get(employee_client, reverse("till:pay")).content.decode()
    assert _figures(panel) == {"paid": "0.00", "due": "116.00", "change": "0.00"}
    assert "data-pay-total" not in panel  # the browser is given no total to do sums with


@pytest.mark.parametrize(
    "typed, figures",
    [
        ({"cash": "500"}, {"paid": "500.00", "due": "0.00", "change": "384.00"}),
        ({"cash": "100", "card": "10"}, {"paid": "110.00", "due": "6.00", "change": "0.00"}),
        ({"cash": "50", "card": "100"}, {"paid": "150.00", "due": "0.00", "change": "34.00"}),
        # only cash is given change: a card for more than the sale leaves none (checkout refuses it)
        ({"card": "200"}, {"paid": "200.00", "due": "0.00", "change": "0.00"}),
        ({"cash": "1,000"}, {"paid": "1,000.00", "due": "0.00", "change": "884.00"}),
        # what is not an amount yet counts as nothing; checkout says what is wrong with it
        ({"cash": "12.", "card": "abc"}, {"paid": "12.00", "due": "104.00", "change": "0.00"}),
        ({"cash": "-5", "card": "1.005"}, {"paid": "0.00", "due": "116.00", "change": "0.00"}),
    ],
)
def test_the_server_works_out_paid_due_and_change_as_the_cashier_types(employee_client, employee, rung_up, typed,
                                                                       figures):
    response = hx_get(employee_client, reverse("till:pay_summary"), typed)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "data-pay-summary" in html
    assert _figures(html) == figures
    assert ("has-change" in html) == (figures["change"] != "0.00")


def test_the_rest_button_asks_the_server_for_the_rest(employee_client, employee, rung_up):
    typed = {"cash": "100", "card": "7", "fill": "card"}
    html = hx_get(employee_client, reverse("till:pay_summary"), typed).content.decode()
    assert 'data-fill-field="#id_card"' in html and 'data-fill-value="16.00"' in html
    assert _figures(html) == {"paid": "116.00", "due": "0.00", "change": "0.00"}


def test_loyalty_points_fill_at_most_what_they_are_worth(employee_client, employee, rung_up):
    person = CustomerFactory(loyalty_points=D("50"))
    hx_post(employee_client, reverse("till:customer"), {"customer": person.pk})
    html = hx_get(employee_client, reverse("till:pay_summary"), {"fill": "loyalty"}).content.decode()
    assert 'data-fill-value="50.00"' in html
    assert _figures(html) == {"paid": "50.00", "due": "66.00", "change": "0.00"}


def test_the_figures_without_javascript_are_the_pay_page(employee_client, employee, rung_up):
    response = employee_client.get(reverse("till:pay_summary"), {"cash": "500"})
    assert response.status_code == 302 and response["Location"] == reverse("till:pay")


def test_the_pay_panels_script_does_no_sums_with_money():
    """The figures are the cash desk's; the till's script only copies what the server sends."""
    script = (settings.BASE_DIR / "static" / "js" / "till.js").read_text()
    for sign_of_sums in ("cents", "payTotal", "fillMax", "parseFloat", "toFixed", "paidCents", "updatePay"):
        assert sign_of_sums not in script
    start = script.index("the pay panel's summary")
    pay_part = script[start:script.index("// ----", start)]
    assert not re.search(r"Math\.|[-+*/]\s*\d|\d\s*[-+*/]|[-+*/]=", pay_part)


# ---------------------------------------------------------------------------- receipts
@pytest.fixture
def paid(employee_client, employee, rung_up):
    open_session(employee)
    response, sale = _pay(employee_client, employee, cash="200")
    sale.refresh_from_db()
    return sale


def _pdf_text(content: bytes) -> str:
    import subprocess

    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True)
    return result.stdout.decode()


def test_the_receipt_pdf(employee_client, paid, employee):
    from django.core.cache import cache

    from pos.people.models import ShopSettings
    from pos.people.selectors import SHOP_SETTINGS_CACHE_KEY

    ShopSettings.objects.filter(pk=1).update(shop_name="Mama Njeri Supermarket", kra_pin="P051234567X")
    cache.delete(SHOP_SETTINGS_CACHE_KEY)
    response = employee_client.get(reverse("sales:receipt_pdf", args=[paid.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content)
    for expected in ("Mama Njeri Supermarket", "Main branch", "KRA PIN P051234567X", paid.number, employee.full_name,
                     "Geisha soap 225g", "B 16%", "16.00", "Cash", "200.00", "Change", "84.00"):
        assert expected in text, expected
    assert "COPY" not in text


def test_a_receipt_is_one_80mm_page(employee_client, paid, tmp_path):
    import subprocess

    response = employee_client.get(reverse("sales:receipt_pdf", args=[paid.pk]))
    path = tmp_path / "receipt.pdf"
    path.write_bytes(response.content)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True).stdout.decode()
    assert re.search(r"^Pages:\s+1$", info, re.M), info
    width_pt = float(re.search(r"Page size:\s+([\d.]+) x", info).group(1))
    assert abs(width_pt - 80 / 25.4 * 72) < 1  # 80 mm


def test_a_reprint_needs_a_manager_and_says_copy(client_for, paid, employee, manager):
    other_tablet = client_for(employee)  # a new login: the original is not theirs to print again
    page = other_tablet.get(reverse("sales:receipt", args=[paid.pk])).content.decode()
    assert "Print a copy" in page and 'data-testid="receipt"' not in page
    pdf = other_tablet.get(reverse("sales:receipt_pdf", args=[paid.pk]))
    assert pdf.status_code == 302
    refused = other_tablet.post(reverse("sales:reprint", args=[paid.pk]), {"reason": "lost"})
    assert "needs a manager" in refused.content.decode()
    paid.refresh_from_db()
    assert paid.receipt_prints == 1
    ok = other_tablet.post(reverse("sales:reprint", args=[paid.pk]),
                           {"reason": "lost", "authoriser": manager.pk, "pin": DEFAULT_PIN})
    assert ok.status_code == 302
    paid.refresh_from_db()
    assert paid.receipt_prints == 2
    assert "COPY" in _pdf_text(other_tablet.get(reverse("sales:receipt_pdf", args=[paid.pk])).content)
    entry = AuditLog.objects.get(action=AuditAction.REPRINT)
    assert (entry.user, entry.authorised_by) == (employee, manager)


def test_the_receipt_is_emailed_when_the_customer_has_an_address(
    employee_client, employee, rung_up, mailoutbox, django_capture_on_commit_callbacks
):
    open_session(employee)
    person = CustomerFactory(email="amina@example.com")
    hx_post(employee_client, reverse("till:customer"), {"customer": person.pk})
    with django_capture_on_commit_callbacks(execute=True):
        response, sale = _pay(employee_client, employee, cash="116")
    sale.refresh_from_db()
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["amina@example.com"] and sale.number in message.subject
    name, content, mimetype = message.attachments[0]
    assert mimetype == "application/pdf" and sale.number in _pdf_text(content)
    sale.refresh_from_db()
    assert sale.receipt_emailed_at is not None
    from pos.sales.tasks import receipt_email_send

    assert receipt_email_send.call_local(sale.pk) is False  # a retry sends nothing twice
    assert len(mailoutbox) == 1


def test_a_payment_confirmed_before_checkout_counts(employee_client, employee, rung_up):
    """An M-Pesa push the customer accepted while the cart was open (the cash desk records it)."""
    from django.utils import timezone

    session = open_session(employee)
    sale = cart_of(employee)
    Payment.objects.create(sale=sale, session=session, method="MPESA", status="CONFIRMED", amount=D("100.00"),
                           mpesa_receipt="QGH7ABC123", received_by=employee, confirmed_at=timezone.now())
    panel = hx_get(employee_client, reverse("till:pay")).content.decode()
    assert re.search(r"data-pay-due>16\.00<", panel) and "100.00 paid" in panel
    response, sale = _pay(employee_client, employee, cash="20")
    sale.refresh_from_db()
    assert sale.status == SaleStatus.COMPLETED and sale.change_given == D("4.00")


@pytest.mark.parametrize(
    "name", ["till:cart_discount", "till:note", "till:void", "till:customer", "till:held", "till:pay"]
)
def test_every_dialog_is_a_fragment_for_htmx_and_a_page_without_javascript(employee_client, rung_up, name):
    fragment = hx_get(employee_client, reverse(name))
    page = employee_client.get(reverse(name))
    assert fragment.status_code == page.status_code == 200
    assert "<html" not in fragment.content.decode() and 'class="modal-header"' in fragment.content.decode()
    assert "<html" in page.content.decode() and "Back to the till" in page.content.decode()


@pytest.mark.parametrize(
    "name,data", [("till:hold", {}), ("till:note", {"note": "x"}), ("till:customer", {"customer": ""})]
)
def test_posts_without_javascript_come_back_to_the_till(employee_client, rung_up, name, data):
    response = employee_client.post(reverse(name), data)
    assert response.status_code == 302 and response["Location"] == reverse("till:index")


def test_favourites_without_javascript_is_the_till(employee_client):
    assert employee_client.get(reverse("till:favourites"))["Location"] == reverse("till:index")


def test_the_receipt_is_sent_again_on_request(employee_client, employee, rung_up, mailoutbox):
    open_session(employee)
    person = CustomerFactory(email="halima@example.com")
    hx_post(employee_client, reverse("till:customer"), {"customer": person.pk})
    response, sale = _pay(employee_client, employee, cash="116")
    response = employee_client.post(reverse("sales:receipt_email", args=[sale.pk]))
    assert response.status_code == 302 and len(mailoutbox) == 1 and mailoutbox[0].to == ["halima@example.com"]


def test_no_email_without_an_address_or_for_someone_elses_receipt(
    employee_client, client_for, employee, paid, mailoutbox
):
    response = employee_client.post(reverse("sales:receipt_email", args=[paid.pk]), follow=True)
    assert "has no e-mail address" in response.content.decode()
    response = client_for(employee).post(reverse("sales:receipt_email", args=[paid.pk]), follow=True)
    assert "ask a manager" in response.content.decode() and not mailoutbox
