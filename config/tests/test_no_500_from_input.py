"""Bad input is a clear error, never a 500: deep JSON, NaN/Infinity/huge exponents in numbers, single
sign-on providers that are not configured."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from core.decimal_input import DecimalInputError, parse_decimal
from inventory.tests.factories import ProductFactory, stock_in
from pos.sales.models import Sale
from pos.sales.services import sale_add_product, sale_get_or_open
from pos.tests.api_support import api_client

pytestmark = [pytest.mark.sqlite_only, pytest.mark.django_db]

NOT_NUMBERS = ["NaN", "nan", "sNaN", "-sNaN", "Infinity", "-Infinity", "inf", "1E+999999999", "1e-999999999",
               "9" * 500, "1E+16"]


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_the_one_decimal_parser_refuses_what_is_not_a_shop_number(text):
    with pytest.raises(DecimalInputError):
        parse_decimal(text)


@pytest.mark.parametrize("text,value", [("12", "12"), ("0.5", "0.5"), (" 1650.00 ", "1650.00"), ("-3", "-3"),
                                        ("1E+3", "1E+3")])
def test_the_one_decimal_parser_reads_numbers(text, value):
    assert parse_decimal(text) == Decimal(value)


def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("levels", [40, 1000, 100_000])
def test_json_nested_too_deep_is_a_400_on_every_json_endpoint(owner, levels):
    api = api_client(owner)
    for url in ("/api/clients/", "/api/products/", "/api/token/"):
        response = api.generic("POST", url, _deep(levels), content_type="application/json")
        assert response.status_code == 400, (url, response.status_code)
        assert response.json()["code"] == "parse_error"


def test_ordinary_nesting_still_parses(owner):
    api = api_client(owner)
    response = api.post("/api/clients/", {"name": "Mama Mboga", "notes": "[[{{"}, format="json")
    assert response.status_code == 201, response.content


@pytest.fixture
def soap(branch):
    product = ProductFactory(name="Geisha soap 225g", selling_price=Decimal("116.00"))
    stock_in(product, branch, 20)
    return product


@pytest.mark.parametrize("quantity", ["NaN", "sNaN", "Infinity", "1E+999999999"])
def test_a_nonsense_quantity_at_the_till_is_a_message(employee_client, employee, soap, quantity):
    response = employee_client.post(reverse("till:add", args=[soap.pk]), {"quantity": quantity},
                                    HTTP_HX_REQUEST="true")
    assert response.status_code < 500
    sale = sale_get_or_open(cashier=employee)
    line = sale_add_product(sale=sale, product=soap, user=employee, quantity=Decimal("1"))
    response = employee_client.post(reverse("till:line_quantity", args=[line.pk]), {"quantity": quantity},
                                    HTTP_HX_REQUEST="true")
    assert response.status_code < 500
    assert Sale.objects.get(pk=sale.pk).lines.get().quantity == Decimal("1.000")


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "1E+999999999", "sNaN"])
def test_a_nonsense_amount_on_the_incoming_mpesa_list_is_a_message(manager_client, amount):
    response = manager_client.get(reverse("cashdesk:c2b_list"), {"amount": amount})
    assert response.status_code == 200
    assert "The amount must be a number." in response.content.decode()


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "1E+999999999"])
def test_a_nonsense_amount_in_the_api_is_a_field_error(owner, amount):
    response = api_client(owner).post("/api/clients/", {"name": "Mama Mboga", "credit_limit": amount}, format="json")
    assert response.status_code == 400 and "credit_limit" in response.json()["errors"]


@pytest.mark.parametrize("provider", ["google", "microsoft"])
@pytest.mark.parametrize("path", ["login/", "login/callback/", "login/token/"])
def test_a_provider_that_is_not_configured_is_not_a_500(provider, path, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {}
    client = Client(raise_request_exception=False)
    for method in (client.get, client.post):
        response = method(f"/accounts/{provider}/{path}")
        assert response.status_code in (404, 400), (method, response.status_code)


def test_api_token_with_deep_json_is_400():
    response = APIClient().generic("POST", "/api/token/", _deep(5000), content_type="application/json")
    assert response.status_code == 400
