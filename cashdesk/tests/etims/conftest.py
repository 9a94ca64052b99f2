"""Fixtures for eTIMS: the local OSCU simulator on a free port, a branch device initialised with it,
a fake clock, and a helper that rings up and completes a sale at the till."""

import uuid
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from cashdesk.etims import clock
from cashdesk.etims.models import EtimsDevice
from cashdesk.etims.services import etims_codes_sync, etims_device_initialise, etims_item_classes_sync
from cashdesk.etims.simulator import EtimsSimulator
from cashdesk.services import Tender, sale_checkout
from cashdesk.tests.factories import open_session
from inventory.tests.factories import CategoryFactory, ProductFactory, stock_in
from pos.sales.services import sale_add_product, sale_get_or_open

TIN = "P051234567X"
BHF = "01"  # not "00": KRA gives OSCU devices their own branch id


@pytest.fixture
def simulator():
    sim = EtimsSimulator("127.0.0.1", 0).start()
    yield sim
    sim.stop()


@pytest.fixture
def etims_settings(settings, simulator):
    settings.ETIMS_ENVIRONMENT = "simulator"
    settings.ETIMS_BASE_URL = simulator.base_url
    settings.ETIMS_TIMEOUT = 2
    settings.ETIMS_INIT_TIMEOUT = 2
    settings.ETIMS_INVOICE_LOOKUP = True
    return settings


class FakeClock:
    """eTIMS's clock, moved by hand: back-off and outages without waiting."""

    def __init__(self):
        self.moment = timezone.now()

    def __call__(self):
        return self.moment

    def advance(self, **delta):
        self.moment += timedelta(**delta)


@pytest.fixture
def fake_clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(clock, "now", fake)
    return fake


def make_device(branch, *, tin=TIN, bhf=BHF, serial="ASIRIAPOS-TEST-01") -> EtimsDevice:
    device = EtimsDevice.objects.create(branch=branch, environment="simulator", tin=tin, bhf_id=bhf,
                                        serial_number=serial)
    device = etims_device_initialise(device=device)
    etims_codes_sync(device=device)
    etims_item_classes_sync(device=device)
    return device


@pytest.fixture
def etims_device(etims_settings, branch):
    return make_device(branch)


@pytest.fixture
def grocery(db):
    """A category whose products default to a classification the simulator knows."""
    return CategoryFactory(name="Groceries", kra_item_code="5022110100")


def product(branch, category, *, price="100.00", tax_class="B", stock=1000, name=None, **extra):
    item = ProductFactory(selling_price=D(price), tax_class=tax_class, category=category,
                          **({"name": name} if name else {}), **extra)
    stock_in(item, branch, stock)
    return item


def sell(cashier, lines, *, tenders=None, customer=None):
    """Ring up `lines` [(product, qty)] and pay in cash (or `tenders`); the completed sale."""
    if not cashier.cash_sessions.filter(status="OPEN").exists():
        open_session(cashier)
    sale = sale_get_or_open(cashier=cashier)
    if customer is not None:
        sale.customer = customer
        sale.save(update_fields=["customer"])
    for item, quantity in lines:
        sale_add_product(sale=sale, product=item, user=cashier, quantity=D(str(quantity)))
    sale.refresh_from_db()
    tenders = tenders or [Tender("CASH", sale.total)]
    return sale_checkout(sale=sale, user=cashier, tenders=tenders, idempotency_key=uuid.uuid4().hex)
