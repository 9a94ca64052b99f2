"""The sales API under load: a sale created with 1, 10 and 50 lines (queries, time), then API clients
selling and paying at once (how many answers were 5xx).

    python bench/api_sales.py                                                          # SQLite file
    DATABASE_URL=mysql://root@127.0.0.1:3306/asiria_bench python bench/api_sales.py    # MariaDB
    DATABASE_URL=… python bench/api_sales.py --clients 8 --seconds 60                  # the rush, longer

It builds a throw-away test database (``test_<name>``; dropped at the end), a catalogue of ``--products``
products with stock, and drives the real API through DRF's test client with a JWT, in this process
(no network): ``POST /api/salesheaders/`` with ``Idempotency-Key``, as a till app or an online shop
does. The rush: ``--clients`` threads, each its own cashier with an open cash session, for
``--seconds``: create a 3-line sale from 4 hot products (every sale locks some of the same stock rows
and the branch's sale-number counter), pay it in cash (``POST /api/sales-payments/split/``), again.
"""

import argparse
import os
import statistics
import sys
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=15, help="sales created per line count")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20, help="length of the rush (0: none)")
    parser.add_argument("--keep", action="store_true", help="keep the test database afterwards")
    args = parser.parse_args()

    from bench.throwaway_db import in_a_throwaway_database

    in_a_throwaway_database("api", lambda vendor: run(args), keep=args.keep)


def run(args):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from cashdesk.services import session_open
    from core.roles import Role
    from inventory.ledger_services import StockLine, stock_move
    from inventory.models import Category, MovementKind, Product, StockLevel, Unit
    from pos.people.models import Branch, User
    from pos.people.tokens import refresh_token_for
    from pos.sales.models import Sale, SaleStatus

    print(f"# AsiriaPOS API sales bench — {connection.vendor} ({connection.settings_dict['NAME']})")
    branch = Branch.objects.get(code="MAIN")
    unit, _ = Unit.objects.get_or_create(code="pc", defaults={"name": "Piece"})
    category = Category.objects.create(name="Bench")
    Product.objects.bulk_create([
        Product(name=f"Bench product {n}", sku=f"API{n:06d}", unit=unit, category=category,
                selling_price=Decimal(20 + n % 500), cost_price=Decimal("10.00"), tax_class="BBBA"[n % 4])
        for n in range(args.products)
    ], batch_size=1000)
    ids = list(Product.objects.order_by("pk").values_list("pk", flat=True))
    stock_move(branch=branch, lines=[StockLine(product_id=pk, quantity=Decimal("1000000")) for pk in ids],
               kind=MovementKind.OPENING)

    def cashier(n):
        user = User.objects.create_user(f"+2547009{n:05d}", f"bench-pass-{n}", full_name=f"Bench Cashier {n}",
                                        role=Role.EMPLOYEE, branch=branch)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh_token_for(user).access_token}")
        client.raise_request_exception = False
        return user, client

    user, client = cashier(0)
    warm_up = client.post("/api/salesheaders/", {"details": [{"product": ids[0], "quantity": "1"}]}, format="json")
    Sale.objects.filter(pk=warm_up.json()["id"]).delete()  # the first request loads code and caches
    print("\n| lines | queries | median ms | max ms |\n| ---: | ---: | ---: | ---: |")
    for lines in (1, 10, 50):
        times, queries = [], set()
        for run_no in range(args.runs):
            details = [{"product": ids[(run_no * 50 + i) % len(ids)], "quantity": "2"} for i in range(lines)]
            connection.queries_log.clear()  # the log keeps 9,000 queries: a full one would count none
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.post("/api/salesheaders/", {"details": details}, format="json",
                                       HTTP_IDEMPOTENCY_KEY=f"bench-{lines}-{run_no}")
                times.append(time.perf_counter() - started)
            assert response.status_code == 201, response.content
            queries.add(len(captured))
            Sale.objects.filter(pk=response.json()["id"]).delete()
        print(f"| {lines} | {'/'.join(map(str, sorted(queries)))} | {statistics.median(times) * 1000:.1f} "
              f"| {max(times) * 1000:.1f} |")

    if args.seconds <= 0:
        return
    hot = ids[:4]
    tills = []
    for n in range(1, args.clients + 1):
        till_user, till_client = cashier(n)
        tills.append((till_user, session_open(cashier=till_user, opening_float=Decimal("1000")), till_client))
    statuses: Counter = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(len(tills))
    stop_at = [0.0]

    def sell(index, till_user, session, till_client):
        try:
            barrier.wait()
            n = 0
            while time.monotonic() < stop_at[0]:
                n += 1
                details = [{"product": pk, "quantity": "1"} for pk in (hot[n % 4], hot[(n + index) % 4], hot[3])]
                key = f"{till_user.pk}-{n}"
                try:
                    created = till_client.post("/api/salesheaders/", {"details": details}, format="json",
                                               HTTP_IDEMPOTENCY_KEY=f"s-{key}")
                    codes = [created.status_code]
                    if created.status_code == 201:
                        body = {"sales_header": created.json()["id"], "session": session.pk,
                                "payments": [{"method": "CASH", "amount": "5000"}]}
                        codes.append(till_client.post("/api/sales-payments/split/", body, format="json",
                                                      HTTP_IDEMPOTENCY_KEY=f"p-{key}").status_code)
                except Exception:  # noqa: BLE001 - what escaped the stack is a 500 to a client
                    codes = [500]
                with lock:
                    statuses.update(codes)
        finally:
            connection.close()

    threads = [threading.Thread(target=sell, args=(i, *till)) for i, till in enumerate(tills)]
    stop_at[0] = time.monotonic() + args.seconds
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    completed = Sale.objects.filter(status=SaleStatus.COMPLETED).count()
    fives = sum(count for code, count in statuses.items() if code >= 500)
    print(f"\n{args.clients} API clients for {args.seconds:.0f} s: {sum(statuses.values())} responses "
          f"{dict(sorted(statuses.items()))}, **{fives} 5xx**, {completed} sales completed "
          f"({completed / args.seconds:.1f} a second); negative stock rows: "
          f"{StockLevel.objects.filter(quantity__lt=0).count()}")
    print(f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
