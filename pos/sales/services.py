"""Writes for sales: the cashier's open cart and the completion of a sale.

A sale is OPEN while the cashier rings it up (one open cart per cashier), may be HELD and resumed,
and is COMPLETED exactly once by `sale_finalise`, which the cash desk's checkout calls inside the same
transaction that records the payments. Payments live in `cashdesk`; this module never imports it.
"""

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from core.branches import may_use_branch
from core.db import retry_on_deadlock
from core.decimal_input import DecimalInputError, parse_decimal
from core.errors import ConflictError, DomainError
from core.money import CENT, ZERO, money
from core.roles import Perm
from inventory.ledger_services import MAX_SALE_LINE_QUANTITY, StockLine, quantity_problem, stock_move
from inventory.models import MovementKind, Product
from pos.customers.models import Customer, LoyaltyEntry, LoyaltyKind
from pos.people.audit import AuditAction, audit_record
from pos.people.models import User
from pos.people.selectors import shop_settings
from pos.sales.models import (
    PaymentStatus,
    RefundTo,
    Sale,
    SaleLine,
    SaleReturn,
    SaleReturnLine,
    SaleScan,
    SaleSequence,
    SaleStatus,
)
from pos.sales.pricing import DiscountKind, LineInput, PricingError, discount_amount, price_sale


class SaleError(DomainError):
    """A till rule refused the change (bad quantity, empty sale, discount too big…)."""


class SaleConflictError(ConflictError, SaleError):
    """The sale is not in a state that allows this (already completed, voided, someone else's)."""


class AuthorisationRequired(SaleError):
    """The action needs a manager: the cashier asks, a manager types their PIN (or does it themselves)."""

    status_code = 403

    def __init__(self, message: str, *, perm: str = Perm.AUTHORISE_OVERRIDES):
        super().__init__(message, code="authorisation_required")
        self.perm = perm


MAX_UNIT_PRICE = Decimal("10000000.00")


def authority_for(*, user: User, authorised_by: User | None, perm: str, what: str) -> User:
    """Who allows a guarded action: the user when they hold `perm`, else the manager who typed their PIN.

    The view verifies the PIN (`pos.people.services.staff_verify_pin`); this checks the role again so a
    service called from anywhere cannot skip it. A manager of another branch may not authorise
    unless they see every branch.
    """
    if user.has_perm(perm):
        return user
    if (
        authorised_by is not None
        and authorised_by.is_active
        and authorised_by.has_perm(perm)
        and may_use_branch(authorised_by, user.branch_id)
    ):
        return authorised_by
    raise AuthorisationRequired(f"{what} needs a manager's authorisation.", perm=perm)


