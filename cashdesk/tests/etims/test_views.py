"""The eTIMS pages: settings (owner), the queue (full page and its partial), resend, purchases, and the
two searches the product and customer forms use."""

from decimal import Decimal as D

import pytest

from cashdesk.etims.models import EtimsDevice, EtimsItemClass, EtimsPurchase, EtimsSubmission
from cashdesk.etims.services import etims_device_work
from cashdesk.tests.etims.conftest import TIN, product, sell

pytestmark = pytest.mark.django_db


def test_the_owner_sets_a_branch_device_and_initialises_it(etims_settings, simulator, owner_client, branch):
    response = owner_client.post("/etims/settings/", {"branch": branch.pk, "action": "save", "environment": "simulator",
                                                      "tin": TIN.lower(), "bhf_id": "01", "serial_number": "SN-1"})
    assert response.status_code == 302
    device = EtimsDevice.objects.get(branch=branch)
    assert (device.tin, device.bhf_id, device.environment) == (TIN, "01", "simulator")
    owner_client.post("/etims/settings/", {"branch": branch.pk, "action": "initialise"})
    device.refresh_from_db()
    assert device.is_initialised and device.sdc_id
    page = owner_client.get(f"/etims/settings/?branch={branch.pk}").content.decode()
    assert device.sdc_id in page and "stored encrypted" in page and simulator.device(TIN, "01").cmc_key not in page


def test_settings_refuse_a_guessed_branch_id(etims_settings, owner_client, branch):
    response = owner_client.post("/etims/settings/", {"branch": branch.pk, "action": "save", "environment": "sandbox",
                                                      "tin": TIN, "bhf_id": "", "serial_number": "SN-1"})
    assert response.status_code == 200 and "2 digits KRA gave this device" in response.content.decode()
    assert not EtimsDevice.objects.filter(branch=branch).exists()


def test_queue_page_and_partial_show_refusals_with_resend(etims_device, simulator, grocery, branch, employee,
                                                          manager_client, settings, django_assert_max_num_queries):
    settings.ETIMS_TAXABLE_BASIS = "inclusive"  # refused by KRA
    sale = sell(employee, [(product(branch, grocery), 1)])
    etims_device_work(device_id=etims_device.pk)
    with django_assert_max_num_queries(40):
        page = manager_client.get("/etims/").content.decode()
    assert "Resend" in page and "taxblAmt" in page and sale.number in page
    partial = manager_client.get("/etims/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "refused by KRA" in partial
    refused = EtimsSubmission.objects.get(sale=sale)
    settings.ETIMS_TAXABLE_BASIS = "net"
    manager_client.post(f"/etims/submissions/{refused.pk}/retry/")
    refused.refresh_from_db()
    assert refused.status == "QUEUED"


def test_classification_search_fills_the_product_form(etims_device, manager_client):
    assert EtimsItemClass.objects.filter(code="5022110100").exists()
    options = manager_client.get("/etims/classifications/?kra_item_code=maize", HTTP_HX_REQUEST="true").content.decode()
    assert 'value="5022110100"' in options and "Maize flour" in options
    form = manager_client.get("/stock/products/new/").content.decode()
    assert "/etims/classifications/" in form and "<datalist" in form


def test_pin_check_answers_beside_the_customer_form(etims_device, employee_client):
    known = employee_client.get("/etims/pin/?kra_pin=A123456789Z").content.decode()
    assert "KRA: TAXPAYER A123456789Z" in known
    unknown = employee_client.get("/etims/pin/?kra_pin=A000000000Z").content.decode()
    assert "does not know" in unknown
    form = employee_client.get("/customers/new/").content.decode()
    assert "/etims/pin/" in form


def test_a_manager_accepts_a_declared_purchase(etims_device, simulator, manager_client):
    simulator.add_purchase(tin=TIN, invc_no=5, total="580.00")
    from cashdesk.etims.services import etims_purchases_fetch

    etims_purchases_fetch(device=etims_device)
    imported = EtimsPurchase.objects.get()
    assert imported.total == D("580.00")
    assert "Unga Wholesalers" in manager_client.get("/etims/purchases/").content.decode()
    response = manager_client.post(f"/etims/purchases/{imported.pk}/decide/", {"decision": "accept", "note": "ok"})
    assert response.status_code == 302
    imported.refresh_from_db()
    assert imported.decision == "ACCEPTED"
    assert EtimsSubmission.objects.filter(kind="PURCHASE", purchase_import=imported).exists()


@pytest.mark.parametrize("model", ["etimsdevice", "etimssubmission", "etimssignature", "etimsitem", "etimscode",
                                   "etimsitemclass", "etimspurchase"])
def test_the_admin_shows_etims_records_read_only(owner_client, etims_device, model):
    from django.urls import reverse

    assert owner_client.get(reverse(f"admin:cashdesk_{model}_changelist")).status_code == 200
    assert owner_client.get(reverse(f"admin:cashdesk_{model}_add")).status_code == 403


def test_the_admin_never_shows_the_device_key(owner_client, etims_device, simulator):
    from django.urls import reverse

    page = owner_client.get(reverse("admin:cashdesk_etimsdevice_change", args=[etims_device.pk])).content.decode()
    assert etims_device.cmc_key_encrypted not in page and simulator.device("P051234567X", "01").cmc_key not in page
