"""The eTIMS reports: VAT per band signed and unsigned, and the reconciliation of sales and signatures."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.utils import timezone

from cashdesk.etims.models import EtimsDevice
from cashdesk.etims.services import etims_device_work
from cashdesk.tests.etims.conftest import etims_device, etims_settings, grocery, product, sell, simulator  # noqa: F401
from reports.etims_selectors import reconciliation, vat_signed_unsigned
from reports.selectors import Period

pytestmark = pytest.mark.django_db


def today() -> Period:
    day = timezone.localdate()
    return Period(day - dt.timedelta(days=1), day + dt.timedelta(days=1))


def test_vat_report_splits_signed_and_unsigned_per_band(etims_device, simulator, grocery, branch, employee):  # noqa: F811
    signed = sell(employee, [(product(branch, grocery, price="116.00"), 1)])
    etims_device_work(device_id=etims_device.pk)
    simulator.set_mode("outage")
    sell(employee, [(product(branch, grocery, price="232.00"), 1), (product(branch, grocery, price="50.00",
                                                                              tax_class="A"), 1)])
    etims_device_work(device_id=etims_device.pk)
    rows = {row["tax_class"]: row for row in vat_signed_unsigned(period=today())}
    assert (rows["B"]["signed_gross"], rows["B"]["signed_vat"]) == (D("116.00"), D("16.00"))
    assert (rows["B"]["unsigned_gross"], rows["B"]["unsigned_vat"]) == (D("232.00"), D("32.00"))
    assert (rows["A"]["signed_gross"], rows["A"]["unsigned_gross"]) == (D("0.00"), D("50.00"))
    assert signed.pk


def test_reconciliation_lists_unsigned_sales_and_numbers_with_no_sale(etims_device, simulator, grocery, branch,  # noqa: F811
                                                                      employee):
    sell(employee, [(product(branch, grocery), 1)])
    etims_device_work(device_id=etims_device.pk)
    simulator.set_mode("outage")
    waiting = sell(employee, [(product(branch, grocery), 1)])
    etims_device_work(device_id=etims_device.pk)
    EtimsDevice.objects.filter(pk=etims_device.pk).update(last_invc_no=2)  # KRA says it accepted a 2nd invoice
    rows = reconciliation(period=today())
    kinds = {(row["kind"], row["document"]) for row in rows}
    assert ("Sale with no signature", waiting.number) in kinds
    assert ("Signature with no sale", f"{etims_device.sdc_id}/2") in kinds


def test_the_reports_render_for_a_manager(etims_device, manager_client):  # noqa: F811
    for slug in ("vat-etims", "etims-reconciliation"):
        response = manager_client.get(f"/reports/view/{slug}/")
        assert response.status_code == 200, slug
