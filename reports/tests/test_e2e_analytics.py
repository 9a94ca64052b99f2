"""In a real browser: after the nightly analytics ran over three weeks of a shop's sales, the owner
reads a product's forecast and its held-out error, turns the forecast's reorder suggestion into a
draft purchase with the page's own button, and opens the other analytics pages (no console errors,
nothing blocked by our CSP). Screenshots (768×1024 tablet) go to $E2E_SCREENSHOTS (default /tmp/shots).

    DJANGO_ALLOW_ASYNC_UNSAFE=true pytest -m e2e reports/tests/test_e2e_analytics.py

The figures, worked out by hand: Cooking oil sold 2 a day for 14 days, then 4 a day for 7 days
(21 days of history up to yesterday) → weekday-weighted average, weeks weighing 1, 2, 3:
(2·1 + 2·2 + 4·3) / 6 = 3 a day → next 7 days 21, next 30 days 90; sold in the last 28 days
2·14 + 4·7 = 56. Held-out week: refit on the first 14 days (2 a day) against 4 sold a day →
error 2 a day, 14 of 28 sold = 50.0 % WAPE. 5 on hand → 5 / 90 × 30 ≈ 2 days of stock.
Reorder with 7 days' lead + 7 days' cover: need 14 × 3 = 42, + reorder level 10 − 5 on hand = 47,
at 250.00 = 11,750.00.
"""

import datetime as dt
import os
import re
from decimal import Decimal as D
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from pos.tests.factories import DEFAULT_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("E2E_SCREENSHOTS", "/tmp/shots"))


@pytest.fixture
def oil_history(branch, settings):
    """Bidco Africa's Cooking oil 1L below its reorder level, with three weeks of sales; the nightly
    analytics (reports.tasks.nightly_analytics) run over them."""
    from core.roles import Role
    from inventory.tests.factories import ProductFactory, SupplierFactory, stock_in
    from pos.tests.factories import UserFactory
    from reports.analytics import basket_pairs_refresh, forecasts_refresh, local_today
    from reports.tests.analytics_support import completed_sale, local_dt

    settings.REORDER_LEAD_DAYS, settings.REORDER_COVER_DAYS = 7, 7
    supplier = SupplierFactory(name="Bidco Africa")
    oil = ProductFactory(name="Cooking oil 1L", default_supplier=supplier, reorder_level=D("10"),
                         reorder_quantity=D("0"), cost_price=D("250.00"), selling_price=D("320.00"))
    stock_in(oil, branch, 5)
    cashier = UserFactory(role=Role.EMPLOYEE, branch=branch, full_name="Akinyi Atieno")
    today = local_today()
    for days_ago in range(21, 0, -1):
        quantity = 4 if days_ago <= 7 else 2
        completed_sale(branch=branch, cashier=cashier, when=local_dt(today - dt.timedelta(days=days_ago), 11),
                       items=[(oil, quantity)])
    # As the nightly task does (calling the Huey task itself would only enqueue it).
    assert forecasts_refresh() == 1
    basket_pairs_refresh()
    return supplier, oil


def _login(page: Page, url: str, owner) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text)
            if m.type == "error" or "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=login]", owner.phone_number)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{url}/reports/")
    return problems


def test_owner_reads_the_forecast_and_drafts_the_reorder(live_server, page: Page, branch, owner, oil_history):
    from inventory.models import Purchase, PurchaseStatus

    supplier, oil = oil_history
    url = live_server.url
    problems = _login(page, url, owner)
    SHOTS.mkdir(parents=True, exist_ok=True)

    # Forecasts: the product's row has the hand-worked figures and the held-out error.
    page.goto(f"{url}/reports/analytics/forecasts/")
    expect(page.get_by_role("heading", name="Demand forecasts")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Cooking oil 1L")
    expect(row.get_by_role("cell")).to_have_text([
        re.compile(r"^Cooking oil 1L\b"),
        "Weekday-weighted average (short history)",
        "21",  # days of history
        "56",  # sold, last 28 days
        "21",  # next 7 days
        "90",  # next 30 days
        re.compile(r"^5\b"),  # on hand
        "2",  # days of stock
        "50.0 %",  # held-out error (WAPE)
    ])
    expect(page.get_by_text("Overall error on the held-out weeks: 50.0 %")).to_be_visible()
    page.screenshot(path=str(SHOTS / "analytics-forecasts.png"), full_page=True)

    # Reorder: Bidco's group suggests 47 at 11,750.00; its button makes the draft purchase.
    page.goto(f"{url}/reports/analytics/reorder/")
    group = page.locator("section").filter(has=page.get_by_role("heading", name="Bidco Africa"))
    suggestion = group.get_by_role("row").filter(has_text="Cooking oil 1L")
    expect(suggestion).to_contain_text("47")
    expect(suggestion).to_contain_text("11,750.00")
    page.screenshot(path=str(SHOTS / "analytics-reorder.png"), full_page=True)
    group.get_by_role("button", name=re.compile(r"Draft purchase \(KES 11,750\.00\)")).click()

    # Wait for the redirect before reading the database: click() does not wait for the POST.
    expect(page).to_have_url(re.compile(rf"^{re.escape(url)}/stock/purchases/\d+/$"))
    purchase = Purchase.objects.get(supplier=supplier)
    assert page.url == f"{url}{purchase.get_absolute_url()}"
    expect(page.locator("#messages")).to_contain_text(f"Draft purchase {purchase.number} for Bidco Africa")
    expect(page.get_by_role("heading", name=re.compile(f"{re.escape(purchase.number)} · Bidco Africa"))).to_be_visible()
    draft_line = page.get_by_test_id("purchase-lines").get_by_role("row").filter(has_text="Cooking oil 1L")
    expect(draft_line).to_contain_text("47")
    page.screenshot(path=str(SHOTS / "analytics-draft-purchase.png"), full_page=True)
    assert purchase.status == PurchaseStatus.DRAFT and purchase.branch == branch and purchase.created_by == owner
    line = purchase.lines.get()
    assert line.product == oil and line.quantity_ordered == D("47") and line.unit_cost == D("250.00")

    # Now on order: the reorder page has nothing left to suggest.
    page.goto(f"{url}/reports/analytics/reorder/")
    expect(page.get_by_text("Nothing to order")).to_be_visible()

    # The other analytics pages draw without errors.
    for slug, heading in [("trends", "Rising and falling"), ("basket", "Products bought together"),
                          ("anomalies", "Cashiers worth a look")]:
        page.goto(f"{url}/reports/analytics/{slug}/")
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        page.screenshot(path=str(SHOTS / f"analytics-{slug}.png"), full_page=True)
    assert not problems, problems
