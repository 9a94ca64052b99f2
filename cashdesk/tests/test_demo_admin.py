"""The cash desk's demo steps are idempotent; its admin pages are read-only inspection."""

import pytest
from django.urls import reverse

from cashdesk import demo
from cashdesk.models import Expense, ExpenseCategory
from cashdesk.mpesa.models import C2BPayment, C2BStatus, MpesaInbox
from core.roles import Role
from pos.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_demo_steps_twice_add_nothing_the_second_time(branch):
    UserFactory(role=Role.MANAGER, branch=branch)
    lines = []
    for _ in range(2):
        demo.seed_expense_categories(log=lines.append)
        demo.seed_money_out(log=lines.append)
        demo.seed_incoming_mpesa(log=lines.append)
    assert ExpenseCategory.objects.count() == len(demo.CATEGORIES)
    assert Expense.objects.count() == len(demo.EXPENSES)
    assert C2BPayment.objects.filter(status=C2BStatus.UNMATCHED).count() == len(demo.INCOMING)
    assert MpesaInbox.objects.count() == len(demo.INCOMING)
    assert "0 expenses" in lines[-2] and "0 incoming" in lines[-1]


@pytest.mark.parametrize(
    "model",
    [
        "cashsession",
        "cashmovement",
        "payment",
        "stkrequest",
        "mpesainbox",
        "c2bpayment",
        "customerreceipt",
        "supplierpayment",
        "expense",
        "expensecategory",
    ],
)
def test_owner_opens_the_admin_changelists(owner_client, model):
    assert owner_client.get(reverse(f"admin:cashdesk_{model}_changelist")).status_code == 200


def test_the_inbox_cannot_be_edited_in_the_admin(owner_client):
    assert owner_client.get(reverse("admin:cashdesk_mpesainbox_add")).status_code == 403
