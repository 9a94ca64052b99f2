"""Products in and out as CSV: a checked preview of every row before anything is written, an atomic
apply (inline for small files, a Huey task with a progress bar for long ones) and a streamed export.

The same columns go both ways, so an exported file can be edited in a spreadsheet and imported back.
"""

import csv
import io
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation

import structlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from huey.contrib import djhuey

from core.roles import Perm
from inventory.alert_services import stock_alerts_refresh
from inventory.catalogue_services import (
    PRODUCT_FIELDS,
    check_opening_stock,
    normalise_product,
    product_problems,
    product_snapshot,
)
from inventory.errors import StockError, require_branch, require_permission
from inventory.ledger_services import StockLine, stock_move
from inventory.models import Category, ImportStatus, MovementKind, Product, ProductImport, Supplier, TaxClass, Unit
from inventory.selectors import products_with_stock
from inventory.tasks import apply_product_import
from pos.people.audit import AuditAction, audit_record

logger = structlog.get_logger(__name__)

COLUMNS = [
    "sku",
    "name",
    "barcode",
    "category",
    "unit",
    "selling_price",
    "cost_price",
    "tax_class",
    "reorder_level",
    "reorder_quantity",
    "kra_item_code",
    "default_supplier",
    "track_stock",
    "is_favourite",
    "is_active",
    "opening_stock",
]
EXPORT_COLUMNS = [c for c in COLUMNS if c != "opening_stock"] + ["on_hand"]
READ_ONLY_COLUMNS = {"on_hand"}  # exported for information, ignored when imported
ALIASES = {
    "price": "selling_price",
    "selling price": "selling_price",
    "cost": "cost_price",
    "cost price": "cost_price",
    "supplier": "default_supplier",
    "tax": "tax_class",
    "tax class": "tax_class",
    "ean": "barcode",
    "reorder level": "reorder_level",
    "reorder quantity": "reorder_quantity",
    "opening stock": "opening_stock",
    "active": "is_active",
    "favourite": "is_favourite",
}
CREATE_NEEDS = ("name", "category", "unit", "selling_price")
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
TRUE = {"1", "yes", "y", "true", "t", "ndiyo"}
FALSE = {"0", "no", "n", "false", "f", "hapana"}
FORMULA_START = ("=", "+", "-", "@")


class ImportFileError(StockError):
    """The file as a whole cannot be read: nothing is stored or changed."""


def inline_max_rows() -> int:
    """Files up to this many rows are applied in the request; longer ones by a Huey task."""
    return getattr(settings, "INVENTORY_IMPORT_INLINE_MAX_ROWS", 200)


