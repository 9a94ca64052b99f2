"""Writes for sales: the cashier's open cart and the completion of a sale.

A sale is OPEN while the cashier rings it up (one open cart per cashier), may be HELD and resumed,
and is COMPLETED exactly once by `sale_finalise`, which the cash desk's checkout calls inside the same
transaction that records the payments. Payments live in `cashdesk`; this module never imports it.
"""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from inventory.models import MovementKind, Product
from inventory.services import StockLine, quantity_problem, stock_move

from .audit import AuditAction, audit_record
from .base import ZERO, ConflictError, DomainError, money
from .models import Sale, SaleLine, SaleSequence, SaleStatus, User
from .pricing import LineInput, PricingError, price_sale


class SaleError(DomainError):
    """A till rule refused the change (bad quantity, empty sale, discount too big…)."""


class SaleConflictError(ConflictError, SaleError):
    """The sale is not in a state that allows this (already completed, voided, someone else's)."""


MAX_LINE_QUANTITY = Decimal("100000")


# ---------------------------------------------------------------------------- the cart
def sale_get_or_open(*, cashier: User) -> Sale:
    """The cashier's open sale, created when there is none. Safe when two tabs ask at once."""
    sale = Sale.objects.filter(open_for_cashier=cashier.pk).first()
    if sale is not None:
        return sale
    try:
        with transaction.atomic():
            return Sale.objects.create(
                branch_id=cashier.branch_id,
                cashier=cashier,
                status=SaleStatus.OPEN,
                open_for_cashier=cashier.pk,
            )
    except IntegrityError:
        return Sale.objects.get(open_for_cashier=cashier.pk)


def _lock_open_sale(sale: Sale, *, user: User | None = None) -> Sale:
    locked = Sale.objects.select_for_update().get(pk=sale.pk)
    if locked.status != SaleStatus.OPEN:
        raise SaleConflictError(f"This sale is {locked.get_status_display().lower()}; it cannot be changed.")
    if user is not None and locked.cashier_id != user.pk:
        raise SaleConflictError("This sale belongs to another cashier.")
    return locked


def _check_quantity(product: Product, quantity: Decimal) -> None:
    if not isinstance(quantity, Decimal):
        raise SaleError("Quantities must be Decimal.", field="quantity")
    if quantity <= 0:
        raise SaleError("The quantity must be more than zero.", field="quantity")
    if quantity > MAX_LINE_QUANTITY:
        raise SaleError("That quantity is too large for one line.", field="quantity")
    problem = quantity_problem(quantity=quantity, decimal_places=product.unit.decimal_places, unit_name=product.unit.name)
    if problem:
        raise SaleError(problem, field="quantity")


def sale_recalculate(*, sale: Sale) -> Sale:
    """Price every line and the sale from their stored inputs (see `pos.pricing`)."""
    lines = list(sale.lines.all())
    try:
        totals = price_sale(
            [
                LineInput(
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    tax_class=line.tax_class,
                    tax_rate=line.tax_rate,
                    discount_kind=line.discount_kind,
                    discount_value=line.discount_value,
                )
                for line in lines
            ],
            cart_discount_kind=sale.cart_discount_kind,
            cart_discount_value=sale.cart_discount_value,
        )
    except PricingError as exc:
        raise SaleError(str(exc), field="discount") from exc
    changed = []
    for line, result in zip(lines, totals.lines):
        new = (result.gross, result.line_discount, result.cart_discount_share, result.total, result.tax)
        old = (line.gross_amount, line.discount_amount, line.cart_discount_share, line.line_total, line.tax_amount)
        if new != old:
            line.gross_amount, line.discount_amount, line.cart_discount_share, line.line_total, line.tax_amount = new
            changed.append(line)
    if changed:
        SaleLine.objects.bulk_update(
            changed, ["gross_amount", "discount_amount", "cart_discount_share", "line_total", "tax_amount"]
        )
    sale.subtotal = totals.subtotal
    sale.line_discount_total = totals.line_discount_total
    sale.cart_discount = totals.cart_discount
    sale.discount_total = totals.discount_total
    sale.tax_total = totals.tax_total
    sale.total = totals.total
    sale.save(
        update_fields=[
            "subtotal", "line_discount_total", "cart_discount", "discount_total", "tax_total", "total", "updated_at"
        ]
    )
    return sale


