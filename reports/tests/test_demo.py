"""The demo sales history: made through the real services, so every ledger still adds up."""

from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_demo_history_keeps_the_ledgers_true_and_runs_once():
    from cashdesk.models import CashSession, Payment, SessionStatus
    from pos.sales.models import Sale, SaleStatus
    from reports.demo import KEY_PREFIX

    call_command("seed_demo", days=4, stdout=StringIO())
    sales = Sale.objects.filter(idempotency_key__startswith=KEY_PREFIX)
    assert sales.count() > 10
    assert not sales.exclude(status=SaleStatus.COMPLETED).exists()
    # Invariant 5: confirmed payments minus change equal the total, for every demo sale.
    for sale in sales.prefetch_related("payments"):
        assert sum(p.amount - p.change_given for p in sale.payments.all()) == sale.total
    assert CashSession.objects.filter(status=SessionStatus.CLOSED).count() >= 8  # 2 cashiers × 4 past days
    assert set(Payment.objects.values_list("method", flat=True)) >= {"CASH", "MPESA"}
    out = StringIO()
    call_command("check_stock", stdout=out)
    assert "Stock matches the ledger" in out.getvalue()
    # The nightly analytics ran once: a new demo opens with forecasts, not an empty page.
    from reports.analytics_models import ProductForecast

    assert ProductForecast.objects.exists()
    before = (Sale.objects.count(), CashSession.objects.count())
    second = StringIO()
    call_command("seed_demo", days=4, stdout=second)
    assert (Sale.objects.count(), CashSession.objects.count()) == before
    assert "demo sales history already there" in second.getvalue()
