"""In a real browser: a cashier asks for an adjustment, a manager approves it without a page reload."""

from decimal import Decimal as D

import pytest
from playwright.sync_api import expect

from core.roles import Role
from inventory.models import AdjustmentStatus, StockAdjustment
from inventory.selectors import stock_on_hand
from inventory.tests.factories import ProductFactory, stock_in
from pos.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in(context, live_server, user):
    page = context.new_page()
    console = []
    page.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", user.phone_number)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    # Cashiers land on the till, managers on the start page.
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page, console


def test_cashier_requests_and_manager_approves_in_place(live_server, browser):
    from pos.people.models import Branch

    branch = Branch.objects.get_or_create(code="MAIN", defaults={"name": "Main branch"})[0]
    cashier = UserFactory(role=Role.EMPLOYEE, branch=branch, full_name="Akinyi Cashier")
    manager = UserFactory(role=Role.MANAGER, branch=branch, full_name="Otieno Manager")
    milk = ProductFactory(name="Brookside Milk 500ml", reorder_level=D("2"))
    stock_in(milk, branch, 10)

    # the cashier counts 7 on the shelf and asks for the correction
    cashier_page, cashier_console = log_in(browser.new_context(), live_server, cashier)
    cashier_page.goto(f"{live_server.url}/stock/adjustments/new/")
    cashier_page.fill("#id_product", milk.barcode)
    cashier_page.check("input[name=mode][value=counted]")
    cashier_page.fill("#id_quantity", "7")
    cashier_page.select_option("#id_reason", "DAMAGED")
    cashier_page.fill("#id_note", "three bottles burst")
    cashier_page.click("[data-testid=send-request]")
    cashier_page.wait_for_selector("text=Waiting for approval")
    adjustment = StockAdjustment.objects.get()
    assert adjustment.status == AdjustmentStatus.PENDING and adjustment.delta == D("-3")
    assert stock_on_hand(product_id=milk.pk, branch_id=branch.pk) == D("10")  # nothing changes yet

    # the manager approves it on the approvals page: the row changes in place, no reload
    manager_page, manager_console = log_in(browser.new_context(), live_server, manager)
    manager_page.goto(f"{live_server.url}/stock/adjustments/approvals/")
    row = manager_page.locator(f"#adjustment-{adjustment.pk}")
    assert row.get_attribute("data-status") == "PENDING"
    assert manager_page.locator("[data-testid=pending-count]").inner_text() == "1"
    manager_page.evaluate("window.__stillTheSamePage = 'yes'")
    row.locator("[data-testid=approve]").click()
    manager_page.wait_for_selector(f"#adjustment-{adjustment.pk}[data-status=APPROVED]")
    assert manager_page.evaluate("window.__stillTheSamePage") == "yes"  # the page was not reloaded
    assert manager_page.locator("[data-testid=pending-count]").inner_text() == "0"
    assert "Otieno Manager" in manager_page.locator(f"#adjustment-{adjustment.pk}").inner_text()

    adjustment.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.APPROVED and adjustment.decided_by == manager
    assert stock_on_hand(product_id=milk.pk, branch_id=branch.pk) == D("7")
    assert cashier_console == [] and manager_console == []  # no script errors (and no CSP complaints)


def test_count_sheet_scanning_focuses_the_line(live_server, browser):
    from inventory.adjustment_services import stock_count_start
    from inventory.tests.factories import CategoryFactory
    from pos.people.models import Branch

    branch = Branch.objects.get_or_create(code="MAIN", defaults={"name": "Main branch"})[0]
    cashier = UserFactory(role=Role.EMPLOYEE, branch=branch, full_name="Counting Cashier")
    drinks = CategoryFactory(name="Drinks")
    soda = ProductFactory(name="Soda 500ml", category=drinks)
    water = ProductFactory(name="Water 1l", category=drinks)
    stock_in(soda, branch, 24)
    stock_in(water, branch, 12)
    count = stock_count_start(user=cashier, branch=branch, category=drinks)

    page, console = log_in(browser.new_context(), live_server, cashier)
    page.goto(f"{live_server.url}{count.get_absolute_url()}")
    page.fill("[data-scan-box]", water.barcode)
    page.keyboard.press("Enter")
    line = count.lines.get(product=water)
    field = page.locator(f"#count-line-{line.pk} [data-count-input]")
    expect(field).to_be_focused()
    page.keyboard.type("11")
    page.keyboard.press("Enter")  # saves and goes back to the scan box
    page.wait_for_selector(f"#count-line-{line.pk}.table-warning")
    assert page.evaluate("document.activeElement.hasAttribute('data-scan-box')")
    line.refresh_from_db()
    assert line.counted_quantity == D("11")
    assert page.locator("[data-testid=counted-total]").inner_text() == "1"
    assert field.count() == 1 and console == []
