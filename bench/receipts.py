"""Receipt PDFs: the time of one receipt of 1, 10 and 50 lines, and of the first receipt in a new process.

    python bench/receipts.py                       # SQLite file under var/
    DATABASE_URL=mysql://root@127.0.0.1:3306/asiria_bench python bench/receipts.py   # MariaDB

It builds a throw-away test database (``test_<name>``; dropped at the end), rings up and pays three
sales (1, 10 and 50 lines) through the services, and times ``pos.sales.receipts.receipt_pdf`` in this
process, alternating two ways of making the PDF so that both see the same load on a shared machine:

* **before**: what every receipt did until December 2026 (kept below, word for word): WeasyPrint's
  default font configuration built for each layout, the stylesheet parsed for each receipt, the
  receipt laid out twice (once to measure it, once on a page of that height);
* **after**: ``render_roll_pdf`` as it is now (one font configuration and parsed stylesheet per
  process, one layout, the page cut to the content's height).

Both PDFs of each sale are compared (page size, text, and the pages drawn at 100 dpi by ``pdftoppm``
poppler-utils): the bench fails if they differ. Then it starts fresh Python processes and times
the first receipt in each: without a warm-up (what a new gunicorn worker's first customer waited for),
and after ``pdf_warm_up`` (what ``config/gunicorn.conf.py`` now runs when a worker starts).
"""

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


def ms(seconds):
    return f"{seconds * 1000:.0f}"


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def render_roll_pdf_before(html: str) -> bytes:
    """The receipt PDF as it was made before the per-process cache (for comparison only)."""
    from weasyprint import CSS, HTML  # noqa: PLC0415 - as pos.sales.receipts

    from pos.sales.receipts import PAGE_MARGIN_MM, PX_PER_MM, ROLL_WIDTH, stylesheet_path  # noqa: PLC0415

    base = CSS(filename=stylesheet_path())
    document = HTML(string=html).render(
        stylesheets=[base, CSS(string=f"@page {{ size: {ROLL_WIDTH} 3000mm; margin: {PAGE_MARGIN_MM}mm; }}")]
    )
    height_px = document.pages[0]._page_box.children[0].margin_height()
    height_mm = height_px / PX_PER_MM + 2 * PAGE_MARGIN_MM + 2
    page = CSS(string=f"@page {{ size: {ROLL_WIDTH} {height_mm:.1f}mm; margin: {PAGE_MARGIN_MM}mm; }}")
    out = io.BytesIO()
    HTML(string=html).render(stylesheets=[base, page]).write_pdf(out)
    return out.getvalue()


def pdf_fingerprint(pdf: bytes, folder: Path, name: str) -> tuple:
    """What the PDF shows, read by poppler: its pages and their size, its text, its pixels at 100 dpi."""
    path = folder / f"{name}.pdf"
    path.write_bytes(pdf)

    def poppler(*command):
        return subprocess.run([*command, str(path), *(["-"] if command[0] == "pdftotext" else [])],
                              check=True, capture_output=True).stdout

    info = poppler("pdfinfo").decode()
    pages = next(line for line in info.splitlines() if line.startswith("Pages:"))
    size = next(line for line in info.splitlines() if line.startswith("Page size:"))
    return pages, size, poppler("pdftotext", "-layout"), poppler("pdftoppm", "-r", "100", "-gray")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30, help="receipts of each size, each way")
    parser.add_argument("--starts", type=int, default=5, help="fresh processes, each way")
    parser.add_argument("--keep", action="store_true", help="keep the test database afterwards")
    parser.add_argument("--first-receipt", type=int, help=argparse.SUPPRESS)  # the child process: a sale id
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    import django
    from django.conf import settings

    if args.first_receipt:
        settings.DATABASES["default"]["NAME"] = args.database
        django.setup()
        first_receipt(args)
        return

    from bench.throwaway_db import in_a_throwaway_database

    in_a_throwaway_database("receipts", lambda vendor: run(args), keep=args.keep)


def first_receipt(args):
    """In a fresh process: the first receipt's time, after a warm-up when asked."""
    t0 = time.perf_counter()
    from pos.sales.models import Sale  # noqa: PLC0415 - after django.setup()
    from pos.sales.receipts import pdf_warm_up, receipt_pdf  # noqa: PLC0415

    warm = 0.0
    if args.warm:
        t0 = time.perf_counter()
        pdf_warm_up()
        warm = time.perf_counter() - t0
    sale = Sale.objects.get(pk=args.first_receipt)
    t0 = time.perf_counter()
    receipt_pdf(sale=sale)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    receipt_pdf(sale=sale)
    second = time.perf_counter() - t0
    print(json.dumps({"warm_up": warm, "first": first, "second": second}))


