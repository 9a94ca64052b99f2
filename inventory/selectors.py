"""Reads for the catalogue and stock."""

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

from django.db.models import Count, DecimalField, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse

from core.branches import for_viewer
from core.money import money
from core.roles import Perm
from inventory.barcodes import barcode_problem
from inventory.models import (
    AdjustmentStatus,
    Category,
    Product,
    Purchase,
    PurchaseLine,
    PurchaseStatus,
    StockAdjustment,
    StockAlert,
    StockCount,
    StockLevel,
    StockMovement,
    Supplier,
    Transfer,
    TransferLine,
    TransferStatus,
)
from inventory.scale_labels import (
    ScaleLabel,
    ScaleLabelError,
    ScaleLayout,
    scale_label_decode,
    scale_label_quantity,
)
from pos.people.models import Branch
from pos.people.selectors import shop_settings


def stock_on_hand(*, product_id: int, branch_id: int) -> Decimal:
    quantity = (
        StockLevel.objects.filter(product_id=product_id, branch_id=branch_id).values_list("quantity", flat=True).first()
    )
    return quantity if quantity is not None else Decimal("0")


def stock_on_hand_map(*, product_ids, branch_id: int) -> dict[int, Decimal]:
    rows = StockLevel.objects.filter(product_id__in=list(product_ids), branch_id=branch_id).values_list(
        "product_id", "quantity"
    )
    return dict(rows)


def product_by_code(*, code: str) -> Product | None:
    """An active product by barcode (or SKU), as a scanner types it.

    Both are exact lookups on unique indexes: SKUs are kept in capitals (`normalise_product`), so a
    typed "sug-1kg" is looked up as typed and in capitals, never with a case-blind scan of the table.
    """
    code = (code or "").strip()
    if not code:
        return None
    qs = Product.objects.select_related("unit", "category").filter(is_active=True)
    if code.isdigit() and barcode_problem(code) is None:
        product = qs.filter(barcode=code).first()
        if product is not None:
            return product
    return qs.filter(sku__in=sorted({code, code.upper()})).first()


@dataclass(frozen=True)
class ScannedProduct:
    """What a scanned code names: the product, and the quantity when the code carries one (a scale label)."""

    product: Product
    quantity: Decimal | None = None
    label: ScaleLabel | None = None


def scale_layout() -> ScaleLayout:
    """The shop's scale label layout (shop settings)."""
    row = shop_settings()
    return ScaleLayout(
        prefix=row.scale_label_prefix, item_digits=row.scale_label_item_digits,
        value_digits=row.scale_label_value_digits, decimals=row.scale_label_decimals, kind=row.scale_label_kind,
    )


def product_for_scan(*, code: str) -> ScannedProduct | None:
    """The product a scanned code names, for the till and the API alike.

    A product's own barcode or SKU wins (an in-store code that starts with 2 stays what it is); then a
    scale label of the shop's layout, which also says how much (`inventory.scale_labels`). None when
    the code names nothing; ScaleLabelError for a label that is broken or names the wrong product.
    """
    product = product_by_code(code=code)
    if product is not None:
        return ScannedProduct(product=product)
    label = scale_label_decode(code, scale_layout())
    if label is None:
        return None
    qs = Product.objects.select_related("unit", "category").filter(is_active=True)
    product = qs.filter(barcode=label.base_code).first() or qs.filter(sku=label.item_code).first()
    if product is None:
        raise ScaleLabelError(
            f"No product has the scale item code {label.item_code} (label {label.code}): check the item.",
            field="barcode", code="unknown_item",
        )
    quantity = scale_label_quantity(
        label, unit_price=product.selling_price, decimal_places=product.unit.decimal_places, name=product.name
    )
    return ScannedProduct(product=product, quantity=quantity, label=label)


def active_products() -> QuerySet[Product]:
    return Product.objects.filter(is_active=True).select_related("unit", "category")


