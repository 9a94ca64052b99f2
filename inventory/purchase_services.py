"""Writes for buying and moving stock: purchase orders (draft → ordered → received), reorder
suggestions turned into draft orders, and transfers between branches.

Receiving and transfers change stock only through `inventory.ledger_services.stock_move`.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from core.money import CENT, money
from core.roles import Perm
from inventory.errors import StockConflictError, StockError, StockShortError, require_branch, require_permission
from inventory.ledger_services import MAX_QUANTITY, StockLine, quantity_problem, stock_move
from inventory.models import (
    MovementKind,
    Product,
    Purchase,
    PurchaseLine,
    PurchaseStatus,
    StockLevel,
    Supplier,
    Transfer,
    TransferLine,
    TransferStatus,
)
from inventory.selectors import reorder_suggestions
from pos.people.audit import AuditAction, audit_record


def _fmt(quantity: Decimal) -> str:
    return f"{quantity.normalize():f}"


def _check_quantity(product: Product, quantity, *, field: str = "quantity", allow_zero: bool = False) -> None:
    if not isinstance(quantity, Decimal):
        raise StockError("Enter a number.", field=field)
    if quantity < 0 or (quantity == 0 and not allow_zero):
        raise StockError(
            "The quantity must be more than zero." if not allow_zero else "The quantity cannot be negative.",
            field=field,
        )
    if quantity >= MAX_QUANTITY:
        raise StockError("That quantity is too large.", field=field)
    problem = quantity_problem(
        quantity=quantity, decimal_places=product.unit.decimal_places, unit_name=product.unit.name
    )
    if problem:
        raise StockError(f"{product.name}: {problem}", field=field)


def _check_cost(unit_cost, *, field: str = "unit_cost") -> Decimal:
    if not isinstance(unit_cost, Decimal):
        raise StockError("The cost must be an amount in KES.", field=field)
    if unit_cost < 0:
        raise StockError("A cost price cannot be negative.", field=field)
    if unit_cost != unit_cost.quantize(CENT):
        raise StockError("A cost has at most 2 decimal places (cents).", field=field)
    return unit_cost


# ---------------------------------------------------------------------------- purchases
def _require_purchases(user, branch_id: int) -> None:
    require_permission(user, Perm.MANAGE_PURCHASES, "Only a manager or owner may handle purchases.")
    require_branch(user, branch_id)


def _lock_purchase(purchase_id: int, *allowed: str) -> Purchase:
    purchase = Purchase.objects.select_for_update().get(pk=purchase_id)
    if allowed and purchase.status not in allowed:
        raise StockConflictError(
            f"{purchase.number} is {purchase.get_status_display().lower()}; that is not possible now."
        )
    return purchase


def _recalculate(purchase: Purchase) -> None:
    lines = list(purchase.lines.all())
    purchase.total_ordered = money(sum((line.quantity_ordered * line.unit_cost for line in lines), Decimal("0")))
    purchase.total_received = money(sum((line.quantity_received * line.unit_cost for line in lines), Decimal("0")))


@transaction.atomic
def purchase_create(
    *,
    user,
    supplier: Supplier,
    branch,
    expected_date: date | None = None,
    supplier_reference: str = "",
    notes: str = "",
) -> Purchase:
    _require_purchases(user, branch.pk)
    if not supplier.is_active:
        raise StockError(f"{supplier.name} is deactivated.", field="supplier")
    return Purchase.objects.create(
        supplier=supplier,
        branch=branch,
        expected_date=expected_date,
        supplier_reference=(supplier_reference or "").strip()[:60],
        notes=(notes or "").strip(),
        created_by=user,
    )


@transaction.atomic
def purchase_update(*, user, purchase: Purchase, data: dict) -> Purchase:
    """Change the header (supplier only while a draft; dates, references and notes until received)."""
    purchase = _lock_purchase(purchase.pk, PurchaseStatus.DRAFT, PurchaseStatus.ORDERED, PurchaseStatus.PARTLY_RECEIVED)
    _require_purchases(user, purchase.branch_id)
    for field, value in data.items():
        if field == "supplier":
            if value.pk != purchase.supplier_id and purchase.status != PurchaseStatus.DRAFT:
                raise StockError("The supplier can only change while the order is a draft.", field="supplier")
            if not value.is_active:
                raise StockError(f"{value.name} is deactivated.", field="supplier")
            purchase.supplier = value
        elif field in ("expected_date", "supplier_reference", "notes"):
            setattr(purchase, field, value.strip() if isinstance(value, str) else value)
        else:
            raise StockError(f"Unknown field {field}.")
    purchase.save()
    return purchase


@transaction.atomic
def purchase_line_set(
    *, user, purchase: Purchase, product: Product, quantity: Decimal, unit_cost: Decimal | None = None
) -> PurchaseLine:
    """Add a product to a draft order or change its line (quantity and cost per unit)."""
    purchase = _lock_purchase(purchase.pk, PurchaseStatus.DRAFT)
    _require_purchases(user, purchase.branch_id)
    product = Product.objects.select_related("unit").get(pk=product.pk)
    if not product.is_active:
        raise StockError(f"{product.name} is deactivated.", field="product")
    if not product.track_stock:
        raise StockError(f"{product.name} does not track stock.", field="product")
    _check_quantity(product, quantity)
    unit_cost = _check_cost(product.cost_price if unit_cost is None else unit_cost)
    line, _ = PurchaseLine.objects.update_or_create(
        purchase=purchase, product=product, defaults={"quantity_ordered": quantity, "unit_cost": unit_cost}
    )
    _recalculate(purchase)
    purchase.save(update_fields=["total_ordered", "total_received", "updated_at"])
    return line


@transaction.atomic
def purchase_line_remove(*, user, purchase: Purchase, line_id: int) -> None:
    purchase = _lock_purchase(purchase.pk, PurchaseStatus.DRAFT)
    _require_purchases(user, purchase.branch_id)
    PurchaseLine.objects.filter(purchase=purchase, pk=line_id).delete()
    _recalculate(purchase)
    purchase.save(update_fields=["total_ordered", "total_received", "updated_at"])


@transaction.atomic
def purchase_order(*, user, purchase: Purchase) -> Purchase:
    """Draft → ordered: the order has gone to the supplier; its lines are fixed now."""
    purchase = _lock_purchase(purchase.pk, PurchaseStatus.DRAFT)
    _require_purchases(user, purchase.branch_id)
    if not purchase.lines.exists():
        raise StockError("Add at least one product before ordering.")
    purchase.status = PurchaseStatus.ORDERED
    purchase.ordered_by = user
    purchase.ordered_at = timezone.now()
    purchase.save(update_fields=["status", "ordered_by", "ordered_at", "updated_at"])
    return purchase


def moving_average_cost(*, on_hand: Decimal, current_cost: Decimal, quantity: Decimal, unit_cost: Decimal) -> Decimal:
    """The cost of the stock after receiving: the old stock at its cost plus the new at its cost,
    per unit. With no stock (or negative stock) before, the new cost is the receipt's cost."""
    if on_hand <= 0:
        return money(unit_cost)
    total = on_hand * current_cost + quantity * unit_cost
    return (total / (on_hand + quantity)).quantize(CENT, rounding=ROUND_HALF_UP)


