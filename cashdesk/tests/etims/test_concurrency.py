"""Eight tills completing 200 sales at once on MariaDB: invcNo exactly 1..200 in acceptance order.

Each checkout queues its sale in its own transaction and works the etims_device's queue after the commit (the
Huey task runs inline in tests), so eight workers race for the one etims_device: the row lock and the lease
let one call be in flight at a time, and numbers are taken only at send time."""

import uuid
from decimal import Decimal as D

import pytest
from django.db import OperationalError, connection

from cashdesk.etims.models import EtimsDevice, EtimsSignature, EtimsSubmission
from cashdesk.etims.services import etims_device_work, etims_item_register
from cashdesk.services import Tender, sale_checkout
from cashdesk.tests.etims.conftest import BHF, TIN, make_device, product
from cashdesk.tests.factories import open_session
from pos.sales.services import sale_add_product, sale_get_or_open
from pos.tests.concurrency import run_together
from pos.tests.factories import UserFactory

pytestmark = [pytest.mark.mysql_only, pytest.mark.django_db(transaction=True)]
TILLS, SALES_PER_TILL = 8, 25


@pytest.fixture(autouse=True)
def _needs_mysql():
    if connection.vendor != "mysql":
        pytest.skip("needs MariaDB/MySQL row locks")


def test_eight_tills_two_hundred_sales_numbered_one_to_two_hundred(etims_settings, simulator, branch, grocery):
    etims_device = make_device(branch)
    items = [product(branch, grocery, price=f"{50 + i}.00", stock=10_000) for i in range(4)]
    for item in items:
        etims_item_register(device=etims_device, product=item)
    cashiers = [UserFactory(branch=branch) for _ in range(TILLS)]
    for cashier in cashiers:
        open_session(cashier)

    def till(cashier, offset):
        def ring():
            for n in range(SALES_PER_TILL):
                sale = sale_get_or_open(cashier=cashier)
                sale_add_product(sale=sale, product=items[(offset + n) % len(items)], user=cashier,
                                 quantity=D(1 + n % 3))
                sale.refresh_from_db()
                key = uuid.uuid4().hex
                for attempt in range(10):  # the till resends a checkout that lost a deadlock (same key)
                    try:
                        sale_checkout(sale=sale, user=cashier, tenders=[Tender("CASH", sale.total)],
                                      idempotency_key=key)
                        break
                    except OperationalError as exc:
                        if exc.args[0] != 1213 or attempt == 9:
                            raise
            return "done"
        return ring

    results = run_together(*[till(c, i) for i, c in enumerate(cashiers)], timeout=900)
    assert results == ["done"] * TILLS, results
    etims_device_work(device_id=etims_device.pk)  # anything a worker left as it finished
    expected = list(range(1, TILLS * SALES_PER_TILL + 1))
    assert simulator.accepted_invoices(TIN, BHF) == expected  # KRA saw 1..200, in that order
    signed = list(EtimsSignature.objects.order_by("submission__accepted_at", "id").values_list("invc_no", flat=True))
    assert signed == expected
    assert EtimsSubmission.objects.filter(kind="SALE").count() == TILLS * SALES_PER_TILL
    assert not EtimsSubmission.objects.exclude(status="SIGNED").exists()
    assert EtimsDevice.objects.get(pk=etims_device.pk).last_invc_no == TILLS * SALES_PER_TILL
    assert [code for endpoint, code in simulator.requests if endpoint == "saveTrnsSalesOsdc"] == ["000"] * 200
    assert D("0") < sum(s.total for s in EtimsSignature.objects.all())
