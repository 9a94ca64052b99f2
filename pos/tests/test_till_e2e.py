"""The till in a real browser (headless Chromium): a sale rung up by "scanning", and a manager's PIN.

Run with `-m e2e` (DJANGO_ALLOW_ASYNC_UNSAFE=true). Screenshots go to /tmp/shots/till-*.png.
"""

import re
import subprocess
from decimal import Decimal as D
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.roles import Role
from inventory.tests.factories import ProductFactory, stock_in
from pos.people.audit import AuditAction
from pos.people.models import AuditLog, ShopSettings
from pos.sales.models import Sale, SaleStatus
from pos.tests.factories import DEFAULT_PASSWORD, DEFAULT_PIN, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/shots")
TABLET = {"width": 768, "height": 1024}


@pytest.fixture
def shop(branch):
    ShopSettings.objects.update_or_create(
        pk=1, defaults={"shop_name": "Mama Njeri Supermarket", "kra_pin": "P051234567X", "address": "Kimathi Street"}
    )
    branch.name, branch.address = "City Centre", "Kimathi Street, Nairobi CBD"
    branch.save()
    products = [
        ProductFactory(name="Geisha soap 225g", selling_price=D("116.00"), tax_class="B", is_favourite=True),
        ProductFactory(name="Supaloaf bread 400g", selling_price=D("65.00"), tax_class="A", is_favourite=True),
        ProductFactory(name="Brookside milk 500ml", selling_price=D("60.00"), tax_class="B", is_favourite=True),
        ProductFactory(name="Kabras sugar 1kg", selling_price=D("175.00"), tax_class="B", is_favourite=True),
        ProductFactory(name="Omo washing powder 1kg", selling_price=D("299.00"), tax_class="B", is_favourite=True),
        ProductFactory(name="Royco mchuzi mix 200g", selling_price=D("89.00"), tax_class="B", is_favourite=True),
    ]
    for product in products:
        stock_in(product, branch, 40)
    return products


def login(page, live_server, phone_local: str):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", phone_local)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("button[type=submit]")


def scan(page, code: str, lines_after: int):
    """What a USB scanner does: type the digits quickly, then Enter."""
    page.keyboard.type(code, delay=5)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("cart-line")).to_have_count(lines_after)


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True).stdout


def test_ring_up_a_sale_by_scanning_and_pay_cash(page, live_server, shop, branch):
    SHOTS.mkdir(exist_ok=True)
    soap, bread, milk, *_ = shop
    cashier = UserFactory(role=Role.EMPLOYEE, branch=branch, full_name="Akinyi Atieno", phone_number="+254700000003")
    page.set_viewport_size(TABLET)
    login(page, live_server, "0700 000 003")
    page.wait_for_url(f"{live_server.url}/till/")  # a cashier lands on the till
    page.wait_for_selector("[data-till-search]:focus")

    for count, product in enumerate((soap, bread, milk), start=1):
        scan(page, product.barcode, count)
    assert page.inner_text("[data-testid=total]") == "241.00"

    # quantity: the bread line, via its dialog and the keypad
    page.locator("[data-testid=cart-line]", has_text="Supaloaf").locator("[data-testid=line-qty]").click()
    page.wait_for_selector("[data-testid=qty-input]:focus")
    page.fill("[data-testid=qty-input]", "")
    for key in "3":
        page.click(f"#till-dialog [data-keypad-key='{key}']")
    page.click("[data-testid=qty-save]")
    expect(page.get_by_test_id("total")).to_have_text("371.00")
    page.wait_for_selector("#till-dialog", state="hidden")

    # and + from the keyboard on the selected (last changed) line
    page.keyboard.press("+")
    expect(page.get_by_test_id("total")).to_have_text("436.00")
    page.keyboard.press("-")
    expect(page.get_by_test_id("total")).to_have_text("371.00")

    # a 5% discount on the soap (within the cashier's limit: no PIN)
    page.locator("[data-testid=cart-line]", has_text="Geisha").locator("[data-testid=line-qty]").click()
    page.click("[data-testid=tab-discount]")
    page.fill("[data-testid=discount-input]", "5")
    page.click("[data-testid=discount-save]")
    expect(page.get_by_test_id("total")).to_have_text("365.20")
    page.wait_for_selector("#till-dialog", state="hidden")
    page.wait_for_selector(".modal-backdrop", state="detached")
    page.screenshot(path=str(SHOTS / "till-cart-768x1024.png"))

    # pay: F4 opens the panel; no cash session yet, so it offers to open one
    page.keyboard.press("F4")
    page.wait_for_selector("[data-testid=float-input]")
    page.fill("[data-testid=float-input]", "2000")
    page.click("[data-testid=open-session]")
    page.wait_for_selector("[data-testid=cash-input]")
    page.fill("[data-testid=cash-input]", "500")
    expect(page.get_by_test_id("change")).to_have_text("134.80")
    page.screenshot(path=str(SHOTS / "till-pay-768x1024.png"))
    page.click("[data-testid=complete-sale]")
    page.wait_for_url(re.compile(r".*/sales/\d+/receipt/$"))
    assert "Change: KES 134.80" in page.inner_text("[data-testid=change-callout]")
    page.screenshot(path=str(SHOTS / "till-receipt-page-768x1024.png"), full_page=True)

    with page.expect_download() as download_info:
        page.click("[data-testid=receipt-pdf]")
    pdf = SHOTS / "till-receipt.pdf"
    download_info.value.save_as(pdf)
    text = pdf_text(pdf)
    for expected in ("Mama Njeri Supermarket", "Kimathi Street", "KRA PIN P051234567X", "MAIN-000001", "Akinyi Atieno",
                     "Geisha soap 225g", "Supaloaf bread 400g", "Brookside milk 500ml", "3 × 65.00", "discount 5%",
                     "TOTAL KES", "365.20", "A Exempt", "B 16%", "Cash", "500.00", "Change", "134.80"):
        assert expected in text, (expected, text)
    subprocess.run(["pdftoppm", "-png", "-r", "200", "-singlefile", str(pdf), str(SHOTS / "till-receipt")], check=True)

    sale = Sale.objects.get(number="MAIN-000001")
    assert (sale.status, sale.total, sale.change_given, sale.cashier) == (
        SaleStatus.COMPLETED,
        D("365.20"),
        D("134.80"),
        cashier,
    )

    # Enter on the receipt page starts the next sale with an empty cart, even with the PDF button just
    # used still holding the focus (no second download)
    page.focus("[data-testid=receipt-pdf]")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/till/")
    page.wait_for_selector("[data-testid=cart-empty]")


