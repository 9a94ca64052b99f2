"""The stock pages through HTTP: full pages and htmx fragments, form errors for bad input, query
counts that do not grow with the rows, the purchase order PDF and the CSV export."""

import subprocess
from decimal import Decimal as D

import pytest
from django.urls import reverse

from inventory.adjustment_services import stock_adjustment_request, stock_count_start
from inventory.barcodes import make_ean13
from inventory.models import (
    AdjustmentReason,
    AdjustmentStatus,
    ImportStatus,
    Product,
    ProductImport,
    Purchase,
    PurchaseStatus,
    StockAdjustment,
    StockMovement,
)
from inventory.purchase_services import purchase_create, purchase_line_set, purchase_order
from inventory.selectors import stock_on_hand
from inventory.tests.factories import (
    CategoryFactory,
    ProductFactory,
    SupplierFactory,
    UnitFactory,
    stock_in,
)

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def on_hand(product, branch):
    return stock_on_hand(product_id=product.pk, branch_id=branch.pk)


# ---------------------------------------------------------------------------- catalogue pages
def test_product_list_full_page_and_fragment(employee_client, branch):
    sugar = ProductFactory(name="Mumias Sugar 2kg", reorder_level=D("5"))
    ProductFactory(name="Kensalt 1kg")
    stock_in(sugar, branch, 3)
    page = employee_client.get(reverse("inventory:product_list"))
    assert page.status_code == 200 and b"<html" in page.content and b"Mumias Sugar 2kg" in page.content
    fragment = employee_client.get(reverse("inventory:product_list"), {"q": "sugar"}, **HX)
    assert b"<html" not in fragment.content and b'id="product-table"' in fragment.content
    assert b"Mumias Sugar 2kg" in fragment.content and b"Kensalt" not in fragment.content
    low = employee_client.get(reverse("inventory:product_list"), {"state": "low"}, **HX)
    assert b"Mumias Sugar 2kg" in low.content and b"Kensalt" not in low.content
    by_barcode = employee_client.get(reverse("inventory:product_list"), {"q": sugar.barcode}, **HX)
    assert b"Mumias Sugar 2kg" in by_barcode.content


def test_cashiers_do_not_see_cost_prices(employee_client, manager_client):
    ProductFactory(name="Margin check", cost_price=D("77.77"))
    assert b"77.77" not in employee_client.get(reverse("inventory:product_list")).content
    assert b"77.77" in manager_client.get(reverse("inventory:product_list")).content


def test_sorting_by_stock(manager_client, branch):
    a, b = ProductFactory(name="Aaa"), ProductFactory(name="Bbb")
    stock_in(a, branch, 50)
    stock_in(b, branch, 2)
    response = manager_client.get(reverse("inventory:product_list"), {"sort": "on_hand"}, **HX)
    assert response.content.index(b"Bbb") < response.content.index(b"Aaa")


def _queries(client, url, django_assert_max_num_queries, params=None, limit=15):
    with django_assert_max_num_queries(limit) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "url_name",
    [
        "inventory:product_list",
        "inventory:low_stock",
        "inventory:out_of_stock",
        "inventory:movement_list",
        "inventory:alert_list",
        "inventory:adjustment_list",
        "inventory:approvals",
        "inventory:purchase_list",
        "inventory:transfer_list",
        "inventory:count_list",
    ],
)
def test_list_pages_do_not_grow_queries_with_rows(
    manager, manager_client, branch, url_name, django_assert_max_num_queries
):
    def add_rows(n):
        for i in range(n):
            product = ProductFactory(name=f"Row {url_name} {i}", reorder_level=D("5"))
            stock_in(product, branch, 3)
            stock_adjustment_request(
                user=manager, product=product, branch=branch, reason=AdjustmentReason.DAMAGED, delta=D("-1")
            )
            purchase = purchase_create(user=manager, supplier=SupplierFactory(), branch=branch)
            purchase_line_set(user=manager, purchase=purchase, product=product, quantity=D("2"), unit_cost=D("5"))

    url = reverse(url_name)
    add_rows(2)
    few = _queries(manager_client, url, django_assert_max_num_queries)
    add_rows(8)
    many = _queries(manager_client, url, django_assert_max_num_queries)
    assert many == few, f"{url_name}: {few} queries with 2 rows, {many} with 10"