@transaction.atomic
def purchase_receive(
    *,
    user,
    purchase: Purchase,
    quantities: dict[int, Decimal],
    unit_costs: dict[int, Decimal] | None = None,
    over_receive: bool = False,
    over_receive_reason: str = "",
    supplier_reference: str = "",
    request=None,
) -> Purchase:
    """Goods arrived: one PURCHASE_RECEIPT movement per line received (with its cost), the product's
    cost price moves to the moving average, and the order becomes partly or fully received.

    Receiving more than ordered is refused unless `over_receive` is ticked and a reason given.
    Nothing changes when anything is wrong.
    """
    purchase = _lock_purchase(purchase.pk, PurchaseStatus.ORDERED, PurchaseStatus.PARTLY_RECEIVED)
    _require_purchases(user, purchase.branch_id)
    unit_costs = unit_costs or {}
    over_receive_reason = (over_receive_reason or "").strip()
    lines = {line.pk: line for line in purchase.lines.select_related("product__unit").order_by("product_id")}
    unknown = set(quantities) - set(lines)
    if unknown:
        raise StockError("Some lines are not on this order.")
    receiving: list[tuple[PurchaseLine, Decimal, Decimal]] = []
    over: list[str] = []
    for line in lines.values():
        quantity = quantities.get(line.pk, Decimal("0"))
        if quantity in (None, ""):
            quantity = Decimal("0")
        _check_quantity(line.product, quantity, field=f"qty_{line.pk}", allow_zero=True)
        if quantity == 0:
            continue
        cost = unit_costs.get(line.pk)
        cost = _check_cost(line.unit_cost if cost in (None, "") else cost, field=f"cost_{line.pk}")
        if line.quantity_received + quantity > line.quantity_ordered:
            extra = line.quantity_received + quantity - line.quantity_ordered
            over.append(f"{line.product.name}: {_fmt(extra)} more than ordered")
        receiving.append((line, quantity, cost))
    if not receiving:
        raise StockError("Enter the quantity received for at least one line.")
    if over and not (over_receive and over_receive_reason):
        raise StockError(
            "Receiving more than was ordered ("
            + "; ".join(over)
            + "). Tick “over-receive” and say why, or correct the quantities.",
            field="over_receive",
        )

    product_ids = sorted(line.product_id for line, _, _ in receiving)
    products = {p.pk: p for p in Product.objects.select_for_update().filter(pk__in=product_ids).order_by("pk")}
    on_hand = dict(
        StockLevel.objects.filter(product_id__in=product_ids)
        .values("product_id")
        .annotate(total=Sum("quantity"))
        .values_list("product_id", "total")
    )
    reason = f"Received {purchase.number} from {purchase.supplier.name}"
    if over:
        reason += f" (over-received: {over_receive_reason})"
    stock_move(
        branch=purchase.branch,
        lines=[StockLine(line.product_id, quantity, unit_cost=cost) for line, quantity, cost in receiving],
        kind=MovementKind.PURCHASE_RECEIPT,
        user=user,
        reason=reason[:255],
        reference=purchase,
    )
    cost_changes = {}
    for line, quantity, cost in receiving:
        product = products[line.product_id]
        new_cost = moving_average_cost(
            on_hand=on_hand.get(product.pk) or Decimal("0"),
            current_cost=product.cost_price,
            quantity=quantity,
            unit_cost=cost,
        )
        if new_cost != product.cost_price:
            cost_changes[product.sku] = (str(product.cost_price), str(new_cost))
            product.cost_price = new_cost
            product.save(update_fields=["cost_price", "updated_at"])
        on_hand[product.pk] = (on_hand.get(product.pk) or Decimal("0")) + quantity
        line.quantity_received += quantity
        line.unit_cost = cost
        line.save(update_fields=["quantity_received", "unit_cost"])
    all_lines = list(purchase.lines.all())
    fully = all(line.quantity_received >= line.quantity_ordered for line in all_lines)
    purchase.status = PurchaseStatus.RECEIVED if fully else PurchaseStatus.PARTLY_RECEIVED
    purchase.received_at = timezone.now()
    if supplier_reference:
        purchase.supplier_reference = supplier_reference.strip()[:60]
    _recalculate(purchase)
    purchase.save()
    audit_record(
        action=AuditAction.PURCHASE_RECEIVED,
        user=user,
        instance=purchase,
        reason=over_receive_reason if over else "",
        before={"cost_price": {sku: change[0] for sku, change in cost_changes.items()}},
        after={
            "received": {line.product.sku: str(quantity) for line, quantity, _ in receiving},
            "cost_price": {sku: change[1] for sku, change in cost_changes.items()},
            "over_received": over,
            "status": purchase.status,
        },
        branch=purchase.branch,
        request=request,
    )
    return purchase


