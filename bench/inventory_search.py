"""Product search on a big catalogue: how long the till waits for a barcode or a name.

Builds (once) a catalogue of 20,000 products with realistic names and valid EAN-13 barcodes in a
database of its own, then times, per request:

* `product_by_code` with a scanned barcode (the till's scan), and with a typed SKU;
* `product_search` with a barcode, with one word of a name and with two words;
* the same searches through HTTP (Django's test client, logged in, middleware and template
  included) on the stock app's product lookup (`/stock/products/lookup/?q=`), which is what the
  product boxes call as people type (the till's own search URL does not exist yet);
* the product list page's search (`/stock/?q=`, a paginated table with stock per product).

Usage (from the repository root):

    python bench/inventory_search.py                      # SQLite: var/bench-search.sqlite3
    DATABASE_URL=mysql://root@127.0.0.1:3306/asiria_inventory_bench python bench/inventory_search.py
    python bench/inventory_search.py --products 20000 --requests 500

Prints a Markdown table (median and 99th percentile in milliseconds) for bench/README.md.
"""

import argparse
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BRANDS = [
    "Jogoo",
    "Pembe",
    "Soko",
    "Ndovu",
    "Dola",
    "Ajab",
    "Exe",
    "Mumias",
    "Kabras",
    "Sony",
    "Ketepa",
    "Kericho Gold",
    "Brookside",
    "KCC",
    "Tuzo",
    "Fresha",
    "Daima",
    "Elianto",
    "Golden Fry",
    "Rina",
    "Fresh Fri",
    "Kimbo",
    "Kasuku",
    "Blue Band",
    "Festive",
    "Supaloaf",
    "Broadways",
    "Daawat",
    "Sunrice",
    "Mwea",
    "Royco",
    "Kensalt",
    "Tropical Heat",
    "Manji",
    "Nuvita",
    "Cadbury",
    "Omo",
    "Ariel",
    "Toss",
    "Sunlight",
    "Msafi",
    "Menengai",
    "Jik",
    "Harpic",
    "Geisha",
    "Colgate",
    "Close-Up",
    "Dettol",
    "Nivea",
    "Vaseline",
    "Always",
    "Softcare",
    "Huggies",
    "Keringet",
    "Dasani",
    "Afia",
    "Delmonte",
    "Coca-Cola",
    "Fanta",
    "Sprite",
    "Zesta",
    "Farmers Choice",
    "Kenchic",
    "Nescafe",
    "Dormans",
]
ITEMS = [
    "Maize Meal",
    "Baking Flour",
    "Chapati Flour",
    "White Sugar",
    "Brown Sugar",
    "Tea Leaves",
    "Tea Bags",
    "Whole Milk",
    "Long Life Milk",
    "Yoghurt Strawberry",
    "Yoghurt Vanilla",
    "Butter",
    "Ghee",
    "Corn Oil",
    "Vegetable Oil",
    "Cooking Fat",
    "Margarine",
    "White Bread",
    "Brown Bread",
    "Basmati Rice",
    "Pishori Rice",
    "Mchuzi Mix",
    "Iodised Salt",
    "Crisps Salted",
    "Digestive Biscuits",
    "Chocolate Bar",
    "Washing Powder",
    "Bar Soap",
    "Dishwashing Liquid",
    "Bleach",
    "Toilet Cleaner",
    "Bathing Soap",
    "Toothpaste",
    "Body Lotion",
    "Petroleum Jelly",
    "Sanitary Pads",
    "Diapers Medium",
    "Still Water",
    "Mango Juice",
    "Soda",
    "Jam",
    "Peanut Butter",
    "Sausages",
    "Eggs",
    "Instant Coffee",
    "Ground Coffee",
    "Porridge Flour",
    "Spaghetti",
    "Tomato Sauce",
    "Chilli Sauce",
]
SIZES = [
    "100g",
    "250g",
    "500g",
    "1kg",
    "2kg",
    "5kg",
    "250ml",
    "500ml",
    "1L",
    "2L",
    "5L",
    "10s",
    "50s",
    "pack of 6",
    "pack of 12",
]


def configure(args) -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["DEBUG"] = "false"  # no query log in memory
    os.environ.setdefault("HUEY_IMMEDIATE", "true")
    if not os.environ.get("DATABASE_URL"):
        os.environ["SQLITE_PATH"] = str(ROOT / "var" / "bench-search.sqlite3")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("ensure_database", verbosity=0)
    call_command("migrate", verbosity=0, interactive=False)
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    if engine == "mysql":
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT VERSION()")
            return f"MariaDB {cursor.fetchone()[0].split('-')[0]}"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version}"


