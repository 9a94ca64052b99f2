"""The cashier's open sale: one cart per cashier, lines, quantities, audited line voids."""

from decimal import Decimal as D

import pytest
from django.db import IntegrityError, transaction

from inventory.tests.factories import KilogramFactory, ProductFactory
from pos.people.audit import AuditAction
from pos.people.models import AuditLog
from pos.sales.models import Sale, SaleStatus
from pos.sales.services import (
    SaleConflictError,
    SaleError,
    sale_add_product,
    sale_get_or_open,
    sale_line_remove,
    sale_line_set_quantity,
)
from pos.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_one_open_sale_per_cashier(employee):
    first = sale_get_or_open(cashier=employee)
    assert sale_get_or_open(cashier=employee) == first
    with pytest.raises(IntegrityError), transaction.atomic():
        Sale.objects.create(
            branch=employee.branch, cashier=employee, status=SaleStatus.OPEN, open_for_cashier=employee.pk
        )
    other = UserFactory()
    assert sale_get_or_open(cashier=other) != first


def test_scanning_twice_adds_to_the_line(employee):
    sale = sale_get_or_open(cashier=employee)
    product = ProductFactory(selling_price=D("55.50"))
    sale_add_product(sale=sale, product=product, user=employee)
    line = sale_add_product(sale=sale, product=product, user=employee)
    sale.refresh_from_db()
    assert sale.lines.count() == 1
    assert line.quantity == D("2")
    assert sale.total == D("111.00")
    assert sale.tax_total == D("15.31")


def test_snapshots_are_taken_when_added(employee):
    sale = sale_get_or_open(cashier=employee)
    product = ProductFactory(selling_price=D("20.00"), tax_class="E", name="Maize flour 2kg")
    line = sale_add_product(sale=sale, product=product, user=employee)
    product.selling_price = D("25.00")
    product.save()
    line.refresh_from_db()
    assert (line.product_name, line.unit_price, line.list_price, line.tax_class, line.tax_rate) == (
        "Maize flour 2kg", D("20.00"), D("20.00"), "E", D("8.00")
    )
    # the new price makes a new line rather than silently repricing the old one
    sale_add_product(sale=sale, product=product, user=employee)
    assert sale.lines.count() == 2


@pytest.mark.parametrize("quantity", [D("0"), D("-1"), D("0.5"), D("100001")])
def test_bad_quantities_are_refused_and_change_nothing(employee, quantity):
    sale = sale_get_or_open(cashier=employee)
    product = ProductFactory()
    with pytest.raises(SaleError):
        sale_add_product(sale=sale, product=product, user=employee, quantity=quantity)
    assert sale.lines.count() == 0


def test_weighed_goods_take_decimals(employee):
    sale = sale_get_or_open(cashier=employee)
    rice = ProductFactory(unit=KilogramFactory(), selling_price=D("180.00"))
    line = sale_add_product(sale=sale, product=rice, user=employee, quantity=D("0.750"))
    sale.refresh_from_db()
    assert line.line_total == D("135.00") and sale.total == D("135.00")
    with pytest.raises(SaleError, match="at most 3"):
        sale_line_set_quantity(line=line, quantity=D("0.7505"), user=employee)


def test_inactive_products_are_not_sold(employee):
    sale = sale_get_or_open(cashier=employee)
    with pytest.raises(SaleError, match="no longer sold"):
        sale_add_product(sale=sale, product=ProductFactory(is_active=False), user=employee)


def test_another_cashiers_sale_cannot_be_changed(employee):
    sale = sale_get_or_open(cashier=employee)
    with pytest.raises(SaleConflictError):
        sale_add_product(sale=sale, product=ProductFactory(), user=UserFactory())


def test_removing_a_line_is_an_audited_void(employee, manager):
    sale = sale_get_or_open(cashier=employee)
    line = sale_add_product(sale=sale, product=ProductFactory(selling_price=D("40.00")), user=employee)
    sale_line_remove(line=line, user=employee, reason="customer changed mind", authorised_by=manager)
    sale.refresh_from_db()
    assert sale.total == D("0.00") and sale.lines.count() == 0
    entry = AuditLog.objects.get(action=AuditAction.LINE_VOID)
    assert entry.user == employee and entry.authorised_by == manager
    assert entry.before_data["line_total"] == "40.00"
    assert entry.reason == "customer changed mind"
