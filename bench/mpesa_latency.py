"""How long from Daraja's callback reaching us to the cashier's pay panel showing "paid".

Runs against a real set-up: `runserver`, the Huey consumer and the local Daraja simulator, each its
own process (started by `bench/mpesa_latency.sh`), and headless Chromium on the M-Pesa block of the
pay panel (`/cash/sale/<id>/mpesa/`, the same partial the till includes). For each of N payments:

    t0  the simulator posts the callback; our view stores it   (MpesaInbox.received_at)
    t1  the Huey task has applied it                            (MpesaInbox.processed_at)
    t2  the browser's panel first shows "paid"                  (Playwright sees [data-status=paid])

and prints t1 − t0 and t2 − t0 (median, 90th percentile, max). The panel polls every second, so
t2 − t0 includes on average half a polling interval plus the fragment's round trip.

    DJANGO_SETTINGS_MODULE=config.settings.local SQLITE_PATH=var/bench-mpesa.sqlite3 \\
        python bench/mpesa_latency.py --base-url http://127.0.0.1:8601 --runs 10
"""

import argparse
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402

from cashdesk.models import CashSession  # noqa: E402
from cashdesk.mpesa.models import MpesaInbox, StkRequest  # noqa: E402
from cashdesk.services import session_open  # noqa: E402
from core.roles import Role  # noqa: E402
from inventory.ledger_services import StockLine, stock_move  # noqa: E402
from inventory.models import Category, Product, Unit  # noqa: E402
from pos.people.models import DEFAULT_BRANCH_CODE, Branch, User  # noqa: E402
from pos.sales.services import sale_add_product, sale_get_or_open  # noqa: E402

PHONE = "+254711000601"
PASSWORD = "bench-mpesa-601"


def prepare():
    branch = Branch.objects.get(code=DEFAULT_BRANCH_CODE)
    cashier, _ = User.objects.get_or_create(
        phone_number=PHONE,
        defaults={
            "full_name": "Bench Cashier",
            "role": Role.EMPLOYEE,
            "branch": branch,
            "password": make_password(PASSWORD),
        },
    )
    if not CashSession.objects.filter(open_for_cashier=cashier.pk).exists():
        session_open(cashier=cashier, opening_float=Decimal("1000"))
    category, _ = Category.objects.get_or_create(name="Bench")
    unit, _ = Unit.objects.get_or_create(code="pc", defaults={"name": "Piece", "decimal_places": 0})
    product, created = Product.objects.get_or_create(
        sku="BENCH-MPESA",
        defaults={
            "name": "Bench item",
            "category": category,
            "unit": unit,
            "selling_price": Decimal("250.00"),
            "cost_price": Decimal("150.00"),
        },
    )
    stock_move(branch=branch, lines=[StockLine(product.pk, Decimal("1000"))], kind="OPENING")
    return cashier, product


def open_sale(cashier, product):
    sale = sale_get_or_open(cashier=cashier)
    if not sale.lines.exists():
        sale_add_product(sale=sale, product=product, user=cashier)
    return sale


def percentile(values, q):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", default="http://127.0.0.1:8601")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--phone", default="0708374149", help="a simulator phone that pays")
    parser.add_argument(
        "--idle", type=float, default=1.5, help="seconds between payments (the consumer backs off when idle)"
    )
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    cashier, product = prepare()
    applied, shown, pushed = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 768, "height": 1024})
        page.goto(f"{args.base_url}/accounts/login/")
        page.get_by_label("Phone number").fill(PHONE)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Log in", exact=True).click()
        page.wait_for_url(f"{args.base_url}/")
        for run in range(args.runs):
            sale = open_sale(cashier, product)
            page.goto(f"{args.base_url}/cash/sale/{sale.pk}/mpesa/")
            page.get_by_test_id("mpesa-phone").fill(args.phone)
            page.get_by_test_id("mpesa-send").click()
            page.wait_for_selector("[data-status=waiting]", timeout=15000)
            page.wait_for_selector("[data-status=paid]", timeout=60000)
            seen = time.time()
            stk = StkRequest.objects.filter(sale=sale).latest("pk")
            inbox = MpesaInbox.objects.filter(checkout_request_id=stk.checkout_request_id).order_by("pk").first()
            if inbox is None or inbox.processed_at is None:
                print(f"run {run + 1}: paid without a processed callback (query?)", file=sys.stderr)
                continue
            t0 = inbox.received_at.timestamp()
            pushed.append((stk.sent_at - stk.created_at).total_seconds())
            applied.append(inbox.processed_at.timestamp() - t0)
            shown.append(seen - t0)
            print(
                f"run {run + 1:2d}: push sent +{pushed[-1] * 1000:6.0f} ms after the click; callback applied "
                f"+{applied[-1] * 1000:6.0f} ms, panel shows paid +{shown[-1] * 1000:6.0f} ms after it arrived"
            )
            time.sleep(args.idle)  # a till is idle between M-Pesa payments; the consumer backs off meanwhile
        browser.close()

    def summary(label, values):
        ms = [v * 1000 for v in values]
        print(
            f"{label:<36} median {statistics.median(ms):6.0f} ms   "
            f"p90 {percentile(ms, 90):6.0f} ms   max {max(ms):6.0f} ms"
        )

    print(f"\n{len(shown)} payments, {args.idle:.0f} s apart")
    summary("click → push sent to Daraja", pushed)
    summary("callback received → applied", applied)
    summary("callback received → panel paid", shown)


if __name__ == "__main__":
    main()
