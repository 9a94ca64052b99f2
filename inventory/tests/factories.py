from decimal import Decimal

import factory

from inventory.barcodes import make_ean13
from inventory.models import Category, Product, Supplier, TaxClass, Unit


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Category {n}")


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit
        django_get_or_create = ("code",)

    name = "Piece"
    code = "pc"
    decimal_places = 0


class KilogramFactory(UnitFactory):
    name = "Kilogram"
    code = "kg"
    decimal_places = 3


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    name = factory.Sequence(lambda n: f"Supplier {n} Ltd")
    phone_number = "+254722000000"


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    barcode = factory.Sequence(lambda n: make_ean13(f"616{n:09d}"))
    category = factory.SubFactory(CategoryFactory)
    unit = factory.SubFactory(UnitFactory)
    selling_price = Decimal("100.00")
    cost_price = Decimal("70.00")
    tax_class = TaxClass.B
    reorder_level = Decimal("5")
    reorder_quantity = Decimal("20")


def stock_in(product, branch, quantity, *, kind="OPENING", user=None):
    """Put stock on the shelf through the ledger (tests never write StockLevel directly)."""
    from inventory.ledger_services import StockLine, stock_move

    return stock_move(
        branch=branch, lines=[StockLine(product.pk, Decimal(str(quantity)))], kind=kind, user=user, reason="test stock"
    )