def test_a_manager_pin_authorises_a_price_override(page, live_server, shop, branch):
    SHOTS.mkdir(exist_ok=True)
    soap = shop[0]
    manager = UserFactory(role=Role.MANAGER, branch=branch, full_name="Otieno Odhiambo")
    cashier = UserFactory(role=Role.EMPLOYEE, branch=branch, full_name="Kamau Mwangi", phone_number="+254700000004")
    page.set_viewport_size(TABLET)
    login(page, live_server, "0700000004")
    page.wait_for_url(f"{live_server.url}/till/")
    page.wait_for_selector("[data-till-search]:focus")
    scan(page, soap.barcode, 1)

    page.locator("[data-testid=line-qty]").click()
    page.click("[data-testid=tab-price]")
    page.fill("[data-testid=price-input]", "99")
    page.fill("[data-testid=price-reason]", "Dented packaging")
    page.click(f"label[data-testid=authoriser]:has-text('{manager.full_name}')")
    pin_box = page.locator("#tab-price [data-testid=pin-box]")
    for digit in "1234":  # a wrong PIN first
        pin_box.locator(f"[data-keypad-key='{digit}']").click()
    page.click("[data-testid=price-save]")
    page.wait_for_selector("[data-testid=pin-error]")
    assert "Wrong PIN" in page.inner_text("[data-testid=pin-error]")
    assert page.inner_text("[data-testid=total]") == "116.00"
    page.screenshot(path=str(SHOTS / "till-manager-pin-768x1024.png"))

    page.click("[data-testid=tab-price]")
    page.fill("[data-testid=price-input]", "99")
    page.fill("[data-testid=price-reason]", "Dented packaging")
    page.click(f"label[data-testid=authoriser]:has-text('{manager.full_name}')")
    page.fill("#tab-price [data-testid=pin-input]", DEFAULT_PIN)
    page.click("[data-testid=price-save]")
    expect(page.get_by_test_id("total")).to_have_text("99.00")
    page.wait_for_selector("#till-dialog", state="hidden")
    assert "116.00" in page.inner_text("[data-testid=cart-line] s")  # the catalogue price, struck through

    entry = AuditLog.objects.get(action=AuditAction.PRICE_OVERRIDE)
    assert (entry.user, entry.authorised_by, entry.reason) == (cashier, manager, "Dented packaging")
    assert entry.before_data["unit_price"] == "116.00" and entry.after_data["unit_price"] == "99.00"