def build_catalogue(count: int) -> None:
    from inventory.barcodes import make_ean13
    from inventory.ledger_services import StockLine, stock_move
    from inventory.models import Category, MovementKind, Product, TaxClass, Unit
    from pos.people.models import Branch

    have = Product.objects.count()
    if have >= count:
        return
    rng = random.Random(20000)
    unit, _ = Unit.objects.get_or_create(code="pc", defaults={"name": "Piece", "decimal_places": 0})
    categories = [Category.objects.get_or_create(name=f"Aisle {n}")[0] for n in range(1, 13)]
    names = set(Product.objects.values_list("name", flat=True))
    new = []
    serial = have
    while have + len(new) < count:
        name = f"{rng.choice(BRANDS)} {rng.choice(ITEMS)} {rng.choice(SIZES)}"
        if name in names:
            name = f"{name} ({rng.choice(['promo', 'value pack', 'family', 'twin pack', 'new'])} {serial})"
        names.add(name)
        serial += 1
        price = Decimal(rng.randint(20, 3000))
        new.append(
            Product(
                name=name,
                sku=f"BN-{serial:06d}",
                barcode=make_ean13(f"616{serial:09d}"),
                category=rng.choice(categories),
                unit=unit,
                selling_price=price,
                cost_price=(price * Decimal("0.8")).quantize(Decimal("0.01")),
                tax_class=TaxClass.B,
                reorder_level=Decimal("0"),
            )
        )
    Product.objects.bulk_create(new, batch_size=1000)
    branch = Branch.objects.get(code="MAIN")
    ids = list(Product.objects.exclude(stock_levels__branch=branch).values_list("pk", flat=True))
    for start in range(0, len(ids), 2000):  # opening stock through the ledger, like a real shop
        stock_move(
            branch=branch,
            lines=[StockLine(pid, Decimal(rng.randint(1, 200))) for pid in ids[start : start + 2000]],
            kind=MovementKind.OPENING,
            reason="bench opening stock",
        )


def timed(function, inputs) -> tuple[float, float]:
    for value in inputs[:20]:  # warm the caches (and the connection)
        function(value)
    samples = []
    for value in inputs:
        start = time.perf_counter()
        function(value)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), statistics.quantiles(samples, n=100)[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=20000)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    database = configure(args)

    from django.test import Client
    from django.urls import reverse

    from core.roles import Role
    from inventory.models import Product
    from inventory.selectors import product_by_code, product_search
    from pos.people.models import Branch, User

    started = time.perf_counter()
    build_catalogue(args.products)
    built = time.perf_counter() - started
    branch = Branch.objects.get(code="MAIN")
    total = Product.objects.count()
    rng = random.Random(7)
    sample = list(Product.objects.order_by("?").values_list("barcode", "sku", "name")[: args.requests])
    barcodes = [row[0] for row in sample]
    skus = [row[1].lower() for row in sample]
    one_word = [rng.choice(row[2].split()[1:3]) for row in sample]  # "Maize", "Sugar", "Oil"…
    two_words = [" ".join(row[2].split()[:2]) for row in sample]  # "Jogoo Maize"
    misses = [f"616{rng.randint(0, 10**9 - 1):09d}0" for _ in sample]

    user = User.objects.filter(phone_number="+254799999999").first() or User.objects.create_user(
        "+254799999999", "bench-pass-123", full_name="Bench Owner", role=Role.OWNER, branch=branch
    )
    client = Client()
    client.force_login(user)
    lookup = reverse("inventory:product_lookup")
    listing = reverse("inventory:product_list")

    def http(url, **extra):
        def call(query):
            response = client.get(url, {"q": query}, **extra)
            assert response.status_code == 200, response.status_code

        return call

    rows = [
        ("`product_by_code`: scanned barcode", timed(lambda q: product_by_code(code=q), barcodes)),
        ("`product_by_code`: typed SKU (any case)", timed(lambda q: product_by_code(code=q), skus)),
        ("`product_by_code`: unknown barcode", timed(lambda q: product_by_code(code=q), misses)),
        ("`product_search`: barcode", timed(lambda q: product_search(query=q, branch_id=branch.pk), barcodes)),
        (
            "`product_search`: one word of a name",
            timed(lambda q: product_search(query=q, branch_id=branch.pk), one_word),
        ),
        (
            "`product_search`: two words of a name",
            timed(lambda q: product_search(query=q, branch_id=branch.pk), two_words),
        ),
        ("HTTP lookup `/stock/products/lookup/`: barcode", timed(http(lookup, HTTP_HX_REQUEST="true"), barcodes)),
        ("HTTP lookup `/stock/products/lookup/`: two words", timed(http(lookup, HTTP_HX_REQUEST="true"), two_words)),
        (
            "HTTP product list `/stock/?q=`: barcode (htmx table)",
            timed(http(listing, HTTP_HX_REQUEST="true"), barcodes),
        ),
        (
            "HTTP product list `/stock/?q=`: two words (htmx table)",
            timed(http(listing, HTTP_HX_REQUEST="true"), two_words),
        ),
    ]
    print(f"\n{database}, {total} products, {len(sample)} requests per line (catalogue ready in {built:.1f} s)\n")
    print("| request | median (ms) | 99th percentile (ms) |")
    print("| --- | ---: | ---: |")
    for label, (median, p99) in rows:
        print(f"| {label} | {median:.2f} | {p99:.2f} |")


if __name__ == "__main__":
    main()
