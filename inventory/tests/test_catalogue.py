"""Catalogue services: products (create, edit, deactivate, delete), categories, units, suppliers."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from inventory.barcodes import make_ean13
from inventory.catalogue_services import (
    category_save,
    product_create,
    product_delete,
    product_set_active,
    product_update,
    supplier_save,
    unit_save,
)
from inventory.errors import StockError
from inventory.models import MovementKind, Product, StockMovement
from inventory.selectors import stock_on_hand
from inventory.tests.factories import CategoryFactory, KilogramFactory, ProductFactory, UnitFactory, stock_in
from pos.people.audit import AuditAction
from pos.people.models import AuditLog

pytestmark = pytest.mark.django_db


def _data(**overrides):
    data = {
        "name": "Mumias Sugar 2kg",
        "sku": "SUG-MUM-2KG",
        "barcode": make_ean13("616110040001"),
        "category": CategoryFactory(name="Sugar"),
        "unit": UnitFactory(),
        "selling_price": Decimal("320.00"),
        "cost_price": Decimal("285.00"),
        "tax_class": "B",
        "reorder_level": Decimal("10"),
        "reorder_quantity": Decimal("40"),
    }
    data.update(overrides)
    return data


def test_create_with_opening_stock_goes_through_the_ledger(manager, branch):
    product = product_create(actor=manager, data=_data(), opening_stock=Decimal("24"), branch=branch)
    assert stock_on_hand(product_id=product.pk, branch_id=branch.pk) == Decimal("24")
    movement = StockMovement.objects.get(product=product)
    assert movement.kind == MovementKind.OPENING and movement.reference == product and movement.user == manager
    entry = AuditLog.objects.get(action=AuditAction.PRODUCT_CREATED)
    assert entry.after_data["selling_price"] == "320.00" and entry.after_data["opening_stock"] == "24"


def test_names_and_codes_are_tidied(manager):
    product = product_create(actor=manager, data=_data(name="  Mumias   Sugar 2kg ", sku=" SUG-1 ", barcode=""))
    assert (product.name, product.sku, product.barcode) == ("Mumias Sugar 2kg", "SUG-1", None)


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"selling_price": Decimal("-1.00")}, "selling_price", "cannot be negative"),
        ({"cost_price": Decimal("-0.01")}, "cost_price", "cannot be negative"),
        ({"selling_price": Decimal("10.005")}, "selling_price", "2 decimal places"),
        ({"barcode": "6161100400010"}, "barcode", "check digit"),
        ({"barcode": "12345"}, "barcode", "8 (EAN-8), 12 (UPC-A) or 13"),
        ({"barcode": "61611004000A"}, "barcode", "digits only"),
        ({"sku": "bad sku!"}, "sku", "Letters, digits"),
        ({"name": "  "}, "name", "needs a name"),
        ({"tax_class": "Z"}, "tax_class", "A–E"),
        ({"reorder_level": Decimal("2.5")}, "reorder_level", "whole numbers"),
        ({"reorder_quantity": Decimal("-3")}, "reorder_quantity", "cannot be negative"),
    ],
)
def test_bad_product_input_is_refused_and_nothing_is_saved(manager, overrides, field, message):
    with pytest.raises(ValidationError) as exc:
        product_create(actor=manager, data=_data(**overrides))
    assert field in exc.value.message_dict
    assert any(message in m for m in exc.value.message_dict[field]), exc.value.message_dict
    assert not Product.objects.exists()


def test_duplicate_barcode_and_sku_are_refused(manager):
    first = product_create(actor=manager, data=_data())
    with pytest.raises(ValidationError) as exc:
        product_create(actor=manager, data=_data(sku="OTHER-1"))
    assert exc.value.message_dict["barcode"] == ["Another product already has this barcode: Mumias Sugar 2kg."]
    with pytest.raises(ValidationError) as exc:
        product_create(actor=manager, data=_data(sku="sug-mum-2kg", barcode=None))  # SKUs match case-blind
    assert "already used by" in exc.value.message_dict["sku"][0]
    assert list(Product.objects.all()) == [first]


def test_opening_stock_follows_the_unit(manager, branch):
    with pytest.raises(ValidationError) as exc:
        product_create(actor=manager, data=_data(), opening_stock=Decimal("1.5"), branch=branch)
    assert exc.value.message_dict["opening_stock"] == ["Piece is counted in whole numbers."]
    loose = product_create(
        actor=manager,
        data=_data(sku="RICE-LOOSE", barcode=None, unit=KilogramFactory()),
        opening_stock=Decimal("12.5"),
        branch=branch,
    )
    assert stock_on_hand(product_id=loose.pk, branch_id=branch.pk) == Decimal("12.5")
    assert Product.objects.count() == 1


def test_cashiers_cannot_change_the_catalogue(employee):
    with pytest.raises(StockError):
        product_create(actor=employee, data=_data())


def test_update_records_before_and_after(manager):
    product = ProductFactory(selling_price=Decimal("100.00"))
    product_update(actor=manager, product=product, data={"selling_price": Decimal("110.00"), "name": product.name})
    product.refresh_from_db()
    assert product.selling_price == Decimal("110.00")
    entry = AuditLog.objects.get(action=AuditAction.PRODUCT_UPDATED)
    assert entry.before_data == {"selling_price": "100.00"} and entry.after_data == {"selling_price": "110.00"}


def test_update_with_nothing_changed_writes_nothing(manager):
    product = ProductFactory()
    product_update(actor=manager, product=product, data={"name": product.name})
    assert not AuditLog.objects.filter(action=AuditAction.PRODUCT_UPDATED).exists()


def test_bad_update_changes_nothing(manager):
    product = ProductFactory(selling_price=Decimal("100.00"))
    with pytest.raises(ValidationError):
        product_update(actor=manager, product=product, data={"selling_price": Decimal("-5.00")})
    product.refresh_from_db()
    assert product.selling_price == Decimal("100.00")


def test_unit_cannot_change_to_whole_numbers_while_stock_has_decimals(manager, branch):
    product = ProductFactory(unit=KilogramFactory())
    stock_in(product, branch, Decimal("2.5"))
    with pytest.raises(ValidationError) as exc:
        product_update(actor=manager, product=product, data={"unit": UnitFactory()})
    assert "holds 2.5" in exc.value.message_dict["unit"][0]


def test_deactivate_keeps_history_and_delete_refuses_it(manager, branch):
    product = ProductFactory()
    stock_in(product, branch, 3)
    product_set_active(actor=manager, product=product, active=False, reason="discontinued")
    product.refresh_from_db()
    assert not product.is_active
    assert AuditLog.objects.filter(action=AuditAction.PRODUCT_DEACTIVATED, reason="discontinued").exists()
    with pytest.raises(StockError, match="has history"):
        product_delete(actor=manager, product=product)
    assert Product.objects.filter(pk=product.pk).exists()
    product_set_active(actor=manager, product=product, active=True)
    product.refresh_from_db()
    assert product.is_active


def test_a_product_added_by_mistake_can_be_deleted(manager):
    product = ProductFactory()
    product_delete(actor=manager, product=product)
    assert not Product.objects.filter(pk=product.pk).exists()
    assert AuditLog.objects.filter(action=AuditAction.PRODUCT_DELETED).exists()


def test_categories_units_suppliers(manager):
    category = category_save(actor=manager, data={"name": " Beverages ", "sort_order": 5})
    assert category.name == "Beverages"
    with pytest.raises(ValidationError):
        category_save(actor=manager, data={"name": "beverages"})
    unit = unit_save(actor=manager, data={"name": "Pack of 6", "code": "pk6", "decimal_places": 0})
    with pytest.raises(ValidationError):
        unit_save(actor=manager, data={"name": "Six pack", "code": "PK6", "decimal_places": 0})
    with pytest.raises(ValidationError):
        unit_save(actor=manager, data={"name": "Bad", "code": "bd", "decimal_places": 4})
    supplier = supplier_save(
        actor=manager, data={"name": "Bidco Africa", "phone_number": "0722 000 111", "kra_pin": "p051234567x"}
    )
    assert supplier.phone_number == "+254722000111" and supplier.kra_pin == "P051234567X"
    with pytest.raises(ValidationError):
        supplier_save(actor=manager, data={"name": "Bad PIN Ltd", "kra_pin": "12345"})
    assert unit.pk


def test_unit_decimals_cannot_drop_below_what_stock_uses(manager, branch):
    kg = KilogramFactory()
    product = ProductFactory(unit=kg)
    stock_in(product, branch, Decimal("1.25"))
    with pytest.raises(ValidationError):
        unit_save(actor=manager, unit=kg, data={"decimal_places": 1})
    unit_save(actor=manager, unit=kg, data={"decimal_places": 2})


def test_skus_are_kept_in_capitals_and_found_in_any_case(manager):
    from inventory.selectors import product_by_code, product_search

    product = product_create(actor=manager, data=_data(sku="sug-mum-2kg"))
    assert product.sku == "SUG-MUM-2KG"
    assert product_by_code(code="sug-mum-2kg") == product
    assert product_by_code(code=" SUG-MUM-2KG ") == product
    assert product_by_code(code=product.barcode) == product
    assert product_by_code(code="6161100400024") is None  # valid barcode of nothing
    assert [p.pk for p in product_search(query=product.barcode, branch_id=manager.branch_id)] == [product.pk]
    assert [p.pk for p in product_search(query="mumias 2kg", branch_id=manager.branch_id)] == [product.pk]
