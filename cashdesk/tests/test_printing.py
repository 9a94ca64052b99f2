"""The counter's printer: ESC/POS receipts and drawer kicks sent to a printer on a local TCP port, and
what the cashier sees when the printer is off, hung or not a printer at all."""

from decimal import Decimal as D

import pytest

from cashdesk.models import Payment
from cashdesk.printing.models import PaperWidth, PrintJob, PrintJobKind, PrintJobStatus, ReceiptPrinter
from cashdesk.printing.services import PrintingError, drawer_open, print_job_retry, receipt_print_queue
from cashdesk.printing.thermal import receipt_bytes
from cashdesk.services import Tender, sale_checkout
from cashdesk.tests.factories import open_session, ring_up
from cashdesk.tests.printing_support import GARBAGE, OFFLINE, FakePrinter, closed_port, text_of
from core.errors import ConflictError
from pos.people.audit import AuditAction
from pos.people.models import AuditLog, ShopSettings
from pos.sales.models import SaleStatus
from pos.sales.receipts import receipt_context

pytestmark = pytest.mark.django_db

DRAWER_KICK = b"\x1bp\x00"  # ESC p, pin 2
FULL_CUT = b"\x1dV\x00"  # GS V 0
QR_STORE = b"\x1d(k"  # GS ( k: the printer draws the QR code itself
QR_PRINT = b"\x1d(k\x03\x001Q0"


@pytest.fixture(autouse=True)
def _quick_printer(settings):
    settings.RECEIPT_PRINTER_TIMEOUT = 0.5
    settings.RECEIPT_PRINTER_CHECK_STATUS = True


@pytest.fixture
def shop(db):
    settings = ShopSettings.load()
    settings.shop_name = "Mama Njeri Supermarket"
    settings.kra_pin = "P051234567X"
    settings.save()
    return settings


def _printer(branch, port, width=PaperWidth.MM80):
    return ReceiptPrinter.objects.create(branch=branch, host="127.0.0.1", port=port, paper_width=width)


def _pay_cash(employee, branch, cash="500", key="print-1"):
    open_session(employee)
    sale = ring_up(employee, branch, ("116.00", "2", "B"), ("50.00", "1", "A"))
    return sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D(cash))], idempotency_key=key)


def test_cash_sale_prints_the_receipt_cuts_and_kicks_the_drawer(
    employee, branch, shop, django_capture_on_commit_callbacks
):
    with FakePrinter() as printer:
        _printer(branch, printer.port)
        with django_capture_on_commit_callbacks(execute=True):
            sale = _pay_cash(employee, branch)
    assert len(printer.jobs) == 1
    job_bytes = printer.jobs[0]
    text = text_of(job_bytes)
    for printed in ("Mama Njeri Supermarket", "KRA PIN P051234567X", "SALES RECEIPT", sale.number,
                    "TOTAL KES", "282.00", "B 16%", "A Exempt", "Total VAT", "Cash", "500.00", "Change", "218.00"):
        assert printed in text, printed
    assert "COPY" not in text
    assert QR_STORE in job_bytes and QR_PRINT in job_bytes
    assert sale.number.encode() in job_bytes.split(QR_STORE, 1)[1]  # the QR code holds the sale number
    assert FULL_CUT in job_bytes and DRAWER_KICK in job_bytes
    assert job_bytes.index(FULL_CUT) < job_bytes.index(DRAWER_KICK)
    job = PrintJob.objects.get(sale=sale)
    assert (job.kind, job.status, job.attempts) == (PrintJobKind.RECEIPT, PrintJobStatus.PRINTED, 1)
    assert job.open_drawer


def test_a_card_sale_prints_without_opening_the_drawer(employee, branch, shop, django_capture_on_commit_callbacks):
    with FakePrinter() as printer:
        _printer(branch, printer.port)
        open_session(employee)
        sale = ring_up(employee, branch, ("100.00", "1"))
        with django_capture_on_commit_callbacks(execute=True):
            sale_checkout(sale=sale, user=employee, tenders=[Tender("CARD", D("100"), "TX-9")], idempotency_key="c1")
    assert len(printer.jobs) == 1
    assert DRAWER_KICK not in printer.jobs[0] and FULL_CUT in printer.jobs[0]


def test_58mm_paper_keeps_lines_within_32_columns(employee, branch, shop):
    _printer(branch, closed_port(), width=PaperWidth.MM58)
    sale = _pay_cash(employee, branch)
    job_bytes = receipt_bytes(receipt_context(sale=sale), columns=32)
    lines = [line for line in text_of(job_bytes).split("\n") if "TOTAL" in line or "Change" in line]
    assert lines and all(len(line.split("\x1b")[-1]) <= 34 for line in lines)


