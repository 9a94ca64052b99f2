"""Demo data for the stock side of the shop: units, categories, suppliers, a Kenyan supermarket's
catalogue with real-looking EAN-13 barcodes, opening stock at both branches through the ledger, and
a little history (received purchases, an order on its way, requests waiting for approval, a transfer).

Run by `python manage.py seed_demo` (steps 20–29). Idempotent: a second run duplicates nothing.
"""

import random
import re
import zlib
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Exists, OuterRef
from django.utils import timezone

from inventory.adjustment_services import stock_adjustment_request
from inventory.barcodes import make_ean13
from inventory.demo_catalogue import CATALOGUE, FAVOURITES, SUPPLIERS, UNITS
from inventory.ledger_services import StockLine, stock_move
from inventory.models import (
    AdjustmentReason,
    Category,
    MovementKind,
    Product,
    Purchase,
    PurchaseStatus,
    StockAdjustment,
    StockLevel,
    StockMovement,
    Supplier,
    Transfer,
    Unit,
)
from inventory.purchase_services import (
    purchase_create,
    purchase_line_set,
    purchase_order,
    purchase_receive,
    transfer_create,
    transfer_dispatch,
    transfer_line_set,
)
from pos.people.models import Branch, User

DEMO_BRANCH_CODES = ("MAIN", "WSTL")
SEED = 2025


def demo_products(limit: int | None = None) -> list[dict]:
    """The catalogue as product dicts, categories interleaved so that a smaller demo keeps every aisle."""
    per_category = []
    for category, default_tax, supplier_key, block in CATALOGUE:
        rows = []
        for raw in block.strip().splitlines():
            parts = [p.strip() for p in raw.split("|")]
            name, price, unit = parts[0], Decimal(parts[1]), parts[2]
            tax = parts[3] if len(parts) > 3 and parts[3] else default_tax
            rows.append(
                {"name": name, "price": price, "unit": unit, "tax": tax, "category": category, "supplier": supplier_key}
            )
        per_category.append(rows)
    ordered = []
    for position in range(max(len(rows) for rows in per_category)):
        for rows in per_category:
            if position < len(rows):
                ordered.append(rows[position])
    return ordered[:limit] if limit else ordered


def sku_for(name: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "-", name.upper()).strip("-")[:40]


def barcode_for(name: str, loose: bool, taken: set[str]) -> str:
    """A stable, valid EAN-13: 616 (GS1 Kenya) + a maker number from the brand + an item number;
    loose goods get the in-store code their scale labels point at (20 + 5-digit item code + a zero
    weight, `inventory.scale_labels`), so a label such as 20<item>01250 rings up 1.250 kg."""
    brand = name.split()[0]
    item = zlib.crc32(name.encode()) % 100000
    base = f"20{item:05d}00000" if loose else f"616{zlib.crc32(brand.encode()) % 10000:04d}{item:05d}"
    code = make_ean13(base)
    while code in taken:  # never for this catalogue, but a later edit must not break the seed
        item = (item + 1) % 100000
        base = f"20{item:05d}00000" if loose else f"{base[:7]}{item:05d}"
        code = make_ean13(base)
    taken.add(code)
    return code


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _reorder(price: Decimal, unit: str) -> tuple[Decimal, Decimal]:
    if unit in ("kg", "l"):
        return Decimal("5"), Decimal("20")
    if price < 150:
        return Decimal("12"), Decimal("48")
    if price < 600:
        return Decimal("6"), Decimal("24")
    return Decimal("3"), Decimal("10")


def seed_catalogue(*, log, products: int = 240) -> None:
    units = {}
    for name, code, places in UNITS:
        units[code], _ = Unit.objects.get_or_create(code=code, defaults={"name": name, "decimal_places": places})
    suppliers = {}
    for key, data in SUPPLIERS.items():
        suppliers[key], _ = Supplier.objects.get_or_create(name=data["name"], defaults=data)
    categories = {}
    for order, (name, *_rest) in enumerate(CATALOGUE, start=1):
        categories[name], _ = Category.objects.get_or_create(name=name, defaults={"sort_order": order * 10})
    wanted = demo_products(products)
    if products > len(wanted):
        log(f"catalogue: the demo has {len(wanted)} products (asked for {products})")
    existing = set(Product.objects.values_list("sku", flat=True))
    taken = set(Product.objects.exclude(barcode=None).values_list("barcode", flat=True))
    rng = random.Random(SEED)
    new = []
    for row in wanted:
        sku = sku_for(row["name"])
        margin = Decimal(rng.randint(72, 88)) / 100  # cost is 72–88 % of the shelf price
        if sku in existing:
            continue
        level, quantity = _reorder(row["price"], row["unit"])
        new.append(
            Product(
                name=row["name"],
                sku=sku,
                barcode=barcode_for(row["name"], row["unit"] in ("kg", "l", "bunch"), taken),
                category=categories[row["category"]],
                unit=units[row["unit"]],
                selling_price=_money(row["price"]),
                cost_price=_money(row["price"] * margin),
                tax_class=row["tax"],
                reorder_level=level,
                reorder_quantity=quantity,
                default_supplier=suppliers[row["supplier"]],
                is_favourite=row["name"] in FAVOURITES,
            )
        )
    Product.objects.bulk_create(new, batch_size=500)
    log(
        f"catalogue: {len(new)} products added, {len(wanted) - len(new)} already there; "
        f"{len(categories)} categories, {len(suppliers)} suppliers"
    )


