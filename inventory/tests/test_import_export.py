"""Product CSV import (preview, atomic apply, Huey task with progress) and export."""

import csv
import io
from decimal import Decimal as D

import pytest

from inventory.barcodes import make_ean13
from inventory.errors import StockError
from inventory.import_services import (
    ImportFileError,
    import_progress,
    product_export_rows,
    product_import_confirm,
    product_import_preview,
)
from inventory.models import Category, ImportStatus, MovementKind, Product, ProductImport, StockMovement
from inventory.selectors import stock_on_hand
from inventory.tests.factories import (
    CategoryFactory,
    KilogramFactory,
    ProductFactory,
    SupplierFactory,
    UnitFactory,
    stock_in,
)
from pos.people.audit import AuditAction
from pos.people.models import AuditLog

pytestmark = pytest.mark.django_db

HEADER = "sku,name,barcode,category,unit,selling_price,cost_price,tax_class,reorder_level,opening_stock,supplier\n"


@pytest.fixture
def catalogue():
    UnitFactory()
    KilogramFactory()
    CategoryFactory(name="Sugar")
    SupplierFactory(name="Mumias Sugar Co")
    return ProductFactory(
        sku="SUG-1",
        name="Mumias Sugar 1kg",
        barcode=make_ean13("616110040001"),
        selling_price=D("170.00"),
        category=Category.objects.get(name="Sugar"),
    )


def preview(manager, branch, text, name="products.csv"):
    return product_import_preview(user=manager, branch=branch, file_name=name, raw=text.encode())


def test_preview_says_what_each_row_will_do_and_writes_nothing(manager, branch, catalogue):
    ProductFactory(sku="SALT-1", name="Kensalt 1kg", barcode=None)
    good_barcode = make_ean13("616110040002")
    text = HEADER + "\n".join(
        [
            f"SUG-2,Mumias Sugar 2kg,{good_barcode},Sugar,pc,320,285,B,10,24,Mumias Sugar Co",
            "SUG-1,Mumias Sugar 1kg,,,,175.00,,,,,",  # price change
            "TOM-1,Tomatoes,,Fresh Produce,kg,120,80,A,5,12.5,",  # new category
            "BAD-1,Bad price,,Sugar,pc,-5,1,B,0,,",
            "BAD-2,Bad barcode,6161100400010,Sugar,pc,5,1,B,0,,",
            f"BAD-3,Taken barcode,{catalogue.barcode},Sugar,pc,5,1,B,0,,",
            "BAD-4,Half a piece,,Sugar,pc,5,1,B,0,1.5,",
            "BAD-5,Unknown unit,,Sugar,crate,5,1,B,0,,",
            "SUG-2,Twice,,Sugar,pc,5,1,B,0,,",
            f"BAD-6,Same barcode as line 2,{good_barcode},Sugar,pc,5,1,B,0,,",
            "SALT-1,,,,,,,,,5,",  # opening stock on an existing product
            "BAD-7,No category,,,pc,5,1,B,0,,",
        ]
    )
    result = preview(manager, branch, text)
    rows = {row["line"]: row for row in result.rows}
    assert rows[2]["action"] == "create" and rows[3]["action"] == "update"
    assert rows[3]["changes"] == {"selling_price": ["170.00", "175.00"]}
    assert rows[4]["action"] == "create" and rows[4]["notes"] == ["new category Fresh Produce"]
    reasons = {line: " ".join(rows[line]["errors"]) for line in range(5, 14)}
    assert "cannot be negative" in reasons[5]
    assert "check digit" in reasons[6]
    assert "already has this barcode: Mumias Sugar 1kg" in reasons[7]
    assert "whole numbers" in reasons[8]
    assert "crate" in reasons[9]
    assert "already on line 2" in reasons[10]
    assert "line 2 of this file" in reasons[11]
    assert "only for new products" in reasons[12]
    assert "needs category" in reasons[13]
    assert (result.to_create, result.to_update, result.to_reject) == (2, 1, 9)
    assert Product.objects.count() == 2 and not StockMovement.objects.exists()
    catalogue.refresh_from_db()
    assert catalogue.selling_price == D("170.00")


