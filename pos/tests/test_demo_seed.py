"""The demo shop, seeded once for this module: believable, valid barcodes, every ledger true, and a
second run that changes nothing.

`seed_demo` is the slowest command the suite runs, so it runs here only, twice in all (the second run
is what the idempotence checks need), inside a transaction rolled back when the module is done.
"""

from io import StringIO
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import transaction

from cashdesk.models import CashSession, Payment, SessionStatus
from core.roles import Role
from inventory.barcodes import barcode_problem
from inventory.models import Category, MovementKind, Product, StockLevel, StockMovement, TaxClass, Unit
from pos.people.models import Branch, User
from pos.sales.models import Sale, SaleStatus
from pos.tests.factories import put_back_migration_rows
from reports.analytics_models import ProductForecast
from reports.demo import KEY_PREFIX

pytestmark = pytest.mark.django_db

OUR_APPS = ("pos", "inventory", "cashdesk", "reports")
DAYS = 4


def _counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for label in OUR_APPS
        for model in apps.get_app_config(label).get_models()
    }


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        put_back_migration_rows()  # an earlier transactional test on this worker may have flushed them
        first, second = StringIO(), StringIO()
        call_command("seed_demo", days=DAYS, stdout=first)
        after_first = _counts()
        call_command("seed_demo", days=DAYS, stdout=second)
        yield SimpleNamespace(first=first.getvalue(), second=second.getvalue(), after_first=after_first,
                              after_second=_counts())
        transaction.set_rollback(True)


def test_a_second_run_changes_nothing(seeded):
    # Audit rows written by the first run would be the only thing allowed to differ… and none are written.
    assert seeded.after_second == seeded.after_first
    for out in (seeded.first, seeded.second):
        assert "Demo logins" in out and "0700 000 003" in out and "mauzo-cashier" in out
    assert "0 demo logins created, 4 already there" in seeded.second
    assert "demo sales history already there" in seeded.second


def test_the_demo_logins_and_branches(seeded):
    assert seeded.after_first["pos.User"] == 4
    assert User.objects.filter(role=Role.OWNER, is_active=True).count() == 1
    assert User.objects.filter(role=Role.EMPLOYEE).count() == 2
    assert Branch.objects.filter(code__in=["MAIN", "WSTL"]).count() == 2
    owner = User.objects.get(phone_number="+254700000001")
    assert owner.check_password("mauzo-owner") and owner.is_superuser


def test_the_catalogue_is_believable_with_valid_barcodes(seeded):
    counts = seeded.after_first
    assert counts["inventory.Product"] >= 240 and 12 <= counts["inventory.Category"] <= 14
    assert counts["inventory.Supplier"] == 3
    assert Category.objects.count() == counts["inventory.Category"]
    products = list(Product.objects.all())
    assert all(p.barcode and barcode_problem(p.barcode) is None for p in products)
    assert sum(p.barcode.startswith("616") for p in products) > 180  # GS1 Kenya
    assert len({p.barcode for p in products}) == len(products)
    assert {p.tax_class for p in products} >= {TaxClass.A, TaxClass.B, TaxClass.C, TaxClass.E}
    assert all(p.cost_price < p.selling_price for p in products)
    assert Product.objects.filter(is_favourite=True).count() >= 8
    assert Product.objects.get(name="Jogoo Maize Meal 2kg").tax_class == TaxClass.C
    assert Unit.objects.get(code="kg").decimal_places == 3
    assert set(StockLevel.objects.values_list("branch__code", flat=True)) == {"MAIN", "WSTL"}
    assert StockMovement.objects.filter(kind=MovementKind.OPENING).exists()


def test_the_sales_history_keeps_every_ledger_true(seeded):
    sales = Sale.objects.filter(idempotency_key__startswith=KEY_PREFIX)
    assert sales.count() > 10
    assert not sales.exclude(status=SaleStatus.COMPLETED).exists()
    # Confirmed payments minus change equal the total, for every demo sale.
    for sale in sales.prefetch_related("payments"):
        assert sum(p.amount - p.change_given for p in sale.payments.all()) == sale.total
    assert CashSession.objects.filter(status=SessionStatus.CLOSED).count() >= 2 * DAYS  # 2 cashiers a day
    assert set(Payment.objects.values_list("method", flat=True)) >= {"CASH", "MPESA"}
    out = StringIO()
    call_command("check_stock", stdout=out)
    assert "Stock matches the ledger" in out.getvalue()


def test_a_new_demo_opens_with_forecasts(seeded):
    # The nightly analytics ran once: a new demo opens with forecasts, not an empty page.
    assert ProductForecast.objects.exists()
