"""Till speed on a big catalogue: the add-item (scan) request, search-as-you-type and a 10-line checkout.

    python bench/till.py                       # SQLite (a real file under var/, WAL, like production)
    DATABASE_URL=mysql://root@127.0.0.1:3306/asiria_bench python bench/till.py   # MariaDB

It builds a throw-away test database (``test_<name>``; dropped at the end), loads 20,000 products with
EAN-13 barcodes and opening stock, logs a cashier in, and then drives the real views through Django's
test client exactly as the till's htmx does: ``POST /till/scan/`` with the barcode (HX-Request), and
``POST /till/checkout/`` with cash. Times are wall-clock per request, in the same process (no network).
Finally it counts the queries of ``sale_checkout`` for carts of 2, 10 and 30 lines.
"""

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


def percentile(values, p):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def ms(seconds):
    return f"{seconds * 1000:.1f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--carts", type=int, default=30, help="10-line sales rung up and paid")
    parser.add_argument("--keep", action="store_true", help="keep the test database afterwards")
    args = parser.parse_args()

    from bench.throwaway_db import in_a_throwaway_database

    in_a_throwaway_database("till", lambda vendor: run(args, vendor), keep=args.keep)


def run(args, vendor):
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from cashdesk.services import Tender, sale_checkout, session_open
    from core.roles import Role
    from inventory.barcodes import make_ean13
    from inventory.ledger_services import StockLine, stock_move
    from inventory.models import Category, MovementKind, Product, Unit
    from pos.people.models import Branch, User
    from pos.sales.models import Sale, SaleStatus
    from pos.sales.services import sale_add_product, sale_get_or_open

    print(
        f"# AsiriaPOS till bench — {connection.vendor} ({connection.settings_dict['NAME']}), {args.products:,} products"
    )
    branch = Branch.objects.get(code="MAIN")
    cashier = User.objects.create_user("+254700900001", "bench-pass-1", full_name="Bench Cashier", role=Role.EMPLOYEE,
                                       branch=branch)
    unit, _ = Unit.objects.get_or_create(code="pc", defaults={"name": "Piece"})
    categories = [Category.objects.create(name=f"Category {i}") for i in range(20)]
    started = time.perf_counter()
    words = [
        "Maize flour",
        "Sugar",
        "Rice",
        "Cooking oil",
        "Soap",
        "Milk",
        "Bread",
        "Tea leaves",
        "Salt",
        "Beans",
        "Toothpaste",
        "Matches",
        "Biscuits",
        "Juice",
        "Water",
        "Margarine",
        "Detergent",
        "Candles",
        "Eggs",
        "Spaghetti",
    ]
    batch = []
    for n in range(args.products):
        batch.append(Product(
            name=f"{words[n % len(words)]} {n // len(words)} {random.choice(['250g', '500g', '1kg', '2kg', '1l'])}",
            sku=f"B{n:06d}", barcode=make_ean13(f"616{n:09d}"), category=categories[n % 20], unit=unit,
            selling_price=Decimal(random.randint(20, 2000)), cost_price=Decimal("10.00"),
            tax_class=random.choice("BBBBA"), is_favourite=n < 24,
        ))
        if len(batch) == 2000:
            Product.objects.bulk_create(batch)
            batch = []
    Product.objects.bulk_create(batch)
    ids = list(Product.objects.values_list("pk", flat=True))
    for chunk in range(0, len(ids), 2000):
        with transaction.atomic():
            stock_move(branch=branch, lines=[StockLine(pid, Decimal("1000")) for pid in ids[chunk:chunk + 2000]],
                       kind=MovementKind.OPENING, reason="bench")
    print(f"loaded in {time.perf_counter() - started:.1f} s")

    session_open(cashier=cashier, opening_float=Decimal("10000"))
    client = Client()
    client.force_login(cashier)
    barcodes = list(Product.objects.values_list("barcode", flat=True))
    hx = {"HTTP_HX_REQUEST": "true"}

    # warm up: templates, caches, connection
    for code in random.sample(barcodes, 5):
        client.post("/till/scan/", {"q": code}, **hx)
    sale = Sale.objects.get(open_for_cashier=cashier.pk)
    client.post("/till/checkout/", {"sale": sale.pk, "idempotency_key": uuid.uuid4().hex, "cash": "100000"}, **hx)

    scan_times, scan_queries, checkout_times = [], [], []
    for _ in range(args.carts):
        for code in random.sample(barcodes, 10):
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                response = client.post("/till/scan/", {"q": code}, **hx)
                scan_times.append(time.perf_counter() - t0)
            assert response.status_code == 200 and b'data-testid="cart-line"' in response.content
            scan_queries.append(len(ctx))
        sale = Sale.objects.get(open_for_cashier=cashier.pk)
        assert sale.lines.count() == 10
        t0 = time.perf_counter()
        response = client.post("/till/checkout/", {"sale": sale.pk, "idempotency_key": uuid.uuid4().hex,
                                                   "cash": str(sale.total + 1000)}, **hx)
        checkout_times.append(time.perf_counter() - t0)
        assert "HX-Redirect" in response, response.content[:500]
    assert Sale.objects.filter(status=SaleStatus.COMPLETED).count() == args.carts + 1

    search_times = []
    for word in random.choices(words, k=100):
        query = word.split()[0][:5].lower()
        t0 = time.perf_counter()
        client.get("/till/search/", {"q": query}, **hx)
        search_times.append(time.perf_counter() - t0)

    query_counts = {}
    for size in (2, 10, 30):
        cart = sale_get_or_open(cashier=cashier)
        for product in Product.objects.order_by("?")[:size]:
            sale_add_product(sale=cart, product=product, user=cashier)
        cart.refresh_from_db()
        with CaptureQueriesContext(connection) as ctx:
            sale_checkout(
                sale=cart, user=cashier, tenders=[Tender("CASH", cart.total)], idempotency_key=uuid.uuid4().hex
            )
        query_counts[size] = len(ctx)

    print()
    print("| measure | n | median ms | p99 ms | max ms |")
    print("| --- | --- | --- | --- | --- |")
    for label, values in (("add item (POST /till/scan/, barcode)", scan_times),
                          ("search as you type (GET /till/search/)", search_times),
                          ("10-line checkout (POST /till/checkout/, cash)", checkout_times)):
        print(
            f"| {label} | {len(values)} | {ms(statistics.median(values))} | {ms(percentile(values, 99))} "
            f"| {ms(max(values))} |"
        )
    print()
    print(f"queries per add-item request: {min(scan_queries)}–{max(scan_queries)}")
    print("queries of sale_checkout by cart size: " + ", ".join(f"{k} lines → {v}" for k, v in query_counts.items()))
    assert len(set(query_counts.values())) == 1, "checkout's query count grew with the number of lines"


if __name__ == "__main__":
    main()