def run(args):
    from django.db import connection
    from django.template.loader import render_to_string

    from cashdesk.services import Tender, sale_checkout, session_open
    from core.roles import Role
    from inventory.barcodes import make_ean13
    from inventory.ledger_services import StockLine, stock_move
    from inventory.models import Category, MovementKind, Product, Unit
    from pos.people.models import Branch, User
    from pos.sales.receipts import receipt_context, receipt_pdf
    from pos.sales.services import sale_add_product, sale_get_or_open

    print(f"# AsiriaPOS receipt bench — {connection.vendor}, load average {load_average()} at the start")
    branch = Branch.objects.get(code="MAIN")
    cashier = User.objects.create_user("+254700900002", "bench-pass-2", full_name="Bench Cashier", role=Role.EMPLOYEE,
                                       branch=branch)
    unit, _ = Unit.objects.get_or_create(code="pc", defaults={"name": "Piece"})
    category = Category.objects.create(name="Bench")
    Product.objects.bulk_create(
        Product(name=f"Bench product {n} 500g", sku=f"R{n:04d}", barcode=make_ean13(f"617{n:09d}"),
                category=category, unit=unit, selling_price=Decimal(20 + n * 7), cost_price=Decimal("10.00"),
                tax_class="BA"[n % 2])
        for n in range(50)
    )
    products = list(Product.objects.order_by("pk"))
    stock_move(branch=branch, lines=[StockLine(p.pk, Decimal("1000")) for p in products],
               kind=MovementKind.OPENING, reason="bench")
    session_open(cashier=cashier, opening_float=Decimal("10000"))
    sales = {}
    for size in (1, 10, 50):
        cart = sale_get_or_open(cashier=cashier)
        for product in products[:size]:
            sale_add_product(sale=cart, product=product, user=cashier)
        cart.refresh_from_db()
        sales[size] = sale_checkout(sale=cart, user=cashier, tenders=[Tender("CASH", cart.total + 50)],
                                    idempotency_key=uuid.uuid4().hex)

    folder = Path(tempfile.mkdtemp(prefix="bench-receipts-"))
    try:
        for size, sale in sales.items():
            html = render_to_string("pos/receipts/receipt_pdf.html", receipt_context(sale=sale))
            before = pdf_fingerprint(render_roll_pdf_before(html), folder, f"before-{size}")
            after = pdf_fingerprint(receipt_pdf(sale=sale), folder, f"after-{size}")
            assert before[:3] == after[:3], (size, before[:3], after[:3])
            assert before[3] == after[3], f"the {size}-line receipt is drawn differently"
            print(f"{size}-line receipt before and after: same {after[1].split(':', 1)[1].strip()}, text and pixels")
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print()
    print("| receipt PDF | runs | before: median ms | before: p90 | after: median ms | after: p90 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for size, sale in sales.items():
        timings = {"before": [], "after": []}
        for _ in range(args.runs):
            for way in ("before", "after"):
                t0 = time.perf_counter()
                if way == "before":
                    html = render_to_string("pos/receipts/receipt_pdf.html", receipt_context(sale=sale))
                    render_roll_pdf_before(html)
                else:
                    receipt_pdf(sale=sale)
                timings[way].append(time.perf_counter() - t0)
        cells = []
        for way in ("before", "after"):
            values = sorted(timings[way])
            cells += [ms(statistics.median(values)), ms(values[round(0.9 * (len(values) - 1))])]
        print(f"| {size} line{'s' if size > 1 else ''} | {args.runs} | " + " | ".join(cells) + " |")

    database = connection.settings_dict["NAME"]
    print()
    print("| a new process (10-line receipt) | starts | warm-up ms | first receipt ms | second receipt ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    results = {False: [], True: []}
    for _ in range(args.starts):
        for warm in (False, True):
            command = [sys.executable, __file__, "--first-receipt", str(sales[10].pk), "--database", database]
            out = subprocess.run(command + (["--warm"] if warm else []), check=True, capture_output=True, text=True,
                                 env={**os.environ, "LOG_LEVEL": "WARNING"})
            results[warm].append(json.loads(out.stdout.strip().splitlines()[-1]))
    for warm, label in ((False, "without the warm-up"), (True, "after `pdf_warm_up`, as a gunicorn worker now starts")):
        rows = results[warm]
        print(f"| {label} | {len(rows)} | " + " | ".join(
            ms(statistics.median(row[key] for row in rows)) for key in ("warm_up", "first", "second")) + " |")
    print()
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