def test_product_detail_shows_stock_and_movements(
    manager_client, employee_client, branch, django_assert_max_num_queries
):
    product = ProductFactory(name="Elianto 1L")
    stock_in(product, branch, 12)
    with django_assert_max_num_queries(16):
        page = manager_client.get(product.get_absolute_url())
    assert b"Recent movements" in page.content and b"Opening stock" in page.content
    assert b"Recent movements" not in employee_client.get(product.get_absolute_url()).content  # ledger is for managers


def test_create_product_through_the_form(manager_client, branch):
    category, unit = CategoryFactory(name="Oil"), UnitFactory()
    data = {
        "name": "Elianto Corn Oil 1L",
        "sku": "ELI-1L",
        "barcode": make_ean13("616100200001"),
        "category": category.pk,
        "unit": unit.pk,
        "selling_price": "420.00",
        "cost_price": "360.00",
        "tax_class": "B",
        "reorder_level": "6",
        "reorder_quantity": "24",
        "track_stock": "on",
        "opening_stock": "12",
    }
    response = manager_client.post(reverse("inventory:product_create"), data)
    product = Product.objects.get(sku="ELI-1L")
    assert response.status_code == 302 and response["Location"] == product.get_absolute_url()
    assert on_hand(product, branch) == D("12")


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"selling_price": "-5"}, "The selling price cannot be negative."),
        ({"barcode": "6161002000010"}, "check digit"),
        ({"opening_stock": "1.5"}, "Piece is counted in whole numbers."),
        ({"reorder_level": "0.5"}, "Piece is counted in whole numbers."),
    ],
)
def test_bad_product_input_is_a_form_error_and_changes_nothing(manager_client, changes, message):
    category, unit = CategoryFactory(name="Oil"), UnitFactory()
    data = {
        "name": "Bad one",
        "sku": "BAD-1",
        "barcode": "",
        "category": category.pk,
        "unit": unit.pk,
        "selling_price": "10",
        "cost_price": "5",
        "tax_class": "B",
        "reorder_level": "0",
        "reorder_quantity": "0",
        "track_stock": "on",
    }
    data.update(changes)
    response = manager_client.post(reverse("inventory:product_create"), data)
    assert response.status_code == 200 and message in response.content.decode()
    assert not Product.objects.filter(sku="BAD-1").exists()


def test_duplicate_barcode_is_a_form_error(manager_client):
    existing = ProductFactory(name="Original")
    response = manager_client.post(
        reverse("inventory:product_edit", args=[ProductFactory(name="Copy").pk]),
        {
            "name": "Copy",
            "sku": "COPY-1",
            "barcode": existing.barcode,
            "category": existing.category_id,
            "unit": existing.unit_id,
            "selling_price": "10",
            "cost_price": "5",
            "tax_class": "B",
            "reorder_level": "0",
            "reorder_quantity": "0",
        },
    )
    assert "Another product already has this barcode: Original." in response.content.decode()
    assert Product.objects.get(name="Copy").barcode != existing.barcode


def test_product_lookup_fragment(employee_client):
    ProductFactory(name="Kabras Sugar 1kg", sku="KAB-1")
    response = employee_client.get(reverse("inventory:product_lookup"), {"q": "kabras"}, **HX)
    assert b"<option" in response.content and b"Kabras Sugar 1kg" in response.content


def test_deactivate_and_delete_from_the_page(manager_client, branch):
    kept, mistake = ProductFactory(name="Kept"), ProductFactory(name="Mistake")
    stock_in(kept, branch, 1)
    manager_client.post(reverse("inventory:product_active", args=[kept.pk]), {"reason": "discontinued"})
    kept.refresh_from_db()
    assert not kept.is_active
    response = manager_client.post(reverse("inventory:product_delete", args=[kept.pk]), follow=True)
    assert "has history" in response.content.decode() and Product.objects.filter(pk=kept.pk).exists()
    manager_client.post(reverse("inventory:product_delete", args=[mistake.pk]))
    assert not Product.objects.filter(pk=mistake.pk).exists()


