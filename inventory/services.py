"""Writes for the catalogue and the stock ledger.

`stock_move` is the only code that changes stock: every change is one `StockMovement` per product, and
`StockLevel.quantity` moves with it under a row lock, so stored stock always equals the ledger.
"""

from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from pos.audit import AuditAction, audit_record
from pos.base import CENT, ConflictError, DomainError
from pos.phone import normalize_phone
from pos.roles import Perm
from pos.selectors import shop_settings

from inventory.barcodes import barcode_problem
from inventory.models import (
    AlertKind,
    Category,
    MovementKind,
    Product,
    StockAlert,
    StockLevel,
    StockMovement,
    Supplier,
    TaxClass,
    Unit,
)


class StockError(DomainError):
    """A stock rule refused the change (bad quantity, unknown product…)."""


class StockConflictError(ConflictError, StockError):
    """The request is valid but the document is not in a state that allows it (already approved…)."""


class StockShortError(ConflictError, StockError):
    """Not enough stock on hand and the shop does not allow negative stock."""

    def __init__(self, shortages: list["Shortage"]):
        self.shortages = shortages
        parts = [
            f"{s.product_name}: {s.on_hand.normalize():f} in stock, {s.requested.normalize():f} needed"
            for s in shortages
        ]
        super().__init__("Not enough stock — " + "; ".join(parts) + ".", code="stock_short")


@dataclass(frozen=True)
class Shortage:
    product_id: int
    product_name: str
    on_hand: Decimal
    requested: Decimal


@dataclass(frozen=True)
class StockLine:
    """One product's change in a `stock_move` call. `quantity` is signed (negative = out)."""

    product_id: int
    quantity: Decimal
    unit_cost: Decimal | None = None


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
    _alerts_after_movement(branch_id=branch.pk, products=products, levels=levels, changes=changes, when=when)


# ---------------------------------------------------------------------------- low / out of stock alerts
def alert_kind_for(*, quantity: Decimal, reorder_level: Decimal) -> str | None:
    """OUT at or under zero, LOW at or under the reorder level, None above it."""
    if quantity <= 0:
        return AlertKind.OUT
    if quantity <= reorder_level:
        return AlertKind.LOW
    return None


def _alerts_after_movement(*, branch_id: int, products, levels, changes, when) -> None:
    states = {
        p.pk: alert_kind_for(quantity=levels[p.pk].quantity, reorder_level=p.reorder_level) if p.is_active else None
        for p in products
    }
    # An open alert always means stock at or under the level, so a movement that only takes stock
    # down and leaves every product above its level has nothing to open, change or resolve.
    if all(kind is None for kind in states.values()) and all(changes[pid] < 0 for pid in states):
        return
    fresh = {
        row[0]: row[1:]
        for row in Product.objects.filter(pk__in=list(states)).values_list("pk", "reorder_level", "is_active")
    }
    open_alerts = {
        alert.product_id: alert
        for alert in StockAlert.objects.filter(branch_id=branch_id, product_id__in=list(states), open_marker=True)
    }
    _apply_alert_states(
        branch_id=branch_id,
        quantities={pid: levels[pid].quantity for pid in states},
        settings_by_product=fresh,
        open_alerts=open_alerts,
        when=when,
    )


def _apply_alert_states(*, branch_id, quantities, settings_by_product, open_alerts, when) -> None:
    """Open, escalate, de-escalate or resolve each product's alert; notify after commit."""
    to_notify = []
    for pid, quantity in quantities.items():
        reorder_level, is_active = settings_by_product[pid]
        kind = alert_kind_for(quantity=quantity, reorder_level=reorder_level) if is_active else None
        alert = open_alerts.get(pid)
        if kind is None:
            if alert is not None:
                alert.resolved_at = when
                alert.resolved_balance = quantity
                alert.open_marker = None
                alert.save(update_fields=["resolved_at", "resolved_balance", "open_marker"])
        elif alert is None:
            alert = StockAlert.objects.create(
                product_id=pid,
                branch_id=branch_id,
                kind=kind,
                balance=quantity,
                reorder_level=reorder_level,
                opened_at=when,
            )
            to_notify.append(alert.pk)
        elif alert.kind != kind:
            alert.kind = kind
            alert.balance = quantity
            alert.save(update_fields=["kind", "balance"])
            if kind == AlertKind.OUT:  # a low alert that ran out: tell people again
                to_notify.append(alert.pk)
    if to_notify:
        transaction.on_commit(lambda ids=tuple(to_notify): _enqueue_alert_notifications(ids))


