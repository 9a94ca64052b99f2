"""The till in a real browser takes a split payment — cash plus M-Pesa through the local Daraja
simulator over real HTTP — and turns to paid without a reload; then the cashier counts and closes the
drawer and gets the Z report PDF.

Run with `-m e2e` (DJANGO_ALLOW_ASYNC_UNSAFE=true). Screenshots go to /tmp/shots/cashdesk-*.png and the
time from the callback reaching the server to the panel showing "paid" is printed.
"""

import subprocess
import time
from decimal import Decimal as D
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.servers.basehttp import WSGIServer
from django.test.testcases import LiveServerThread
from playwright.sync_api import expect

from cashdesk.models import Payment, SessionStatus
from cashdesk.mpesa.daraja.config import SANDBOX_PASSKEY, SANDBOX_SHORTCODE
from cashdesk.mpesa.daraja.simulator import DarajaSimulator
from cashdesk.mpesa.models import InboxOutcome, MpesaInbox, StkRequest, StkStatus
from core.roles import Role
from inventory.tests.factories import ProductFactory, stock_in
from pos.people.models import ShopSettings
from pos.sales.models import Sale, SaleStatus
from pos.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
SHOTS = Path("/tmp/shots")
TABLET = {"width": 768, "height": 1024}


class _SerialWSGIServer(WSGIServer):
    """One request at a time. The test database is SQLite in memory, one connection shared by every
    server thread: the simulator's callback and the panel's polling must not interleave their
    transactions on it. (Django closes each connection of a non-threaded server, so keep-alive cannot
    block the callback.)"""

    def __init__(self, *args, connections_override=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.connections_override = connections_override


class _SerialLiveServerThread(LiveServerThread):
    server_class = _SerialWSGIServer


@pytest.fixture
def serial_server(live_server):
    """A single-threaded live server of our own (a free port), beside pytest-django's, on the same
    shared in-memory connection."""
    connections_override = live_server.thread.connections_override
    thread = _SerialLiveServerThread(
        "localhost", live_server.thread.static_handler, connections_override=connections_override, port=0
    )
    thread.daemon = True
    for connection in connections_override.values():
        connection.inc_thread_sharing()
    thread.start()
    thread.is_ready.wait()
    try:
        if thread.error:
            raise thread.error
        yield SimpleNamespace(url=f"http://localhost:{thread.port}")
    finally:
        thread.terminate()
        for connection in connections_override.values():
            connection.dec_thread_sharing()


@pytest.fixture
def simulator():
    sim = DarajaSimulator("127.0.0.1", 0, callback_delay=1.5).start()
    yield sim
    sim.stop()


@pytest.fixture
def shop(branch, settings, simulator):
    settings.MPESA_ENVIRONMENT = "simulator"
    settings.MPESA_BASE_URL = simulator.base_url
    settings.MPESA_CONSUMER_KEY = ""
    settings.MPESA_SHORTCODE = SANDBOX_SHORTCODE
    settings.MPESA_PASSKEY = SANDBOX_PASSKEY
    settings.MPESA_VERIFY_CALLBACKS = True
    ShopSettings.objects.update_or_create(
        pk=1, defaults={"shop_name": "Mama Njeri Supermarket", "kra_pin": "P051234567X"}
    )
    branch.name, branch.mpesa_till_number, branch.mpesa_paybill = "Kimathi Street", "5123456", "600638"
    branch.save()
    products = [
        ProductFactory(name="Kabras sugar 1kg", selling_price=D("175.00"), tax_class="B"),
        ProductFactory(name="Omo washing powder 1kg", selling_price=D("299.00"), tax_class="B"),
        ProductFactory(name="Supaloaf bread 400g", selling_price=D("65.00"), tax_class="A"),
    ]
    for product in products:
        stock_in(product, branch, 20)
    return products


def scan(page, code: str, lines_after: int):
    page.keyboard.type(code, delay=5)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("cart-line")).to_have_count(lines_after)


