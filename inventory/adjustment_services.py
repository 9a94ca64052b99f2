"""Writes for stock corrections: adjustments with manager approval, and stock counts (stock takes).

Nothing here changes stock by itself: an approved adjustment and a posted count go through
`inventory.ledger_services.stock_move` like every other change.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core.roles import Perm
from inventory.errors import StockConflictError, StockError, StockShortError, require_branch, require_permission
from inventory.ledger_services import MAX_QUANTITY, StockLine, quantity_problem, stock_move
from inventory.models import (
    AdjustmentReason,
    AdjustmentStatus,
    Category,
    CountStatus,
    MovementKind,
    Product,
    StockAdjustment,
    StockCount,
    StockCountLine,
)
from inventory.selectors import product_by_code, stock_on_hand, stock_on_hand_map
from pos.people.audit import AuditAction, audit_record


def _check_quantity(product: Product, quantity, *, field: str, allow_negative: bool = False) -> None:
    if not isinstance(quantity, Decimal):
        raise StockError("Enter a number.", field=field)
    if abs(quantity) >= MAX_QUANTITY:
        raise StockError("That quantity is too large.", field=field)
    if quantity < 0 and not allow_negative:
        raise StockError("A counted quantity cannot be negative.", field=field)
    problem = quantity_problem(
        quantity=quantity, decimal_places=product.unit.decimal_places, unit_name=product.unit.name
    )
    if problem:
        raise StockError(problem, field=field)


def _fmt(quantity: Decimal) -> str:
    """2.500 → "2.5", 10.000 → "10" (as people say it)."""
    return f"{quantity.normalize():f}"


# ---------------------------------------------------------------------------- adjustments
@transaction.atomic
def stock_adjustment_request(
    *,
    user,
    product: Product,
    branch,
    reason: str,
    note: str = "",
    counted_quantity: Decimal | None = None,
    delta: Decimal | None = None,
) -> StockAdjustment:
    """Ask for a stock correction: what was counted on the shelf, or how many were found / lost.

    Changes no stock: a manager approves it (`stock_adjustment_approve`). A counted quantity becomes
    a delta against the stock on hand now, so later sales are not undone when it is approved.
    """
    require_permission(user, Perm.REQUEST_ADJUSTMENT, "You may not request stock adjustments.")
    require_branch(user, branch.pk)
    if (counted_quantity is None) == (delta is None):
        raise StockError("Give either the quantity you counted or the change (+ found, − lost).", field="quantity")
    if reason not in AdjustmentReason.values:
        raise StockError("Choose a reason.", field="reason")
    note = (note or "").strip()
    if reason == AdjustmentReason.OTHER and not note:
        raise StockError("Say what happened (the reason is “other”).", field="note")
    product = Product.objects.select_related("unit").get(pk=product.pk)
    if not product.track_stock:
        raise StockError(f"{product.name} does not track stock.", field="product")
    if not product.is_active:
        raise StockError(f"{product.name} is deactivated.", field="product")
    expected = stock_on_hand(product_id=product.pk, branch_id=branch.pk)
    if counted_quantity is not None:
        _check_quantity(product, counted_quantity, field="quantity")
        delta = counted_quantity - expected
        if delta == 0:
            raise StockError(
                f"The system already shows {_fmt(expected)} {product.unit.code}: nothing to adjust.", field="quantity"
            )
    else:
        _check_quantity(product, delta, field="quantity", allow_negative=True)
        if delta == 0:
            raise StockError("A change of zero adjusts nothing.", field="quantity")
        if expected + delta < 0:
            raise StockError(
                f"That would take {product.name} below zero: {_fmt(expected)} in stock, {_fmt(-delta)} to remove.",
                field="quantity",
            )
    return StockAdjustment.objects.create(
        product=product,
        branch=branch,
        counted_quantity=counted_quantity,
        expected_quantity=expected,
        delta=delta,
        reason=reason,
        note=note[:255],
        requested_by=user,
    )


def _lock_pending(adjustment_id: int) -> StockAdjustment:
    adjustment = StockAdjustment.objects.select_for_update().get(pk=adjustment_id)
    if adjustment.status != AdjustmentStatus.PENDING:
        who = adjustment.decided_by.full_name if adjustment.decided_by_id else "someone"
        raise StockConflictError(f"{adjustment.number} was already {adjustment.get_status_display().lower()} by {who}.")
    return adjustment


@transaction.atomic
def stock_adjustment_approve(*, adjustment: StockAdjustment, user, note: str = "", request=None) -> StockAdjustment:
    """Approve a pending adjustment: one ADJUSTMENT movement through the ledger and an audit entry with
    the stock before and after. Refused (nothing changes) when it would take stock below zero.

    A manager's own request is approved the same way: the click is theirs and is recorded.
    """
    require_permission(user, Perm.APPROVE_ADJUSTMENT, "Only a manager or owner may approve stock adjustments.")
    adjustment = _lock_pending(adjustment.pk)
    require_branch(user, adjustment.branch_id, field=None)
    product = adjustment.product
    if not product.track_stock:
        raise StockError(f"{product.name} no longer tracks stock; reject this request.")
    try:
        movements = stock_move(
            branch=adjustment.branch,
            lines=[StockLine(product.pk, adjustment.delta)],
            kind=MovementKind.ADJUSTMENT,
            user=user,
            reason=f"{adjustment.get_reason_display()}: {adjustment.note}".rstrip(": ")[:255],
            reference=adjustment,
            allow_negative=False,
        )
    except StockShortError as exc:
        shortage = exc.shortages[0]
        raise StockConflictError(
            f"Cannot approve {adjustment.number}: it would take {product.name} below zero "
            f"({_fmt(shortage.on_hand)} in stock now, {_fmt(shortage.requested)} to remove). Reject it or count again.",
            code="stock_short",
        ) from exc
    movement = movements[0]
    now = timezone.now()
    adjustment.status = AdjustmentStatus.APPROVED
    adjustment.decided_by = user
    adjustment.decided_at = now
    adjustment.decision_note = (note or "").strip()[:255]
    adjustment.quantity_after = movement.balance_after
    adjustment.quantity_before = movement.balance_after - movement.quantity
    adjustment.movement = movement
    adjustment.save(
        update_fields=[
            "status",
            "decided_by",
            "decided_at",
            "decision_note",
            "quantity_before",
            "quantity_after",
            "movement",
            "updated_at",
        ]
    )
    audit_record(
        action=AuditAction.ADJUSTMENT_APPROVED,
        user=user,
        instance=adjustment,
        reason=f"{adjustment.get_reason_display()}{': ' + adjustment.note if adjustment.note else ''}",
        before={"product": product.name, "sku": product.sku, "stock": str(adjustment.quantity_before)},
        after={
            "stock": str(adjustment.quantity_after),
            "delta": str(adjustment.delta),
            "requested_by": adjustment.requested_by.full_name,
            "own_request": adjustment.requested_by_id == user.pk,
            "movement": movement.pk,
        },
        branch=adjustment.branch,
        request=request,
    )
    return adjustment


@transaction.atomic
def stock_adjustment_reject(*, adjustment: StockAdjustment, user, note: str, request=None) -> StockAdjustment:
    """Reject a pending adjustment: who and why are recorded; stock is untouched."""
    require_permission(user, Perm.APPROVE_ADJUSTMENT, "Only a manager or owner may reject stock adjustments.")
    note = (note or "").strip()
    if not note:
        raise StockError("Say why it is rejected.", field="note")
    adjustment = _lock_pending(adjustment.pk)
    require_branch(user, adjustment.branch_id, field=None)
    adjustment.status = AdjustmentStatus.REJECTED
    adjustment.decided_by = user
    adjustment.decided_at = timezone.now()
    adjustment.decision_note = note[:255]
    adjustment.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
    audit_record(
        action=AuditAction.ADJUSTMENT_REJECTED,
        user=user,
        instance=adjustment,
        reason=note,
        before={"status": AdjustmentStatus.PENDING},
        after={
            "status": AdjustmentStatus.REJECTED,
            "product": adjustment.product.name,
            "delta": str(adjustment.delta),
            "requested_by": adjustment.requested_by.full_name,
        },
        branch=adjustment.branch,
        request=request,
    )
    return adjustment


@dataclass
class DecisionResult:
    adjustment_id: int
    ok: bool
    message: str = ""


def stock_adjustments_decide(
    *, adjustment_ids: list[int], user, approve: bool, note: str = "", request=None
) -> list[DecisionResult]:
    """Approve or reject several requests at once. Each is decided in its own transaction, so one that
    is refused (stock would go below zero, already decided) leaves the others decided."""
    results = []
    for adjustment_id in sorted(set(adjustment_ids)):
        adjustment = StockAdjustment.objects.filter(pk=adjustment_id).first()
        if adjustment is None:
            results.append(DecisionResult(adjustment_id, False, "No such request."))
            continue
        try:
            if approve:
                stock_adjustment_approve(adjustment=adjustment, user=user, note=note, request=request)
            else:
                stock_adjustment_reject(adjustment=adjustment, user=user, note=note, request=request)
        except StockError as exc:
            results.append(DecisionResult(adjustment_id, False, exc.message))
        else:
            results.append(DecisionResult(adjustment_id, True))
    return results


# ---------------------------------------------------------------------------- stock counts
def _count_marker(branch_id: int, category_id: int | None) -> str:
    return f"{branch_id}:{category_id or 'all'}"


@transaction.atomic
def stock_count_start(*, user, branch, category: Category | None = None, note: str = "") -> StockCount:
    """Start a stock take of a category or the whole branch, with a snapshot of expected stock."""
    require_permission(user, Perm.COUNT_STOCK, "You may not count stock.")
    require_branch(user, branch.pk)
    open_counts = StockCount.objects.filter(branch=branch, status=CountStatus.OPEN)
    if category is None and open_counts.exists():
        raise StockError("Finish or cancel the counts already open at this branch first.", field="category")
    if open_counts.filter(category__isnull=True).exists():
        raise StockError("A count of the whole branch is already open; use it.", field="category")
    if category is not None and open_counts.filter(category=category).exists():
        raise StockError(f"A count of {category.name} is already open at this branch.", field="category")
    products = Product.objects.filter(is_active=True, track_stock=True)
    if category is not None:
        products = products.filter(category=category)
    product_ids = list(products.order_by("name").values_list("pk", flat=True))
    if not product_ids:
        raise StockError("There are no stocked products to count here.", field="category")
    count = StockCount.objects.create(
        branch=branch,
        category=category,
        note=(note or "").strip()[:255],
        started_by=user,
        open_marker=_count_marker(branch.pk, category.pk if category else None),
    )
    stock = stock_on_hand_map(product_ids=product_ids, branch_id=branch.pk)
    StockCountLine.objects.bulk_create(
        [
            StockCountLine(count=count, product_id=pid, expected_quantity=stock.get(pid, Decimal("0")))
            for pid in product_ids
        ],
        batch_size=1000,
    )
    return count


def _lock_open_count(count_id: int) -> StockCount:
    count = StockCount.objects.select_for_update().get(pk=count_id)
    if count.status != CountStatus.OPEN:
        raise StockConflictError(f"{count.number} is {count.get_status_display().lower()}; it cannot change.")
    return count


@transaction.atomic
def stock_count_enter(*, count: StockCount, product: Product, counted_quantity: Decimal | None, user) -> StockCountLine:
    """Record what was counted for a product (None clears it). A product that is not on the sheet
    yet is added. The expected quantity is refreshed to the stock on hand at this moment."""
    require_permission(user, Perm.COUNT_STOCK, "You may not count stock.")
    count = _lock_open_count(count.pk)
    require_branch(user, count.branch_id, field=None)
    product = Product.objects.select_related("unit").get(pk=product.pk)
    if counted_quantity is not None:
        _check_quantity(product, counted_quantity, field="counted_quantity")
    line = _count_line(count, product)
    line.counted_quantity = counted_quantity
    line.counted_by = user if counted_quantity is not None else None
    line.counted_at = timezone.now() if counted_quantity is not None else None
    line.expected_quantity = stock_on_hand(product_id=product.pk, branch_id=count.branch_id)
    line.save(update_fields=["counted_quantity", "counted_by", "counted_at", "expected_quantity"])
    return line


def _count_line(count: StockCount, product: Product) -> StockCountLine:
    line = StockCountLine.objects.filter(count=count, product=product).first()
    if line is not None:
        return line
    if not product.track_stock or not product.is_active:
        raise StockError(f"{product.name} is not a stocked, active product.", field="code")
    return StockCountLine.objects.create(
        count=count,
        product=product,
        expected_quantity=stock_on_hand(product_id=product.pk, branch_id=count.branch_id),
    )


@transaction.atomic
def stock_count_scan(*, count: StockCount, code: str, user, add_one: bool = False) -> StockCountLine:
    """A scanned barcode (or typed SKU): find its line, adding it when the product is not on the sheet.
    With `add_one`, every scan counts one more unit (scan each item as you move it)."""
    require_permission(user, Perm.COUNT_STOCK, "You may not count stock.")
    count = _lock_open_count(count.pk)
    require_branch(user, count.branch_id, field=None)
    product = product_by_code(code=code)
    if product is None:
        raise StockError(f"No active product has the barcode or SKU “{(code or '').strip()}”.", field="code")
    line = _count_line(count, product)
    if add_one:
        line.counted_quantity = (line.counted_quantity or Decimal("0")) + 1
        line.counted_by = user
        line.counted_at = timezone.now()
        line.expected_quantity = stock_on_hand(product_id=product.pk, branch_id=count.branch_id)
        line.save(update_fields=["counted_quantity", "counted_by", "counted_at", "expected_quantity"])
    return line


@transaction.atomic
def stock_count_post(*, count: StockCount, user, request=None) -> list[StockAdjustment]:
    """Post a count: every counted line whose quantity differs becomes an approved adjustment, all
    written in one batch of COUNT movements (one `stock_move` call) and one audit entry."""
    require_permission(user, Perm.APPROVE_ADJUSTMENT, "Only a manager or owner may post a stock count.")
    count = _lock_open_count(count.pk)
    require_branch(user, count.branch_id, field=None)
    lines = list(count.lines.filter(counted_quantity__isnull=False).select_related("product").order_by("product_id"))
    if not lines:
        raise StockError("Nothing has been counted yet.")
    variances = [line for line in lines if line.variance != 0]
    now = timezone.now()
    adjustments: list[StockAdjustment] = []
    if variances:
        try:
            movements = stock_move(
                branch=count.branch,
                lines=[StockLine(line.product_id, line.variance) for line in variances],
                kind=MovementKind.COUNT,
                user=user,
                reason=f"Stock count {count.number}",
                reference=count,
                allow_negative=False,
                when=now,
            )
        except StockShortError as exc:
            names = ", ".join(s.product_name for s in exc.shortages)
            raise StockConflictError(
                f"Posting would take stock below zero for {names} (sold since it was counted). Count those again.",
                code="stock_short",
            ) from exc
        by_product = {movement.product_id: movement for movement in movements}
        for line in variances:
            movement = by_product.get(line.product_id)
            if movement is None:  # stopped tracking stock since the count started
                continue
            adjustments.append(
                StockAdjustment(
                    product_id=line.product_id,
                    branch_id=count.branch_id,
                    counted_quantity=line.counted_quantity,
                    expected_quantity=line.expected_quantity,
                    delta=line.variance,
                    reason=AdjustmentReason.COUNT_CORRECTION,
                    note=f"Stock count {count.number}",
                    requested_by_id=line.counted_by_id or user.pk,
                    status=AdjustmentStatus.APPROVED,
                    decided_by=user,
                    decided_at=now,
                    quantity_before=movement.balance_after - movement.quantity,
                    quantity_after=movement.balance_after,
                    movement=movement,
                    stock_count=count,
                )
            )
        StockAdjustment.objects.bulk_create(adjustments, batch_size=500)
    skus = {line.product_id: line.product.sku for line in lines}
    count.status = CountStatus.POSTED
    count.closed_by = user
    count.closed_at = now
    count.open_marker = None
    count.save(update_fields=["status", "closed_by", "closed_at", "open_marker", "updated_at"])
    audit_record(
        action=AuditAction.STOCK_COUNT_POSTED,
        user=user,
        instance=count,
        reason=f"{count.scope}: {len(lines)} counted, {len(adjustments)} differed",
        before={skus[a.product_id]: str(a.quantity_before) for a in adjustments},
        after={skus[a.product_id]: str(a.quantity_after) for a in adjustments},
        branch=count.branch,
        request=request,
    )
    return adjustments


@transaction.atomic
def stock_count_cancel(*, count: StockCount, user) -> StockCount:
    """Abandon a count; nothing changes in stock."""
    count = _lock_open_count(count.pk)
    if not (user.has_perm(Perm.APPROVE_ADJUSTMENT) or count.started_by_id == user.pk):
        raise StockError("Only the person who started it or a manager may cancel this count.", code="forbidden")
    require_branch(user, count.branch_id, field=None)
    count.status = CountStatus.CANCELLED
    count.closed_by = user
    count.closed_at = timezone.now()
    count.open_marker = None
    count.save(update_fields=["status", "closed_by", "closed_at", "open_marker", "updated_at"])
    return count