def _enqueue_alert_notifications(alert_ids) -> None:
    from inventory.tasks import notify_stock_alert

    from config.queue import enqueue

    for alert_id in alert_ids:  # queue down: the alert stays open in the app, only its notice is dropped
        enqueue(notify_stock_alert, alert_id, fallback="skip")


def stock_alerts_refresh(*, product_id: int) -> None:
    """Re-check a product's alerts at every branch after its reorder level or active flag changed.

    Locks the product's stock rows (primary-key order, like `stock_move`) so no movement changes the
    alerts meanwhile.
    """
    with transaction.atomic():
        levels = list(StockLevel.objects.select_for_update().filter(product_id=product_id).order_by("pk"))
        if not levels:
            return
        settings_by_product = {
            row[0]: row[1:]
            for row in Product.objects.filter(pk=product_id).values_list("pk", "reorder_level", "is_active")
        }
        open_alerts = {
            alert.branch_id: alert for alert in StockAlert.objects.filter(product_id=product_id, open_marker=True)
        }
        now = timezone.now()
        for level in levels:
            alert = open_alerts.get(level.branch_id)
            _apply_alert_states(
                branch_id=level.branch_id,
                quantities={product_id: level.quantity},
                settings_by_product=settings_by_product,
                open_alerts={product_id: alert} if alert else {},
                when=now,
            )


def stock_alert_mark_notified(*, alert_id: int) -> StockAlert | None:
    """Record that people were told about this alert's current kind. Returns the alert when this call
    is the one that notified (so a task run twice tells people once), None otherwise."""
    alert = StockAlert.objects.filter(pk=alert_id).first()
    if alert is None or not alert.is_open:
        return None
    updated = (
        StockAlert.objects.filter(pk=alert_id, open_marker=True, kind=alert.kind)
        .exclude(notified_kind=alert.kind)
        .update(notified_kind=alert.kind, notified_at=timezone.now())
    )
    if not updated:
        return None
    alert.refresh_from_db()
    return alert


# ---------------------------------------------------------------------------- who may do what
def may_use_branch(user, branch_id: int) -> bool:
    """Staff work at their own branch; owners (ALL_BRANCHES) at any."""
    return user.has_perm(Perm.ALL_BRANCHES) or user.branch_id == branch_id


def _require(user, perm: str, message: str) -> None:
    if user is None or not user.has_perm(perm):
        raise StockError(message, code="forbidden")


def _require_branch(user, branch_id: int, field: str | None = "branch") -> None:
    if not may_use_branch(user, branch_id):
        raise StockError("That branch is not yours to manage.", field=field, code="forbidden")


# ---------------------------------------------------------------------------- catalogue
PRODUCT_FIELDS = (
    "name",
    "sku",
    "barcode",
    "category",
    "unit",
    "selling_price",
    "cost_price",
    "tax_class",
    "kra_item_code",
    "reorder_level",
    "reorder_quantity",
    "default_supplier",
    "is_favourite",
    "track_stock",
    "image",
)
_FK_FIELDS = ("category", "unit", "default_supplier")


def _db_sku_owner(sku: str, exclude_pk) -> str | None:
    return Product.objects.filter(sku__iexact=sku).exclude(pk=exclude_pk).values_list("name", flat=True).first()


def _db_barcode_owner(barcode: str, exclude_pk) -> str | None:
    return Product.objects.filter(barcode=barcode).exclude(pk=exclude_pk).values_list("name", flat=True).first()


def normalise_product(product: Product) -> None:
    """Tidy what people type: spaces around names and codes, an empty barcode is no barcode."""
    product.name = " ".join((product.name or "").split())
    product.sku = (product.sku or "").strip().upper()  # one spelling, found by an exact (indexed) lookup
    barcode = "".join((product.barcode or "").split())
    product.barcode = barcode or None
    product.kra_item_code = (product.kra_item_code or "").strip()
    for field in ("selling_price", "cost_price"):
        value = getattr(product, field)
        if isinstance(value, Decimal):
            setattr(product, field, value.quantize(CENT) if value == value.quantize(CENT) else value)