def test_split_cash_and_mpesa_turns_the_till_to_paid_without_a_reload(page, serial_server, shop, branch, simulator):
    SHOTS.mkdir(exist_ok=True)
    base = serial_server.url
    UserFactory(role=Role.EMPLOYEE, branch=branch, full_name="Akinyi Atieno", phone_number="+254711222333")
    page.set_viewport_size(TABLET)
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_login", "0711 222 333")
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/till/")
    page.click("#messages .alert .btn-close")  # "Logged in as …" would cover the pay panel in the screenshots
    page.wait_for_selector("#messages .alert", state="detached")
    page.click("[data-till-search]")
    page.wait_for_selector("[data-till-search]:focus")
    for count, product in enumerate(shop, start=1):
        scan(page, product.barcode, count)
    assert page.inner_text("[data-testid=total]") == "539.00"
    page.evaluate("window.__noReload = 'still the same page'")

    # Pay: open the drawer, then cash 200 and the rest (339) by M-Pesa to the customer's phone.
    page.keyboard.press("F4")
    page.fill("[data-testid=float-input]", "1000")
    page.click("[data-testid=open-session]")
    page.wait_for_selector("[data-testid=cash-input]")
    page.fill("[data-testid=cash-input]", "200")
    panel = page.locator("[data-testid=mpesa-panel]")
    panel.locator("[data-testid=mpesa-phone]").fill("0708 374 149")
    panel.screenshot(path=str(SHOTS / "cashdesk-pay-panel-mpesa.png"))
    page.screenshot(path=str(SHOTS / "cashdesk-till-pay-split.png"))
    panel.locator("[data-testid=mpesa-send]").click()
    page.wait_for_selector("[data-testid=mpesa-status][data-status=waiting]")
    page.mouse.move(5, 1000)  # not hovering the button that took the click's place
    assert "KES 339.00 asked from 0708 374 149" in page.inner_text("[data-testid=mpesa-status]")
    page.screenshot(path=str(SHOTS / "cashdesk-till-mpesa-waiting.png"))

    # The callback arrives (the simulator's customer types the PIN); the dialog turns to "paid".
    page.wait_for_selector("[data-testid=till-paid]", timeout=20000)
    seen = time.time()
    paid = page.inner_text("[data-testid=till-paid]")
    assert "Sale MAIN-000001 is paid" in paid and "339.00" in paid and "200.00" in paid
    assert page.inner_text("#till-dialog-title") == "Paid KES 539.00"
    assert page.evaluate("window.__noReload") == "still the same page"
    page.screenshot(path=str(SHOTS / "cashdesk-till-mpesa-paid.png"))
    page.click("[data-testid=mpesa-receipt]")
    page.wait_for_url(f"{base}/sales/*/receipt/")
    assert "MAIN-000001" in page.inner_text("main")

    sale = Sale.objects.get(number="MAIN-000001")
    assert sale.status == SaleStatus.COMPLETED and sale.total == D("539.00") and sale.change_given == D("0.00")
    assert sorted(sale.payments.values_list("method", "amount", "status")) == [
        ("CASH", D("200.00"), "CONFIRMED"),
        ("MPESA", D("339.00"), "CONFIRMED"),
    ]
    stk = StkRequest.objects.get()
    assert stk.status == StkStatus.PAID and stk.receipt_number == Payment.objects.get(method="MPESA").mpesa_receipt
    assert simulator.stk_transaction(stk.checkout_request_id)["callback_url"].startswith(f"{base}/cash/hooks/")
    inbox = MpesaInbox.objects.get()
    assert inbox.outcome == InboxOutcome.APPLIED
    applied_ms = (inbox.processed_at - inbox.received_at).total_seconds() * 1000
    shown_ms = (seen - inbox.received_at.timestamp()) * 1000
    print(f"\nM-Pesa: callback received → applied {applied_ms:.0f} ms, → panel shows paid {shown_ms:.0f} ms")

    # Count the drawer (1000 float + 200 cash) by notes and coins, close, read the Z report.
    page.goto(f"{base}/cash/session/close/")
    page.fill("input[name=count_1000]", "1")
    page.fill("input[name=count_100]", "2")
    page.fill("input[name=mpesa_counted]", "339")
    assert page.inner_text("[data-denomination-total]") == "1,200.00"
    page.screenshot(path=str(SHOTS / "cashdesk-close.png"), full_page=True)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[type=submit]:has-text('Close the session')")
    page.wait_for_url(f"{base}/cash/sessions/*/")
    assert "the drawer is exact" in page.inner_text("#messages")
    page.screenshot(path=str(SHOTS / "cashdesk-z-report-page.png"), full_page=True)
    session = sale.payments.get(method="CASH").session
    session.refresh_from_db()
    assert session.status == SessionStatus.CLOSED and session.difference == D("0.00")

    href = page.get_attribute("a:has-text('PDF')", "href")
    response = page.context.request.get(f"{base}{href}")  # the PDF opens inline; fetch it with the page's login
    assert response.headers["content-type"] == "application/pdf"
    pdf = SHOTS / "cashdesk-z-report.pdf"
    pdf.write_bytes(response.body())
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, text=True).stdout
    for expected in ("Mama Njeri Supermarket", "Z report", "Akinyi Atieno", "539.00", "M-Pesa", "339.00", "exact"):
        assert expected in text, expected
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-singlefile", str(pdf), str(SHOTS / "cashdesk-z-report")], check=True
    )
