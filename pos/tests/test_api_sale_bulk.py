"""A sale created through the API with all its lines at once: the same cart the till would ring up, in a
number of queries that does not grow with the lines."""

from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory.tests.factories import KilogramFactory, ProductFactory
from pos.sales.models import Sale, SaleLine
from pos.sales.services import sale_add_product, sale_get_or_open, sale_set_customer, sale_set_note
from pos.tests.api_support import api_client
from pos.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

SALES = reverse("salesheader-list")
FIELDS = ["position", "product_id", "product_name", "sku", "unit_code", "quantity", "list_price", "unit_price",
          "tax_class", "tax_rate", "cost_price", "gross_amount", "discount_amount", "cart_discount_share",
          "line_total", "tax_amount"]
TOTALS = ["subtotal", "line_discount_total", "cart_discount", "discount_total", "tax_total", "total", "customer_id",
          "note", "status"]


def _create(user, details, key="k", **extra):
    body = {"details": details, **extra}
    return api_client(user).post(SALES, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def _queries_for(user, lines: int) -> int:
    products = ProductFactory.create_batch(lines, selling_price=D("99.50"))
    details = [{"product": p.pk, "quantity": "2"} for p in products]
    with CaptureQueriesContext(connection) as captured:
        response = _create(user, details, key=f"lines-{lines}")
    assert response.status_code == 201, response.json()
    assert len(response.json()["details"]) == lines
    Sale.objects.filter(pk=response.json()["id"]).delete()
    return len(captured)


def test_creating_a_sale_costs_the_same_queries_for_1_10_and_50_lines(employee):
    counts = {lines: _queries_for(employee, lines) for lines in (1, 10, 50)}
    assert max(counts.values()) - min(counts.values()) <= 5, counts
    assert counts[50] <= 35, counts


def _snapshot(sale):
    sale = Sale.objects.get(pk=sale.pk)
    lines = list(SaleLine.objects.filter(sale=sale).order_by("position").values_list(*FIELDS))
    return [getattr(sale, name) for name in TOTALS], lines


def test_the_api_cart_is_the_cart_the_till_rings_up(employee):
    """Same prices, VAT classes, loose quantities and a product named twice: line for line what the
    till's scans make, totals to the cent."""
    soda = ProductFactory(selling_price=D("60.00"), tax_class="B")
    bread = ProductFactory(selling_price=D("65.00"), tax_class="A")
    rice = ProductFactory(selling_price=D("190.00"), tax_class="B", unit=KilogramFactory())
    flour = ProductFactory(selling_price=D("116.00"), tax_class="E")
    customer = CustomerFactory()
    items = [(soda, D("2")), (rice, D("1.375")), (bread, D("1")), (soda, D("3")), (flour, D("1"))]

    response = _create(employee, [{"product": p.pk, "quantity": str(q)} for p, q in items],
                       customer=customer.pk, note="  Deliver to gate B  ")
    assert response.status_code == 201, response.json()
    from_api = _snapshot(Sale.objects.get(pk=response.json()["id"]))
    Sale.objects.filter(pk=response.json()["id"]).delete()

    till = sale_get_or_open(cashier=employee)
    sale_set_customer(sale=till, customer=customer, user=employee)
    sale_set_note(sale=till, note="  Deliver to gate B  ", user=employee)
    for product, quantity in items:
        sale_add_product(sale=till, product=product, user=employee, quantity=quantity)
    assert from_api == _snapshot(till)
    assert [line[5] for line in from_api[1]] == [D("5.000"), D("1.375"), D("1.000"), D("1.000")]


@pytest.mark.parametrize(
    "item, words",
    [
        ({"quantity": "1.5"}, "Item 2: "),  # pieces come whole
        ({"quantity": "100001"}, "Item 2: That quantity is too large"),
    ],
)
def test_a_bad_line_names_its_item_and_writes_nothing(employee, item, words):
    soda, bread = ProductFactory(selling_price=D("60.00")), ProductFactory(selling_price=D("65.00"))
    details = [{"product": soda.pk, "quantity": "1"}, {"product": bread.pk, **item}]
    response = _create(employee, details)
    assert response.status_code == 400, response.json()
    assert words in response.json()["detail"]
    assert not SaleLine.objects.exists()


def test_a_product_named_twice_may_not_add_up_past_the_line_limit(employee):
    soda = ProductFactory(selling_price=D("1.00"))
    details = [{"product": soda.pk, "quantity": "60000"}, {"product": soda.pk, "quantity": "50000"}]
    response = _create(employee, details)
    assert response.status_code == 400 and "Item 2: That quantity is too large" in response.json()["detail"]
    assert not SaleLine.objects.exists()


def test_a_product_no_longer_sold_or_unknown_is_refused(employee):
    soda = ProductFactory(selling_price=D("60.00"))
    gone = ProductFactory(name="Old soap", selling_price=D("30.00"), is_active=False)
    response = _create(employee, [{"product": soda.pk, "quantity": "1"}, {"product": gone.pk, "quantity": "1"}])
    assert response.status_code == 400 and "Item 2: Old soap is no longer sold." in response.json()["detail"]
    unknown = _create(employee, [{"product": soda.pk, "quantity": "1"}, {"product": 987654, "quantity": "1"}],
                      key="other")
    assert unknown.status_code == 400
    assert unknown.json()["errors"]["details"]["1"]["product"] == ['Invalid pk "987654" - object does not exist.']
    assert not SaleLine.objects.exists()


def test_an_inactive_customer_is_refused(employee):
    soda = ProductFactory(selling_price=D("60.00"))
    customer = CustomerFactory(is_active=False)
    response = _create(employee, [{"product": soda.pk, "quantity": "1"}], customer=customer.pk)
    assert response.status_code == 400 and "no longer an active customer" in response.json()["detail"]
    assert not SaleLine.objects.exists()


@pytest.mark.parametrize("product", ["²", "1" * 5000, " 7x", 10**30, -1, True, None, [1], {"id": 1}])
def test_product_ids_no_database_holds_are_400s(employee, product):
    soda = ProductFactory(selling_price=D("60.00"))
    response = _create(employee, [{"product": soda.pk, "quantity": "1"}, {"product": product, "quantity": "1"}])
    assert response.status_code == 400, response.content
    assert "1" in response.json()["errors"]["details"]
    assert not SaleLine.objects.exists()


def test_a_product_id_sent_as_digits_is_the_product(employee):
    soda = ProductFactory(selling_price=D("60.00"))
    response = _create(employee, [{"product": f" {soda.pk} ", "quantity": "1"}])
    assert response.status_code == 201 and response.json()["details"][0]["product"] == soda.pk