def product_search(*, query: str, branch_id: int, limit: int = 20) -> list[Product]:
    """Products for the till's search box: an exact barcode or SKU first, then names containing the words.

    Each product gets `on_hand` (stock at the branch) without a query per product.
    """
    query = (query or "").strip()
    if not query:
        return []
    exact = product_by_code(code=query)
    if exact is not None and query.isdigit():
        results = [exact]  # a scanned barcode: no name holds thirteen digits, so no name search
    else:
        # Ids first, from the product table alone: with the unit and category joined in, MariaDB
        # starts from the one-row unit table and sorts every product (bench/README.md).
        qs = Product.objects.filter(is_active=True)
        for word in query.split()[:5]:
            qs = qs.filter(name__icontains=word)
        ids = list(qs.order_by("name").values_list("pk", flat=True)[:limit])
        found = active_products().in_bulk(ids)
        results = [found[pk] for pk in ids if pk in found]
        if exact is not None:
            results = [exact] + [p for p in results if p.pk != exact.pk][: limit - 1]
    stock = stock_on_hand_map(product_ids=[p.pk for p in results], branch_id=branch_id)
    for product in results:
        product.on_hand = stock.get(product.pk, Decimal("0"))
    return results


# ---------------------------------------------------------------------------- catalogue pages
class StockState:
    IN_STOCK = "in"
    LOW = "low"
    OUT = "out"
    NOT_TRACKED = "untracked"
    CHOICES = [(IN_STOCK, "In stock"), (LOW, "Low"), (OUT, "Out of stock"), (NOT_TRACKED, "Not tracked")]


def products_with_stock(*, branch_id: int) -> QuerySet[Product]:
    """Products with `on_hand` (stock at this branch; 0 when it never had any), in one query."""
    level = StockLevel.objects.filter(product_id=OuterRef("pk"), branch_id=branch_id).values("quantity")[:1]
    # Category and unit are prefetched (two small queries per page), not joined: joined, MariaDB
    # plans a search from the one-row unit table and sorts the whole catalogue (bench/README.md).
    return Product.objects.prefetch_related("category", "unit").annotate(
        on_hand=Coalesce(
            Subquery(level), Value(Decimal("0")), output_field=DecimalField(max_digits=12, decimal_places=3)
        )
    )


def filter_stock_state(qs: QuerySet, state: str) -> QuerySet:
    if state == StockState.OUT:
        return qs.filter(track_stock=True, on_hand__lte=0)
    if state == StockState.LOW:
        return qs.filter(track_stock=True, on_hand__gt=0, on_hand__lte=F("reorder_level"))
    if state == StockState.IN_STOCK:
        return qs.filter(track_stock=True, on_hand__gt=0).filter(on_hand__gt=F("reorder_level"))
    if state == StockState.NOT_TRACKED:
        return qs.filter(track_stock=False)
    return qs


def stock_state_of(product) -> str:
    if not product.track_stock:
        return StockState.NOT_TRACKED
    if product.on_hand <= 0:
        return StockState.OUT
    if product.on_hand <= product.reorder_level:
        return StockState.LOW
    return StockState.IN_STOCK


def search_products(qs: QuerySet, query: str) -> QuerySet:
    """Every word in the name, or the exact barcode / SKU (what a scanner types)."""
    query = (query or "").strip()
    if not query:
        return qs
    if query.isdigit() and barcode_problem(query) is None:
        return qs.filter(barcode=query)  # a scanned barcode: one indexed lookup, no name scan
    if " " not in query:
        code_match = Q(barcode=query) | Q(sku__in=sorted({query, query.upper()}))
    else:
        code_match = Q(pk__in=[])
    words = Q()
    for word in query.split()[:5]:
        words &= Q(name__icontains=word)
    return qs.filter(code_match | words)


def low_stock_products(*, branch_id: int) -> QuerySet[Product]:
    """Active stocked products at or under their reorder level but not out (the API's /products/low_stock)."""
    return filter_stock_state(products_with_stock(branch_id=branch_id).filter(is_active=True), StockState.LOW)


def out_of_stock_products(*, branch_id: int) -> QuerySet[Product]:
    """Active stocked products with nothing (or less) on hand (the API's /products/out_of_stock)."""
    return filter_stock_state(products_with_stock(branch_id=branch_id).filter(is_active=True), StockState.OUT)