@transaction.atomic
def purchase_cancel(*, user, purchase: Purchase, reason: str = "", request=None) -> Purchase:
    """Cancel an order that nothing was received on."""
    purchase = _lock_purchase(purchase.pk, PurchaseStatus.DRAFT, PurchaseStatus.ORDERED)
    _require_purchases(user, purchase.branch_id)
    before = purchase.status
    purchase.status = PurchaseStatus.CANCELLED
    purchase.save(update_fields=["status", "updated_at"])
    audit_record(
        action=AuditAction.PURCHASE_CANCELLED,
        user=user,
        instance=purchase,
        reason=reason,
        before={"status": before},
        after={"status": purchase.status},
        branch=purchase.branch,
        request=request,
    )
    return purchase


@transaction.atomic
def purchase_close(*, user, purchase: Purchase, reason: str, request=None) -> Purchase:
    """A partly received order where the rest will not come: mark it received as it stands."""
    purchase = _lock_purchase(purchase.pk, PurchaseStatus.PARTLY_RECEIVED)
    _require_purchases(user, purchase.branch_id)
    reason = (reason or "").strip()
    if not reason:
        raise StockError("Say why the rest will not come.", field="reason")
    purchase.status = PurchaseStatus.RECEIVED
    purchase.notes = (purchase.notes + "\n" if purchase.notes else "") + f"Closed short: {reason}"
    purchase.save(update_fields=["status", "notes", "updated_at"])
    audit_record(
        action=AuditAction.PURCHASE_CANCELLED,
        user=user,
        instance=purchase,
        reason=f"closed short: {reason}",
        before={"status": PurchaseStatus.PARTLY_RECEIVED},
        after={"status": purchase.status},
        branch=purchase.branch,
        request=request,
    )
    return purchase


