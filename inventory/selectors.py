"""Reads for the catalogue and stock."""

from decimal import Decimal

from django.db.models import QuerySet

from .barcodes import barcode_problem
from .models import Product, StockLevel


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
    """An active product by barcode (or SKU), as a scanner types it."""
    code = (code or "").strip()
    if not code:
        return None
    qs = Product.objects.select_related("unit", "category").filter(is_active=True)
    if code.isdigit() and barcode_problem(code) is None:
        product = qs.filter(barcode=code).first()
        if product is not None:
            return product
    return qs.filter(sku__iexact=code).first()


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
    qs = active_products()
    for word in query.split()[:5]:
        qs = qs.filter(name__icontains=word)
    results = list(qs.order_by("name")[:limit])
    if exact is not None:
        results = [exact] + [p for p in results if p.pk != exact.pk][: limit - 1]
    stock = stock_on_hand_map(product_ids=[p.pk for p in results], branch_id=branch_id)
    for product in results:
        product.on_hand = stock.get(product.pk, Decimal("0"))
    return results