def _clean_reason(reason: str, *, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise SaleError(f"Say why ({what}): it goes in the audit log.", field="reason")
    return reason[:255]


def _as_decimal(value, *, field: str, label: str) -> Decimal:
    if isinstance(value, float):
        raise SaleError(f"{label} must be a Decimal.", field=field)
    try:
        return parse_decimal(value)
    except DecimalInputError:
        raise SaleError(f"{label}: “{value}” is not a number.", field=field) from None


def _line_snapshot(line: SaleLine) -> dict:
    return {
        "sale": line.sale_id,
        "product": line.product_id,
        "product_name": line.product_name,
        "quantity": line.quantity,
        "list_price": line.list_price,
        "unit_price": line.unit_price,
        "discount_kind": line.discount_kind,
        "discount_value": line.discount_value,
        "discount_amount": line.discount_amount,
        "line_total": line.line_total,
    }


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
    if quantity > MAX_SALE_LINE_QUANTITY:
        raise SaleError("That quantity is too large for one line.", field="quantity")
    problem = quantity_problem(
        quantity=quantity, decimal_places=product.unit.decimal_places, unit_name=product.unit.name
    )
    if problem:
        raise SaleError(problem, field="quantity")


TOTAL_FIELDS = ["subtotal", "line_discount_total", "cart_discount", "discount_total", "tax_total", "total"]
LINE_FIGURES = ["gross_amount", "discount_amount", "cart_discount_share", "line_total", "tax_amount"]


def _price_lines(*, sale: Sale, lines: list[SaleLine]) -> list[SaleLine]:
    """Price `lines` and the sale from their stored inputs, in memory; answers the lines whose figures moved."""
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
    for line, result in zip(lines, totals.lines, strict=True):  # price_sale answers one result per line
        new = (result.gross, result.line_discount, result.cart_discount_share, result.total, result.tax)
        old = (line.gross_amount, line.discount_amount, line.cart_discount_share, line.line_total, line.tax_amount)
        if new != old:
            line.gross_amount, line.discount_amount, line.cart_discount_share, line.line_total, line.tax_amount = new
            changed.append(line)
    sale.subtotal = totals.subtotal
    sale.line_discount_total = totals.line_discount_total
    sale.cart_discount = totals.cart_discount
    sale.discount_total = totals.discount_total
    sale.tax_total = totals.tax_total
    sale.total = totals.total
    return changed


def sale_recalculate(*, sale: Sale) -> Sale:
    """Price every line and the sale from their stored inputs (see `pos.sales.pricing`)."""
    lines = list(sale.lines.all())
    changed = _price_lines(sale=sale, lines=lines)
    if changed:
        SaleLine.objects.bulk_update(changed, LINE_FIGURES)
    sale.save(update_fields=[*TOTAL_FIELDS, "updated_at"])
    return sale


def _lock_cashier_sale(cashier: User) -> Sale:
    """The cashier's open sale, read once and locked; made first when there is none."""
    sale = Sale.objects.select_for_update().filter(open_for_cashier=cashier.pk).first()
    if sale is None:  # the first item of a sale
        sale = _lock_open_sale(sale_get_or_open(cashier=cashier), user=cashier)
    return sale


def _keep_lines(sale: Sale, lines: list[SaleLine]) -> None:
    """Leave `lines` on the sale as `prefetch_related("lines")` would: the cart that answers the scan is
    shown from them, without reading the sale's lines again."""
    queryset = sale.lines.all()
    queryset._result_cache = list(lines)
    queryset._prefetch_done = True
    sale._prefetched_objects_cache = {"lines": queryset}


@retry_on_deadlock
@transaction.atomic
def sale_add_product(
    *, sale: Sale | None = None, product: Product, user: User, quantity: Decimal = Decimal("1")
) -> SaleLine:
    """Add a product to the cart; a second scan of the same product adds to its line.

    `sale=None` is the till's scan: the user's open sale (made when there is none). The sale row is read
    once (locked) and its lines once, whatever their number: the line to add to, the next position and
    the new totals all come from them. The answer's `line.sale` is the recalculated sale with its lines
    loaded, so the caller shows the cart without asking again.
    """
    sale = _lock_cashier_sale(user) if sale is None else _lock_open_sale(sale, user=user)
    return _add_to_locked_sale(sale=sale, product=product, quantity=quantity)


def _add_to_locked_sale(*, sale: Sale, product: Product, quantity: Decimal) -> SaleLine:
    """`sale_add_product` once the open sale is locked: its lines read once, the line added or grown."""
    if not product.is_active:
        raise SaleError(f"{product.name} is no longer sold.", field="product")
    _check_quantity(product, quantity)
    lines = list(sale.lines.all())
    line = next(
        (
            candidate
            for candidate in lines  # in position order: the first plain line of this product
            if candidate.product_id == product.pk
            and candidate.unit_price == candidate.list_price
            and not candidate.discount_kind
            and candidate.price_overridden_by_id is None
        ),
        None,
    )
    if line is not None and line.list_price == product.selling_price:
        new_quantity = line.quantity + quantity
        _check_quantity(product, new_quantity)
        line.quantity = new_quantity
    else:
        line = SaleLine(
            sale=sale,
            product=product,
            position=max((other.position for other in lines), default=0) + 1,
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
        lines.append(line)
    changed = _price_lines(sale=sale, lines=lines)
    if line.pk is None:
        line.save()  # inserted with its figures already priced
    else:
        line.save(update_fields=["quantity", *LINE_FIGURES])
    others = [other for other in changed if other is not line]
    if others:  # a discount on the whole sale spreads over every line
        SaleLine.objects.bulk_update(others, LINE_FIGURES)
    sale.save(update_fields=[*TOTAL_FIELDS, "updated_at"])
    _keep_lines(sale, lines)
    line.sale = sale  # the recalculated sale, so callers show the new totals without asking again
    return line


SCAN_ID_MAX_LENGTH = 64


@retry_on_deadlock
@transaction.atomic
def sale_add_scanned(
    *, sale: Sale | None = None, product: Product, user: User, quantity: Decimal, scan_id: str
) -> SaleLine | None:
    """Add what the till scanned, once per scan id: a repeat of the same scan (a retried request, a
    second tab replaying its queue) adds nothing and returns None.

    The scan row is written after the sale is locked and in the same transaction as the line, so two
    requests with one id queue on the lock (or on the unique index) and the second finds the first's
    row; a scan that fails rolls its row back, so the till may send it again. `sale=None`: the user's
    open sale, read once and locked, as in `sale_add_product`.
    """
    scan_id = (scan_id or "").strip()
    if not scan_id or len(scan_id) > SCAN_ID_MAX_LENGTH:
        raise SaleError(f"A scan id is 1 to {SCAN_ID_MAX_LENGTH} characters.", field="scan_id")
    locked = _lock_cashier_sale(user) if sale is None else _lock_open_sale(sale, user=user)
    try:
        with transaction.atomic():
            SaleScan.objects.create(cashier=user, scan_id=scan_id, sale=locked)
    except IntegrityError:
        return None
    return _add_to_locked_sale(sale=locked, product=product, quantity=quantity)


@retry_on_deadlock
@transaction.atomic
def sale_open_with_lines(
    *, cashier: User, items: list[tuple[Product, Decimal]], customer: Customer | None = None, note: str = ""
) -> Sale:
    """A whole cart at once (the JSON API's "create a sale with its details"): the cashier's open sale,
    filled in one transaction, awaiting payment at checkout. All or nothing.

    The cart must be empty: a till tab may be ringing up another sale, which this never mixes into.
    The lines follow the till's rules for each scan (`sale_add_product`: a product sold, a quantity its
    unit allows, the catalogue price and VAT, a repeated product added to its line), but the cart is
    built in memory and written with one insert and one pricing, so fifty lines cost what one does.
    Give the products with their unit loaded (`select_related("unit")`).
    """
    if not items:
        raise SaleError("A sale needs at least one item.", field="details")
    sale = sale_get_or_open(cashier=cashier)
    sale = Sale.objects.select_for_update().get(pk=sale.pk)
    if sale.status != SaleStatus.OPEN:  # completed between the two reads: open a fresh one
        raise SaleConflictError("Your open sale just changed: try again.")
    if sale.lines.exists():
        raise SaleConflictError(
            f"You already have an open sale (#{sale.pk}) with items: pay it, hold it or void it first.",
            code="open_sale_exists",
        )
    changed_fields = [*TOTAL_FIELDS, "updated_at"]
    if customer is not None:  # as `sale_set_customer`
        if not customer.is_active:
            raise SaleError(f"{customer.name} is no longer an active customer.", field="customer")
        sale.customer = customer
        changed_fields.append("customer")
    if note:  # as `sale_set_note`
        sale.note = note.strip()[:255]
        changed_fields.append("note")
    lines: list[SaleLine] = []
    line_of_product: dict[int, SaleLine] = {}
    for position, (product, quantity) in enumerate(items, start=1):
        try:
            if not product.is_active:
                raise SaleError(f"{product.name} is no longer sold.", field="product")
            _check_quantity(product, quantity)
            line = line_of_product.get(product.pk)
            if line is not None:
                new_quantity = line.quantity + quantity
                _check_quantity(product, new_quantity)
                line.quantity = new_quantity
                continue
            line = SaleLine(
                sale=sale,
                product=product,
                position=len(lines) + 1,
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
        except SaleError as exc:
            raise type(exc)(f"Item {position}: {exc.message}", field="details", code=exc.code) from exc
        lines.append(line)
        line_of_product[product.pk] = line
    _price_lines(sale=sale, lines=lines)  # the lines go in with their figures: no second write
    SaleLine.objects.bulk_create(lines)
    sale.save(update_fields=changed_fields)
    return sale


@retry_on_deadlock
@transaction.atomic
def sale_line_set_quantity(*, line: SaleLine, quantity: Decimal, user: User) -> SaleLine:
    sale = _lock_open_sale(line.sale, user=user)
    line = SaleLine.objects.select_related("product__unit").get(pk=line.pk, sale=sale)
    _check_quantity(line.product, quantity)
    line.quantity = quantity
    line.save(update_fields=["quantity"])
    sale_recalculate(sale=sale)
    line.refresh_from_db()
    line.sale = sale
    return line


@retry_on_deadlock
@transaction.atomic
def sale_line_remove(
    *, line: SaleLine, user: User, reason: str = "", authorised_by: User | None = None, request=None
) -> Sale:
    """Take a line off an open sale (a line void): needs a manager, recorded in the audit log."""
    sale = _lock_open_sale(line.sale, user=user)
    line = SaleLine.objects.get(pk=line.pk, sale=sale)
    authority = authority_for(
        user=user, authorised_by=authorised_by, perm=Perm.AUTHORISE_OVERRIDES, what="Removing a line"
    )
    reason = _clean_reason(reason, what="line void")
    before = _line_snapshot(line)
    line_pk = line.pk
    line.delete()
    sale = sale_recalculate(sale=sale)
    audit_record(
        action=AuditAction.LINE_VOID,
        user=user,
        model_name="pos.SaleLine",
        object_id=line_pk,
        reason=reason,
        before=before,
        after=None,
        authorised_by=authority,
        branch=sale.branch_id,
        request=request,
    )
    return sale


@retry_on_deadlock
@transaction.atomic
def sale_line_set_discount(
    *,
    line: SaleLine,
    kind: str,
    value: Decimal,
    user: User,
    authorised_by: User | None = None,
    reason: str = "",
    request=None,
) -> SaleLine:
    """A discount on one line (KES or %). Above the owner's limit it needs a manager. Audited."""
    sale = _lock_open_sale(line.sale, user=user)
    line = SaleLine.objects.get(pk=line.pk, sale=sale)
    kind, value, amount = _resolve_discount(kind=kind, value=value, base=line.gross_amount, what="line")
    authority = _discount_authority(
        amount=amount, base=line.gross_amount, user=user, authorised_by=authorised_by
    )
    before = _line_snapshot(line)
    line.discount_kind, line.discount_value = kind, value
    line.save(update_fields=["discount_kind", "discount_value"])
    sale_recalculate(sale=sale)
    line.refresh_from_db()
    line.sale = sale
    audit_record(
        action=AuditAction.DISCOUNT,
        user=user,
        model_name="pos.SaleLine",
        object_id=line.pk,
        reason=(reason or "").strip()[:255],
        before=before,
        after=_line_snapshot(line),
        authorised_by=authority,
        branch=sale.branch_id,
        request=request,
    )
    return line


@retry_on_deadlock
@transaction.atomic
def sale_set_cart_discount(
    *,
    sale: Sale,
    kind: str,
    value: Decimal,
    user: User,
    authorised_by: User | None = None,
    reason: str = "",
    request=None,
) -> Sale:
    """A discount on the whole sale, shared over the lines (see `pos.sales.pricing`). Same limit as lines."""
    sale = _lock_open_sale(sale, user=user)
    base = sum((line.line_total + line.cart_discount_share for line in sale.lines.all()), ZERO)
    kind, value, amount = _resolve_discount(kind=kind, value=value, base=base, what="sale")
    authority = _discount_authority(amount=amount, base=base, user=user, authorised_by=authorised_by)
    before = {"cart_discount_kind": sale.cart_discount_kind, "cart_discount_value": sale.cart_discount_value,
              "cart_discount": sale.cart_discount, "total": sale.total}
    sale.cart_discount_kind, sale.cart_discount_value = kind, value
    sale.save(update_fields=["cart_discount_kind", "cart_discount_value", "updated_at"])
    sale_recalculate(sale=sale)
    audit_record(
        action=AuditAction.DISCOUNT,
        user=user,
        instance=sale,
        reason=(reason or "").strip()[:255],
        before=before,
        after={"cart_discount_kind": kind, "cart_discount_value": value, "cart_discount": sale.cart_discount,
               "total": sale.total},
        authorised_by=authority,
        branch=sale.branch_id,
        request=request,
    )
    return sale


def _resolve_discount(*, kind: str, value, base: Decimal, what: str) -> tuple[str, Decimal, Decimal]:
    kind = (kind or "").upper()
    if kind not in ("", DiscountKind.AMOUNT, DiscountKind.PERCENT):
        raise SaleError("Choose KES or % for the discount.", field="kind")
    value = _as_decimal(value if value not in (None, "") else "0", field="value", label="Discount")
    if value < 0:
        raise SaleError("A discount cannot be negative.", field="value")
    value = value.quantize(CENT)
    if not kind or value == 0:
        return "", ZERO, ZERO
    if base <= 0:
        raise SaleError(f"There is nothing on this {what} to discount.", field="value")
    try:
        amount = discount_amount(base=base, kind=kind, value=value)
    except PricingError as exc:
        raise SaleError(str(exc), field="value") from exc
    return kind, value, amount


def _discount_authority(*, amount: Decimal, base: Decimal, user: User, authorised_by: User | None) -> User:
    limit = shop_settings().cashier_discount_limit_percent
    if base > 0 and amount * Decimal("100") > limit * base:
        return authority_for(
            user=user,
            authorised_by=authorised_by,
            perm=Perm.AUTHORISE_OVERRIDES,
            what=f"A discount above {limit.normalize():f}%",
        )
    return user


@retry_on_deadlock
@transaction.atomic
def sale_line_override_price(
    *,
    line: SaleLine,
    unit_price: Decimal,
    user: User,
    reason: str,
    authorised_by: User | None = None,
    request=None,
) -> SaleLine:
    """Charge a different unit price than the catalogue's: always a manager's decision, audited."""
    sale = _lock_open_sale(line.sale, user=user)
    line = SaleLine.objects.get(pk=line.pk, sale=sale)
    unit_price = _as_decimal(unit_price, field="unit_price", label="Price")
    if unit_price < 0:
        raise SaleError("A price cannot be negative.", field="unit_price")
    if unit_price > MAX_UNIT_PRICE:
        raise SaleError("That price is not believable.", field="unit_price")
    unit_price = money(unit_price)
    if unit_price == line.unit_price:
        raise SaleError(f"The price is already KES {unit_price}.", field="unit_price")
    authority = authority_for(
        user=user, authorised_by=authorised_by, perm=Perm.AUTHORISE_OVERRIDES, what="A price override"
    )
    reason = _clean_reason(reason, what="price override")
    before = _line_snapshot(line)
    line.unit_price = unit_price
    line.price_overridden_by = authority
    line.price_override_reason = reason
    line.save(update_fields=["unit_price", "price_overridden_by", "price_override_reason"])
    sale_recalculate(sale=sale)  # a discount bigger than the new price is refused here, all rolled back
    line.refresh_from_db()
    line.sale = sale
    audit_record(
        action=AuditAction.PRICE_OVERRIDE,
        user=user,
        model_name="pos.SaleLine",
        object_id=line.pk,
        reason=reason,
        before=before,
        after=_line_snapshot(line),
        authorised_by=authority,
        branch=sale.branch_id,
        request=request,
    )
    return line


@retry_on_deadlock
@transaction.atomic
def sale_set_note(*, sale: Sale, note: str, user: User) -> Sale:
    sale = _lock_open_sale(sale, user=user)
    sale.note = (note or "").strip()[:255]
    sale.save(update_fields=["note", "updated_at"])
    return sale


@retry_on_deadlock
@transaction.atomic
def sale_set_customer(*, sale: Sale, customer: Customer | None, user: User) -> Sale:
    """Attach a customer (loyalty, sales on account, e-mailed receipt) or take them off."""
    sale = _lock_open_sale(sale, user=user)
    if customer is not None and not customer.is_active:
        raise SaleError(f"{customer.name} is no longer an active customer.", field="customer")
    sale.customer = customer
    sale.save(update_fields=["customer", "updated_at"])
    return sale


# ---------------------------------------------------------------------------- hold, resume, void
@retry_on_deadlock
@transaction.atomic
def sale_hold(*, sale: Sale, user: User) -> Sale:
    """Park the open sale so another can be rung up. Held sales reserve no stock."""
    sale = _lock_open_sale(sale, user=user)
    if not sale.lines.exists():
        raise SaleError("There is nothing to hold: the cart is empty.")
    sale.status = SaleStatus.HELD
    sale.open_for_cashier = None
    sale.held_at = timezone.now()
    sale.save(update_fields=["status", "open_for_cashier", "held_at", "updated_at"])
    return sale


@retry_on_deadlock
@transaction.atomic
def sale_resume(*, sale: Sale, user: User, hold_current: bool = False) -> Sale:
    """Bring a held sale back into the cashier's cart.

    The cart must be empty (an empty open cart is discarded: it has no history), unless
    `hold_current` parks what is in it first. Any till user of the branch may resume a held sale
    (shift changes); it becomes theirs.
    """
    held = Sale.objects.select_for_update().get(pk=sale.pk)
    if held.status != SaleStatus.HELD:
        raise SaleConflictError(f"This sale is {held.get_status_display().lower()}, not held.")
    if held.branch_id != user.branch_id:
        raise SaleConflictError("This sale was held at another branch.")
    current = Sale.objects.select_for_update().filter(open_for_cashier=user.pk).first()
    if current is not None:
        if current.lines.exists() or current.payments.exists():
            if not hold_current:
                raise SaleConflictError("Finish or hold the sale in the cart first.", code="cart_not_empty")
            sale_hold(sale=current, user=user)
        else:
            current.delete()
    held.status = SaleStatus.OPEN
    held.open_for_cashier = user.pk
    held.cashier = user
    held.held_at = None
    held.save(update_fields=["status", "open_for_cashier", "cashier", "held_at", "updated_at"])
    return held


@retry_on_deadlock
@transaction.atomic
def sale_void_open(*, sale: Sale, user: User, reason: str, authorised_by: User | None = None, request=None) -> Sale:
    """Cancel the whole cart (a header void): needs a manager, audited with every line."""
    sale = _lock_open_sale(sale, user=user)
    lines = list(sale.lines.all())
    if not lines:
        raise SaleError("The cart is already empty.")
    # A payment confirmed before completion (an accepted M-Pesa push) must be refunded, not voided away.
    if sale.payments.filter(status=PaymentStatus.CONFIRMED).exists():
        raise SaleConflictError("This sale has a confirmed payment: complete it, then void or refund it.")
    authority = authority_for(
        user=user, authorised_by=authorised_by, perm=Perm.AUTHORISE_OVERRIDES, what="Voiding a sale"
    )
    reason = _clean_reason(reason, what="sale void")
    before = {"status": sale.status, "total": sale.total, "lines": [_line_snapshot(line) for line in lines]}
    sale.status = SaleStatus.VOIDED
    sale.open_for_cashier = None
    sale.voided_at = timezone.now()
    sale.voided_by = authority
    sale.void_reason = reason
    sale.save(update_fields=["status", "open_for_cashier", "voided_at", "voided_by", "void_reason", "updated_at"])
    audit_record(
        action=AuditAction.SALE_VOID,
        user=user,
        instance=sale,
        reason=reason,
        before=before,
        after={"status": sale.status},
        authorised_by=authority,
        branch=sale.branch_id,
        request=request,
    )
    return sale


# ---------------------------------------------------------------------------- completion
def _lock_sequence(branch) -> SaleSequence:
    """The branch's number counters, locked for this transaction; the row is made on the first sale.

    The lock comes first (SELECT … FOR UPDATE), an INSERT only when the row is missing. The other order
    (INSERT IGNORE, then FOR UPDATE) deadlocked busy tills: the ignored insert takes a shared lock on
    the existing row, and two checkouts holding it each waited for the other to let go before taking
    the exclusive one. A new row holds 0, so making it loses no number; the insert sits in a savepoint
    (a second transaction could not see a branch created in this one), and a till that loses the race
    to make it locks the row the winner made.
    """
    sequence = SaleSequence.objects.select_for_update().filter(branch=branch).first()
    if sequence is not None:
        return sequence
    try:
        with transaction.atomic():
            SaleSequence.objects.create(branch=branch)
    except IntegrityError:
        pass  # another checkout made it first
    return SaleSequence.objects.select_for_update().get(branch=branch)


def _next_sale_number(branch) -> tuple[int, str]:
    """Take the branch's next number under a row lock; a rolled-back sale gives its number back."""
    sequence = _lock_sequence(branch)
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
    loyalty_redeemed: Decimal = ZERO,
    when=None,
) -> Sale:
    """Complete an open sale: number, cost snapshots, stock out, totals, loyalty points. Exactly once.

    Must be called inside the checkout's transaction (`cashdesk.services.sale_checkout`), after the
    payments are recorded, with the sale row already locked by the caller. Raises `SaleError` for an
    empty sale, `StockShortError` when stock is short (nothing is written then). Points are earned
    on what was not paid with points (`loyalty_redeemed`).
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
            f"Payments (KES {money(paid_total)} less change KES {money(change_given)}) "
            f"do not equal the total KES {sale.total}."
        )
    when = when or timezone.now()
    # Lock order of every till write: sale → cash session → customer → branch sequence → stock rows.
    customer = _lock_customer(sale.customer_id)
    # The number first: every checkout at a branch takes the sequence lock before any stock lock, so
    # two checkouts never wait for each other in opposite orders; a rollback gives the number back.
    sale.sequence, sale.number = _next_sale_number(sale.branch)
    for line in lines:  # cost at the time of sale, for margins
        line.cost_price = line.product.cost_price
    SaleLine.objects.bulk_update(lines, ["cost_price"])
    stock_move(
        branch=sale.branch,
        lines=[
            StockLine(product_id=line.product_id, quantity=-line.quantity, unit_cost=line.cost_price) for line in lines
        ],
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
    sale.receipt_prints = 1  # the original receipt the customer is handed now
    if customer is not None:
        sale.loyalty_points_earned = _loyalty_earn(
            customer=customer, sale=sale, eligible=sale.total - money(loyalty_redeemed), user=user, when=when
        )
    sale.save(
        update_fields=[
            "sequence", "number", "status", "open_for_cashier", "idempotency_key", "paid_total", "change_given",
            "completed_at", "receipt_prints", "loyalty_points_earned", "updated_at",
        ]
    )
    return sale


# ---------------------------------------------------------------------------- loyalty
def _lock_customer(customer_id: int | None) -> Customer | None:
    if customer_id is None:
        return None
    return Customer.objects.select_for_update().get(pk=customer_id)


def loyalty_points_for(amount: Decimal) -> Decimal:
    """Points a customer earns on `amount` KES at the owner's rate (rounded down to the hundredth)."""
    rate = shop_settings().loyalty_points_per_100
    if rate <= 0 or amount <= 0:
        return ZERO
    return (amount * rate / Decimal("100")).quantize(CENT, rounding=ROUND_DOWN)


def loyalty_points_needed(amount: Decimal) -> Decimal:
    """Points it takes to pay `amount` KES (rounded up: the shop never gives away a fraction)."""
    value = shop_settings().loyalty_point_value
    if value <= 0:
        raise SaleError("Loyalty points have no value in this shop's settings.", field="method")
    return (money(amount) / value).quantize(CENT, rounding=ROUND_UP)


def loyalty_change(
    *, customer: Customer, points: Decimal, kind: str, user: User | None, sale: Sale | None = None,
    amount: Decimal = ZERO, when=None,
) -> LoyaltyEntry | None:
    """Move a customer's points (the caller holds the customer's row lock) and write the ledger line."""
    points = Decimal(points).quantize(CENT)
    if points == 0:
        return None
    if customer.loyalty_points + points < 0:
        raise SaleError(
            f"{customer.name} has {customer.loyalty_points.normalize():f} points; {-points.normalize():f} are needed.",
            field="amount",
        )
    customer.loyalty_points += points
    customer.save(update_fields=["loyalty_points", "updated_at"])
    return LoyaltyEntry.objects.create(
        customer=customer,
        sale=sale,
        kind=kind,
        points=points,
        amount=money(amount),
        balance_after=customer.loyalty_points,
        user=user if getattr(user, "is_authenticated", False) else None,
        created_at=when or timezone.now(),
    )


def _loyalty_earn(*, customer: Customer, sale: Sale, eligible: Decimal, user: User, when) -> Decimal:
    points = loyalty_points_for(eligible)
    if points > 0 and customer.is_active:
        loyalty_change(customer=customer, points=points, kind=LoyaltyKind.EARNED, user=user, sale=sale, when=when)
        return points
    return ZERO


def _loyalty_take_back(*, customer: Customer | None, sale: Sale, share: Decimal, user: User, when) -> Decimal:
    """Take back the share of the points earned on a sale that was returned or voided.

    Never below zero: points the customer already spent are not clawed back from their next sale.
    """
    if customer is None or sale.loyalty_points_earned <= 0 or share <= 0:
        return ZERO
    taken = -(
        LoyaltyEntry.objects.filter(sale=sale, kind=LoyaltyKind.TAKEN_BACK).aggregate(points=Sum("points"))["points"]
        or ZERO
    )
    points = min(
        (sale.loyalty_points_earned * share).quantize(CENT, rounding=ROUND_UP),
        sale.loyalty_points_earned - taken,
        customer.loyalty_points,
    )
    if points > 0:
        loyalty_change(customer=customer, points=-points, kind=LoyaltyKind.TAKEN_BACK, user=user, sale=sale, when=when)
    return points


# ---------------------------------------------------------------------------- returns and voids of completed sales
@dataclass(frozen=True)
class ReturnItem:
    """One line of a completed sale coming back: how many, and whether it goes back on the shelf."""

    line_id: int
    quantity: Decimal
    restock: bool = True


def _next_credit_note_number(branch) -> tuple[int, str]:
    sequence = _lock_sequence(branch)
    sequence.last_credit_note += 1
    sequence.save(update_fields=["last_credit_note"])
    return sequence.last_credit_note, f"{branch.code}-CN-{sequence.last_credit_note:06d}"


def _lock_completed_sale(sale: Sale) -> Sale:
    locked = Sale.objects.select_for_update().get(pk=sale.pk)
    if locked.status != SaleStatus.COMPLETED:
        raise SaleConflictError(
            f"This sale is {locked.get_status_display().lower()}; only completed sales can be returned or voided."
        )
    return locked


def sale_return_record(
    *,
    sale: Sale,
    items: list[ReturnItem],
    user: User,
    reason: str,
    authorised_by: User | None = None,
    refund_to: str = RefundTo.ORIGINAL,
    request=None,
    when=None,
) -> SaleReturn:
    """The goods side of a return: credit note, returned quantities, restock movements, points back.

    Runs inside `cashdesk.refund_services.sale_return_refund`, which pays the money back in the same
    transaction. Refuses more than was sold net of earlier returns (also a database CHECK).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("sale_return_record must run inside the refund transaction")
    sale = _lock_completed_sale(sale)
    authority = authority_for(user=user, authorised_by=authorised_by, perm=Perm.REFUND, what="A return")
    reason = _clean_reason(reason, what="return")
    if refund_to not in RefundTo.values:
        raise SaleError("Choose how the money goes back.", field="refund_to")
    wanted: dict[int, ReturnItem] = {}
    for item in items:
        quantity = _as_decimal(item.quantity, field="quantity", label="Quantity")
        if quantity < 0:
            raise SaleError("A quantity to return cannot be negative.", field="quantity")
        if quantity == 0:
            continue
        if item.line_id in wanted:
            raise SaleError("Each line may appear once in a return.", field="quantity")
        wanted[item.line_id] = ReturnItem(item.line_id, quantity, bool(item.restock))
    if not wanted:
        raise SaleError("Choose at least one item and how many come back.", field="quantity")
    lines = {
        line.pk: line
        # the sale's row lock (taken above) guards its lines: every change of a line locks the sale first
        for line in SaleLine.objects.select_related("product__unit").filter(sale=sale, pk__in=list(wanted))
    }
    if set(lines) != set(wanted):
        raise SaleError("That line is not on this sale.", field="quantity")
    when = when or timezone.now()
    customer = _lock_customer(sale.customer_id)
    return_lines = []
    restock = []
    total = tax_total = ZERO
    for line_id, item in wanted.items():
        line = lines[line_id]
        returnable = line.quantity - line.returned_quantity
        if item.quantity > returnable:
            raise SaleError(
                f"{line.product_name}: {returnable.normalize():f} can still be returned "
                f"({line.quantity.normalize():f} sold, {line.returned_quantity.normalize():f} already returned).",
                field="quantity",
            )
        unit = line.product.unit
        problem = quantity_problem(quantity=item.quantity, decimal_places=unit.decimal_places, unit_name=unit.name)
        if problem:
            raise SaleError(problem, field="quantity")
        if item.quantity == returnable:  # the last units take what is left, so the cents add up exactly
            done = line.return_lines.aggregate(amount=Sum("amount"), tax=Sum("tax_amount"))
            amount = line.line_total - (done["amount"] or ZERO)
            tax = line.tax_amount - (done["tax"] or ZERO)
        else:
            amount = money(line.line_total * item.quantity / line.quantity)
            tax = money(line.tax_amount * item.quantity / line.quantity)
        line.returned_quantity += item.quantity
        return_lines.append(
            SaleReturnLine(sale_line=line, quantity=item.quantity, amount=amount, tax_amount=tax, restock=item.restock)
        )
        if item.restock:
            restock.append(StockLine(product_id=line.product_id, quantity=item.quantity, unit_cost=line.cost_price))
        total += amount
        tax_total += tax
    sequence, number = _next_credit_note_number(sale.branch)
    sale_return = SaleReturn.objects.create(
        sale=sale,
        branch=sale.branch,
        number=number,
        sequence=sequence,
        processed_by=user,
        authorised_by=authority if authority.pk != user.pk else None,
        reason=reason,
        refund_to=refund_to,
        total=total,
        tax_total=tax_total,
    )
    for return_line in return_lines:
        return_line.sale_return = sale_return
    SaleReturnLine.objects.bulk_create(return_lines)
    SaleLine.objects.bulk_update(list(lines.values()), ["returned_quantity"])
    if restock:
        stock_move(branch=sale.branch, lines=restock, kind=MovementKind.SALE_RETURN, user=user, reason=reason,
                   reference=sale_return, allow_negative=True, when=when)
    if sale.total > 0:
        _loyalty_take_back(customer=customer, sale=sale, share=total / sale.total, user=user, when=when)
    audit_record(
        action=AuditAction.REFUND,
        user=user,
        instance=sale_return,
        reason=reason,
        before={"sale": sale.pk, "number": sale.number},
        after={
            "credit_note": number,
            "total": total,
            "refund_to": refund_to,
            "lines": [
                {"line": rl.sale_line_id, "product_name": rl.sale_line.product_name, "quantity": rl.quantity,
                 "amount": rl.amount, "restock": rl.restock}
                for rl in return_lines
            ],
        },
        authorised_by=authority,
        branch=sale.branch_id,
        request=request,
    )
    return sale_return


def sale_void_record(
    *, sale: Sale, user: User, reason: str, authorised_by: User | None = None, request=None, when=None
) -> Sale:
    """The goods side of voiding a completed sale: every unit back on the shelf (VOID movements),
    earned points taken back, status VOIDED, audited. The money goes back in
    `cashdesk.refund_services.sale_void_completed`, which calls this in the same transaction.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("sale_void_record must run inside the refund transaction")
    sale = _lock_completed_sale(sale)
    authority = authority_for(
        user=user, authorised_by=authorised_by, perm=Perm.AUTHORISE_OVERRIDES, what="Voiding a completed sale"
    )
    reason = _clean_reason(reason, what="sale void")
    if sale.returns.exists():
        raise SaleConflictError("Part of this sale was already returned: return the rest instead of voiding it.")
    when = when or timezone.now()
    customer = _lock_customer(sale.customer_id)
    lines = list(sale.lines.order_by("product_id", "pk"))
    stock_move(
        branch=sale.branch,
        lines=[
            StockLine(product_id=line.product_id, quantity=line.quantity, unit_cost=line.cost_price) for line in lines
        ],
        kind=MovementKind.VOID,
        user=user,
        reason=reason,
        reference=sale,
        allow_negative=True,
        when=when,
    )
    _loyalty_take_back(customer=customer, sale=sale, share=Decimal("1"), user=user, when=when)
    before = {"status": sale.status, "number": sale.number, "total": sale.total}
    sale.status = SaleStatus.VOIDED
    sale.voided_at = when
    sale.voided_by = authority
    sale.void_reason = reason
    sale.save(update_fields=["status", "voided_at", "voided_by", "void_reason", "updated_at"])
    audit_record(
        action=AuditAction.SALE_VOID,
        user=user,
        instance=sale,
        reason=reason,
        before=before,
        after={"status": sale.status, "lines": [_line_snapshot(line) for line in lines]},
        authorised_by=authority,
        branch=sale.branch_id,
        request=request,
    )
    return sale


@retry_on_deadlock
@transaction.atomic
def sale_receipt_reprint(
    *, sale: Sale, user: User, reason: str = "", authorised_by: User | None = None, request=None
) -> Sale:
    """A copy of a receipt: needs a manager (a reprint can dress up a fake return), counted, audited."""
    sale = Sale.objects.select_for_update().get(pk=sale.pk)
    if sale.status not in (SaleStatus.COMPLETED, SaleStatus.VOIDED):
        raise SaleConflictError("Only a completed sale has a receipt.")
    authority = authority_for(
        user=user, authorised_by=authorised_by, perm=Perm.AUTHORISE_OVERRIDES, what="A receipt reprint"
    )
    sale.receipt_prints = F("receipt_prints") + 1
    sale.save(update_fields=["receipt_prints", "updated_at"])
    sale.refresh_from_db(fields=["receipt_prints"])
    audit_record(
        action=AuditAction.REPRINT,
        user=user,
        instance=sale,
        reason=(reason or "").strip()[:255],
        after={"receipt_prints": sale.receipt_prints},
        authorised_by=authority,
        branch=sale.branch_id,
        request=request,
    )
    return sale
