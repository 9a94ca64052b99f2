"""A barcode scanner at a real counter (headless Chromium): codes typed at 0 and 2 ms a key, back to back,
after a name search, on the receipt (paid) screen and while the pay panel is open; and a weighed item.

Run with `-m e2e` (DJANGO_ALLOW_ASYNC_UNSAFE=true).
"""

import re
from decimal import Decimal as D

import pytest
from playwright.sync_api import expect

from cashdesk.tests.factories import open_session
from core.roles import Role
from inventory.barcodes import make_ean13
from inventory.tests.factories import KilogramFactory, ProductFactory, stock_in
from pos.sales.models import Sale, SaleStatus
from pos.tests.factories import UserFactory
from pos.tests.test_till_e2e import TABLET, login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shelf(branch):
    products = [
        ProductFactory(name=f"Item {n:02d}", selling_price=D("10.00") + n, barcode=make_ean13(f"6164{n:08d}"))
        for n in range(1, 34)
    ]
    products.append(ProductFactory(name="Kabras sugar 1kg", selling_price=D("175.00")))
    products.append(ProductFactory(name="Kabras sugar 2kg", selling_price=D("340.00")))
    for product in products:
        stock_in(product, branch, 100)
    return products


@pytest.fixture
def cashier(branch):
    person = UserFactory(role=Role.EMPLOYEE, branch=branch, full_name="Akinyi Atieno", phone_number="+254700000003")
    open_session(person, "5000")
    return person


def scanner(page, codes, delay):
    """What a USB scanner does: each code's digits and Enter, back to back, `delay` ms a key."""
    page.keyboard.type("".join(f"{code}\n" for code in codes), delay=delay)


def cart_names(page):
    return page.locator("[data-testid=cart-line] .cart-line-name").all_inner_texts()


def expect_cart(page, names, timeout=15_000):
    try:
        expect(page.get_by_test_id("cart-line")).to_have_count(len(names), timeout=timeout)
    except AssertionError:
        pass  # the comparison below says what is missing, and the till's last message
    assert cart_names(page) == names, page.inner_text("#scan-feedback")


def test_every_scan_reaches_the_cart_once_in_order(page, live_server, shelf, cashier):
    items = shelf[:33]
    page.set_viewport_size(TABLET)
    login(page, live_server, "0700 000 003")
    page.wait_for_url(f"{live_server.url}/till/")
    page.wait_for_selector("[data-till-search]:focus")

    # a name search is open; then the scanner: the scan is not glued to "kabras", and the list closes
    page.keyboard.type("kabras", delay=120)
    expect(page.get_by_test_id("search-result")).to_have_count(2)
    scanner(page, [items[0].barcode], 0)
    expect_cart(page, ["Item 01"])
    expect(page.get_by_test_id("search-result")).to_have_count(0)
    expect(page.locator("[data-till-search]")).to_have_value("")
    expect(page.get_by_test_id("feedback")).not_to_contain_text("Nothing matches")

    # 30 codes at 0 ms a key, back to back
    burst = items[1:31]
    scanner(page, [p.barcode for p in burst], 0)
    expect_cart(page, ["Item 01"] + [p.name for p in burst], timeout=60_000)

    # the pay panel is open and the cash typed: a scan adds the item, never lands in "Cash handed over"
    page.keyboard.press("F4")
    page.wait_for_selector("[data-testid=cash-input]:focus")
    page.fill("[data-testid=cash-input]", "5000")
    page.wait_for_timeout(300)  # the cashier reaches for the scanner
    total_before = page.inner_text("[data-testid=total]")
    scanner(page, [items[31].barcode], 0)
    expect(page.get_by_test_id("cart-line")).to_have_count(32)
    expected_total = Sale.objects.get(open_for_cashier=cashier.pk).total
    assert page.inner_text("[data-testid=total]") != total_before
    expect(page.locator("#till-dialog-title")).to_contain_text(f"{expected_total:,.2f}")
    expect(page.get_by_test_id("cash-input")).to_have_value("5000")
    # the panel's figures come from the server: the new amount due, and the change from the typed cash
    expect(page.get_by_role("button", name=f"Exact {expected_total:,.2f}")).to_be_visible()
    expect(page.get_by_test_id("change")).to_have_text(f"{5000 - expected_total:,.2f}")
    page.click("[data-testid=complete-sale]")
    page.wait_for_url(re.compile(r".*/sales/\d+/receipt/$"))
    paid = Sale.objects.get(cashier=cashier, status=SaleStatus.COMPLETED)
    assert paid.lines.count() == 32 and paid.total == expected_total

    # the receipt (paid) screen: the first scan starts the next sale with that item
    page.wait_for_selector("[data-testid=new-sale]:focus")
    scanner(page, [items[32].barcode], 2)
    page.wait_for_url(f"{live_server.url}/till/")
    expect_cart(page, ["Item 33"])

    # 30 more at 2 ms a key
    again = list(reversed(items[:30]))
    page.wait_for_selector("[data-till-search]:focus")
    scanner(page, [p.barcode for p in again], 2)
    expect_cart(page, ["Item 33"] + [p.name for p in again], timeout=60_000)
    sale = Sale.objects.get(open_for_cashier=cashier.pk)
    assert [line.quantity for line in sale.lines.all()] == [D("1")] * 31  # each exactly once


