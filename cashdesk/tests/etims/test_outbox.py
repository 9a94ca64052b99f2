"""The outbox against the simulator: numbers allocated at send time, advanced only on acceptance, no gap,
no duplicate, whatever KRA does (outage, lost answers, refusals, garbage)."""

from decimal import Decimal as D

import pytest

from cashdesk.etims import services
from cashdesk.etims.models import EtimsDevice, EtimsSignature, EtimsSubmission, SubmissionStatus
from cashdesk.etims.services import etims_device_work
from cashdesk.tests.etims.conftest import BHF, TIN, product, sell
from pos.sales.models import SaleStatus

pytestmark = pytest.mark.django_db


def work(etims_device):
    return etims_device_work(device_id=etims_device.pk)


def numbers_signed(etims_device):
    return list(EtimsSubmission.objects.filter(device=etims_device, status="SIGNED", sequence="invc")
                .order_by("accepted_at", "id").values_list("number", flat=True))


def test_a_completed_sale_is_signed_with_invoice_number_one(etims_device, simulator, grocery, branch, employee):
    sale = sell(employee, [(product(branch, grocery, price="349.00"), 2)])
    submission = EtimsSubmission.objects.get(sale=sale, kind="SALE")
    assert submission.status == SubmissionStatus.QUEUED and submission.number is None  # numbered at send time
    work(etims_device)
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SIGNED and submission.number == 1
    signature = EtimsSignature.objects.get(sale=sale)
    assert signature.rcpt_sign and signature.sdc_id == etims_device.sdc_id and signature.invc_no == 1
    assert signature.total == D("698.00") and signature.tax_total == D("96.28")
    assert simulator.accepted_invoices(TIN, BHF) == [1]
    etims_device.refresh_from_db()
    assert etims_device.last_invc_no == 1