def test_the_kra_block_and_its_qr_are_printed(employee, branch, shop):
    sale = _pay_cash(employee, branch)
    context = receipt_context(sale=sale)
    context["fiscal"] = {
        "title": "SCU INFORMATION", "pending": False, "notice": "",
        "rows": [("SCU ID", "KRACU0100000001"), ("Receipt signature", "Q7KX-2M4T-RB9W")],
        "qr_url": "https://etims-sbx.kra.go.ke/common/link/etims/receipt/indexEtimsReceiptData?Data=P0512",
    }
    job_bytes = receipt_bytes(context, columns=42)
    text = text_of(job_bytes)
    assert "SCU INFORMATION" in text and "KRACU0100000001" in text and "Q7KX-2M4T-RB9W" in text
    assert b"indexEtimsReceiptData?Data=P0512" in job_bytes.split(QR_STORE, 1)[1]


def test_printer_switched_off_fails_the_job_with_a_message_and_the_sale_stays_completed(
    employee, branch, shop, django_capture_on_commit_callbacks
):
    _printer(branch, closed_port())
    with django_capture_on_commit_callbacks(execute=True):
        sale = _pay_cash(employee, branch)
    sale.refresh_from_db()
    assert sale.status == SaleStatus.COMPLETED
    job = PrintJob.objects.get(sale=sale)
    assert job.status == PrintJobStatus.FAILED and job.attempts == 1
    assert "refused the connection" in job.error and "switched on" in job.error
    assert Payment.objects.filter(sale=sale).count() == 1


def test_a_printer_that_never_answers_times_out(employee, branch, shop, django_capture_on_commit_callbacks):
    with FakePrinter(answer=None) as printer:
        _printer(branch, printer.port)
        with django_capture_on_commit_callbacks(execute=True):
            sale = _pay_cash(employee, branch)
    job = PrintJob.objects.get(sale=sale)
    assert job.status == PrintJobStatus.FAILED
    assert "did not answer in time" in job.error


@pytest.mark.parametrize("answer,message", [(GARBAGE, "not like a receipt printer"), (OFFLINE, "offline")])
def test_garbage_or_an_offline_printer_is_told_apart(
    employee, branch, shop, answer, message, django_capture_on_commit_callbacks
):
    with FakePrinter(answer=answer) as printer:
        _printer(branch, printer.port)
        with django_capture_on_commit_callbacks(execute=True):
            sale = _pay_cash(employee, branch)
    job = PrintJob.objects.get(sale=sale)
    assert job.status == PrintJobStatus.FAILED and message in job.error
    assert printer.jobs == [b""]  # nothing was sent after the bad answer


def test_retry_prints_once_the_printer_is_back_and_never_charges_again(
    employee, branch, shop, django_capture_on_commit_callbacks
):
    printer_row = _printer(branch, closed_port())
    with django_capture_on_commit_callbacks(execute=True):
        sale = _pay_cash(employee, branch)
    job = PrintJob.objects.get(sale=sale)
    assert job.status == PrintJobStatus.FAILED
    with FakePrinter() as printer:
        printer_row.port = printer.port
        printer_row.save()
        with django_capture_on_commit_callbacks(execute=True):
            print_job_retry(job=job, user=employee)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.error) == (PrintJobStatus.PRINTED, 2, "")
    assert len(printer.jobs) == 1 and DRAWER_KICK in printer.jobs[0]
    assert Payment.objects.filter(sale=sale).count() == 1
    with pytest.raises(ConflictError):
        print_job_retry(job=job, user=employee)


def test_a_retried_checkout_queues_no_second_receipt(employee, branch, shop):
    _printer(branch, closed_port())
    sale = _pay_cash(employee, branch, key="same-key")
    sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D("500"))], idempotency_key="same-key")
    assert PrintJob.objects.filter(sale=sale).count() == 1


def test_copy_is_marked(employee, branch, shop, django_capture_on_commit_callbacks):
    with FakePrinter() as printer:
        _printer(branch, printer.port)
        sale = _pay_cash(employee, branch)
        with django_capture_on_commit_callbacks(execute=True):
            job = receipt_print_queue(sale=sale, user=employee, copy=True)
    assert job.kind == PrintJobKind.COPY
    assert "*** COPY - NOT THE ORIGINAL ***" in text_of(printer.jobs[-1])
    assert DRAWER_KICK not in printer.jobs[-1]


