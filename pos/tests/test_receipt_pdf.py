"""Receipt PDFs: one layout on a page cut to the content, the fonts and stylesheet kept per process."""

import subprocess
import uuid
from decimal import Decimal as D

import pytest

from cashdesk.services import Tender, sale_checkout
from cashdesk.tests.factories import open_session
from inventory.tests.factories import ProductFactory, stock_in
from pos.people.services import shop_settings_update
from pos.sales import receipts
from pos.sales.receipts import pdf_kit, pdf_warm_up, receipt_context, receipt_pdf
from pos.sales.services import sale_add_product, sale_get_or_open

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_kit():
    receipts.pdf_kit_forget()
    yield
    receipts.pdf_kit_forget()


def completed_sale(cashier, branch, lines: int):
    cart = sale_get_or_open(cashier=cashier)
    for n in range(lines):
        product = ProductFactory(name=f"Kimbo cooking fat {n} 1kg", selling_price=D("100.00") + n)
        stock_in(product, branch, 10)
        sale_add_product(sale=cart, product=product, user=cashier)
    cart.refresh_from_db()
    return sale_checkout(sale=cart, user=cashier, tenders=[Tender("CASH", cart.total + 50)],
                         idempotency_key=uuid.uuid4().hex)


def pdf_facts(pdf: bytes, tmp_path, name: str) -> tuple[str, str, str]:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True, text=True).stdout
    pages = next(line for line in info.splitlines() if line.startswith("Pages:"))
    size = next(line for line in info.splitlines() if line.startswith("Page size:"))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True).stdout
    return pages, size, text


def laid_out_twice(html: str) -> bytes:
    """The PDF laid out once to measure it and again on a page of that height, as receipts used to be."""
    kit = pdf_kit()
    rules = [kit.stylesheet, kit.measuring_page]
    document = kit.html(string=html).render(stylesheets=rules, font_config=kit.font_config)
    height_px = document.pages[0]._page_box.children[0].margin_height()
    height_mm = height_px / receipts.PX_PER_MM + 2 * receipts.PAGE_MARGIN_MM + 2
    page = kit.css(string=f"@page {{ size: {receipts.ROLL_WIDTH} {height_mm:.1f}mm; "
                          f"margin: {receipts.PAGE_MARGIN_MM}mm; }}", font_config=kit.font_config)
    rendered = kit.html(string=html).render(stylesheets=[kit.stylesheet, page], font_config=kit.font_config)
    return rendered.write_pdf()


@pytest.mark.parametrize("lines", [1, 12])
def test_one_layout_gives_the_page_two_layouts_gave(employee, branch, tmp_path, lines):
    from django.template.loader import render_to_string

    open_session(employee)
    sale = completed_sale(employee, branch, lines)
    html = render_to_string("pos/receipts/receipt_pdf.html", receipt_context(sale=sale))
    now = pdf_facts(receipt_pdf(sale=sale), tmp_path, "now")
    before = pdf_facts(laid_out_twice(html), tmp_path, "before")
    assert now == before
    assert now[0].split() == ["Pages:", "1"]
    assert f"Kimbo cooking fat {lines - 1} 1kg" in now[2] and sale.number in now[2]


def test_a_longer_receipt_is_a_taller_page(employee, branch, tmp_path):
    open_session(employee)
    short = pdf_facts(receipt_pdf(sale=completed_sale(employee, branch, 1)), tmp_path, "short")
    long = pdf_facts(receipt_pdf(sale=completed_sale(employee, branch, 10)), tmp_path, "long")

    def height(size: str) -> float:
        return float(size.split("x")[1].split()[0])

    assert height(short[1]) + 100 < height(long[1]) < 3000 / 25.4 * 72


def test_fonts_and_stylesheet_are_built_once_until_the_shop_settings_change(employee, owner, branch):
    open_session(employee)
    sale = completed_sale(employee, branch, 2)
    receipt_pdf(sale=sale)
    kit = pdf_kit()
    receipt_pdf(sale=sale, copy=True)
    assert pdf_kit() is kit
    shop_settings_update(actor=owner, data={"receipt_footer": "Karibu tena!"})
    assert pdf_kit() is not kit  # the owner's change clears the cached settings, and with them the kit


def test_the_warm_up_builds_the_kit_without_a_sale(django_assert_max_num_queries):
    from pos.sales.models import Sale

    with django_assert_max_num_queries(1):  # the shop settings, when they are not cached yet
        pdf_warm_up()
    kit = pdf_kit()
    assert kit.font_config is not None and kit.stylesheet is not None
    assert not Sale.objects.exists()