def test_a_ten_minute_outage_drains_in_order_afterwards(etims_device, simulator, grocery, branch, employee, fake_clock,
                                                        manager_client):
    item = product(branch, grocery)
    simulator.set_mode("outage")
    sales = []
    for _minute in range(10):  # KRA down; the till sells one sale a minute for ten minutes
        sales.append(sell(employee, [(item, 1)]))
        work(etims_device)
        fake_clock.advance(minutes=1)
    assert all(sale.status == SaleStatus.COMPLETED for sale in sales)  # the till kept selling
    assert simulator.accepted_invoices(TIN, BHF) == []
    etims_device.refresh_from_db()
    assert etims_device.last_invc_no == 0 and etims_device.paused_until is not None
    page = manager_client.get("/etims/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "KRA is not answering" in text and 'data-testid="etims-depth">10<' in text
    simulator.set_mode("normal")
    fake_clock.advance(minutes=6)  # past the longest back-off
    work(etims_device)
    assert simulator.accepted_invoices(TIN, BHF) == list(range(1, 11))
    by_sale = [EtimsSubmission.objects.get(sale=sale, kind="SALE").number for sale in sales]
    assert by_sale == list(range(1, 11))  # in the order they were sold
    assert EtimsSubmission.objects.filter(device=etims_device).exclude(status="SIGNED").count() == 0


def test_lost_answer_then_994_on_the_resend_is_reconciled(etims_device, simulator, grocery, branch, employee,
    fake_clock,
                                                          settings):
    settings.ETIMS_INVOICE_LOOKUP = False  # only the resend can tell
    item = product(branch, grocery)
    first = sell(employee, [(item, 1)])
    simulator.set_mode("drop_reply", count=1, endpoint="saveTrnsSalesOsdc")  # KRA accepts, the answer never arrives
    work(etims_device)
    submission = EtimsSubmission.objects.get(sale=first, kind="SALE")
    assert submission.status == SubmissionStatus.IN_DOUBT and submission.number == 1  # keeps its number
    assert simulator.accepted_invoices(TIN, BHF) == [1]
    second = sell(employee, [(item, 1)])
    work(etims_device)  # paused: nothing else goes while the first is in doubt
    assert EtimsSubmission.objects.get(sale=second).status == SubmissionStatus.QUEUED
    fake_clock.advance(minutes=1)
    frozen = submission.payload
    work(etims_device)
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SIGNED and submission.result_cd == "994"
    assert submission.payload == frozen  # the identical payload was resent
    signature = EtimsSignature.objects.get(sale=first)
    assert signature.reconciled and signature.invc_no == 1
    assert EtimsSubmission.objects.get(sale=second).number == 2
    assert simulator.accepted_invoices(TIN, BHF) == [1, 2]  # never sent twice
    assert [code for endpoint, code in simulator.requests if endpoint == "saveTrnsSalesOsdc"] == ["000", "994", "000"]


def test_lost_answer_is_settled_by_asking_kra(etims_device, simulator, grocery, branch, employee, fake_clock):
    sale = sell(employee, [(product(branch, grocery), 1)])
    simulator.set_mode("drop_reply", count=1, endpoint="saveTrnsSalesOsdc")
    work(etims_device)
    fake_clock.advance(minutes=1)
    work(etims_device)
    signature = EtimsSignature.objects.get(sale=sale)
    assert not signature.reconciled and signature.rcpt_sign  # the real signature, from selectInvoiceDetails
    assert simulator.accepted_invoices(TIN, BHF) == [1]


def test_a_refused_sale_releases_its_number(etims_device, simulator, grocery, branch, employee, settings, manager):
    item = product(branch, grocery, price="100.00")
    settings.ETIMS_TAXABLE_BASIS = "inclusive"  # KRA (the simulator) wants the net base: refused
    bad = sell(employee, [(item, 1)])
    work(etims_device)
    refused = EtimsSubmission.objects.get(sale=bad)
    assert refused.status == SubmissionStatus.REJECTED and refused.number is None
    assert refused.result_cd == "910" and "taxblAmt" in refused.result_msg
    settings.ETIMS_TAXABLE_BASIS = "net"
    good = sell(employee, [(item, 1)])
    work(etims_device)
    assert EtimsSubmission.objects.get(sale=good).number == 1  # the released number
    services.etims_submission_retry(submission=refused, user=manager)  # fixed: resend
    work(etims_device)
    refused.refresh_from_db()
    assert refused.status == SubmissionStatus.SIGNED and refused.number == 2
    assert simulator.accepted_invoices(TIN, BHF) == [1, 2]


@pytest.mark.parametrize("mode", ["garbage", "html", "error999"])
def test_garbage_html_or_999_stop_the_queue_until_known(etims_device, simulator, grocery, branch, employee, fake_clock,
                                                        mode):
    item = product(branch, grocery)
    first, second = sell(employee, [(item, 1)]), sell(employee, [(item, 2)])
    simulator.set_mode(mode, count=1, endpoint="saveTrnsSalesOsdc")
    work(etims_device)
    assert EtimsSubmission.objects.get(sale=first).status == SubmissionStatus.IN_DOUBT
    assert EtimsSubmission.objects.get(sale=second).status == SubmissionStatus.QUEUED
    fake_clock.advance(minutes=1)
    work(etims_device)
    assert [EtimsSubmission.objects.get(sale=s).number for s in (first, second)] == [1, 2]
    assert simulator.accepted_invoices(TIN, BHF) == [1, 2]


def test_unreachable_kra_gives_the_number_back(etims_device, simulator, grocery, branch, employee, fake_clock,
    settings):
    sale = sell(employee, [(product(branch, grocery), 1)])
    settings.ETIMS_BASE_URL = "http://127.0.0.1:9"  # nothing listens: the request never left
    work(etims_device)
    submission = EtimsSubmission.objects.get(sale=sale)
    assert submission.status == SubmissionStatus.QUEUED and submission.number is None
    settings.ETIMS_BASE_URL = simulator.base_url
    fake_clock.advance(minutes=1)
    work(etims_device)
    submission.refresh_from_db()
    assert submission.number == 1 and submission.status == SubmissionStatus.SIGNED


def test_a_worker_dying_mid_call_loses_and_doubles_nothing(etims_device, simulator, grocery, branch, employee,
    fake_clock):
    item = product(branch, grocery)
    services.etims_item_register(device=etims_device, product=item)
    sold = sell(employee, [(item, 1)])
    step = services.outbox_claim(etims_device.pk)
    services.outbox_send(step)  # KRA accepted; the worker died before writing it down
    assert simulator.accepted_invoices(TIN, BHF) == [1]
    assert work(etims_device) == 0  # its lease still holds: nobody else sends
    fake_clock.advance(minutes=10)  # the lease runs out
    never_sent = sell(employee, [(item, 1)])
    work(etims_device)
    assert EtimsSubmission.objects.get(sale=sold).status == SubmissionStatus.SIGNED
    assert EtimsSubmission.objects.get(sale=never_sent).number == 2
    assert simulator.accepted_invoices(TIN, BHF) == [1, 2]
    # A claim that died before sending: the number stays bound, the payload is resent once.
    third = sell(employee, [(item, 1)])
    services.outbox_claim(etims_device.pk)
    fake_clock.advance(minutes=10)
    work(etims_device)
    assert EtimsSubmission.objects.get(sale=third).number == 3
    assert simulator.accepted_invoices(TIN, BHF) == [1, 2, 3]


def test_a_product_with_no_classification_waits_and_blocks_nothing(etims_device, simulator, branch, employee, grocery):
    from inventory.tests.factories import CategoryFactory

    unclassified = product(branch, CategoryFactory(name="Odds and ends"), name="Mystery box")
    waiting = sell(employee, [(unclassified, 1)])
    fine = sell(employee, [(product(branch, grocery), 1)])
    work(etims_device)
    held = EtimsSubmission.objects.get(sale=waiting)
    assert held.status == SubmissionStatus.QUEUED and "no KRA item classification" in held.waiting_reason
    assert EtimsSubmission.objects.get(sale=fine).number == 1
    unclassified.kra_item_code = "5310150000"
    unclassified.save()
    work(etims_device)
    held.refresh_from_db()
    assert held.number == 2 and held.status == SubmissionStatus.SIGNED


def test_device_codes_stop_the_queue_until_a_manager_resumes(etims_device, simulator, grocery, branch, employee,
    manager):
    sale = sell(employee, [(product(branch, grocery), 1)])
    simulator.device(TIN, BHF).cmc_key = "ROTATED"  # KRA no longer knows our key: 901
    work(etims_device)
    etims_device.refresh_from_db()
    assert etims_device.stopped_reason and "901" in etims_device.stopped_reason
    assert EtimsSubmission.objects.get(sale=sale).number is None
    assert work(etims_device) == 0


def test_eTIMS_off_queues_nothing(etims_settings, branch, employee, grocery):
    EtimsDevice.objects.create(branch=branch, environment="off")
    sale = sell(employee, [(product(branch, grocery), 1)])
    assert not EtimsSubmission.objects.filter(sale=sale).exists()


def test_a_real_timeout_keeps_the_number_and_is_settled(etims_device, simulator, grocery, branch, employee,
                                                        fake_clock, settings):
    settings.ETIMS_TIMEOUT = 0.5
    sale = sell(employee, [(product(branch, grocery), 1)])
    services.etims_item_register(device=etims_device, product=sale.lines.get().product)
    simulator.set_mode("slow", count=1, delay=1.5, endpoint="saveTrnsSalesOsdc")  # KRA answers too late
    work(etims_device)
    submission = EtimsSubmission.objects.get(sale=sale)
    assert submission.status == SubmissionStatus.IN_DOUBT and submission.number == 1
    fake_clock.advance(minutes=1)
    work(etims_device)
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SIGNED and simulator.accepted_invoices(TIN, BHF) == [1]


def test_the_queue_page_warns_when_sales_wait_too_long(etims_device, simulator, grocery, branch, employee,
                                                       fake_clock, settings):
    from cashdesk.etims.selectors import queue_summary

    settings.ETIMS_LATE_SUBMISSION_HOURS = 1
    simulator.set_mode("outage")
    sell(employee, [(product(branch, grocery), 1)])
    fake_clock.advance(hours=2)
    assert "older than 1 h" in queue_summary(device=etims_device).state
