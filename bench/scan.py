"""The till's scan on a cart of 1, 10 and 50 lines: the request's time and queries, and the cart's template.

    python bench/scan.py                       # SQLite file under var/
    DATABASE_URL=mysql://root@127.0.0.1:3306/asiria_bench python bench/scan.py   # MariaDB

It builds a throw-away test database (``test_<name>``; dropped at the end), fills a cashier's cart
through the services to 1, 10 and 50 lines, and then, as the till's htmx does, posts a barcode to
``POST /till/scan/`` (HX-Request) with Django's test client: each scan adds a new line, which is
taken off again before the next, so every scan meets a cart of that size. Separately it times the
answer's template alone (``pos/till.html#cart-update``: the cart, totals, customer bar and feedback)
for the same carts. Times are per request inside the process (no network), medians of ``--scans``.
"""

import argparse
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scans", type=int, default=40, help="scans timed at each cart size")
    args = parser.parse_args()

    from bench.throwaway_db import in_a_throwaway_database

    in_a_throwaway_database("scan", lambda vendor: run(args))


def run(args):
    from django.db import connection
    from django.template.loader import get_template
    from django.test import Client, RequestFactory
    from django.test.utils import CaptureQueriesContext

    from core.roles import Role
    from inventory.barcodes import make_ean13
    from inventory.ledger_services import StockLine, stock_move
    from inventory.models import Category, MovementKind, Product, Unit
    from pos.people.models import Branch, User
    from pos.sales.models import Sale, SaleLine
    from pos.sales.selectors import vat_breakdown
    from pos.sales.services import sale_add_product, sale_get_or_open, sale_recalculate

    print(f"# AsiriaPOS scan bench — {connection.vendor}, load average {load_average()} at the start")
    branch = Branch.objects.get(code="MAIN")
    cashier = User.objects.create_user("+254700900003", "bench-pass-3", full_name="Bench Cashier", role=Role.EMPLOYEE,
                                       branch=branch)
    unit, _ = Unit.objects.get_or_create(code="pc", defaults={"name": "Piece"})
    category = Category.objects.create(name="Bench")
    Product.objects.bulk_create(
        Product(name=f"Bench product {n} 500g", sku=f"S{n:04d}", barcode=make_ean13(f"618{n:09d}"),
                category=category, unit=unit, selling_price=Decimal(20 + n), cost_price=Decimal("10.00"),
                tax_class="BA"[n % 2])
        for n in range(60)
    )
    products = list(Product.objects.order_by("pk"))
    stock_move(branch=branch, lines=[StockLine(p.pk, Decimal("1000")) for p in products],
               kind=MovementKind.OPENING, reason="bench")
    client = Client()
    client.force_login(cashier)
    hx = {"HTTP_HX_REQUEST": "true"}
    template = get_template("pos/till.html#cart-update")
    request = RequestFactory().get("/till/")
    request.user = cashier

    print()
    print("| cart lines | scans | request median ms | request p90 ms | queries per scan | template median ms |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    cart = sale_get_or_open(cashier=cashier)
    spare = products[-1]
    for size in (1, 10, 50):
        for product in products[cart.lines.count():size]:
            sale_add_product(sale=cart, product=product, user=cashier)
        client.post("/till/scan/", {"q": spare.barcode}, **hx)  # warm: templates, caches
        times, queries = [], set()
        for _ in range(args.scans):
            SaleLine.objects.filter(sale=cart, product=spare).delete()
            sale_recalculate(sale=Sale.objects.get(pk=cart.pk))
            with CaptureQueriesContext(connection) as captured:
                t0 = time.perf_counter()
                response = client.post("/till/scan/", {"q": spare.barcode}, **hx)
                times.append(time.perf_counter() - t0)
            assert response.status_code == 200
            assert response.content.count(b'data-testid="cart-line"') == size + 1
            queries.add(len(captured))
        SaleLine.objects.filter(sale=cart, product=spare).delete()
        sale = Sale.objects.get(pk=cart.pk)
        lines = list(sale.lines.all())
        context = {"sale": sale, "lines": lines, "vat": vat_breakdown(lines), "selected_line": lines[-1].pk,
                   "customer": None, "held_count": 0, "item_count": sum(line.quantity for line in lines),
                   "oob": True, "feedback": "Bench product × 1", "level": "success"}
        renders = []
        for _ in range(args.scans):
            t0 = time.perf_counter()
            template.render(context, request)
            renders.append(time.perf_counter() - t0)
        ordered = sorted(times)
        print(f"| {size} | {len(times)} | {statistics.median(times) * 1000:.1f} | "
              f"{ordered[round(0.9 * (len(ordered) - 1))] * 1000:.1f} | {'–'.join(map(str, sorted(queries)))} | "
              f"{statistics.median(renders) * 1000:.2f} |")
    print()
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
