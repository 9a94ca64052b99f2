"""eTIMS in a real browser: a sale at the till comes back signed by KRA (the simulator) on its receipt;
while KRA is down the till keeps selling and the manager's queue page says what waits and why.

Run with `-m e2e` (DJANGO_ALLOW_ASYNC_UNSAFE=true). Screenshots go to /tmp/shots/etims-*.png.
"""

import re
from decimal import Decimal as D
from pathlib import Path

import pytest
from playwright.sync_api import expect

from cashdesk.etims.models import EtimsSubmission
from cashdesk.tests.etims.conftest import make_device
from core.roles import Role
from inventory.tests.factories import CategoryFactory, ProductFactory, stock_in
from pos.people.models import ShopSettings
from pos.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/shots")  # noqa: S108 - screenshots to look at, as the till's browser tests


def login(page, live_server, phone_local: str):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", phone_local)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("button[type=submit]")


def ring_and_pay(page, live_server, barcode: str, *, first: bool):
    page.goto(f"{live_server.url}/till/")
    page.wait_for_selector("[data-till-search]:focus")
    page.keyboard.type(barcode, delay=5)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("cart-line")).to_have_count(1)
    page.keyboard.press("F4")
    if first:
        page.wait_for_selector("[data-testid=float-input]")
        page.fill("[data-testid=float-input]", "2000")
        page.click("[data-testid=open-session]")
    page.wait_for_selector("[data-testid=cash-input]")
    page.fill("[data-testid=cash-input]", "1000")
    page.click("[data-testid=complete-sale]")
    page.wait_for_url(re.compile(r".*/sales/\d+/receipt/$"))


def test_signed_receipt_and_the_queue_during_an_outage(page, live_server, etims_settings, simulator, branch):
    SHOTS.mkdir(exist_ok=True)
    ShopSettings.objects.update_or_create(pk=1, defaults={"shop_name": "Mama Njeri Supermarket",
                                                          "kra_pin": "P051234567X", "address": "Kimathi Street"})
    etims_device = make_device(branch)
    oil = ProductFactory(name="Cooking oil 1L", selling_price=D("349.00"), tax_class="B",
                         category=CategoryFactory(name="Food", kra_item_code="5015151300"))
    stock_in(oil, branch, 50)
    UserFactory(role=Role.EMPLOYEE, branch=branch, full_name="Akinyi Atieno", phone_number="+254700000003")
    UserFactory(role=Role.MANAGER, branch=branch, full_name="Otieno Odhiambo", phone_number="+254700000002")
    page.set_viewport_size({"width": 768, "height": 1024})

    login(page, live_server, "0700 000 003")
    page.wait_for_url(f"{live_server.url}/till/")
    ring_and_pay(page, live_server, oil.barcode, first=True)
    fiscal = page.get_by_test_id("receipt-fiscal")
    expect(fiscal).to_contain_text("SCU INFORMATION")
    expect(fiscal).to_contain_text(etims_device.sdc_id)
    page.screenshot(path=str(SHOTS / "etims-signed-receipt.png"), full_page=True)

    simulator.set_mode("outage")  # KRA goes down; the till keeps selling
    for _ in range(3):
        ring_and_pay(page, live_server, oil.barcode, first=False)
    expect(page.get_by_test_id("receipt-not-tax-invoice")).to_contain_text("NOT YET A TAX INVOICE")
    page.screenshot(path=str(SHOTS / "etims-unsigned-slip.png"), full_page=True)
    assert EtimsSubmission.objects.filter(status="SIGNED").count() == 1

    page.context.clear_cookies()
    login(page, live_server, "0700 000 002")
    page.goto(f"{live_server.url}/etims/")
    expect(page.get_by_test_id("etims-state")).to_contain_text("KRA is not answering")
    expect(page.get_by_test_id("etims-depth")).to_have_text("3")
    page.screenshot(path=str(SHOTS / "etims-queue-outage.png"), full_page=True)