def test_no_printer_at_the_branch_prints_nothing(employee, branch, shop):
    sale = _pay_cash(employee, branch)
    assert receipt_print_queue(sale=sale, user=employee) is None
    assert not PrintJob.objects.exists()


def test_open_drawer_needs_a_reason_and_is_audited(employee, branch, shop, django_capture_on_commit_callbacks):
    with FakePrinter() as printer:
        _printer(branch, printer.port)
        with pytest.raises(PrintingError) as refused:
            drawer_open(user=employee, reason="  ")
        assert refused.value.field == "reason"
        assert not PrintJob.objects.exists()
        with django_capture_on_commit_callbacks(execute=True):
            job = drawer_open(user=employee, reason="Change for the M-Pesa agent")
    assert printer.jobs == [DRAWER_KICK + b"22"]  # ESC p 0 t1 t2: just the kick, no paper
    job.refresh_from_db()
    assert job.status == PrintJobStatus.PRINTED and job.sale is None
    entry = AuditLog.objects.get(action=AuditAction.DRAWER_OPENED)
    assert entry.user == employee and entry.reason == "Change for the M-Pesa agent"


def test_open_drawer_without_a_printer_says_so(employee, shop):
    with pytest.raises(PrintingError, match="no receipt printer"):
        drawer_open(user=employee, reason="Change")


def test_an_authorised_reprint_prints_a_copy_and_is_audited(
    employee, manager_client, branch, shop, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    with FakePrinter() as printer:
        _printer(branch, printer.port)
        with django_capture_on_commit_callbacks(execute=True):
            sale = _pay_cash(employee, branch)
        with django_capture_on_commit_callbacks(execute=True):
            response = manager_client.post(reverse("sales:reprint", args=[sale.pk]), {"reason": "Customer lost it"},
                                           follow=True)
    assert b"a COPY is printing on the counter printer" in response.content
    assert [job.kind for job in PrintJob.objects.filter(sale=sale).order_by("pk")] == ["RECEIPT", "COPY"]
    assert len(printer.jobs) == 2
    assert "COPY" not in text_of(printer.jobs[0]) and "*** COPY - NOT THE ORIGINAL ***" in text_of(printer.jobs[1])
    assert DRAWER_KICK not in printer.jobs[1]  # a copy never opens the drawer
    entry = AuditLog.objects.get(action=AuditAction.REPRINT)
    assert entry.reason == "Customer lost it" and entry.object_id == str(sale.pk)


def test_the_receipt_page_tells_the_cashier_it_did_not_print_and_retries(
    employee, employee_client, branch, shop, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    printer_row = _printer(branch, closed_port())
    with django_capture_on_commit_callbacks(execute=True):
        sale = _pay_cash(employee, branch)
    status_url = reverse("cashdesk:print_status", args=[sale.pk])
    page = employee_client.get(status_url)
    assert page.status_code == 200 and b"<html" in page.content and b"Not printed." in page.content
    fragment = employee_client.get(status_url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and "refused the connection" in fragment
    assert "The sale is completed and paid" in fragment
    job = PrintJob.objects.get(sale=sale)
    assert reverse("cashdesk:print_job_retry", args=[job.pk]) in fragment
    with FakePrinter() as printer:
        printer_row.port = printer.port
        printer_row.save()
        with django_capture_on_commit_callbacks(execute=True):
            retried = employee_client.post(reverse("cashdesk:print_job_retry", args=[job.pk]), HTTP_HX_REQUEST="true")
    # the task ran after the commit: the fragment answered while it was queued, the job is printed now
    assert retried.status_code == 200 and 'id="print-status"' in retried.content.decode()
    assert len(printer.jobs) == 1
    assert "Receipt printed, drawer opened." in employee_client.get(status_url, HTTP_HX_REQUEST="true").content.decode()
    sale.refresh_from_db()
    assert sale.status == SaleStatus.COMPLETED and Payment.objects.filter(sale=sale).count() == 1


def test_a_waiting_job_polls_in_the_background(employee, employee_client, branch, shop):
    from django.urls import reverse

    _printer(branch, closed_port())
    sale = _pay_cash(employee, branch)  # on_commit never runs here: the job is still waiting
    fragment = employee_client.get(reverse("cashdesk:print_status", args=[sale.pk]), HTTP_HX_REQUEST="true")
    text = fragment.content.decode()
    assert "Printing on" in text and 'hx-trigger="every 2s"' in text and "X-Asiria-Background" in text
