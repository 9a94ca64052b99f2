"""The cash desk's lists and the X report do not grow a query per row."""

from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cashdesk.models import CustomerReceipt, Expense, ExpenseCategory
from cashdesk.mpesa.models import C2BPayment, StkRequest
from cashdesk.services import Tender, cash_movement_record, sale_checkout
from cashdesk.tests.factories import open_session, ring_up
from pos.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _count(client, url, **extra) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, **extra).status_code == 200
    return len(ctx)


def _grow(employee, branch, manager, n: int, session):
    category = ExpenseCategory.objects.get_or_create(name="Rent")[0]
    for i in range(n):
        cash_movement_record(session=session, kind="PAID_IN", amount=D("5"), reason=f"coins {i}", user=employee)
        sale = ring_up(employee, branch, ("100", "1"))
        sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D("100"))], idempotency_key=f"g{n}-{i}")
        C2BPayment.objects.create(
            trans_id=f"QC{n:02d}{i:06d}",
            transaction_type="Buy Goods",
            trans_time=timezone.now(),
            amount=D("10"),
            shortcode="174379",
            msisdn="2547 ***** 149",
            branch=branch,
        )
        customer = CustomerFactory()
        CustomerReceipt.objects.create(
            customer=customer,
            branch=branch,
            method="BANK",
            amount=D("1"),
            reference="r",
            number=f"RC-Q{n}{i}",
            balance_before=D("1"),
            balance_after=D("0"),
            received_by=employee,
        )
        Expense.objects.create(
            category=category,
            branch=branch,
            method="BANK",
            amount=D("1"),
            description="x",
            spent_on=timezone.localdate(),
            recorded_by=manager,
            reference="r",
        )


@pytest.mark.parametrize(
    "name,who",
    [
        ("cashdesk:index", "employee"),
        ("cashdesk:session_list", "manager"),
        ("cashdesk:c2b_list", "employee"),
        ("cashdesk:receipt_list", "employee"),
        ("cashdesk:expense_list", "manager"),
        ("cashdesk:mpesa_flagged", "manager"),
    ],
)
def test_lists_do_not_grow_with_rows(name, who, employee, manager, branch, client_for):
    session = open_session(employee, "1000")
    client = client_for(employee if who == "employee" else manager)
    _grow(employee, branch, manager, 2, session)
    small = _count(client, reverse(name))
    _grow(employee, branch, manager, 12, session)
    assert _count(client, reverse(name)) == small


def test_x_report_does_not_grow_with_sales(employee, manager, branch, manager_client):
    # With a blind close (the default) the manager reads a cashier's open drawer; each read is audited.
    session = open_session(employee, "1000")
    _grow(employee, branch, manager, 2, session)
    small = _count(manager_client, reverse("cashdesk:session_report", args=[session.pk]))
    _grow(employee, branch, manager, 10, session)
    assert _count(manager_client, reverse("cashdesk:session_report", args=[session.pk])) == small <= 32
    assert not StkRequest.objects.exists()