# ---------------------------------------------------------------------------- reading the file
def decode_csv(raw: bytes) -> str:
    if not raw or not raw.strip():
        raise ImportFileError("The file is empty.")
    if len(raw) > MAX_BYTES:
        raise ImportFileError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it.")
    if b"\x00" in raw[:4096] or raw[:2] == b"PK":
        raise ImportFileError("This is not a CSV file (an Excel .xlsx?). In Excel use Save as → CSV UTF-8.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's plain "CSV" on Windows; every byte decodes, the header check below catches garbage.
        return raw.decode("cp1252", errors="strict") if _decodes_cp1252(raw) else _bad_encoding()


def _decodes_cp1252(raw: bytes) -> bool:
    try:
        raw.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


def _bad_encoding():
    raise ImportFileError("The file's characters cannot be read. Save it as CSV UTF-8 and upload it again.")


def _header_name(value: str) -> str:
    name = " ".join((value or "").strip().lower().replace("_", " ").split())
    name = ALIASES.get(name, name)
    return name.replace(" ", "_")


def parse_csv(text: str) -> tuple[list[str], list[tuple[int, dict]]]:
    """The recognised columns, and (line number, {column: cell}) per data row."""
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise ImportFileError("The file has no header row.") from None
    names = [_header_name(h) for h in header]
    if "sku" not in names:
        raise ImportFileError(
            "The first row must name the columns, with at least “sku” (see the template). Found: "
            + ", ".join(h for h in header if h)[:200]
        )
    duplicates = sorted({n for n in names if n and names.count(n) > 1})
    if duplicates:
        raise ImportFileError(f"Columns named twice: {', '.join(duplicates)}.")
    rows = []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(rows) >= MAX_ROWS:
                raise ImportFileError(f"More than {MAX_ROWS} rows; split the file.")
            cells = {name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(names) if name in COLUMNS}
            rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise ImportFileError(f"Line {reader.line_num} cannot be read as CSV: {exc}.") from exc
    if not rows:
        raise ImportFileError("The file has a header but no products.")
    return [n for n in names if n in COLUMNS], rows


# ---------------------------------------------------------------------------- checking rows
@dataclass
class RowResult:
    line: int
    sku: str
    name: str
    action: str  # create / update / unchanged / reject
    errors: list[str] = field(default_factory=list)
    changes: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class Plan:
    results: list[RowResult]
    creates: list[tuple[Product, Decimal | None]] = field(default_factory=list)
    updates: list[tuple[Product, list[str]]] = field(default_factory=list)
    new_categories: dict = field(default_factory=dict)  # lower name -> unsaved Category


def _clean_text(value: str) -> str:
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_START:
        return value[1:]  # our export's guard against spreadsheet formulas
    return value


def _decimal(value: str, label: str) -> Decimal:
    cleaned = value.upper().replace("KES", "").replace("KSH", "").replace(",", "").replace(" ", "")
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{label}: “{value}” is not a number.") from None
    if not number.is_finite():
        raise ValueError(f"{label}: “{value}” is not a number.")
    return number


def _boolean(value: str, label: str) -> bool:
    lowered = value.lower()
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    raise ValueError(f"{label}: write yes or no, not “{value}”.")


LABELS = {
    "selling_price": "selling price",
    "cost_price": "cost price",
    "reorder_level": "reorder level",
    "reorder_quantity": "reorder quantity",
    "opening_stock": "opening stock",
    "track_stock": "track stock",
    "is_favourite": "favourite",
    "is_active": "active",
    "tax_class": "tax class",
    "default_supplier": "supplier",
    "kra_item_code": "KRA item code",
}


def check_rows(rows: list[tuple[int, dict]]) -> Plan:
    """What each row would do (create / update / unchanged / reject, with reasons), without writing.

    Looks codes up in memory (a handful of queries for the whole file), so 20,000 rows are checked
    in seconds. Within the file, a SKU or barcode claimed by an earlier row cannot be used again.
    """
    sku_to_pk = {sku.lower(): pk for pk, sku in Product.objects.values_list("pk", "sku")}
    barcode_to = {
        b: (pk, name) for pk, b, name in Product.objects.exclude(barcode=None).values_list("pk", "barcode", "name")
    }
    wanted = [sku_to_pk[c["sku"].lower()] for _, c in rows if c.get("sku", "").lower() in sku_to_pk]
    existing = {}
    for start in range(0, len(wanted), 2000):
        for product in Product.objects.filter(pk__in=wanted[start : start + 2000]).select_related("category", "unit"):
            existing[product.pk] = product
    categories = {c.name.lower(): c for c in Category.objects.all()}
    units = {}
    for unit in Unit.objects.all():
        units[unit.name.lower()] = unit
        units[unit.code.lower()] = unit
    suppliers = {s.name.lower(): s for s in Supplier.objects.all()}
    plan = Plan(results=[])
    seen_skus: dict[str, int] = {}
    claimed_barcodes: dict[str, tuple[object, str, int]] = {}

    for line, cells in rows:
        sku = _clean_text(cells.get("sku", ""))
        result = RowResult(line=line, sku=sku, name=_clean_text(cells.get("name", "")), action="reject")
        plan.results.append(result)
        if not sku:
            result.errors.append("No SKU.")
            continue
        if sku.lower() in seen_skus:
            result.errors.append(f"The SKU {sku} is already on line {seen_skus[sku.lower()]}.")
            continue
        seen_skus[sku.lower()] = line
        pk = sku_to_pk.get(sku.lower())
        if pk is not None:
            product = Product(**{f.attname: getattr(existing[pk], f.attname) for f in Product._meta.concrete_fields})
            product._state.adding = False
            product._state.fields_cache = {"category": existing[pk].category, "unit": existing[pk].unit}
            before = product_snapshot(existing[pk])
            creating = False
        else:
            product = Product(sku=sku, tax_class=TaxClass.B, cost_price=Decimal("0.00"))
            before = None
            creating = True
            missing = [LABELS.get(c, c) for c in CREATE_NEEDS if not cells.get(c)]
            if missing:
                result.errors.append("A new product needs " + ", ".join(missing) + ".")
                continue
        opening = None
        for column, raw in cells.items():
            if column in ("sku", "opening_stock") or raw == "":
                continue
            value = _clean_text(raw)
            label = LABELS.get(column, column)
            try:
                if column in ("selling_price", "cost_price", "reorder_level", "reorder_quantity"):
                    setattr(product, column, _decimal(value, label))
                elif column in ("track_stock", "is_favourite", "is_active"):
                    setattr(product, column, _boolean(value, label))
                elif column == "tax_class":
                    letter = value.strip().upper()[:1]
                    if letter not in TaxClass.values:
                        raise ValueError(f"tax class: “{value}” is not one of KRA's A, B, C, D, E.")
                    product.tax_class = letter
                elif column == "category":
                    category = categories.get(value.lower()) or plan.new_categories.get(value.lower())
                    if category is None:
                        category = Category(name=" ".join(value.split())[:80])
                        plan.new_categories[value.lower()] = category
                        result.notes.append(f"new category {category.name}")
                    product.category = category
                    if category.pk is None:
                        product._state.fields_cache["category"] = category
                elif column == "unit":
                    unit = units.get(value.lower())
                    if unit is None:
                        raise ValueError(f"unit: “{value}” is not one of your units (add it first).")
                    product.unit = unit
                elif column == "default_supplier":
                    if value == "-":
                        product.default_supplier = None
                    else:
                        supplier = suppliers.get(value.lower())
                        if supplier is None:
                            raise ValueError(f"supplier: “{value}” is not one of your suppliers (add it first).")
                        product.default_supplier = supplier
                elif column == "barcode" and value == "-":
                    product.barcode = None
                else:
                    setattr(product, column, value)
            except ValueError as exc:
                result.errors.append(str(exc)[0].upper() + str(exc)[1:])
        if cells.get("opening_stock"):
            if not creating:
                result.errors.append("Opening stock is only for new products; correct stock with an adjustment.")
            else:
                try:
                    opening = _decimal(cells["opening_stock"], "opening stock")
                except ValueError as exc:
                    result.errors.append(str(exc)[0].upper() + str(exc)[1:])
        if result.errors:
            continue
        normalise_product(product)
        result.name = product.name

        def barcode_owner(code, exclude_pk, sku=sku):
            claim = claimed_barcodes.get(code)
            if claim is not None and claim[0] != (exclude_pk or sku):
                return f"{claim[1]} (line {claim[2]} of this file)"
            owner = barcode_to.get(code)
            if owner is not None and owner[0] != exclude_pk:
                return owner[1]
            return None

        # The SKU is what matches a row to a product, and the file's repeats were refused above.
        errors = product_problems(product, sku_owner=lambda code, pk: None, barcode_owner=barcode_owner)
        if creating and opening is not None and not errors:
            try:
                check_opening_stock(product, opening)
            except ValidationError as exc:
                errors.setdefault("opening_stock", []).extend(exc.messages)
        if errors:
            for field_name, messages in errors.items():
                for message in messages:
                    result.errors.append(
                        message
                        if field_name in message.lower()
                        else f"{LABELS.get(field_name, field_name).capitalize()}: {message}"
                    )
            continue
        if product.barcode:
            claimed_barcodes[product.barcode] = (product.pk or sku, product.name, line)
        if creating:
            result.action = "create"
            plan.creates.append((product, opening))
        else:
            after = product_snapshot(product)
            changed = [f for f in (*PRODUCT_FIELDS, "is_active") if before[f] != after[f]]
            if not changed:
                result.action = "unchanged"
                continue
            result.action = "update"
            result.changes = {f: [_show(before[f]), _show(after[f])] for f in changed}
            plan.updates.append((product, changed))
    return plan


def _show(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


# ---------------------------------------------------------------------------- preview, confirm, apply
def product_import_preview(*, user, branch, file_name: str, raw: bytes) -> ProductImport:
    """Read and check an uploaded file; store the preview. Writes no product. A file that cannot be
    read raises `ImportFileError` and stores nothing."""
    require_permission(user, Perm.MANAGE_CATALOGUE, "You may not change the catalogue.")
    require_branch(user, branch.pk)
    text = decode_csv(raw)
    _, rows = parse_csv(text)
    plan = check_rows(rows)
    counts = {
        action: sum(1 for r in plan.results if r.action == action)
        for action in ("create", "update", "reject", "unchanged")
    }
    return ProductImport.objects.create(
        uploaded_by=user,
        branch=branch,
        file_name=(file_name or "products.csv")[:255],
        content=text,
        rows=[asdict(r) for r in plan.results],
        total_rows=len(plan.results),
        to_create=counts["create"],
        to_update=counts["update"],
        to_reject=counts["reject"],
        unchanged=counts["unchanged"],
    )


def product_import_confirm(*, user, product_import: ProductImport) -> ProductImport:
    """Apply a previewed import: now for a short file, by a Huey task for a long one."""
    require_permission(user, Perm.MANAGE_CATALOGUE, "You may not change the catalogue.")
    with transaction.atomic():
        locked = ProductImport.objects.select_for_update().get(pk=product_import.pk)
        if locked.status != ImportStatus.PREVIEW:
            raise StockError(f"This import is already {locked.get_status_display().lower()}.")
        if locked.uploaded_by_id != user.pk and not user.has_perm(Perm.ALL_BRANCHES):
            raise StockError("Only the person who uploaded this file can confirm it.")
        if not (locked.to_create or locked.to_update):
            raise StockError("Nothing to import: every row is unchanged or rejected.")
        locked.status = ImportStatus.QUEUED
        locked.save(update_fields=["status", "updated_at"])
    set_progress(locked.pk, 0, locked.total_rows)
    if locked.total_rows <= inline_max_rows():
        product_import_apply(import_id=locked.pk)
    else:

        transaction.on_commit(lambda: apply_product_import(locked.pk))
    locked.refresh_from_db()
    return locked


PROGRESS_CHUNK = 500


def _progress_key(import_id: int) -> str:
    return f"inventory:product-import:{import_id}:progress"


def set_progress(import_id: int, done: int, total: int) -> None:
    """Progress lives in Huey's key-value store, shared by the web and the consumer processes (SQLite
    file or Redis) and outside the import's transaction, which the page could not see into."""

    try:
        djhuey.HUEY.delete(_progress_key(import_id))
        djhuey.HUEY.put(_progress_key(import_id), {"done": done, "total": total})
    except Exception:  # noqa: BLE001 - a progress bar must never break an import
        logger.warning("could not store the progress of import %s", import_id, exc_info=True)


def import_progress(product_import: ProductImport) -> tuple[int, int]:

    if product_import.status == ImportStatus.DONE:
        return product_import.total_rows, product_import.total_rows
    try:
        data = djhuey.HUEY.get(_progress_key(product_import.pk), peek=True)
    except Exception:  # noqa: BLE001
        data = None
    if not data:
        return 0, product_import.total_rows
    return int(data["done"]), int(data["total"])


def product_import_apply(*, import_id: int) -> ProductImport:
    """Write a confirmed import in one transaction; on any problem nothing is written and the import
    says why. Rows rejected in the preview are skipped; if the catalogue changed since the preview so
    that the file now means something else, the whole import fails and asks for a new preview."""
    with transaction.atomic():
        product_import = ProductImport.objects.select_for_update().get(pk=import_id)
        if product_import.status not in (ImportStatus.QUEUED,):
            return product_import
        product_import.status = ImportStatus.RUNNING
        product_import.started_at = timezone.now()
        product_import.save(update_fields=["status", "started_at", "updated_at"])
    try:
        with transaction.atomic():
            created, updated = _apply(product_import)
    except (StockError, ValidationError) as exc:
        message = getattr(exc, "message", None) or "; ".join(getattr(exc, "messages", [str(exc)]))
        return _finish(product_import, ImportStatus.FAILED, error=message)
    except Exception as exc:
        logger.exception("product import %s failed", import_id)
        _finish(
            product_import,
            ImportStatus.FAILED,
            error=f"Unexpected error: {exc.__class__.__name__}. Nothing was changed.",
        )
        raise
    return _finish(product_import, ImportStatus.DONE, created=created, updated=updated)


def _finish(product_import: ProductImport, status: str, *, error: str = "", created: int = 0, updated: int = 0):
    product_import.status = status
    product_import.error = error
    product_import.created_count = created
    product_import.updated_count = updated
    product_import.finished_at = timezone.now()
    product_import.save(
        update_fields=["status", "error", "created_count", "updated_count", "finished_at", "updated_at"]
    )
    return product_import


def _apply(product_import: ProductImport) -> tuple[int, int]:
    user = product_import.uploaded_by
    _, rows = parse_csv(product_import.content)
    plan = check_rows(rows)
    previewed = {row["line"]: row["action"] for row in product_import.rows}
    differences = [r for r in plan.results if (r.action == "reject") != (previewed.get(r.line) == "reject")]
    if differences:
        first = differences[0]
        why = "; ".join(first.errors) or "it would now be accepted"
        raise StockError(
            f"The catalogue changed since the preview (line {first.line}: {why}). Upload the file again to check it."
        )
    total = len(plan.creates) + len(plan.updates)
    done = 0
    for category in plan.new_categories.values():
        category.save()
    for product, _ in plan.creates:
        if product._state.fields_cache.get("category") is not None:
            product.category = product._state.fields_cache["category"]
    for start in range(0, len(plan.creates), PROGRESS_CHUNK):
        chunk = [product for product, _ in plan.creates[start : start + PROGRESS_CHUNK]]
        Product.objects.bulk_create(chunk)
        done += len(chunk)
        set_progress(product_import.pk, done, total)
    if any(product.pk is None for product, _ in plan.creates):  # databases without RETURNING
        by_sku = dict(Product.objects.filter(sku__in=[p.sku for p, _ in plan.creates]).values_list("sku", "pk"))
        for product, _ in plan.creates:
            product.pk = by_sku[product.sku]
    refresh = []
    for start in range(0, len(plan.updates), PROGRESS_CHUNK):
        chunk = plan.updates[start : start + PROGRESS_CHUNK]
        fields = sorted({f for _, changed in chunk for f in changed})
        for product, changed in chunk:
            product.updated_at = timezone.now()
            if "reorder_level" in changed or "is_active" in changed:
                refresh.append(product.pk)
        Product.objects.bulk_update([p for p, _ in chunk], [*fields, "updated_at"])
        done += len(chunk)
        set_progress(product_import.pk, done, total)
    opening = [
        StockLine(product.pk, quantity) for product, quantity in plan.creates if quantity and product.track_stock
    ]
    if opening:
        stock_move(
            branch=product_import.branch,
            lines=opening,
            kind=MovementKind.OPENING,
            user=user,
            reason=f"Opening stock from {product_import.file_name}"[:255],
            reference=product_import,
        )
    for product_id in refresh:
        stock_alerts_refresh(product_id=product_id)
    audit_record(
        action=AuditAction.PRODUCTS_IMPORTED,
        user=user,
        instance=product_import,
        reason=product_import.file_name,
        after={
            "created": len(plan.creates),
            "updated": len(plan.updates),
            "skipped": sum(1 for r in plan.results if r.action == "reject"),
            "new_categories": [c.name for c in plan.new_categories.values()],
            "updated_skus": [p.sku for p, _ in plan.updates][:500],
        },
        branch=product_import.branch,
    )
    return len(plan.creates), len(plan.updates)


# ---------------------------------------------------------------------------- export
def _guard(value: str) -> str:
    """A cell a spreadsheet would run as a formula is written with a leading apostrophe."""
    return "'" + value if value and value[0] in FORMULA_START else value


def _quantity(value: Decimal) -> str:
    return f"{value.normalize():f}"


def product_export_rows(*, branch_id: int):
    """The header, then one row per product (active or not), with stock at `branch_id`."""

    yield EXPORT_COLUMNS
    qs = products_with_stock(branch_id=branch_id).select_related("default_supplier").order_by("name", "pk")
    for p in qs.iterator(chunk_size=2000):
        yield [
            _guard(p.sku),
            _guard(p.name),
            p.barcode or "",
            _guard(p.category.name),
            p.unit.code,
            f"{p.selling_price:.2f}",
            f"{p.cost_price:.2f}",
            p.tax_class,
            _quantity(p.reorder_level),
            _quantity(p.reorder_quantity),
            _guard(p.kra_item_code),
            _guard(p.default_supplier.name) if p.default_supplier_id else "",
            "yes" if p.track_stock else "no",
            "yes" if p.is_favourite else "no",
            "yes" if p.is_active else "no",
            _quantity(p.on_hand),
        ]


TEMPLATE_ROWS = [
    [
        "SUG-MUM-2KG",
        "Mumias Sugar 2kg",
        "6161100400016",
        "Sugar, Tea & Coffee",
        "pc",
        "320.00",
        "285.00",
        "B",
        "10",
        "40",
        "",
        "",
        "yes",
        "no",
        "yes",
        "24",
    ],
    [
        "UNGA-JOG-2KG",
        "Jogoo Maize Meal 2kg",
        "6161100100022",
        "Unga & Flour",
        "pc",
        "185.00",
        "162.00",
        "C",
        "20",
        "60",
        "",
        "",
        "yes",
        "yes",
        "yes",
        "50",
    ],
    [
        "TOM-KG",
        "Tomatoes (loose)",
        "",
        "Fresh Produce",
        "kg",
        "120.00",
        "80.00",
        "A",
        "5",
        "20",
        "",
        "",
        "yes",
        "no",
        "yes",
        "12.5",
    ],
]