@transaction.atomic
def purchases_from_suggestions(*, user, branch, supplier_ids: list[int] | None = None) -> list[Purchase]:
    """Turn the branch's reorder suggestions into one draft purchase per supplier, in one click."""

    _require_purchases(user, branch.pk)
    groups = reorder_suggestions(branch_id=branch.pk)
    created = []
    for group in groups:
        if group.supplier is None or (supplier_ids is not None and group.supplier.pk not in supplier_ids):
            continue
        purchase = Purchase.objects.create(
            supplier=group.supplier, branch=branch, created_by=user, notes="From reorder suggestions"
        )
        PurchaseLine.objects.bulk_create(
            [
                PurchaseLine(
                    purchase=purchase, product=s.product, quantity_ordered=s.quantity, unit_cost=s.product.cost_price
                )
                for s in group.suggestions
            ]
        )
        _recalculate(purchase)
        purchase.save(update_fields=["total_ordered", "total_received", "updated_at"])
        created.append(purchase)
    if not created:
        raise StockError("Nothing to order: no product at or under its reorder level has a supplier.")
    return created


# ---------------------------------------------------------------------------- transfers
def _lock_transfer(transfer_id: int, *allowed: str) -> Transfer:
    transfer = Transfer.objects.select_for_update().get(pk=transfer_id)
    if allowed and transfer.status not in allowed:
        raise StockConflictError(
            f"{transfer.number} is {transfer.get_status_display().lower()}; that is not possible now."
        )
    return transfer


def _require_transfers(user) -> None:
    require_permission(user, Perm.MANAGE_TRANSFERS, "Only a manager or owner may move stock between branches.")


@transaction.atomic
def transfer_create(*, user, from_branch, to_branch, note: str = "") -> Transfer:
    _require_transfers(user)
    require_branch(user, from_branch.pk, field="from_branch")
    if from_branch.pk == to_branch.pk:
        raise StockError("Choose another branch to send to.", field="to_branch")
    if not to_branch.is_active:
        raise StockError(f"{to_branch.name} is closed.", field="to_branch")
    return Transfer.objects.create(
        from_branch=from_branch, to_branch=to_branch, note=(note or "").strip()[:255], created_by=user
    )


@transaction.atomic
def transfer_line_set(*, user, transfer: Transfer, product: Product, quantity: Decimal) -> TransferLine:
    _require_transfers(user)
    transfer = _lock_transfer(transfer.pk, TransferStatus.DRAFT)
    require_branch(user, transfer.from_branch_id, field=None)
    product = Product.objects.select_related("unit").get(pk=product.pk)
    if not product.track_stock or not product.is_active:
        raise StockError(f"{product.name} is not a stocked, active product.", field="product")
    _check_quantity(product, quantity)
    line, _ = TransferLine.objects.update_or_create(transfer=transfer, product=product, defaults={"quantity": quantity})
    return line


@transaction.atomic
def transfer_line_remove(*, user, transfer: Transfer, line_id: int) -> None:
    _require_transfers(user)
    transfer = _lock_transfer(transfer.pk, TransferStatus.DRAFT)
    require_branch(user, transfer.from_branch_id, field=None)
    TransferLine.objects.filter(transfer=transfer, pk=line_id).delete()


