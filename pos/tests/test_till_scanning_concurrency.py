"""Scans under concurrency on MariaDB: the same scan sent twice at once (a retry racing the original, two
tabs replaying one queue) adds once; two tabs of one cashier scanning different items at once both land."""

from decimal import Decimal as D

import pytest
from django.db import connection

from inventory.tests.factories import ProductFactory, stock_in
from pos.sales.models import SaleScan
from pos.sales.services import sale_add_scanned, sale_get_or_open
from pos.tests.concurrency import run_together
from pos.tests.factories import UserFactory

pytestmark = [pytest.mark.mysql_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_mysql():
    if connection.vendor != "mysql":
        pytest.skip("needs MariaDB/MySQL row locks")


def _scan(cashier, product, scan_id):
    return lambda: sale_add_scanned(sale=sale_get_or_open(cashier=cashier), product=product, user=cashier,
                                    quantity=D("1"), scan_id=scan_id)


def test_one_scan_sent_twice_at_once_adds_once(branch):
    cashier = UserFactory(branch=branch)
    soap = ProductFactory(name="Geisha soap 225g")
    stock_in(soap, branch, 10)
    sale_get_or_open(cashier=cashier)
    results = run_together(*(_scan(cashier, soap, "c0ffee") for _ in range(4)))
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sum(1 for r in results if r is not None) == 1  # one added, the others found it done
    sale = sale_get_or_open(cashier=cashier)
    assert [(line.product_name, line.quantity) for line in sale.lines.all()] == [("Geisha soap 225g", D("1"))]
    assert SaleScan.objects.filter(cashier=cashier, scan_id="c0ffee").count() == 1


def test_two_tabs_scanning_different_items_at_once_both_land(branch):
    cashier = UserFactory(branch=branch)
    items = [ProductFactory() for _ in range(6)]
    for product in items:
        stock_in(product, branch, 10)
    sale_get_or_open(cashier=cashier)
    results = run_together(*(_scan(cashier, product, f"tab-{n}") for n, product in enumerate(items)))
    assert not [r for r in results if isinstance(r, BaseException)], results
    sale = sale_get_or_open(cashier=cashier)
    assert sorted(line.product_id for line in sale.lines.all()) == sorted(p.pk for p in items)
    assert sorted(line.position for line in sale.lines.all()) == list(range(1, 7))
    assert sale.total == sum(p.selling_price for p in items)
