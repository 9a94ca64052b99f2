"""The purchase page's "Pay" button: shown once goods arrived and money is still owed, for those who
may pay suppliers; it opens the supplier payment form filled in for that purchase (never another
branch's)."""

from decimal import Decimal as D

import pytest
from django.urls import reverse

from cashdesk import money_services as money
from cashdesk.tests.factories import open_session
from inventory.purchase_services import purchase_create, purchase_line_set, purchase_order, purchase_receive
from inventory.tests.factories import ProductFactory, SupplierFactory

pytestmark = pytest.mark.django_db


def _purchase(manager, branch, *, receive: str | None = None):
    purchase = purchase_create(user=manager, supplier=SupplierFactory(), branch=branch)
    product = ProductFactory()
    purchase_line_set(user=manager, purchase=purchase, product=product, quantity=D("10"), unit_cost=D("100"))
    purchase = purchase_order(user=manager, purchase=purchase)
    if receive:
        line = purchase.lines.get()
        purchase_receive(user=manager, purchase=purchase, quantities={line.pk: D(receive)})
    purchase.refresh_from_db()
    return purchase


def _pay_link(client, purchase):
    html = client.get(reverse("inventory:purchase_detail", args=[purchase.pk])).content.decode()
    href = f'{reverse("cashdesk:supplier_payment_create")}?purchase={purchase.pk}'
    return href in html, html


def test_received_purchase_with_money_owed_has_a_pay_link(manager_client, manager, branch):
    purchase = _purchase(manager, branch, receive="10")
    shown, html = _pay_link(manager_client, purchase)
    assert shown and "Pay KES 1,000.00" in html
    form = manager_client.get(reverse("cashdesk:supplier_payment_create"), {"purchase": purchase.pk})
    expected = {"purchase": purchase.pk, "supplier": purchase.supplier_id, "amount": D("1000.00")}
    assert form.context["form"].initial == expected


def test_partly_received_purchase_owes_what_arrived(manager_client, manager, branch):
    purchase = _purchase(manager, branch, receive="4")
    shown, html = _pay_link(manager_client, purchase)
    assert shown and "Pay KES 400.00" in html


def test_no_pay_link_before_goods_arrive_or_once_paid(manager_client, manager, branch):
    ordered = _purchase(manager, branch)
    assert not _pay_link(manager_client, ordered)[0]
    received = _purchase(manager, branch, receive="10")
    money.supplier_payment_record(
        supplier=received.supplier, amount=D("1000"), method="BANK", reference="EFT-1", purchase=received, user=manager
    )
    shown, html = _pay_link(manager_client, received)
    assert not shown and "Paid in full" in html


def test_the_link_needs_the_permission_to_pay_suppliers(manager, branch):
    from django.template.loader import render_to_string

    purchase = _purchase(manager, branch, receive="10")

    def render(may_pay):
        return render_to_string(
            "cashdesk/partials/purchase_pay.html",
            {"purchase": purchase, "perms": {"cashdesk": {"add_supplierpayment": may_pay}}},
        )

    assert "Pay KES 1,000.00" in render(True)
    assert render(False).strip() == ""


def test_another_branchs_purchase_does_not_fill_the_form(manager, other_branch, owner):
    from django.test import Client

    from core.roles import Role
    from pos.tests.factories import UserFactory

    far_manager = UserFactory(role=Role.MANAGER, branch=other_branch, full_name="Far Manager")
    far_purchase = _purchase(far_manager, other_branch, receive="10")
    client = Client()
    client.force_login(manager)
    response = client.get(reverse("cashdesk:supplier_payment_create"), {"purchase": far_purchase.pk})
    assert response.status_code == 200 and response.context["form"].initial == {}
    assert b"1,000.00" not in response.content and b"1000.00" not in response.content


def test_paying_from_the_purchase_page_goes_back_to_it(manager_client, manager, branch):
    open_session(manager, "0")
    purchase = _purchase(manager, branch, receive="10")
    response = manager_client.post(
        reverse("cashdesk:supplier_payment_create"),
        {"supplier": purchase.supplier_id, "purchase": purchase.pk, "amount": "600", "method": "BANK",
         "reference": "EFT-7"},
    )
    assert response.status_code == 302 and response["Location"] == purchase.get_absolute_url()
    shown, html = _pay_link(manager_client, purchase)
    assert shown and "Pay KES 400.00" in html and "Paid KES 600.00 to" in html
