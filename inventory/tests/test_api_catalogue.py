"""The catalogue through the JSON API: products (stock, costs, barcode lookup, delete or deactivate),
categories, units, suppliers; bad input is a 400 with field errors and writes nothing."""

from decimal import Decimal

import pytest

from inventory.models import Category, Product, StockMovement, Supplier, Unit
from inventory.tests.factories import CategoryFactory, ProductFactory, SupplierFactory, UnitFactory, stock_in
from pos.people.models import AuditLog
from pos.tests.api_support import api_client

pytestmark = pytest.mark.django_db
client_for = api_client  # a JWT-carrying API client for a user


@pytest.fixture
def catalogue(branch, other_branch):
    unit = UnitFactory()
    category = CategoryFactory(name="Drinks")
    soda = ProductFactory(name="Soda 500ml", category=category, unit=unit, reorder_level=Decimal("5"))
    bread = ProductFactory(name="Bread", category=category, unit=unit, reorder_level=Decimal("5"))
    tea = ProductFactory(name="Tea leaves", category=category, unit=unit, reorder_level=Decimal("5"))
    stock_in(soda, branch, 30)
    stock_in(bread, branch, 3)  # low
    stock_in(soda, other_branch, 7)
    return {"unit": unit, "category": category, "soda": soda, "bread": bread, "tea": tea}


