"""Reports on a year of a busy shop: how long each report and the dashboard take on MariaDB.

    DATABASE_URL=mysql://root@127.0.0.1:3306/asiria_bench python bench/reports_bench.py
    DATABASE_URL=mysql://root@127.0.0.1:3306/asiria_bench python bench/reports_bench.py --reuse   # keep data

It builds a test database of its own (``test_<name>``; kept with ``--keep`` and reused with ``--reuse``),
then bulk-inserts a year of a busy three-branch shop: 20,000 products in 40 categories (popularity
skewed, so some never sell), 24 cashiers, 2,000 customers, ~700 sales a day of 1–8 lines (≥ 1,000,000
sale lines), a payment per sale (cash with change, card, M-Pesa, on account), a cash session per
cashier per day with over/short, a stock movement per sale line and stock levels per branch. Bulk
inserts skip the services (they would take hours); the figures the reports read are consistent.

Then it sums the history into the report summaries (`reports.summaries`, what the Huey task does
every 15 minutes; timed: the whole year at once, then one more day and a late void), and times every
report selector (the same functions the pages and CSV call) for the whole year
and for one month, over all branches and one branch, and the dashboard's figures and page, each the
median of ``--runs`` runs, and prints a Markdown table for bench/README.md. ``--live`` times the
reports with the summaries switched off (every day read from the sales, as before they existed).
"""

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