# ---------------------------------------------------------------------------- import and export
def test_import_through_the_pages(manager_client, branch):
    CategoryFactory(name="Sugar")
    UnitFactory()
    from django.core.files.uploadedfile import SimpleUploadedFile

    csv_file = SimpleUploadedFile(
        "p.csv",
        b"sku,name,category,unit,selling_price,opening_stock\nS-1,Sugar 1kg,Sugar,pc,170,10\nS-2,Bad,Sugar,pc,-1,\n",
        "text/csv",
    )
    response = manager_client.post(reverse("inventory:import_upload"), {"file": csv_file})
    product_import = ProductImport.objects.get()
    assert response["Location"] == product_import.get_absolute_url()
    preview = manager_client.get(product_import.get_absolute_url()).content.decode()
    assert "cannot be negative" in preview and "Import 1 new and 0 updated" in preview
    assert not Product.objects.exists()
    manager_client.post(reverse("inventory:import_confirm", args=[product_import.pk]))
    product_import.refresh_from_db()
    assert product_import.status == ImportStatus.DONE and on_hand(Product.objects.get(sku="S-1"), branch) == D("10")
    progress = manager_client.get(product_import.get_absolute_url(), {"progress": "1"}, **HX)
    assert (
        b"<html" not in progress.content
        and b"Imported: 1 added" in progress.content
        and b"every 1s" not in progress.content
    )


def test_a_running_import_polls_for_progress(manager_client, manager, branch):
    product_import = ProductImport.objects.create(
        uploaded_by=manager,
        branch=branch,
        file_name="big.csv",
        content="sku\n",
        total_rows=400,
        status=ImportStatus.RUNNING,
    )
    from inventory.import_services import set_progress

    set_progress(product_import.pk, 100, 400)
    fragment = manager_client.get(product_import.get_absolute_url(), {"progress": "1"}, **HX).content.decode()
    assert 'hx-trigger="every 1s"' in fragment and "100 of 400 rows" in fragment and 'value="100"' in fragment