def drained(tab):
    """This tab's queue has been sent and answered."""
    tab.wait_for_selector("[data-scan-sender][data-scan-queue='0']", state="attached", timeout=60_000)


def test_two_tabs_of_one_cashier_scan_into_the_same_cart(page, live_server, shelf, cashier):
    """Turn about: the live server's in-memory SQLite shares one connection between its threads, so
    requests at the same moment are tested on MariaDB (test_till_scanning_concurrency.py)."""
    page.set_viewport_size(TABLET)
    login(page, live_server, "0700 000 003")
    page.wait_for_selector("[data-till-search]:focus")
    other = page.context.new_page()
    other.goto(f"{live_server.url}/till/")
    other.wait_for_selector("[data-till-search]:focus")
    rounds = [(page, shelf[:10]), (other, shelf[10:20]), (page, shelf[20:25])]
    for tab, items in rounds:
        scanner(tab, [p.barcode for p in items], 0)
        drained(tab)
    names = [p.name for _, items in rounds for p in items]
    sale = Sale.objects.get(open_for_cashier=cashier.pk)
    assert [(line.product_name, line.quantity) for line in sale.lines.order_by("position")] == [(n, 1) for n in names]
    expect_cart(page, names)  # the first tab's last answer shows the other tab's items too


def test_a_weighed_item_by_label_and_by_keypad(page, live_server, branch, cashier):
    sukuma = ProductFactory(name="Sukuma wiki", unit=KilogramFactory(), selling_price=D("80.00"),
                            barcode=make_ean13("201234500000"), is_favourite=True)
    stock_in(sukuma, branch, 50)
    page.set_viewport_size(TABLET)
    login(page, live_server, "0700 000 003")
    page.wait_for_selector("[data-till-search]:focus")
    scanner(page, [make_ean13("201234501250")], 0)  # a scale label: 1.250 kg
    expect(page.get_by_test_id("line-qty")).to_have_text("1.25")
    page.get_by_test_id("product-button").filter(has_text="Sukuma wiki").click()  # a tap asks for the weight
    page.wait_for_selector("[data-testid=weight-input]:focus")
    for key in "0.5":
        page.click(f"#till-dialog [data-keypad-key='{key}']")
    page.click("[data-testid=weight-save]")
    page.wait_for_selector("#till-dialog", state="hidden")
    expect(page.get_by_test_id("line-qty")).to_have_text("1.75")
    expect(page.get_by_test_id("total")).to_have_text("140.00")
    # "2*" typed by the cashier, then a label scanned: two bags of that weight
    page.wait_for_selector("[data-till-search]:focus")
    page.keyboard.type("2*", delay=150)
    page.wait_for_timeout(400)
    scanner(page, [make_ean13("201234501250")], 2)
    expect(page.get_by_test_id("line-qty")).to_have_text("4.25")
    expect(page.locator("[data-till-search]")).to_have_value("")


def test_a_lost_answer_is_sent_again_and_added_once(page, live_server, shelf, cashier):
    """The server adds the scan but its answer never reaches the tablet (the connection drops): the
    queue sends the same scan id again, the server does not add it twice, and the order holds."""
    page.set_viewport_size(TABLET)
    login(page, live_server, "0700 000 003")
    page.wait_for_selector("[data-till-search]:focus")
    attempts = []

    def drop_every_third_answer(route):
        attempts.append(route.request.post_data)
        response = route.fetch()  # the server does the work…
        if len(attempts) % 3 == 1:
            route.abort("connectionreset")  # …and the tablet never hears back
        else:
            route.fulfill(response=response)

    page.route("**/till/scan/", drop_every_third_answer)
    items = shelf[:8]
    scanner(page, [p.barcode for p in items], 0)
    expect_cart(page, [p.name for p in items], timeout=60_000)
    sale = Sale.objects.get(open_for_cashier=cashier.pk)
    assert [(line.product_name, line.quantity) for line in sale.lines.order_by("position")] == [
        (p.name, 1) for p in items
    ]
    assert len(attempts) > len(items)  # some were sent twice
