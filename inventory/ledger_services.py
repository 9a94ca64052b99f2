"""Writes for the catalogue and the stock ledger.

`stock_move` is the only code that changes stock: every change is one `StockMovement` per product, and
`StockLevel.quantity` moves with it under a row lock, so stored stock always equals the ledger.
"""

from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from inventory.alert_services import alerts_after_movement
from inventory.errors import Shortage, StockError, StockShortError
from inventory.models import (
    MovementKind,
    Product,
    StockLevel,
    StockMovement,
)
from pos.people.selectors import shop_settings


@dataclass(frozen=True)
class StockLine:
    """One product's change in a `stock_move` call. `quantity` is signed (negative = out)."""

    product_id: int
    quantity: Decimal
    unit_cost: Decimal | None = None


# The largest quantities a person may type. A stock movement, count, order or transfer line stays below a
# million units; one line at the till stays at or below a hundred thousand (beyond is a barcode typed into
# the quantity box, not a sale).
MAX_QUANTITY = Decimal("1000000")
MAX_SALE_LINE_QUANTITY = Decimal("100000")


def quantity_problem(*, quantity: Decimal, decimal_places: int, unit_name: str = "") -> str | None:
    """Why a quantity is not allowed for a unit (too many decimals), or None."""
    exponent = quantity.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if places > decimal_places:
        if decimal_places == 0:
            return f"{unit_name or 'This unit'} is counted in whole numbers."
        return f"{unit_name or 'This unit'} allows at most {decimal_places} decimal places."
    return None


def _reference_fields(reference: models.Model | None) -> dict:
    if reference is None:
        return {}
    label = getattr(reference, "number", None) or str(reference)
    return {
        "reference_type": ContentType.objects.get_for_model(reference, for_concrete_model=True),
        "reference_id": str(reference.pk),
        "reference_label": str(label)[:80],
    }


def stock_move(
    *,
    branch,
    lines: list[StockLine],
    kind: str,
    user=None,
    reason: str = "",
    reference: models.Model | None = None,
    allow_negative: bool | None = None,
    when=None,
) -> list[StockMovement]:
    """Apply signed stock changes at one branch, all or nothing.

    Locks the branch's `StockLevel` rows of these products in primary-key order, checks the whole
    batch (no product may go below zero unless negative stock is allowed), then writes the levels and
    one movement per product. Products that do not track stock are skipped. Lines for the same
    product are merged. Must run inside the caller's transaction when it is part of a larger change
    (a checkout); it opens its own otherwise.
    """
    if kind not in MovementKind.values:
        raise StockError(f"Unknown movement kind {kind!r}.")
    merged: OrderedDict[int, list] = OrderedDict()
    for line in lines:
        if not isinstance(line.quantity, Decimal):
            raise StockError("Quantities must be Decimal.")
        entry = merged.setdefault(int(line.product_id), [Decimal("0"), line.unit_cost])
        entry[0] += line.quantity
        if line.unit_cost is not None:
            entry[1] = line.unit_cost
    merged = OrderedDict((pid, v) for pid, v in merged.items() if v[0] != 0)
    if not merged:
        return []
    if allow_negative is None:
        allow_negative = shop_settings().allow_negative_stock
    when = when or timezone.now()

    with transaction.atomic():
        products = {
            p.pk: p
            for p in Product.objects.filter(pk__in=merged.keys()).only(
                "pk", "name", "track_stock", "cost_price", "reorder_level", "is_active"
            )
        }
        missing = set(merged) - set(products)
        if missing:
            raise StockError(f"Unknown product(s): {sorted(missing)}.")
        tracked = sorted(pid for pid in merged if products[pid].track_stock)
        if not tracked:
            return []
        levels = _lock_levels(branch_id=branch.pk, product_ids=tracked)
        shortages = []
        for pid in tracked:
            change = merged[pid][0]
            new_quantity = levels[pid].quantity + change
            if change < 0 and new_quantity < 0 and not allow_negative:
                shortages.append(Shortage(pid, products[pid].name, levels[pid].quantity, -change))
        if shortages:
            raise StockShortError(shortages)

        reference_fields = _reference_fields(reference)
        movements = []
        for pid in tracked:
            change, unit_cost = merged[pid]
            level = levels[pid]
            level.quantity += change
            movements.append(
                StockMovement(
                    product_id=pid,
                    branch_id=branch.pk,
                    quantity=change,
                    kind=kind,
                    reason=reason[:255],
                    unit_cost=unit_cost if unit_cost is not None else products[pid].cost_price,
                    balance_after=level.quantity,
                    user=user if getattr(user, "is_authenticated", False) else None,
                    created_at=when,
                    **reference_fields,
                )
            )
        for level in levels.values():
            level.updated_at = when
        StockLevel.objects.bulk_update(list(levels.values()), ["quantity", "updated_at"])
        StockMovement.objects.bulk_create(movements)
        _after_stock_moved(
            branch=branch,
            products=[products[pid] for pid in tracked],
            levels=levels,
            changes={pid: merged[pid][0] for pid in tracked},
            when=when,
        )
    return movements


def _lock_levels(*, branch_id: int, product_ids: list[int]) -> dict[int, StockLevel]:
    """Lock the branch's stock rows of these products in primary-key order, creating missing ones.

    Existing rows are locked with one SELECT … FOR UPDATE (no INSERT first: on InnoDB an INSERT that
    meets an existing row takes a shared lock, and two such transactions deadlock upgrading it).
    A product's first row at a branch is inserted in a savepoint; if another till inserted it at the
    same moment, we lock theirs.
    """

    def select():
        return {
            level.product_id: level
            for level in StockLevel.objects.select_for_update()
            .filter(branch_id=branch_id, product_id__in=product_ids)
            .order_by("pk")
        }

    levels = select()
    missing = [pid for pid in product_ids if pid not in levels]
    if missing:
        for pid in missing:
            try:
                with transaction.atomic():
                    StockLevel.objects.create(product_id=pid, branch_id=branch_id)
            except IntegrityError:
                pass
        levels = select()
    return levels


def _after_stock_moved(*, branch, products, levels, changes, when) -> None:
    """Keep low / out-of-stock alerts right after every movement (sales included).

    Runs inside `stock_move`'s transaction while this branch's stock rows of these products are
    locked, so two movements of one product never race on its alert. An open alert means stock is at
    or under the reorder level; it is opened once, escalated to OUT at zero, and resolved when stock
    is back above the level. Costs no query for a sale that leaves every product above its level.
    """
    alerts_after_movement(branch_id=branch.pk, products=products, levels=levels, changes=changes, when=when)
