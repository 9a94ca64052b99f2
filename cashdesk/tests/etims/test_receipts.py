"""Receipts: a slip marked "not yet a tax invoice" until KRA signs, then the SCU block (page, PDF and the
printable lines for thermal printers) with a QR code that decodes to KRA's check URL."""

import subprocess
from decimal import Decimal as D
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from cashdesk.etims.models import EtimsSignature
from cashdesk.etims.receipt import NOT_YET, groups_of_four, qr_url, scu_lines, scu_text
from cashdesk.etims.services import etims_device_work
from cashdesk.refund_services import sale_return_refund
from cashdesk.tests.etims.conftest import BHF, TIN, product, sell
from cashdesk.tests.factories import open_session
from pos.sales.receipts import credit_note_pdf, receipt_context, receipt_grant, receipt_pdf
from pos.sales.services import ReturnItem

pytestmark = pytest.mark.django_db


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf)
    return subprocess.run(  # noqa: S603 - our own file, a fixed program
        ["/usr/bin/pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pdf_qr_codes(pdf: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "qr.pdf"
    path.write_bytes(pdf)
    subprocess.run(["/usr/bin/pdftoppm", "-r", "300", "-png", str(path), str(tmp_path / "page")], check=True)  # noqa: S603
    texts = []
    for page in sorted(tmp_path.glob("page*.png")):
        texts += [result.text for result in zxingcpp.read_barcodes(Image.open(page))]
    return texts


def test_groups_of_four():
    assert groups_of_four("Q7KX2M4TRB9WZL3HP6VNA5EJ8D") == "Q7KX-2M4T-RB9W-ZL3H-P6VN-A5EJ-8D"


def test_unsigned_slip_then_signed_receipt_pdf_with_scu_block_and_qr(etims_device, simulator, grocery, branch, employee,
                                                                    tmp_path):
    sale = sell(employee, [(product(branch, grocery, price="349.00", name="Cooking oil 1L"), 2)])
    slip = pdf_text(receipt_pdf(sale=sale), tmp_path)
    assert "NOT YET A TAX INVOICE" in slip and "SCU ID" not in slip
    etims_device_work(device_id=etims_device.pk)
    signature = EtimsSignature.objects.get(sale=sale)
    pdf = receipt_pdf(sale=sale)
    text = pdf_text(pdf, tmp_path)
    assert "NOT YET A TAX INVOICE" not in text
    assert "SCU INFORMATION" in text and "SCU ID" in text and signature.sdc_id in text
    assert f"{signature.sdc_id}/1" in text  # CU invoice number
    assert groups_of_four(signature.rcpt_sign) in text.replace(" ", "").replace("\n", "") or \
        groups_of_four(signature.rcpt_sign)[:9] in text
    assert signature.sdc_datetime.astimezone().strftime("%Y") in text
    expected = f"https://etims-sbx.kra.go.ke/common/link/etims/receipt/indexEtimsReceiptData?Data={TIN}{BHF}" \
               f"{signature.rcpt_sign}"
    assert qr_url(signature) == expected
    assert pdf_qr_codes(pdf, tmp_path) == [expected]


def test_the_receipt_page_and_reprint_show_the_signed_block(etims_device, simulator, grocery, branch, employee, rf):
    sale = sell(employee, [(product(branch, grocery), 1)])
    assert receipt_context(sale=sale)["fiscal"]["title"] == NOT_YET
    etims_device_work(device_id=etims_device.pk)
    context = receipt_context(sale=sale, copy=True)
    rows = dict(context["fiscal"]["rows"])
    assert rows["SCU ID"] == etims_device.sdc_id and rows["Invoice no."] == "1"
    assert "etims" in context["qr"] or "<svg" in context["qr"]
    request = rf.get("/")
    request.session = {}
    receipt_grant(request, sale, "copy")
    assert request.session


def test_printable_lines_for_thermal_printers(etims_device, simulator, grocery, branch, employee):
    sale = sell(employee, [(product(branch, grocery), 1)])
    etims_device_work(device_id=etims_device.pk)
    signature = EtimsSignature.objects.get(sale=sale)
    labels = [label for label, _ in scu_lines(signature)]
    assert labels[:4] == ["SCU date/time", "SCU ID", "CU invoice no.", "Invoice no."]
    assert "Internal data" in labels and "Receipt signature" in labels
    lines = scu_text(signature, width=42)
    assert lines[0].strip() == "SCU INFORMATION" and all(len(line) <= 42 for line in lines[:-1])
    assert lines[-1].endswith(signature.rcpt_sign)


def test_a_credit_note_shows_the_original_cu_invoice_number(etims_device, simulator, grocery, branch, employee, manager,
                                                            tmp_path):
    oil = product(branch, grocery, price="349.00")
    sale = sell(employee, [(oil, 2)])
    open_session(manager)
    returned = sale_return_refund(sale=sale, items=[ReturnItem(sale.lines.get().pk, D("1"))], user=manager,
                                  reason="Refund", refund_to="CASH")
    etims_device_work(device_id=etims_device.pk)
    text = pdf_text(credit_note_pdf(sale_return=returned), tmp_path)
    assert "SCU INFORMATION — CREDIT NOTE" in text and "Original CU" in text
    assert f"{etims_device.sdc_id}/1" in text and f"{etims_device.sdc_id}/2" in text  # the original's, then its own
