"""Report tests: a small shop whose every figure is worked out by hand in `shop` below."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

D = Decimal
DAY = dt.date(2026, 3, 10)  # a Tuesday


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A Nairobi wall-clock time as an aware datetime."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def sell(cashier, items, *, when, tenders, customer=None):
    """Ring up `items` [(product, qty)] and check out through the real services, back-dated to `when`."""
    from cashdesk.services import Tender, sale_checkout
    from pos.sales.services import sale_add_product, sale_get_or_open

    sale = sale_get_or_open(cashier=cashier)
    for product, quantity in items:
        sale_add_product(sale=sale, product=product, user=cashier, quantity=D(quantity))
    if customer is not None:
        sale.customer = customer
        sale.save(update_fields=["customer"])
    tenders = [Tender(method, D(amount), reference) for method, amount, reference in tenders]
    return sale_checkout(sale=sale, user=cashier, tenders=tenders, idempotency_key=f"t-{sale.pk}", when=when)


@pytest.fixture
def shop(branch, other_branch):
    """Two branches, three products of three tax classes, four sales worked out by hand:

    MAIN, 10 Mar 10:15  cashier Akinyi: 2 × Sugar (B 16 %, 116.00, cost 80.00) + 3 × Maize flour (A exempt,
                        50.00, cost 40.00) = 382.00, VAT 32.00, cost 280.00; cash 400.00, change 18.00
    MAIN, 10 Mar 23:30  Akinyi: 1 × Cooking gas (E 8 %, 108.00, cost 90.00) = 108.00, VAT 8.00; card
    MAIN, 11 Mar 00:30  Akinyi: 1 × Sugar = 116.00, VAT 16.00, cost 80.00; on account (Mutua, limit 1000)
    WSTL, 10 Mar 12:00  Baraka (Westlands): 10 × Sugar = 1160.00: never in a MAIN report
    """
    from cashdesk.services import session_open
    from core.roles import Role
    from inventory.tests.factories import CategoryFactory, ProductFactory, stock_in
    from pos.tests.factories import CustomerFactory, UserFactory

    groceries = CategoryFactory(name="Groceries")
    fuel = CategoryFactory(name="Fuel")
    sugar = ProductFactory(
        name="Sugar 1kg", category=groceries, selling_price=D("116.00"), cost_price=D("80.00"), tax_class="B"
    )
    flour = ProductFactory(
        name="Maize flour 2kg", category=groceries, selling_price=D("50.00"), cost_price=D("40.00"), tax_class="A"
    )
    gas = ProductFactory(
        name="Cooking gas 6kg", category=fuel, selling_price=D("108.00"), cost_price=D("90.00"), tax_class="E"
    )
    for product in (sugar, flour, gas):
        stock_in(product, branch, 50)
    stock_in(sugar, other_branch, 50)
    akinyi = UserFactory(role=Role.EMPLOYEE, branch=branch, full_name="Akinyi Atieno")
    baraka = UserFactory(role=Role.EMPLOYEE, branch=other_branch, full_name="Baraka Westlands")
    mutua = CustomerFactory(name="Mutua Hardware", credit_limit=D("1000.00"))
    session_open(cashier=akinyi, opening_float=D("1000.00"), when=at(DAY, 8))
    session_open(cashier=baraka, opening_float=D("500.00"), when=at(DAY, 8))
    s1 = sell(akinyi, [(sugar, 2), (flour, 3)], when=at(DAY, 10, 15), tenders=[("CASH", "400.00", "")])
    s2 = sell(akinyi, [(gas, 1)], when=at(DAY, 23, 30), tenders=[("CARD", "108.00", "SLIP-1")])
    s3 = sell(akinyi, [(sugar, 1)], when=at(DAY + dt.timedelta(days=1), 0, 30),
              tenders=[("CUSTOMER_CREDIT", "116.00", "")], customer=mutua)
    s4 = sell(baraka, [(sugar, 10)], when=at(DAY, 12), tenders=[("CASH", "1160.00", "")])
    return SimpleNamespace(
        main=branch, westlands=other_branch, sugar=sugar, flour=flour, gas=gas, akinyi=akinyi, baraka=baraka,
        mutua=mutua, sales=[s1, s2, s3, s4], groceries=groceries, fuel=fuel,
    )