def test_a_bad_file_is_a_form_error(manager_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = manager_client.post(
        reverse("inventory:import_upload"), {"file": SimpleUploadedFile("x.csv", b"name,price\nA,1\n")}
    )
    assert response.status_code == 200 and "at least" in response.content.decode()
    assert not ProductImport.objects.exists()


def test_export_is_streamed_csv(manager_client, branch):
    product = ProductFactory(name="Exported", sku="EXP-1")
    stock_in(product, branch, 4)
    response = manager_client.get(reverse("inventory:product_export"))
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    assert body.splitlines()[0].startswith("sku,name,barcode") and "EXP-1,Exported" in body


# ---------------------------------------------------------------------------- movements
def test_movements_filter_and_link_to_their_cause(manager, manager_client, branch):
    product = ProductFactory(name="Linked")
    stock_in(product, branch, 10)
    adjustment = stock_adjustment_request(
        user=manager, product=product, branch=branch, reason=AdjustmentReason.DAMAGED, delta=D("-1")
    )
    from inventory.adjustment_services import stock_adjustment_approve

    stock_adjustment_approve(adjustment=adjustment, user=manager)
    page = manager_client.get(reverse("inventory:movement_list"), {"kind": "ADJUSTMENT"}, **HX).content.decode()
    assert f'href="{adjustment.get_absolute_url()}"' in page and "ADJ-" in page and "Opening stock" not in page
    by_product = manager_client.get(
        reverse("inventory:movement_list"), {"product": str(product.pk)}, **HX
    ).content.decode()
    assert by_product.count("Linked") >= 2
    assert (
        manager_client.get(reverse("inventory:movement_list"), {"user": manager.pk, "start": "2000-01-01"}).status_code
        == 200
    )


# ---------------------------------------------------------------------------- adjustments and approvals
@pytest.fixture
def soda(branch):
    product = ProductFactory(name="Soda 500ml", reorder_level=D("2"))
    stock_in(product, branch, 10)
    return product


def test_cashier_requests_through_the_form(employee_client, employee, soda, branch):
    response = employee_client.post(
        reverse("inventory:adjustment_request"),
        {
            "product": soda.barcode,
            "mode": "counted",
            "quantity": "8",
            "reason": "COUNT_CORRECTION",
            "branch": branch.pk,
        },
    )
    adjustment = StockAdjustment.objects.get()
    assert response["Location"] == adjustment.get_absolute_url()
    assert adjustment.delta == D("-2") and adjustment.requested_by == employee and on_hand(soda, branch) == D("10")
    assert employee_client.get(adjustment.get_absolute_url()).status_code == 200


@pytest.mark.parametrize(
    "data, message",
    [
        ({"mode": "delta", "quantity": "-11"}, "below zero: 10 in stock, 11 to remove"),
        ({"mode": "delta", "quantity": "0.5"}, "whole numbers"),
        ({"mode": "counted", "quantity": "10"}, "nothing to adjust"),
        ({"product": "no such thing"}, "No active product matches"),
    ],
)
def test_bad_requests_are_form_errors(employee_client, soda, branch, data, message):
    post = {"product": soda.sku, "mode": "delta", "quantity": "-1", "reason": "DAMAGED", "branch": branch.pk}
    post.update(data)
    response = employee_client.post(reverse("inventory:adjustment_request"), post)
    assert response.status_code == 200 and message in response.content.decode()
    assert not StockAdjustment.objects.exists()


def test_cashiers_cannot_request_for_another_branch(employee_client, soda, other_branch):
    response = employee_client.post(
        reverse("inventory:adjustment_request"),
        {"product": soda.sku, "mode": "delta", "quantity": "-1", "reason": "DAMAGED", "branch": other_branch.pk},
    )
    assert response.status_code == 200 and not StockAdjustment.objects.exists()


def test_approvals_page_full_and_fragment(manager_client, employee, soda, branch):
    stock_adjustment_request(user=employee, product=soda, branch=branch, reason=AdjustmentReason.DAMAGED, delta=D("-2"))
    page = manager_client.get(reverse("inventory:approvals")).content.decode()
    assert "<html" in page and "Soda 500ml" in page and "10 → 8" in page
    fragment = manager_client.get(reverse("inventory:approvals"), **HX).content.decode()
    assert "<html" not in fragment and 'id="approvals-table"' in fragment


def test_approve_in_place_returns_the_row_and_the_count(manager_client, employee, soda, branch):
    adjustment = stock_adjustment_request(
        user=employee, product=soda, branch=branch, reason=AdjustmentReason.DAMAGED, delta=D("-2")
    )
    response = manager_client.post(reverse("inventory:adjustment_approve", args=[adjustment.pk]), **HX)
    html = response.content.decode()
    assert html.lstrip().startswith("<tr") and 'data-status="APPROVED"' in html
    assert 'id="pending-count"' in html and 'hx-swap-oob="true"' in html and ">0</span>" in html
    assert "adjustmentDecided" in response["HX-Trigger"]
    assert on_hand(soda, branch) == D("8")


def test_refused_approval_stays_pending_with_the_reason_in_the_row(manager_client, employee, soda, branch):
    adjustment = stock_adjustment_request(
        user=employee, product=soda, branch=branch, reason=AdjustmentReason.DAMAGED, delta=D("-9")
    )
    stock_in(soda, branch, -5, kind="SALE")
    html = manager_client.post(reverse("inventory:adjustment_approve", args=[adjustment.pk]), **HX).content.decode()
    assert 'data-status="PENDING"' in html and "below zero" in html and 'data-testid="row-error"' in html
    adjustment.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.PENDING and on_hand(soda, branch) == D("5")


def test_reject_needs_a_reason(manager_client, employee, soda, branch):
    adjustment = stock_adjustment_request(
        user=employee, product=soda, branch=branch, reason=AdjustmentReason.DAMAGED, delta=D("-2")
    )
    html = manager_client.post(reverse("inventory:adjustment_reject", args=[adjustment.pk]), **HX).content.decode()
    assert "Say why" in html
    manager_client.post(
        reverse("inventory:adjustment_reject", args=[adjustment.pk]), {f"note-{adjustment.pk}": "recount"}, **HX
    )
    adjustment.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.REJECTED and adjustment.decision_note == "recount"


def test_approve_without_javascript_redirects(manager_client, employee, soda, branch):
    adjustment = stock_adjustment_request(
        user=employee, product=soda, branch=branch, reason=AdjustmentReason.DAMAGED, delta=D("-2")
    )
    response = manager_client.post(reverse("inventory:adjustment_approve", args=[adjustment.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("inventory:approvals")


def test_bulk_approve(manager_client, employee, soda, branch):
    first = stock_adjustment_request(
        user=employee, product=soda, branch=branch, reason=AdjustmentReason.DAMAGED, delta=D("-2")
    )
    second = stock_adjustment_request(
        user=employee, product=soda, branch=branch, reason=AdjustmentReason.EXPIRED, delta=D("-3")
    )
    too_big = stock_adjustment_request(
        user=employee, product=soda, branch=branch, reason=AdjustmentReason.THEFT, delta=D("-9")
    )
    response = manager_client.post(
        reverse("inventory:approvals_bulk"), {"ids": [first.pk, second.pk, too_big.pk], "decision": "approve"}, **HX
    )
    html = response.content.decode()
    assert (
        html.count('data-status="APPROVED"') == 2 and html.count('data-status="PENDING"') == 1 and "below zero" in html
    )
    assert on_hand(soda, branch) == D("5")


def test_employees_cannot_open_someone_elses_request(employee_client, manager, soda, branch):
    adjustment = stock_adjustment_request(
        user=manager, product=soda, branch=branch, reason=AdjustmentReason.DAMAGED, delta=D("-2")
    )
    assert employee_client.get(adjustment.get_absolute_url()).status_code == 404


# ---------------------------------------------------------------------------- counts
def test_count_sheet_scan_and_entry(employee_client, employee, manager_client, branch):
    drinks = CategoryFactory(name="Drinks")
    soda = ProductFactory(name="Soda", category=drinks)
    stock_in(soda, branch, 24)
    count = stock_count_start(user=employee, branch=branch, category=drinks)
    assert b"<html" in employee_client.get(count.get_absolute_url()).content
    scan = employee_client.post(reverse("inventory:count_scan", args=[count.pk]), {"code": soda.barcode}, **HX)
    assert (
        b"<html" not in scan.content
        and b'id="count-lines"' in scan.content
        and "countLineScanned" in scan["HX-Trigger-After-Settle"]
    )
    line = count.lines.get()
    saved = employee_client.post(
        reverse("inventory:count_line", args=[count.pk, line.pk]), {"counted": "22"}, **HX
    ).content.decode()
    assert saved.lstrip().startswith("<tr") and "−2" in saved and 'id="count-totals"' in saved
    bad = employee_client.post(
        reverse("inventory:count_line", args=[count.pk, line.pk]), {"counted": "2.5"}, **HX
    ).content.decode()
    assert "whole numbers" in bad
    missing = employee_client.post(reverse("inventory:count_scan", args=[count.pk]), {"code": "0000"}, **HX)
    assert b"No active product" in missing.content and "countScanFailed" in missing["HX-Trigger-After-Settle"]
    assert employee_client.post(reverse("inventory:count_post", args=[count.pk])).status_code == 403
    manager_client.post(reverse("inventory:count_post", args=[count.pk]))
    assert on_hand(soda, branch) == D("22")


# ---------------------------------------------------------------------------- purchases
@pytest.fixture
def ordered_purchase(manager, branch):
    supplier = SupplierFactory(name="Bidco Africa Ltd", kra_pin="P000598721M")
    oil = ProductFactory(name="Elianto Corn Oil 1L", sku="ELI-1L", cost_price=D("350.00"))
    purchase = purchase_create(user=manager, supplier=supplier, branch=branch)
    purchase_line_set(user=manager, purchase=purchase, product=oil, quantity=D("24"), unit_cost=D("355.50"))
    return purchase_order(user=manager, purchase=purchase)


def test_purchase_detail_full_and_fragment(manager_client, manager, branch):
    purchase = purchase_create(user=manager, supplier=SupplierFactory(), branch=branch)
    product = ProductFactory(name="Added line")
    assert b"<html" in manager_client.get(purchase.get_absolute_url()).content
    fragment = manager_client.post(
        reverse("inventory:purchase_line_add", args=[purchase.pk]),
        {"product": product.sku, "quantity": "5", "unit_cost": "12.50"},
        **HX,
    )
    assert b"<html" not in fragment.content and b"Added line" in fragment.content and b"62.50" in fragment.content
    bad = manager_client.post(
        reverse("inventory:purchase_line_add", args=[purchase.pk]), {"product": product.sku, "quantity": "0.5"}, **HX
    )
    assert b"whole numbers" in bad.content


def test_receiving_more_than_ordered_without_saying_so_is_refused(manager_client, ordered_purchase, branch):
    line = ordered_purchase.lines.get()
    url = reverse("inventory:purchase_receive", args=[ordered_purchase.pk])
    response = manager_client.post(url, {f"qty_{line.pk}": "30", f"cost_{line.pk}": "355.50"})
    assert response.status_code == 400 and "Tick “over-receive” and say why" in response.content.decode()
    assert not StockMovement.objects.exists()
    response = manager_client.post(
        url,
        {
            f"qty_{line.pk}": "30",
            f"cost_{line.pk}": "355.50",
            "over_receive": "on",
            "over_receive_reason": "6 free on promotion",
        },
    )
    assert response.status_code == 302 and on_hand(line.product, branch) == D("30")
    ordered_purchase.refresh_from_db()
    assert ordered_purchase.status == PurchaseStatus.RECEIVED


def test_receive_form_errors(manager_client, ordered_purchase):
    line = ordered_purchase.lines.get()
    url = reverse("inventory:purchase_receive", args=[ordered_purchase.pk])
    assert "is not a number" in manager_client.post(url, {f"qty_{line.pk}": "abc"}).content.decode()
    assert "whole numbers" in manager_client.post(url, {f"qty_{line.pk}": "1.5"}).content.decode()
    assert not StockMovement.objects.exists()


def test_purchase_order_pdf(manager_client, ordered_purchase, tmp_path):
    from pos.people.selectors import shop_settings

    response = manager_client.get(reverse("inventory:purchase_pdf", args=[ordered_purchase.pk]))
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    pdf = tmp_path / "po.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(  # noqa: S603 - our own file, a fixed tool
        ["/usr/bin/pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for expected in (
        "PURCHASE ORDER",
        ordered_purchase.number,
        shop_settings().shop_name,
        "Bidco Africa Ltd",
        "P000598721M",
        "Elianto Corn Oil 1L",
        "24 pc",
        "355.50",
        "8,532.00",
        "Total (KES)",
    ):
        assert expected in text, expected
    info = subprocess.run(["/usr/bin/pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout  # noqa: S603
    assert "595.276 x 841.89 pts (A4)" in info


def test_reorder_makes_drafts_in_one_click(manager_client, branch):
    supplier = SupplierFactory(name="Kapa")
    product = ProductFactory(
        name="Running low", reorder_level=D("5"), reorder_quantity=D("24"), default_supplier=supplier
    )
    stock_in(product, branch, 2)
    page = manager_client.get(reverse("inventory:reorder")).content.decode()
    assert "Running low" in page and "Kapa" in page
    response = manager_client.post(reverse("inventory:reorder"), {"suppliers": [supplier.pk]})
    assert response.status_code == 302
    purchase = Purchase.objects.get()
    assert purchase.status == PurchaseStatus.DRAFT and purchase.lines.get().quantity_ordered == D("24")


# ---------------------------------------------------------------------------- transfers
def test_transfer_pages(manager_client, manager, branch, other_branch):
    soda = ProductFactory(name="Soda")
    stock_in(soda, branch, 30)
    response = manager_client.post(
        reverse("inventory:transfer_create"), {"from_branch": branch.pk, "to_branch": other_branch.pk}
    )
    from inventory.models import Transfer

    transfer = Transfer.objects.get()
    assert response["Location"] == transfer.get_absolute_url()
    fragment = manager_client.post(
        reverse("inventory:transfer_line_add", args=[transfer.pk]), {"product": soda.sku, "quantity": "6"}, **HX
    )
    assert b"<html" not in fragment.content and b"Soda" in fragment.content
    manager_client.post(reverse("inventory:transfer_dispatch", args=[transfer.pk]))
    listing = manager_client.get(reverse("inventory:transfer_list")).content.decode()
    assert "In transit now" in listing and "6 units" in listing
    assert "In transit to it" in manager_client.get(soda.get_absolute_url()).content.decode()
    assert on_hand(soda, branch) == D("24")


# ---------------------------------------------------------------------------- the nav badge
def test_nav_badge_counts_notified_open_alerts(employee_client, branch, django_capture_on_commit_callbacks):
    product = ProductFactory(reorder_level=D("5"))
    with django_capture_on_commit_callbacks(execute=True):
        stock_in(product, branch, 2)
    page = employee_client.get(reverse("home")).content.decode()
    assert 'data-testid="stock-alert-count">1<' in page