def test_product_list_shows_stock_at_the_callers_branch(manager, catalogue, django_assert_max_num_queries):
    api = client_for(manager)
    with django_assert_max_num_queries(6):
        response = api.get("/api/products/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    stock = {row["name"]: row["stock"] for row in body["results"]}
    assert stock == {"Bread": "3.000", "Soda 500ml": "30.000", "Tea leaves": "0.000"}
    soda = next(row for row in body["results"] if row["name"] == "Soda 500ml")
    assert soda["price"] == "100.00" and soda["cost_price"] == "70.00"
    assert soda["category"] == catalogue["category"].pk and soda["barcode"] == catalogue["soda"].barcode


def test_list_query_count_does_not_grow_with_the_catalogue(manager, catalogue, django_assert_max_num_queries):
    for _ in range(20):
        ProductFactory(category=catalogue["category"], unit=catalogue["unit"])
    with django_assert_max_num_queries(7):  # +1: the tax rates from KRA's code list, once (then cached)
        assert client_for(manager).get("/api/products/?page_size=100").json()["count"] == 23


def test_employees_never_see_cost_prices(employee, catalogue):
    row = client_for(employee).get(f"/api/products/{catalogue['soda'].pk}/").json()
    assert "cost_price" not in row and row["price"] == "100.00"


def test_owner_may_ask_for_another_branch_but_a_manager_may_not(owner, manager, catalogue, other_branch):
    url = f"/api/products/{catalogue['soda'].pk}/?branch={other_branch.pk}"
    assert client_for(owner).get(url).json()["stock"] == "7.000"
    assert client_for(manager).get(url).status_code == 403
    assert client_for(owner).get("/api/products/?branch=99999").status_code == 400


def test_low_and_out_of_stock(employee, catalogue):
    api = client_for(employee)
    low = api.get("/api/products/low_stock/").json()
    assert [row["name"] for row in low["results"]] == ["Bread"]
    out = api.get("/api/products/out_of_stock/").json()
    assert [row["name"] for row in out["results"]] == ["Tea leaves"]


def test_lookup_by_barcode(employee, catalogue):
    api = client_for(employee)
    soda = catalogue["soda"]
    response = api.get(f"/api/products/by-barcode/{soda.barcode}/")
    assert response.status_code == 200 and response.json()["id"] == soda.pk and response.json()["stock"] == "30.000"
    assert api.get(f"/api/products/by-barcode/{soda.sku.lower()}/").json()["id"] == soda.pk
    missing = api.get("/api/products/by-barcode/4006381333931/")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert api.get(f"/api/products/?barcode={soda.barcode}").json()["count"] == 1


def test_filters_search_and_ordering(employee, catalogue):
    api = client_for(employee)
    assert api.get("/api/products/?search=bread").json()["count"] == 1
    assert api.get("/api/products/?q=soda").json()["count"] == 1
    names = [row["name"] for row in api.get("/api/products/?ordering=-on_hand").json()["results"]]
    assert names == ["Soda 500ml", "Bread", "Tea leaves"]
    assert api.get(f"/api/products/?category={catalogue['category'].pk}&is_active=true").json()["count"] == 3


def test_create_product_with_opening_stock(manager, catalogue, branch):
    body = {
        "name": "Milk 1l", "sku": "milk-1l", "barcode": "", "category": catalogue["category"].pk,
        "unit": catalogue["unit"].pk, "price": "65.00", "cost_price": "50.00", "tax_class": "C",
        "opening_stock": "12",
    }
    response = client_for(manager).post("/api/products/", body, format="json")
    assert response.status_code == 201, response.content
    row = response.json()
    assert row["sku"] == "MILK-1L" and row["barcode"] is None and row["stock"] == "12.000"
    assert row["tax_rate"] == "0.00"
    product = Product.objects.get(pk=row["id"])
    assert StockMovement.objects.get(product=product).kind == "OPENING"
    assert AuditLog.objects.filter(action="product_created", object_id=str(product.pk)).exists()


@pytest.mark.parametrize(
    "change,field",
    [
        ({"price": "-1"}, "price"),
        ({"price": "abc"}, "price"),
        ({"price": None}, "price"),
        ({"category": 999999}, "category"),
        ({"unit": "x"}, "unit"),
        ({"barcode": "1234567890123"}, "barcode"),  # bad check digit
        ({"sku": "SKU-DUP"}, "sku"),
        ({"tax_class": "Z"}, "tax_class"),
        ({"opening_stock": "-3"}, "opening_stock"),
        ({"opening_stock": "1.5"}, "opening_stock"),  # pieces are whole
        ({"reorder_level": "-1"}, "reorder_level"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_product_input_is_a_400_and_writes_nothing(manager, catalogue, change, field):
    ProductFactory(sku="SKU-DUP", category=catalogue["category"], unit=catalogue["unit"])
    body = {"name": "New", "sku": "NEW-1", "category": catalogue["category"].pk, "unit": catalogue["unit"].pk,
            "price": "10.00", **change}
    before = (Product.objects.count(), StockMovement.objects.count(), AuditLog.objects.count())
    response = client_for(manager).post("/api/products/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert (Product.objects.count(), StockMovement.objects.count(), AuditLog.objects.count()) == before


def test_missing_fields_and_malformed_json(manager):
    api = client_for(manager)
    errors = api.post("/api/products/", {}, format="json").json()["errors"]
    assert {"name", "sku", "category", "unit", "price"} <= set(errors)
    response = api.post("/api/products/", '{"name": ', content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"


def test_employee_cannot_change_the_catalogue(employee, catalogue):
    api = client_for(employee)
    soda = catalogue["soda"]
    assert api.patch(f"/api/products/{soda.pk}/", {"price": "1.00"}, format="json").status_code == 403
    assert api.delete(f"/api/products/{soda.pk}/").status_code == 403
    assert api.post("/api/categories/", {"name": "X"}, format="json").status_code == 403
    soda.refresh_from_db()
    assert soda.selling_price == Decimal("100.00")


def test_price_change_is_audited_and_deactivation_goes_through_the_service(manager, catalogue):
    api = client_for(manager)
    soda = catalogue["soda"]
    response = api.patch(f"/api/products/{soda.pk}/", {"price": "120.00"}, format="json")
    assert response.status_code == 200 and response.json()["price"] == "120.00"
    entry = AuditLog.objects.get(action="product_updated", object_id=str(soda.pk))
    assert entry.before_data == {"selling_price": "100.00"} and entry.after_data == {"selling_price": "120.00"}
    response = api.patch(f"/api/products/{soda.pk}/", {"is_active": False}, format="json")
    assert response.json()["is_active"] is False
    assert AuditLog.objects.filter(action="product_deactivated", object_id=str(soda.pk)).exists()
    bad = api.patch(f"/api/products/{soda.pk}/", {"opening_stock": "5"}, format="json")
    assert bad.status_code == 400 and "opening_stock" in bad.json()["errors"]


def test_delete_removes_a_mistake_but_deactivates_a_product_with_history(manager, catalogue):
    api = client_for(manager)
    tea, soda = catalogue["tea"], catalogue["soda"]
    assert api.delete(f"/api/products/{tea.pk}/").status_code == 204
    assert not Product.objects.filter(pk=tea.pk).exists()
    response = api.delete(f"/api/products/{soda.pk}/")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert Product.objects.filter(pk=soda.pk, is_active=False).exists()
    assert api.delete("/api/products/999999/").status_code == 404


def test_categories_units_suppliers(manager, owner):
    api = client_for(manager)
    category = api.post("/api/categories/", {"name": " Snacks "}, format="json")
    assert category.status_code == 201 and category.json()["name"] == "Snacks"
    duplicate = api.post("/api/categories/", {"name": "snacks"}, format="json")
    assert duplicate.status_code == 400 and "name" in duplicate.json()["errors"]
    unit = api.post("/api/units/", {"name": "Kilogram", "code": "kg", "decimal_places": 3}, format="json")
    assert unit.status_code == 201
    assert api.post("/api/units/", {"name": "Bad", "code": "b", "decimal_places": -1}, format="json").status_code == 400
    supplier = api.post("/api/suppliers/", {"name": "Bidco", "phone_number": "0722 111 222"}, format="json")
    assert supplier.status_code == 201 and supplier.json()["phone_number"] == "+254722111222"
    bad = api.post("/api/suppliers/", {"name": "Other", "phone_number": "12"}, format="json")
    assert bad.status_code == 400 and "phone_number" in bad.json()["errors"]
    assert Supplier.objects.count() == 1 and Category.objects.count() == 1 and Unit.objects.count() == 1
    pk = category.json()["id"]
    assert api.patch(f"/api/categories/{pk}/", {"is_active": False}, format="json").json()["is_active"] is False
    assert api.delete(f"/api/categories/{pk}/").status_code == 405  # never deleted


def test_employees_do_not_see_suppliers(employee):
    SupplierFactory()
    assert client_for(employee).get("/api/suppliers/").status_code == 403


def test_catalogue_lists_are_bounded_in_queries(manager, django_assert_max_num_queries):
    for _ in range(5):
        CategoryFactory()
        SupplierFactory()
    api = client_for(manager)
    for url in ("/api/categories/", "/api/units/", "/api/suppliers/"):
        with django_assert_max_num_queries(4):
            assert api.get(url).status_code == 200
