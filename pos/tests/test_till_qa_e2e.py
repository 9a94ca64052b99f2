"""What a cashier trips over, found by driving the demo shop at 768×1024 (a cashier's first day).

Run with `-m e2e` (DJANGO_ALLOW_ASYNC_UNSAFE=true).
"""

from decimal import Decimal as D

import pytest
from playwright.sync_api import expect

from cashdesk.tests.factories import open_session
from core.roles import Role
from inventory.tests.factories import ProductFactory, stock_in
from pos.tests.factories import UserFactory
from pos.tests.test_till_e2e import TABLET, login, scan

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def gas(branch):
    product = ProductFactory(name="K-Gas LPG Refill 6kg", selling_price=D("1400.00"), tax_class="E")
    stock_in(product, branch, 10)
    return product


def test_pay_panel_amounts_read_like_the_total(page, live_server, branch, gas):
    """Paid and change used to show 2000.00 beside a total of 1,400.00."""
    cashier = UserFactory(role=Role.EMPLOYEE, branch=branch, phone_number="+254700000003")
    open_session(cashier, "5000")
    page.set_viewport_size(TABLET)
    login(page, live_server, "0700 000 003")
    page.wait_for_selector("[data-till-search]:focus")
    scan(page, gas.barcode, 1)
    page.keyboard.press("F4")
    page.wait_for_selector("[data-testid=cash-input]")
    page.fill("[data-testid=cash-input]", "2000")
    expect(page.locator("[data-pay-paid]")).to_have_text("2,000.00")
    expect(page.get_by_test_id("change")).to_have_text("600.00")
    # "Exact" fills the field with a plain number the server reads (no thousands comma in an input)
    page.locator("[data-pay-form] button", has_text="Exact").first.click()
    assert page.input_value("[data-testid=cash-input]") in ("1400.00", "1400")


def test_a_dialog_clears_the_login_message_that_would_cover_it(page, live_server, branch, gas):
    UserFactory(role=Role.EMPLOYEE, branch=branch, phone_number="+254700000003")
    page.set_viewport_size(TABLET)
    login(page, live_server, "0700 000 003")
    page.wait_for_selector("[data-till-search]:focus")
    scan(page, gas.barcode, 1)
    # News as the server renders it ("Logged in as …" fades after 5 s; this one is placed for the test) and an error.
    page.evaluate("""() => {
        const box = document.getElementById("messages");
        for (const level of ["success", "danger"]) {
            const div = document.createElement("div");
            div.className = "alert alert-" + level + " alert-dismissible fade show";
            div.textContent = level === "success" ? "Logged in as Akinyi Atieno." : "No connection to the server.";
            box.appendChild(div);
        }
    }""")
    page.keyboard.press("F9")  # the sale's discount dialog (its answer carries no messages of its own)
    page.wait_for_selector("#till-dialog.show")
    expect(page.locator("#messages .alert-success")).to_have_count(0, timeout=1500)  # before any 5 s fade
    expect(page.locator("#messages .alert-danger")).to_have_count(1)  # errors stay until read