def product_stock_by_branch(*, product_id: int, user) -> list[dict]:
    """Each visible branch's stock of a product, with what is in transit to it."""

    branches = for_viewer(Branch.objects.filter(is_active=True).order_by("name"), user, field="pk")
    levels = dict(StockLevel.objects.filter(product_id=product_id).values_list("branch_id", "quantity"))
    transit = dict(
        TransferLine.objects.filter(product_id=product_id, transfer__status=TransferStatus.IN_TRANSIT)
        .values("transfer__to_branch_id")
        .annotate(total=Sum("quantity"))
        .values_list("transfer__to_branch_id", "total")
    )
    alerts = dict(StockAlert.objects.filter(product_id=product_id, open_marker=True).values_list("branch_id", "kind"))
    return [
        {
            "branch": branch,
            "on_hand": levels.get(branch.pk, Decimal("0")),
            "in_transit": transit.get(branch.pk, Decimal("0")),
            "alert": alerts.get(branch.pk),
        }
        for branch in branches
    ]


# ---------------------------------------------------------------------------- the ledger page
def movement_list(*, viewer) -> QuerySet[StockMovement]:
    qs = StockMovement.objects.select_related("product", "product__unit", "branch", "user", "reference_type")
    return for_viewer(qs, viewer)


REFERENCE_URLS = {
    ("pos", "sale"): "sales:detail",
    ("inventory", "stockadjustment"): "inventory:adjustment_detail",
    ("inventory", "purchase"): "inventory:purchase_detail",
    ("inventory", "stockcount"): "inventory:count_detail",
    ("inventory", "transfer"): "inventory:transfer_detail",
    ("inventory", "product"): "inventory:product_detail",
    ("inventory", "productimport"): "inventory:import_detail",
}


def reference_url(movement: StockMovement) -> str | None:
    """The page of the document that caused a movement, when that page exists."""
    if not movement.reference_type_id or not movement.reference_id:
        return None
    content_type = movement.reference_type
    name = REFERENCE_URLS.get((content_type.app_label, content_type.model))
    if name is None:
        return None
    try:
        return reverse(name, args=[movement.reference_id])
    except NoReverseMatch:
        return None


# ---------------------------------------------------------------------------- adjustments, counts, alerts
def adjustment_list(*, viewer) -> QuerySet[StockAdjustment]:
    qs = StockAdjustment.objects.select_related("product", "product__unit", "branch", "requested_by", "decided_by")
    qs = for_viewer(qs, viewer)
    if not viewer.has_perm(Perm.APPROVE_ADJUSTMENT):
        qs = qs.filter(requested_by=viewer)
    return qs


def pending_adjustments(*, viewer) -> QuerySet[StockAdjustment]:
    return adjustment_list(viewer=viewer).filter(status=AdjustmentStatus.PENDING).order_by("created_at", "id")


def open_alerts(*, viewer) -> QuerySet[StockAlert]:
    qs = StockAlert.objects.filter(open_marker=True).select_related("product", "product__unit", "branch")
    return for_viewer(qs, viewer)


def open_alert_badge_count(*, viewer) -> int:
    """Open alerts people have been told about (the notification task ran), for the nav badge."""
    return open_alerts(viewer=viewer).filter(notified_at__isnull=False).count()


def count_list(*, viewer) -> QuerySet[StockCount]:
    qs = StockCount.objects.select_related("branch", "category", "started_by", "closed_by").annotate(
        line_count=Count("lines"), counted=Count("lines", filter=Q(lines__counted_quantity__isnull=False))
    )
    return for_viewer(qs, viewer)


# ---------------------------------------------------------------------------- purchases and reordering
def purchase_list(*, viewer) -> QuerySet[Purchase]:
    qs = Purchase.objects.select_related("supplier", "branch", "created_by").annotate(line_count=Count("lines"))
    return for_viewer(qs, viewer)


def transfer_list(*, viewer) -> QuerySet[Transfer]:
    qs = Transfer.objects.select_related("from_branch", "to_branch", "created_by").annotate(
        line_count=Count("lines"), units=Sum("lines__quantity")
    )
    return for_viewer(qs, viewer, field=("from_branch", "to_branch"))


OPEN_PURCHASE_STATUSES = (PurchaseStatus.DRAFT, PurchaseStatus.ORDERED, PurchaseStatus.PARTLY_RECEIVED)