CENT = Decimal("0.01")


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--sales-per-day", type=int, default=700)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the test database afterwards")
    parser.add_argument("--reuse", action="store_true", help="reuse the data of an earlier --keep run")
    parser.add_argument("--resume", action="store_true",
                        help="with --reuse: carry on generating after the last day in the database (a run cut short)")
    parser.add_argument("--live", action="store_true", help="time the reports without the summaries")
    parser.add_argument("--buffer-pool", default="", metavar="BYTES",
                        help="MariaDB: SET GLOBAL innodb_buffer_pool_size first (e.g. 4294967296; the default 128 MB "
                             "holds a tenth of this data, so most reads go to disk)")
    parser.add_argument("--rebuild-summaries", action="store_true", help="sum the whole history again first")
    args = parser.parse_args()

    import django
    from django.conf import settings

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    vendor = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    if vendor == "sqlite3":
        settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = str(ROOT / "var" / "bench-reports.sqlite3")
    setup_test_environment()
    # serialize=False: a copy of a million rows for TransactionTestCase rollbacks is of no use here.
    if args.buffer_pool and vendor == "mysql":
        with connection.cursor() as cursor:
            cursor.execute("SET GLOBAL innodb_buffer_pool_size = %s", [int(args.buffer_pool)])
        time.sleep(5)  # the server resizes the pool in the background
    old_name = connection.creation.create_test_db(
        verbosity=0, autoclobber=not args.reuse, keepdb=args.reuse, serialize=False
    )
    try:
        from pos.sales.models import SaleLine

        if not args.reuse or not SaleLine.objects.exists() or args.resume:
            started = time.perf_counter()
            generate(args)
            print(f"generated in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        if not args.live:
            summarize(args)
        measure(args)
    finally:
        if not (args.keep or args.reuse):
            connection.creation.destroy_test_db(old_name, verbosity=0)


# ---------------------------------------------------------------------------- data
def generate(args):
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.db.models import Sum
    from django.utils import timezone

    from cashdesk.models import CashSession, Payment
    from inventory.models import Category, Product, StockLevel, StockMovement, Unit
    from pos.customers.models import Customer
    from pos.people.models import Branch, User
    from pos.sales.models import Sale, SaleLine

    rng = random.Random(7)
    resuming = args.resume and Product.objects.filter(sku__startswith="BP").exists()
    branches = [Branch.objects.get_or_create(code="MAIN", defaults={"name": "Main branch"})[0]]
    if resuming:
        branches += [Branch.objects.get(code="WSTL"), Branch.objects.get(code="KSM")]
    else:
        branches += [Branch.objects.create(name=n, code=c) for n, c in (("Westlands", "WSTL"), ("Kisumu", "KSM"))]
    unit = Unit.objects.get_or_create(code="pc", defaults={"name": "Piece", "decimal_places": 0})[0]
    categories = [] if resuming else [Category.objects.create(name=f"Category {i:02d}") for i in range(40)]
    tax_classes = ["B"] * 7 + ["A", "C", "E"]
    products = []
    for i in range(0 if resuming else args.products):
        price = money(
            rng.choice([20, 35, 50, 65, 80, 120, 150, 250, 400, 650, 1200, 2500]) * Decimal(rng.uniform(0.8, 1.2))
        )
        products.append(
            Product(
                name=f"Bench product {i:05d}",
                sku=f"BP{i:05d}",
                barcode=f"2{i:011d}0",
                category=categories[i % len(categories)],
                unit=unit,
                selling_price=price,
                cost_price=money(price * Decimal("0.72")),
                tax_class=tax_classes[i % len(tax_classes)],
                reorder_level=Decimal("5"),
            )
        )
    if products:
        Product.objects.bulk_create(products, batch_size=2000)
    products = list(
        Product.objects.order_by("pk").values("pk", "name", "sku", "selling_price", "cost_price", "tax_class")
    )
    password = make_password("bench-pass-1")
    cashiers = []
    for b, branch in enumerate(branches):
        for c in range(8):
            cashiers.append(
                User(phone_number=f"+2547{b}{c:07d}", full_name=f"Cashier {branch.code} {c}", role="EMPLOYEE",
                     branch=branch, password=password)
            )
    if not resuming:
        User.objects.bulk_create(cashiers)
    cashiers = list(User.objects.filter(role="EMPLOYEE").order_by("pk"))
    by_branch = {branch.pk: [u for u in cashiers if u.branch_id == branch.pk] for branch in branches}
    if not resuming:
        Customer.objects.bulk_create(
            [Customer(name=f"Customer {i:04d}", phone_number=f"+2541{i:08d}", credit_limit=Decimal("50000"))
             for i in range(2000)]
        )
    customer_ids = list(Customer.objects.values_list("pk", flat=True))

    # Popularity: a Zipf-like skew, and the last 5 % of the catalogue never sells (dead stock).
    selling = len(products) - len(products) // 20
    weights = [1 / (i + 10) for i in range(selling)]
    cumulative = []
    total = 0.0
    for w in weights:
        total += w
        cumulative.append(total)

    rates = {"A": 0, "B": 16, "C": 0, "D": 0, "E": 8}
    today = timezone.localdate()
    start_day = today - dt.timedelta(days=args.days - 1)
    sale_id = (Sale.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    sequence = {branch.pk: 0 for branch in branches}
    first_day = 0
    if resuming:
        from django.db.models import Max

        for branch_id, last in Sale.objects.values_list("branch_id").annotate(Max("sequence")):
            sequence[branch_id] = last or 0
        last_sale = Sale.objects.order_by("-completed_at").values_list("completed_at", flat=True).first()
        if last_sale is not None:
            # Carry on the day after the last one written (a cut-short day keeps what it had).
            first_day = (timezone.localtime(last_sale).date() - start_day).days + 1
    lines_made = 0
    for offset_day in range(first_day, args.days):
        day = start_day + dt.timedelta(days=offset_day)
        weekday_boost = 1.3 if day.weekday() in (4, 5) else 1.0
        n_sales = int(args.sales_per_day * weekday_boost * rng.uniform(0.85, 1.15))
        sales, lines, payments, movements = [], [], [], []
        for _ in range(n_sales):
            branch = branches[0] if rng.random() < 0.5 else rng.choice(branches[1:])
            cashier = rng.choice(by_branch[branch.pk])
            hour = rng.choices(range(7, 22), weights=[2, 4, 6, 7, 8, 10, 9, 7, 6, 7, 9, 10, 8, 5, 2])[0]
            when = timezone.make_aware(dt.datetime.combine(day, dt.time(hour, rng.randrange(60), rng.randrange(60))))
            sequence[branch.pk] += 1
            subtotal = tax_total = ZERO = Decimal("0.00")
            customer_id = rng.choice(customer_ids) if rng.random() < 0.15 else None
            picked = set()
            for position in range(rng.choice([1, 1, 2, 2, 3, 3, 4, 4, 5, 6, 7, 8, 9, 10])):
                index = _pick(rng, cumulative, total)
                if index in picked:
                    continue
                picked.add(index)
                product = products[index]
                quantity = Decimal(rng.choice([1, 1, 1, 1, 2, 2, 3, 6]))
                line_total = money(product["selling_price"] * quantity)
                rate = rates[product["tax_class"]]
                tax = money(line_total * rate / (100 + rate)) if rate else ZERO
                subtotal += line_total
                tax_total += tax
                lines.append(
                    SaleLine(
                        sale_id=sale_id, product_id=product["pk"], position=position, product_name=product["name"],
                        sku=product["sku"], unit_code="pc", quantity=quantity, list_price=product["selling_price"],
                        unit_price=product["selling_price"], tax_class=product["tax_class"], tax_rate=Decimal(rate),
                        cost_price=product["cost_price"], gross_amount=line_total, line_total=line_total,
                        tax_amount=tax,
                    )
                )
                movements.append(
                    StockMovement(
                        product_id=product["pk"], branch_id=branch.pk, quantity=-quantity, kind="SALE",
                        reference_label=f"{branch.code}-{sequence[branch.pk]:06d}", unit_cost=product["cost_price"],
                        balance_after=Decimal("0"), user_id=cashier.pk, created_at=when,
                    )
                )
            if not picked:
                sequence[branch.pk] -= 1
                continue
            sales.append(
                Sale(
                    id=sale_id, branch_id=branch.pk, cashier_id=cashier.pk, customer_id=customer_id, status="COMPLETED",
                    number=f"{branch.code}-{sequence[branch.pk]:06d}", sequence=sequence[branch.pk],
                    idempotency_key=f"bench-{sale_id}", subtotal=subtotal, tax_total=tax_total, total=subtotal,
                    paid_total=subtotal, completed_at=when, receipt_prints=1,
                )
            )
            method = rng.choices(["CASH", "MPESA", "CARD", "CUSTOMER_CREDIT"], weights=[45, 40, 12, 3])[0]
            if method == "CUSTOMER_CREDIT" and customer_id is None:
                method = "CASH"
            handed = subtotal
            change = ZERO
            if method == "CASH":
                handed = (subtotal / 100).to_integral_value(rounding="ROUND_CEILING") * 100
                change = handed - subtotal
                sales[-1].paid_total = handed
                sales[-1].change_given = change
            payments.append(
                Payment(sale_id=sale_id, method=method, status="CONFIRMED", amount=handed, change_given=change,
                        received_by_id=cashier.pk, confirmed_at=when,
                        mpesa_receipt=f"B{sale_id:09d}" if method == "MPESA" else None)
            )
            sale_id += 1
        sessions = []
        for cashier in cashiers:
            opened = timezone.make_aware(dt.datetime.combine(day, dt.time(7)))
            difference = Decimal(rng.choice([0, 0, 0, 0, -50, 20, -120, 10, -300]))
            sessions.append(
                CashSession(
                    cashier_id=cashier.pk, branch_id=cashier.branch_id, status="CLOSED", opened_at=opened,
                    opening_float=Decimal("2000"), closed_at=opened + dt.timedelta(hours=14), closed_by_id=cashier.pk,
                    closing_total=Decimal("20000") + difference, expected_cash=Decimal("20000"), difference=difference,
                )
            )
        with transaction.atomic():
            Sale.objects.bulk_create(sales, batch_size=2000)
            SaleLine.objects.bulk_create(lines, batch_size=5000)
            Payment.objects.bulk_create(payments, batch_size=5000)
            StockMovement.objects.bulk_create(movements, batch_size=5000)
            CashSession.objects.bulk_create(sessions)
        lines_made += len(lines)
        if offset_day % 30 == 0:
            print(f"day {offset_day + 1}/{args.days}: {lines_made:,} lines", file=sys.stderr, flush=True)
    # Stock on hand: what was bought (an opening movement) less what was sold; some products at zero.
    sold_qty = {
        (product_id, branch_id): quantity
        for product_id, branch_id, quantity in SaleLine.objects.values("product_id", "sale__branch_id")
        .annotate(total=Sum("quantity")).values_list("product_id", "sale__branch_id", "total")
    }
    levels, openings = [], []
    opened_at = timezone.make_aware(dt.datetime.combine(start_day - dt.timedelta(days=1), dt.time(6)))
    for product in products:
        for branch in branches:
            sold = sold_qty.get((product["pk"], branch.pk), Decimal("0"))
            on_hand = Decimal(rng.choice([0, 5, 12, 24, 48, 100]))
            levels.append(StockLevel(product_id=product["pk"], branch_id=branch.pk, quantity=on_hand))
            if sold + on_hand:
                openings.append(
                    StockMovement(
                        product_id=product["pk"],
                        branch_id=branch.pk,
                        quantity=sold + on_hand,
                        kind="OPENING",
                        unit_cost=product["cost_price"],
                        balance_after=sold + on_hand,
                        created_at=opened_at,
                    )
                )
    with transaction.atomic():
        StockLevel.objects.bulk_create(levels, batch_size=5000)
        StockMovement.objects.bulk_create(openings, batch_size=5000)
    if connection.vendor == "mysql":
        with connection.cursor() as cursor:
            for table in ("pos_sale", "pos_saleline", "cashdesk_payment", "inventory_stockmovement"):
                cursor.execute(f"ANALYZE TABLE {table}")  # noqa: S608 - fixed names
                cursor.fetchall()
    print(f"{lines_made:,} sale lines, {sale_id - 1:,} sales", file=sys.stderr)


def _pick(rng, cumulative, total):
    import bisect

    return min(bisect.bisect_left(cumulative, rng.random() * total), len(cumulative) - 1)


# ---------------------------------------------------------------------------- summaries
def summarize(args):
    """Sum the history into the report summaries (timed), as the Huey task would on a new install."""
    from django.db import transaction
    from django.utils import timezone

    from pos.sales.models import Sale
    from reports.summaries import summaries_catch_up, summaries_rebuild, summaries_sale_voided, summarized_through
    from reports.summary_models import ProductSalesSummary, StockMovementSummary, SummaryState

    yesterday = timezone.localdate() - dt.timedelta(days=1)
    if args.rebuild_summaries or summarized_through() != yesterday:
        started = time.perf_counter()
        result = summaries_rebuild()
        print(f"summed {result.days} days in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        SUMMARY_FIGURES["the whole year, at once (a new install)"] = time.perf_counter() - started
    # One more day, as after each midnight: step back a day and sum it again.
    SummaryState.objects.filter(pk=1).update(summarized_through=yesterday - dt.timedelta(days=1))
    started = time.perf_counter()
    summaries_catch_up()
    SUMMARY_FIGURES["one day (what runs after midnight), incl. its month"] = time.perf_counter() - started
    # A late void: a sale of a summed day voided (the day and its month summed again for its branch).
    sale = (
        Sale.objects.filter(completed_at__lt=timezone.now() - dt.timedelta(days=10), status="COMPLETED")
        .order_by("-pk")
        .first()
    )
    started = time.perf_counter()
    with transaction.atomic():
        summaries_sale_voided(sale)
    SUMMARY_FIGURES["a late void: its day and month at its branch"] = time.perf_counter() - started
    SUMMARY_FIGURES["rows: product sales (day + month)"] = ProductSalesSummary.objects.count()
    SUMMARY_FIGURES["rows: stock movements (day + month)"] = StockMovementSummary.objects.count()


SUMMARY_FIGURES: dict[str, float] = {}


# ---------------------------------------------------------------------------- measurements
def measure(args):
    from django.db import connection

    from pos.sales.models import Sale, SaleLine

    lines = SaleLine.objects.count()
    sales = Sale.objects.count()
    from inventory.models import Product

    print(
        f"# AsiriaPOS reports bench — {connection.vendor} "
        f"{connection.mysql_version if connection.vendor == 'mysql' else ''}"
    )
    if connection.vendor == "mysql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT @@GLOBAL.innodb_buffer_pool_size, @@SESSION.tmp_table_size, @@SESSION.max_heap_table_size"
            )
            pool, tmp, heap = cursor.fetchone()
        print(f"\ninnodb_buffer_pool_size {pool / 2**20:,.0f} MB; tmp_table_size {tmp / 2**20:,.0f} MB, "
              f"max_heap_table_size {heap / 2**20:,.0f} MB (this connection)")
    print(f"\n{sales:,} sales, {lines:,} sale lines, {Product.objects.count():,} products, {args.runs} runs each\n")
    from reports.summary_models import SummaryState

    kept = SummaryState.objects.filter(pk=1).values_list("summarized_through", flat=True).first()
    if args.live:
        SummaryState.objects.filter(pk=1).update(summarized_through=None)
        print("Summaries switched off (--live): every day read from the sales.\n")
    else:
        print(f"Summaries through {kept}; today read from the sales.\n")
        for label, value in SUMMARY_FIGURES.items():
            print(
                f"- summing {label}: {value:,.0f}"
                if label.startswith("rows")
                else f"- summing {label}: {value * 1000:,.0f} ms"
            )
        print()
    try:
        _measure(args)
    finally:
        SummaryState.objects.filter(pk=1).update(summarized_through=kept)


def _measure(args):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from core.roles import Role
    from pos.people.models import Branch, User
    from reports import selectors
    from reports.registry import REPORTS

    today = timezone.localdate()
    main = Branch.objects.get(code="MAIN")
    year = selectors.Period(start=today - dt.timedelta(days=args.days - 1), end=today)
    month = selectors.Period(start=today - dt.timedelta(days=29), end=today)
    year_main = selectors.Period(start=year.start, end=today, branch_ids=(main.pk,))
    print("| report | year, all branches ms | year, one branch ms | month, all branches ms | rows (year) |")
    print("| --- | --- | --- | --- | --- |")
    for report in REPORTS.values():
        figures = []
        rows = 0
        for period in (year, year_main, month):
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                result = report.fetch(period)
                times.append(time.perf_counter() - started)
            if period is year:
                rows = len(result)
            figures.append(f"{statistics.median(times) * 1000:.0f}")
        print(f"| {report.title} | {' | '.join(figures)} | {rows:,} |", flush=True)

    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        selectors.dashboard(today=today, branch_ids=None)
        times.append(time.perf_counter() - started)
    print(f"\nDashboard figures (selectors.dashboard, all branches): median {statistics.median(times) * 1000:.0f} ms")
    owner = User.objects.filter(role=Role.OWNER).first() or User.objects.create_user(
        "+254799999999", "bench-pass-1", full_name="Bench Owner", role=Role.OWNER, branch=main
    )
    client = Client()
    client.force_login(owner)
    import logging

    logging.disable(logging.INFO)  # the request log would interleave with the table
    client.get("/reports/")  # warm-up: template loading and the first connection are not the page's cost
    for label, url in (
        ("dashboard page", "/reports/"),
        ("sales by day page, this year", f"/reports/view/sales-by-day/?preset=custom&start={year.start}&end={today}"),
        (
            "sales by product page, this year",
            f"/reports/view/sales-by-product/?preset=custom&start={year.start}&end={today}",
        ),
        (
            "sales by product CSV, this year",
            f"/reports/view/sales-by-product/csv/?preset=custom&start={year.start}&end={today}",
        ),
    ):
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
                if hasattr(response, "streaming_content"):
                    b"".join(response.streaming_content)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, (url, response.status_code)
        print(f"{label}: median {statistics.median(times) * 1000:.0f} ms, {len(queries)} queries")


if __name__ == "__main__":
    main()