def test_confirm_applies_everything_at_once_and_skips_rejected_rows(manager, branch, catalogue):
    text = (
        HEADER
        + "SUG-2,Mumias Sugar 2kg,,Sugar,pc,320,285,B,10,24,Mumias Sugar Co\n"
        + "SUG-1,,,,,175.00,,,,,\n"
        + "BAD,x,,Sugar,pc,-1,0,B,0,,\n"
    )
    result = product_import_confirm(user=manager, product_import=preview(manager, branch, text))
    assert result.status == ImportStatus.DONE and (result.created_count, result.updated_count) == (1, 1)
    new = Product.objects.get(sku="SUG-2")
    assert new.default_supplier.name == "Mumias Sugar Co" and new.cost_price == D("285.00")
    assert stock_on_hand(product_id=new.pk, branch_id=branch.pk) == D("24")
    movement = StockMovement.objects.get(product=new)
    assert movement.kind == MovementKind.OPENING and movement.reference == result
    catalogue.refresh_from_db()
    assert catalogue.selling_price == D("175.00")
    assert not Product.objects.filter(sku="BAD").exists()
    assert AuditLog.objects.get(action=AuditAction.PRODUCTS_IMPORTED).after_data["created"] == 1
    with pytest.raises(StockError, match="already imported"):
        product_import_confirm(user=manager, product_import=result)


def test_a_catalogue_change_after_the_preview_fails_the_whole_import(manager, branch, catalogue):
    barcode = make_ean13("616110040099")
    text = HEADER + f"NEW-1,First,,Sugar,pc,10,5,B,0,3,\nNEW-2,Second,{barcode},Sugar,pc,10,5,B,0,,\n"
    pending = preview(manager, branch, text)
    ProductFactory(sku="OTHER", barcode=barcode)  # someone takes the barcode meanwhile
    result = product_import_confirm(user=manager, product_import=pending)
    assert result.status == ImportStatus.FAILED and "line 3" in result.error
    assert not Product.objects.filter(sku__startswith="NEW-").exists()
    assert not StockMovement.objects.filter(reason__startswith="Opening stock from").exists()


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"", "empty"),
        (b"PK\x03\x04binary-xlsx", "not a CSV"),
        (b"name,price\nSugar,10\n", "at least"),
        (b"sku,name,sku\nA,B,C\n", "named twice"),
        (b"sku,name\n", "no products"),
    ],
)
def test_a_bad_file_stores_and_changes_nothing(manager, branch, raw, message):
    with pytest.raises(ImportFileError, match=message):
        product_import_preview(user=manager, branch=branch, file_name="bad.csv", raw=raw)
    assert not ProductImport.objects.exists() and not Product.objects.exists()


def test_excel_files_semicolons_and_windows_characters(manager, branch, catalogue):
    text = "\ufeffSKU;Name;Category;Unit;Selling price;Cost\r\nCAF-1;Caf\xe9 Latte 250g;Sugar;pc;KES 1,250.00;900\r\n"
    result = product_import_preview(
        user=manager,
        branch=branch,
        file_name="x.csv",
        raw=text.encode("cp1252", errors="ignore").replace(b"\xef\xbb\xbf", b""),
    )
    assert result.rows[0]["action"] == "create", result.rows
    product_import_confirm(user=manager, product_import=result)
    assert Product.objects.get(sku="CAF-1").selling_price == D("1250.00")


def test_cashiers_cannot_import(employee, branch):
    with pytest.raises(StockError):
        product_import_preview(user=employee, branch=branch, file_name="x.csv", raw=HEADER.encode())


def test_a_long_import_runs_as_a_task_with_progress(
    manager, branch, catalogue, settings, django_capture_on_commit_callbacks
):
    settings.INVENTORY_IMPORT_INLINE_MAX_ROWS = 2
    text = HEADER + "".join(f"BULK-{i},Bulk product {i},,Sugar,pc,10,5,B,0,,\n" for i in range(5))
    pending = preview(manager, branch, text)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queued = product_import_confirm(user=manager, product_import=pending)
    assert queued.status == ImportStatus.QUEUED and import_progress(queued) == (0, 5)
    assert not Product.objects.filter(sku__startswith="BULK").exists()
    for callback in callbacks:
        callback()  # enqueues the Huey task, which runs immediately in tests
    queued.refresh_from_db()
    assert queued.status == ImportStatus.DONE and queued.created_count == 5
    assert import_progress(queued) == (5, 5)


def test_export_round_trips(manager, branch, catalogue):
    stock_in(catalogue, branch, 7)
    ProductFactory(sku="FORMULA", name="=HYPERLINK(1)", category=catalogue.category)
    rows = list(product_export_rows(branch_id=branch.pk))
    assert rows[0][0] == "sku" and rows[0][-1] == "on_hand"
    by_sku = {row[0]: row for row in rows[1:]}
    assert by_sku["SUG-1"][-1] == "7" and by_sku["SUG-1"][5] == "170.00"
    assert by_sku["FORMULA"][1] == "'=HYPERLINK(1)"  # never runs as a formula in a spreadsheet
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    result = preview(manager, branch, buffer.getvalue())
    assert {row["action"] for row in result.rows} == {"unchanged"}, result.rows