def seed_opening_stock(*, log, days: int = 90) -> None:
    """Opening stock at both demo branches, through the ledger, dated before the sales history.
    A few products start low or empty so the alerts and reorder pages have something to show."""
    when = timezone.now() - timedelta(days=days + 1)
    branches = list(Branch.objects.filter(code__in=DEMO_BRANCH_CODES).order_by("code"))
    for branch in branches:
        rng = random.Random(f"{SEED}-{branch.code}")
        moved = StockMovement.objects.filter(product=OuterRef("pk"), branch=branch)
        products = list(
            Product.objects.filter(track_stock=True, is_active=True)
            .annotate(has_stock=Exists(moved))
            .filter(has_stock=False)
            .select_related("unit")
            .order_by("sku")
        )
        lines = []
        for product in products:
            mark = zlib.crc32(f"{branch.code}:{product.sku}".encode())  # stable, so a second run agrees
            if mark % 29 == 7:
                continue  # never stocked here: out of stock
            if mark % 13 == 5:
                quantity = product.reorder_level  # on the line: low
            else:
                # enough for the weeks of sales history the demo rings up, plus a margin
                quantity = product.reorder_quantity * rng.randint(6, 14)
            if product.unit.decimal_places:
                quantity += Decimal(rng.randint(0, 9)) / 2
            lines.append(StockLine(product.pk, quantity, unit_cost=product.cost_price))
        if lines:
            stock_move(branch=branch, lines=lines, kind=MovementKind.OPENING, reason="Opening stock (demo)", when=when)
        log(f"stock: opening stock for {len(lines)} products at {branch.name}")


def seed_stock_activity(*, log) -> None:
    """A little history to look at: a received purchase per supplier, an order on its way, two
    requests waiting for approval and a transfer in transit."""

    if Purchase.objects.filter(notes__startswith="Demo").exists():
        log("stock activity: already there")
        return
    manager = User.objects.filter(phone_number="+254700000002").first()
    cashier = User.objects.filter(phone_number="+254700000003").first()
    main = Branch.objects.filter(code="MAIN").first()
    westlands = Branch.objects.filter(code="WSTL").first()
    if not (manager and cashier and main):
        log("stock activity: skipped (no demo people)")
        return
    for index, supplier in enumerate(
        Supplier.objects.filter(name__in=[s["name"] for s in SUPPLIERS.values()]).order_by("name")
    ):
        products = list(
            Product.objects.filter(default_supplier=supplier, is_active=True, track_stock=True).order_by("sku")[
                index * 3 : index * 3 + 4
            ]
        )
        if not products:
            continue
        received = purchase_create(user=manager, supplier=supplier, branch=main, notes="Demo: weekly delivery")
        for product in products:
            purchase_line_set(
                user=manager,
                purchase=received,
                product=product,
                quantity=product.reorder_quantity,
                unit_cost=product.cost_price,
            )
        purchase_order(user=manager, purchase=received)
        purchase_receive(
            user=manager,
            purchase=received,
            quantities={line.pk: line.quantity_ordered for line in received.lines.all()},
        )
    first_supplier = Supplier.objects.filter(name=SUPPLIERS["kapa"]["name"]).first()
    if first_supplier:
        on_its_way = purchase_create(
            user=manager,
            supplier=first_supplier,
            branch=main,
            notes="Demo: order on its way",
            expected_date=timezone.localdate() + timedelta(days=2),
        )
        for product in Product.objects.filter(default_supplier=first_supplier, track_stock=True).order_by("-sku")[:5]:
            purchase_line_set(
                user=manager,
                purchase=on_its_way,
                product=product,
                quantity=product.reorder_quantity,
                unit_cost=product.cost_price,
            )
        purchase_order(user=manager, purchase=on_its_way)
    for sku, delta, reason, note in (
        ("KCC-FRESH-MILK-500ML", Decimal("-3"), AdjustmentReason.EXPIRED, "past the date on the shelf"),
        ("FESTIVE-WHITE-BREAD-400G", Decimal("-2"), AdjustmentReason.DAMAGED, "crushed in the delivery crate"),
    ):
        product = Product.objects.filter(sku=sku).first()
        if product is not None and not StockAdjustment.objects.filter(product=product, status="PENDING").exists():
            try:
                stock_adjustment_request(
                    user=cashier, product=product, branch=main, reason=reason, delta=delta, note=note
                )
            except Exception as exc:  # noqa: BLE001 - demo data must not stop the seed (e.g. sold out)
                log(f"stock activity: no request for {sku} ({exc})")
    if westlands and not Transfer.objects.exists():
        transfer = transfer_create(user=manager, from_branch=main, to_branch=westlands, note="Demo: weekend top-up")
        plenty = StockLevel.objects.filter(branch=main, product__category__name="Beverages", quantity__gte=100)
        for level in plenty.select_related("product").order_by("product__sku")[:3]:
            product = level.product
            transfer_line_set(user=manager, transfer=transfer, product=product, quantity=Decimal("12"))
        try:
            transfer_dispatch(user=manager, transfer=transfer)
        except Exception as exc:  # noqa: BLE001
            log(f"stock activity: transfer left as a draft ({exc})")
    log(
        "stock activity: "
        f"{Purchase.objects.filter(status=PurchaseStatus.RECEIVED).count()} purchases received, "
        f"{StockAdjustment.objects.filter(status='PENDING').count()} adjustments waiting, "
        f"{Transfer.objects.filter(status='IN_TRANSIT').count()} transfer in transit"
    )


STEPS = [(20, seed_catalogue), (22, seed_opening_stock), (28, seed_stock_activity)]