@dataclass
class Suggestion:
    product: Product
    on_hand: Decimal
    on_order: Decimal
    quantity: Decimal


@dataclass
class SupplierGroup:
    supplier: Supplier | None
    suggestions: list[Suggestion] = field(default_factory=list)

    @property
    def estimated_cost(self) -> Decimal:

        return money(sum((s.quantity * s.product.cost_price for s in self.suggestions), Decimal("0")))


def reorder_suggestions(*, branch_id: int) -> list[SupplierGroup]:
    """Products at or under their reorder level at a branch, grouped by the supplier they were last
    bought from (received purchases), else their default supplier.

    Quantity: the reorder quantity, or enough to reach the reorder level when none is set, less what
    is already on order at this branch. Products with neither level nor quantity set are never
    suggested (the shop does not reorder them automatically).
    """
    last_supplier = (
        PurchaseLine.objects.filter(product_id=OuterRef("pk"), quantity_received__gt=0)
        .order_by("-purchase__received_at", "-pk")
        .values("purchase__supplier_id")[:1]
    )
    on_order = (
        PurchaseLine.objects.filter(
            product_id=OuterRef("pk"), purchase__branch_id=branch_id, purchase__status__in=OPEN_PURCHASE_STATUSES
        )
        .values("product_id")
        .annotate(total=Sum(F("quantity_ordered") - F("quantity_received")))
        .values("total")[:1]
    )
    qty = DecimalField(max_digits=12, decimal_places=3)
    products = (
        products_with_stock(branch_id=branch_id)
        .filter(is_active=True, track_stock=True)
        .filter(Q(reorder_level__gt=0) | Q(reorder_quantity__gt=0))
        .filter(on_hand__lte=F("reorder_level"))
        .annotate(
            last_supplier_id=Subquery(last_supplier),
            on_order=Coalesce(Subquery(on_order, output_field=qty), Value(Decimal("0")), output_field=qty),
        )
        .order_by("name")
    )
    suppliers = {s.pk: s for s in Supplier.objects.all()}
    groups: dict[int | None, SupplierGroup] = {}
    for product in products:
        wanted = product.reorder_quantity if product.reorder_quantity > 0 else product.reorder_level - product.on_hand
        quantity = wanted - product.on_order
        if quantity <= 0:
            continue
        places = product.unit.decimal_places
        step = Decimal(1).scaleb(-places)
        quantity = quantity.quantize(step, rounding=ROUND_CEILING)
        supplier_id = product.last_supplier_id or product.default_supplier_id
        supplier = suppliers.get(supplier_id)
        if supplier is not None and not supplier.is_active:
            supplier = None
        key = supplier.pk if supplier else None
        groups.setdefault(key, SupplierGroup(supplier)).suggestions.append(
            Suggestion(product=product, on_hand=product.on_hand, on_order=product.on_order, quantity=quantity)
        )
    return sorted(groups.values(), key=lambda g: (g.supplier is None, g.supplier.name if g.supplier else ""))


def stock_in_transit(*, product_id: int) -> Decimal:
    total = TransferLine.objects.filter(product_id=product_id, transfer__status=TransferStatus.IN_TRANSIT).aggregate(
        total=Sum("quantity")
    )["total"]
    return total or Decimal("0")


def product_has_open_requests(*, product_id: int, viewer) -> list[StockAdjustment]:
    """Pending adjustment requests for a product that the viewer may see (shown on its page)."""
    return list(adjustment_list(viewer=viewer).filter(product_id=product_id, status=AdjustmentStatus.PENDING)[:10])




def till_favourites(*, limit: int = 24) -> list[Product]:
    return list(
        Product.objects.filter(is_active=True, is_favourite=True).select_related("unit").order_by("name")[:limit]
    )


def till_categories() -> list[Category]:
    return list(
        Category.objects.filter(is_active=True, show_on_till=True)
        .filter(Exists(Product.objects.filter(category=OuterRef("pk"), is_active=True)))
        .order_by("sort_order", "name")
    )


def category_products(*, category_id: int, limit: int = 60) -> list[Product]:
    return list(
        Product.objects.filter(is_active=True, category_id=category_id).select_related("unit").order_by("name")[:limit]
    )