def _related(product: Product, name: str):
    """The related object if set, saved or not (the CSV import checks rows with new categories)."""
    cached = product._state.fields_cache.get(name)
    if cached is not None:
        return cached
    return getattr(product, name) if getattr(product, f"{name}_id") else None


def product_problems(product: Product, *, sku_owner=_db_sku_owner, barcode_owner=_db_barcode_owner) -> dict:
    """Every reason this product cannot be saved, by field ({} when it can).

    `sku_owner` / `barcode_owner` answer "which other product uses this code?"; the CSV import passes
    in-memory versions so checking 20,000 rows costs no query per row.
    """
    errors: dict[str, list[str]] = {}

    def add(field, message):
        errors.setdefault(field, []).append(message)

    if not product.name:
        add("name", "A product needs a name.")
    if not product.sku:
        add("sku", "A product needs a SKU (your own code for it).")
    elif (owner := sku_owner(product.sku, product.pk)) is not None:
        add("sku", f"The SKU {product.sku} is already used by {owner}.")
    if product.barcode:
        problem = barcode_problem(product.barcode)
        if problem:
            add("barcode", problem)
        elif (owner := barcode_owner(product.barcode, product.pk)) is not None:
            add("barcode", f"Another product already has this barcode: {owner}.")
    for field, label in (("selling_price", "selling price"), ("cost_price", "cost price")):
        value = getattr(product, field)
        if value is None:
            add(field, f"Give a {label}.")
        elif not isinstance(value, Decimal):
            add(field, f"The {label} must be an amount in KES.")
        elif value < 0:
            add(field, f"The {label} cannot be negative.")
        elif value != value.quantize(CENT):
            add(field, f"The {label} has at most 2 decimal places (cents).")
    unit = _related(product, "unit")
    if unit is None:
        add("unit", "Choose a unit.")
    elif not unit.is_active and "unit_id" in getattr(product, "_changed_fks", ("unit_id",)):
        add("unit", f"The unit {unit.name} is no longer in use.")
    category = _related(product, "category")
    if category is None:
        add("category", "Choose a category.")
    elif not category.is_active and "category_id" in getattr(product, "_changed_fks", ("category_id",)):
        add("category", f"The category {category.name} is no longer in use.")
    for field, label in (("reorder_level", "reorder level"), ("reorder_quantity", "reorder quantity")):
        value = getattr(product, field)
        if value is None:
            setattr(product, field, Decimal("0"))
        elif not isinstance(value, Decimal):
            add(field, f"The {label} must be a number.")
        elif value < 0:
            add(field, f"The {label} cannot be negative.")
        elif unit is not None and (
            problem := quantity_problem(quantity=value, decimal_places=unit.decimal_places, unit_name=unit.name)
        ):
            add(field, problem)
    if product.tax_class not in TaxClass.values:
        add("tax_class", "Choose one of KRA's tax types A–E.")
    exclude = set(errors) | set(_FK_FIELDS) | {"image"}
    try:
        product.full_clean(exclude=sorted(exclude), validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            for message in messages:
                add(field, message)
    return errors


def _product_snapshot(product: Product) -> dict:
    data = {}
    for field in PRODUCT_FIELDS:
        if field == "image":
            data[field] = product.image.name if product.image else ""
        elif field in _FK_FIELDS:
            data[field] = getattr(product, f"{field}_id")
        else:
            value = getattr(product, field)
            if isinstance(value, Decimal) and value.is_finite():
                # one spelling per amount, so 5 and 5.000 are the same reorder level
                value = f"{value:.2f}" if field in ("selling_price", "cost_price") else f"{value:.3f}"
            data[field] = value
    data["is_active"] = product.is_active
    return data


def _check_opening_stock(product: Product, opening_stock) -> None:
    if opening_stock in (None, ""):
        return
    if not isinstance(opening_stock, Decimal):
        raise ValidationError({"opening_stock": "The opening stock must be a number."})
    if opening_stock < 0:
        raise ValidationError({"opening_stock": "Opening stock cannot be negative."})
    problem = quantity_problem(
        quantity=opening_stock, decimal_places=product.unit.decimal_places, unit_name=product.unit.name
    )
    if problem:
        raise ValidationError({"opening_stock": problem})
    if opening_stock and not product.track_stock:
        raise ValidationError({"opening_stock": "This product does not track stock; leave the opening stock empty."})


@transaction.atomic
def product_create(*, actor, data: dict, opening_stock: Decimal | None = None, branch=None, request=None) -> Product:
    """Add a product to the catalogue; opening stock, if any, goes through the ledger (OPENING)."""
    _require(actor, Perm.MANAGE_CATALOGUE, "You may not change the catalogue.")
    unknown = set(data) - set(PRODUCT_FIELDS)
    if unknown:
        raise StockError(f"Unknown product field(s): {', '.join(sorted(unknown))}.")
    product = Product(**data)
    normalise_product(product)
    errors = product_problems(product)
    if errors:
        raise ValidationError(errors)
    _check_opening_stock(product, opening_stock)
    branch = branch or getattr(actor, "branch", None)
    if opening_stock:
        _require_branch(actor, branch.pk, field="opening_stock")
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError:
        raise ValidationError({"sku": "Another product was saved with this SKU or barcode a moment ago; check again."})
    if opening_stock:
        stock_move(
            branch=branch,
            lines=[StockLine(product.pk, opening_stock)],
            kind=MovementKind.OPENING,
            user=actor,
            reason="Opening stock",
            reference=product,
        )
    audit_record(
        action=AuditAction.PRODUCT_CREATED,
        user=actor,
        instance=product,
        after={**_product_snapshot(product), "opening_stock": str(opening_stock or 0)},
        request=request,
    )
    return product


@transaction.atomic
def product_update(*, actor, product: Product, data: dict, request=None) -> Product:
    """Change a product's catalogue fields (audited, price changes included)."""
    _require(actor, Perm.MANAGE_CATALOGUE, "You may not change the catalogue.")
    unknown = set(data) - set(PRODUCT_FIELDS)
    if unknown:
        raise StockError(f"Unknown product field(s): {', '.join(sorted(unknown))}.")
    product = Product.objects.select_for_update().get(pk=product.pk)
    before = _product_snapshot(product)
    old_unit_id, old_category_id = product.unit_id, product.category_id
    for field, value in data.items():
        setattr(product, field, value)
    normalise_product(product)
    product._changed_fks = tuple(
        name
        for name, old in (("unit_id", old_unit_id), ("category_id", old_category_id))
        if getattr(product, name) != old
    )
    errors = product_problems(product)
    if product.unit_id and product.unit_id != old_unit_id:
        for level in StockLevel.objects.filter(product=product).select_related("branch"):
            problem = quantity_problem(
                quantity=level.quantity, decimal_places=product.unit.decimal_places, unit_name=product.unit.name
            )
            if problem:
                errors.setdefault("unit", []).append(
                    f"{level.branch.name} holds {level.quantity.normalize():f}: {problem} Adjust the stock first."
                )
    if errors:
        raise ValidationError(errors)
    after = _product_snapshot(product)
    changed = [field for field in PRODUCT_FIELDS if before[field] != after[field]]
    if not changed:
        return product
    try:
        with transaction.atomic():
            product.save(update_fields=[*changed, "updated_at"])
    except IntegrityError:
        raise ValidationError({"sku": "Another product was saved with this SKU or barcode a moment ago; check again."})
    if "reorder_level" in changed:
        stock_alerts_refresh(product_id=product.pk)
    audit_record(
        action=AuditAction.PRODUCT_UPDATED,
        user=actor,
        instance=product,
        before={field: before[field] for field in changed},
        after={field: after[field] for field in changed},
        request=request,
    )
    return product


@transaction.atomic
def product_set_active(*, actor, product: Product, active: bool, reason: str = "", request=None) -> Product:
    """Deactivate (no longer sold, history kept, open alerts resolved) or bring a product back."""
    _require(actor, Perm.MANAGE_CATALOGUE, "You may not change the catalogue.")
    product = Product.objects.select_for_update().get(pk=product.pk)
    if product.is_active == active:
        return product
    product.is_active = active
    product.save(update_fields=["is_active", "updated_at"])
    stock_alerts_refresh(product_id=product.pk)
    audit_record(
        action=AuditAction.PRODUCT_REACTIVATED if active else AuditAction.PRODUCT_DEACTIVATED,
        user=actor,
        instance=product,
        reason=reason,
        before={"is_active": not active},
        after={"is_active": active},
        request=request,
    )
    return product


def product_has_history(product: Product) -> bool:
    """Anything that points at the product: stock movements, sales, purchases, transfers, counts…"""
    from inventory.models import StockCountLine

    if StockMovement.objects.filter(product=product).exists():
        return True
    if StockCountLine.objects.filter(product=product).exists():
        return True
    for relation in product._meta.related_objects:
        if relation.related_model is StockLevel or not relation.one_to_many:
            continue
        if relation.related_model._default_manager.filter(**{relation.field.name: product}).exists():
            return True
    return False


@transaction.atomic
def product_delete(*, actor, product: Product, request=None) -> None:
    """Delete a product added by mistake. A product with any history is never deleted: deactivate it."""
    _require(actor, Perm.MANAGE_CATALOGUE, "You may not change the catalogue.")
    product = Product.objects.select_for_update().get(pk=product.pk)
    if product_has_history(product) or StockLevel.objects.filter(product=product).exclude(quantity=0).exists():
        raise StockError(f"{product.name} has history (stock, sales or purchases); deactivate it instead.")
    snapshot_data = _product_snapshot(product)
    pk = product.pk
    StockLevel.objects.filter(product=product).delete()
    try:
        product.delete()
    except models.ProtectedError:
        raise StockError(f"{product.name} has history; deactivate it instead.")
    audit_record(
        action=AuditAction.PRODUCT_DELETED,
        user=actor,
        model_name="inventory.Product",
        object_id=pk,
        before=snapshot_data,
        request=request,
    )


def _check_unique_name(model, name: str, exclude_pk, field: str = "name", label: str = "name") -> None:
    if model.objects.filter(**{f"{field}__iexact": name}).exclude(pk=exclude_pk).exists():
        raise ValidationError({field: f"There is already one with this {label}."})


@transaction.atomic
def category_save(*, actor, data: dict, category: Category | None = None) -> Category:
    _require(actor, Perm.MANAGE_CATALOGUE, "You may not change the catalogue.")
    category = category or Category()
    for field, value in data.items():
        setattr(category, field, value.strip() if isinstance(value, str) else value)
    _check_unique_name(Category, category.name, category.pk)
    category.full_clean(validate_unique=False)
    category.save()
    return category


@transaction.atomic
def unit_save(*, actor, data: dict, unit: Unit | None = None) -> Unit:
    """Add or change a unit. Fewer decimal places are refused while stock or a reorder setting of
    one of its products has more (0.5 kg cannot become whole pieces)."""
    _require(actor, Perm.MANAGE_CATALOGUE, "You may not change the catalogue.")
    unit = unit or Unit()
    old_places = unit.decimal_places if unit.pk else None
    for field, value in data.items():
        setattr(unit, field, value.strip() if isinstance(value, str) else value)
    _check_unique_name(Unit, unit.name, unit.pk)
    _check_unique_name(Unit, unit.code, unit.pk, field="code", label="code")
    unit.full_clean(validate_unique=False)
    if old_places is not None and unit.decimal_places < old_places:
        step = Decimal(1).scaleb(-unit.decimal_places)
        quantities = StockLevel.objects.filter(product__unit=unit).values_list("quantity", flat=True)
        settings_values = Product.objects.filter(unit=unit).values_list("reorder_level", "reorder_quantity")
        values = list(quantities) + [v for pair in settings_values for v in pair]
        if any(value != value.quantize(step) for value in values):
            raise ValidationError(
                {"decimal_places": "Some stock or reorder settings of this unit's products use more decimal places."}
            )
    unit.save()
    return unit


@transaction.atomic
def supplier_save(*, actor, data: dict, supplier: Supplier | None = None) -> Supplier:
    _require(actor, Perm.MANAGE_SUPPLIERS, "You may not manage suppliers.")
    supplier = supplier or Supplier()
    for field, value in data.items():
        setattr(supplier, field, value.strip() if isinstance(value, str) else value)
    if supplier.phone_number:
        try:
            supplier.phone_number = normalize_phone(supplier.phone_number)
        except ValidationError as exc:
            raise ValidationError({"phone_number": exc.messages})
    supplier.kra_pin = (supplier.kra_pin or "").upper()
    _check_unique_name(Supplier, supplier.name, supplier.pk)
    supplier.full_clean(validate_unique=False)
    supplier.save()
    return supplier
