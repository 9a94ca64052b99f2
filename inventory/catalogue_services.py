"""Writes for the catalogue: products, categories, units and suppliers."""


from decimal import Decimal

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from core.money import CENT
from core.phone import normalize_phone
from core.roles import Perm
from inventory.alert_services import stock_alerts_refresh
from inventory.barcodes import barcode_problem
from inventory.errors import StockError, require_branch, require_permission
from inventory.ledger_services import StockLine, quantity_problem, stock_move
from inventory.models import (
    TAX_RATES_CACHE_KEY,
    Category,
    MovementKind,
    Product,
    StockCountLine,
    StockLevel,
    StockMovement,
    Supplier,
    TaxClass,
    TaxRate,
    Unit,
    current_tax_rates,
)
from pos.people.audit import AuditAction, audit_record

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


def product_snapshot(product: Product) -> dict:
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


def check_opening_stock(product: Product, opening_stock) -> None:
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
    require_permission(actor, Perm.MANAGE_CATALOGUE, "You may not change the catalogue.")
    unknown = set(data) - set(PRODUCT_FIELDS)
    if unknown:
        raise StockError(f"Unknown product field(s): {', '.join(sorted(unknown))}.")
    product = Product(**data)
    normalise_product(product)
    errors = product_problems(product)
    if errors:
        raise ValidationError(errors)
    check_opening_stock(product, opening_stock)
    branch = branch or getattr(actor, "branch", None)
    if opening_stock:
        require_branch(actor, branch.pk, field="opening_stock")
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError:
        raise ValidationError(
            {"sku": "Another product was saved with this SKU or barcode a moment ago; check again."}
        ) from None
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
        after={**product_snapshot(product), "opening_stock": str(opening_stock or 0)},
        request=request,
    )
    return product


@transaction.atomic
def product_update(*, actor, product: Product, data: dict, request=None) -> Product:
    """Change a product's catalogue fields (audited, price changes included)."""
    require_permission(actor, Perm.MANAGE_CATALOGUE, "You may not change the catalogue.")
    unknown = set(data) - set(PRODUCT_FIELDS)
    if unknown:
        raise StockError(f"Unknown product field(s): {', '.join(sorted(unknown))}.")
    product = Product.objects.select_for_update().get(pk=product.pk)
    before = product_snapshot(product)
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
    after = product_snapshot(product)
    changed = [field for field in PRODUCT_FIELDS if before[field] != after[field]]
    if not changed:
        return product
    try:
        with transaction.atomic():
            product.save(update_fields=[*changed, "updated_at"])
    except IntegrityError:
        raise ValidationError(
            {"sku": "Another product was saved with this SKU or barcode a moment ago; check again."}
        ) from None
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
    require_permission(actor, Perm.MANAGE_CATALOGUE, "You may not change the catalogue.")
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
    require_permission(actor, Perm.MANAGE_CATALOGUE, "You may not change the catalogue.")
    product = Product.objects.select_for_update().get(pk=product.pk)
    if product_has_history(product) or StockLevel.objects.filter(product=product).exclude(quantity=0).exists():
        raise StockError(f"{product.name} has history (stock, sales or purchases); deactivate it instead.")
    snapshot_data = product_snapshot(product)
    pk = product.pk
    StockLevel.objects.filter(product=product).delete()
    try:
        product.delete()
    except models.ProtectedError:
        raise StockError(f"{product.name} has history; deactivate it instead.") from None
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
    require_permission(actor, Perm.MANAGE_CATALOGUE, "You may not change the catalogue.")
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
    require_permission(actor, Perm.MANAGE_CATALOGUE, "You may not change the catalogue.")
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
    require_permission(actor, Perm.MANAGE_SUPPLIERS, "You may not manage suppliers.")
    supplier = supplier or Supplier()
    for field, value in data.items():
        setattr(supplier, field, value.strip() if isinstance(value, str) else value)
    if supplier.phone_number:
        try:
            supplier.phone_number = normalize_phone(supplier.phone_number)
        except ValidationError as exc:
            raise ValidationError({"phone_number": exc.messages}) from None
    supplier.kra_pin = (supplier.kra_pin or "").upper()
    _check_unique_name(Supplier, supplier.name, supplier.pk)
    supplier.full_clean(validate_unique=False)
    supplier.save()
    return supplier


# ---------------------------------------------------------------------------- tax rates
@transaction.atomic
def tax_rates_update(*, rates: dict[str, Decimal], source: str) -> list[str]:
    """Set the bands' rates the till prices with from now on (KRA's code list). Returns the bands that
    changed. Completed sales keep their lines' rates; carts re-price their lines at the next change."""
    changed = []
    for tax_class, rate in sorted(rates.items()):
        if tax_class not in TaxClass.values:
            continue  # a band KRA added that the catalogue does not have: nothing is priced with it
        if not isinstance(rate, Decimal) or rate < 0 or rate >= 100:
            raise StockError(f"Tax rate {rate!r} for band {tax_class} is not a percentage.")
        current = current_tax_rates().get(tax_class)
        row, created = TaxRate.objects.get_or_create(tax_class=tax_class, defaults={"rate": rate, "source": source})
        if not created and row.rate != rate:
            row.rate, row.source = rate, source
            row.save(update_fields=["rate", "source", "updated_at"])
        if current != rate:
            changed.append(tax_class)
    transaction.on_commit(lambda: cache.delete(TAX_RATES_CACHE_KEY))
    cache.delete(TAX_RATES_CACHE_KEY)
    return changed