@transaction.atomic
def sale_add_product(*, sale: Sale, product: Product, user: User, quantity: Decimal = Decimal("1")) -> SaleLine:
    """Add a product to the cart; a second scan of the same product adds to its line."""
    sale = _lock_open_sale(sale, user=user)
    if not product.is_active:
        raise SaleError(f"{product.name} is no longer sold.", field="product")
    _check_quantity(product, quantity)
    line = (
        sale.lines.filter(
            product=product, unit_price=F("list_price"), discount_kind="", price_overridden_by__isnull=True
        )
        .order_by("position")
        .first()
    )
    if line is not None and line.list_price == product.selling_price:
        new_quantity = line.quantity + quantity
        _check_quantity(product, new_quantity)
        line.quantity = new_quantity
        line.save(update_fields=["quantity"])
    else:
        position = (sale.lines.aggregate(last=Max("position"))["last"] or 0) + 1
        line = SaleLine.objects.create(
            sale=sale,
            product=product,
            position=position,
            product_name=product.name,
            sku=product.sku,
            unit_code=product.unit.code,
            quantity=quantity,
            list_price=product.selling_price,
            unit_price=product.selling_price,
            tax_class=product.tax_class,
            tax_rate=product.tax_rate,
            cost_price=product.cost_price,
        )
    sale_recalculate(sale=sale)
    line.refresh_from_db()
    return line


@transaction.atomic
def sale_line_set_quantity(*, line: SaleLine, quantity: Decimal, user: User) -> SaleLine:
    sale = _lock_open_sale(line.sale, user=user)
    line = SaleLine.objects.select_related("product__unit").get(pk=line.pk, sale=sale)
    _check_quantity(line.product, quantity)
    line.quantity = quantity
    line.save(update_fields=["quantity"])
    sale_recalculate(sale=sale)
    line.refresh_from_db()
    return line


@transaction.atomic
def sale_line_remove(*, line: SaleLine, user: User, reason: str = "", authorised_by: User | None = None, request=None) -> Sale:
    """Take a line off an open sale. Recorded in the audit log as a void of the sale detail."""
    sale = _lock_open_sale(line.sale, user=user)
    line = SaleLine.objects.get(pk=line.pk, sale=sale)
    before = {
        "product": line.product_id,
        "product_name": line.product_name,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "line_total": line.line_total,
    }
    line_pk = line.pk
    line.delete()
    audit_record(
        action=AuditAction.LINE_VOID,
        user=user,
        model_name="pos.SaleLine",
        object_id=line_pk,
        reason=reason,
        before=before,
        after=None,
        authorised_by=authorised_by,
        branch=sale.branch_id,
        request=request,
    )
    return sale_recalculate(sale=sale)


# ---------------------------------------------------------------------------- completion
def _next_sale_number(branch) -> tuple[int, str]:
    """Take the branch's next number under a row lock; a rolled-back sale gives its number back."""
    SaleSequence.objects.bulk_create([SaleSequence(branch=branch)], ignore_conflicts=True)
    sequence = SaleSequence.objects.select_for_update().get(branch=branch)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return sequence.last_number, f"{branch.code}-{sequence.last_number:06d}"


def sale_finalise(
    *,
    sale: Sale,
    user: User,
    idempotency_key: str,
    paid_total: Decimal,
    change_given: Decimal = ZERO,
    when=None,
) -> Sale:
    """Complete an open sale: number, cost snapshots, stock out, totals. Exactly once.

    Must be called inside the checkout's transaction (`cashdesk.services.sale_checkout`), after the
    payments are recorded, with the sale row already locked by the caller. Raises `SaleError` for an
    empty sale, `StockShortError` when stock is short (nothing is written then).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("sale_finalise must run inside the checkout transaction")
    if sale.status != SaleStatus.OPEN:
        raise SaleConflictError(f"This sale is {sale.get_status_display().lower()}; it cannot be completed.")
    lines = list(sale.lines.select_related("product").order_by("product_id", "pk"))
    if not lines:
        raise SaleError("The sale is empty: add at least one item.")
    sale_recalculate(sale=sale)
    if money(paid_total) - money(change_given) != sale.total:
        raise SaleError(
            f"Payments (KES {money(paid_total)} less change KES {money(change_given)}) do not equal the total KES {sale.total}."
        )
    when = when or timezone.now()
    # The number first: every checkout at a branch takes the sequence lock before any stock lock, so
    # two checkouts never wait for each other in opposite orders; a rollback gives the number back.
    sale.sequence, sale.number = _next_sale_number(sale.branch)
    for line in lines:  # cost at the time of sale, for margins
        line.cost_price = line.product.cost_price
    SaleLine.objects.bulk_update(lines, ["cost_price"])
    stock_move(
        branch=sale.branch,
        lines=[StockLine(product_id=line.product_id, quantity=-line.quantity, unit_cost=line.cost_price) for line in lines],
        kind=MovementKind.SALE,
        user=user,
        reference=sale,
        when=when,
    )
    sale.status = SaleStatus.COMPLETED
    sale.open_for_cashier = None
    sale.idempotency_key = idempotency_key
    sale.paid_total = money(paid_total)
    sale.change_given = money(change_given)
    sale.completed_at = when
    sale.save(
        update_fields=[
            "sequence", "number", "status", "open_for_cashier", "idempotency_key", "paid_total", "change_given",
            "completed_at", "updated_at",
        ]
    )
    return sale