@transaction.atomic
def transfer_dispatch(*, user, transfer: Transfer, request=None) -> Transfer:
    """The goods leave: TRANSFER_OUT at the source (never below zero). They are in transit until
    the other branch receives them."""
    _require_transfers(user)
    transfer = _lock_transfer(transfer.pk, TransferStatus.DRAFT)
    require_branch(user, transfer.from_branch_id, field=None)
    lines = list(transfer.lines.select_related("product"))
    if not lines:
        raise StockError("Add at least one product before sending.")
    try:
        stock_move(
            branch=transfer.from_branch,
            lines=[StockLine(line.product_id, -line.quantity) for line in lines],
            kind=MovementKind.TRANSFER_OUT,
            user=user,
            reason=f"Sent to {transfer.to_branch.name}",
            reference=transfer,
            allow_negative=False,
        )
    except StockShortError as exc:
        raise StockConflictError(exc.message, code="stock_short") from exc
    transfer.status = TransferStatus.IN_TRANSIT
    transfer.dispatched_by = user
    transfer.dispatched_at = timezone.now()
    transfer.save(update_fields=["status", "dispatched_by", "dispatched_at", "updated_at"])
    audit_record(
        action=AuditAction.TRANSFER_DISPATCHED,
        user=user,
        instance=transfer,
        after={line.product.sku: str(line.quantity) for line in lines},
        branch=transfer.from_branch,
        request=request,
    )
    return transfer


@transaction.atomic
def transfer_receive(
    *, user, transfer: Transfer, quantities: dict[int, Decimal] | None = None, note: str = "", request=None
) -> Transfer:
    """The goods arrive: TRANSFER_IN at the destination. Less than was sent may arrive (damaged or
    missing on the way) when a note says so; more never."""
    _require_transfers(user)
    transfer = _lock_transfer(transfer.pk, TransferStatus.IN_TRANSIT)
    require_branch(user, transfer.to_branch_id, field=None)
    note = (note or "").strip()
    lines = list(transfer.lines.select_related("product__unit").order_by("product_id"))
    quantities = quantities or {}
    short = []
    for line in lines:
        received = quantities.get(line.pk, line.quantity)
        if received in (None, ""):
            received = line.quantity
        _check_quantity(line.product, received, field=f"qty_{line.pk}", allow_zero=True)
        if received > line.quantity:
            raise StockError(
                f"{line.product.name}: {_fmt(received)} received but only {_fmt(line.quantity)} were sent.",
                field=f"qty_{line.pk}",
            )
        if received < line.quantity:
            short.append(f"{line.product.name}: {_fmt(line.quantity - received)} missing")
        line.quantity_received = received
    if short and not note:
        raise StockError("Less arrived than was sent (" + "; ".join(short) + "). Say what happened.", field="note")
    costs = dict(Product.objects.filter(pk__in=[line.product_id for line in lines]).values_list("pk", "cost_price"))
    stock_move(
        branch=transfer.to_branch,
        lines=[
            StockLine(line.product_id, line.quantity_received, unit_cost=costs[line.product_id])
            for line in lines
            if line.quantity_received
        ],
        kind=MovementKind.TRANSFER_IN,
        user=user,
        reason=f"From {transfer.from_branch.name}" + (f" ({note})" if note else ""),
        reference=transfer,
    )
    TransferLine.objects.bulk_update(lines, ["quantity_received"])
    transfer.status = TransferStatus.RECEIVED
    transfer.received_by = user
    transfer.received_at = timezone.now()
    transfer.receive_note = note[:255]
    transfer.save(update_fields=["status", "received_by", "received_at", "receive_note", "updated_at"])
    audit_record(
        action=AuditAction.TRANSFER_RECEIVED,
        user=user,
        instance=transfer,
        reason=note,
        before={line.product.sku: str(line.quantity) for line in lines},
        after={line.product.sku: str(line.quantity_received) for line in lines},
        branch=transfer.to_branch,
        request=request,
    )
    return transfer


@transaction.atomic
def transfer_cancel(*, user, transfer: Transfer) -> Transfer:
    """Cancel a transfer that has not left yet."""
    _require_transfers(user)
    transfer = _lock_transfer(transfer.pk, TransferStatus.DRAFT)
    require_branch(user, transfer.from_branch_id, field=None)
    transfer.status = TransferStatus.CANCELLED
    transfer.save(update_fields=["status", "updated_at"])
    return transfer
