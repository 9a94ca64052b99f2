"""Scale labels: reading the EAN-13 a shop's scale prints (table cases), the quantity it stands for, and
finding its product with the shop's layout."""

from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from inventory.barcodes import make_ean13
from inventory.scale_labels import (
    PRICE,
    WEIGHT,
    ScaleLabel,
    ScaleLabelError,
    ScaleLayout,
    scale_label_decode,
    scale_label_quantity,
)
from inventory.selectors import product_for_scan
from inventory.tests.factories import KilogramFactory, ProductFactory
from pos.people.models import ShopSettings
from pos.people.services import shop_settings_update

DEFAULT = ScaleLayout()
PRICE_LABELS = ScaleLayout(prefix="22", item_digits=5, value_digits=5, decimals=2, kind=PRICE)
SIX_DIGIT_ITEMS = ScaleLayout(prefix="2", item_digits=6, value_digits=4, decimals=3)


@pytest.mark.parametrize(
    "layout, twelve, item_code, base_twelve, value",
    [
        # the common shape: 2, a free digit, 5-digit item code, 5-digit weight in grams
        (DEFAULT, "201234501250", "12345", "201234500000", D("1.250")),
        (DEFAULT, "290004200500", "00042", "290004200000", D("0.500")),
        (DEFAULT, "271234599999", "12345", "271234500000", D("99.999")),
        (DEFAULT, "201234500001", "12345", "201234500000", D("0.001")),
        # a price label (two-digit prefix, cents)
        (PRICE_LABELS, "221234525000", "12345", "221234500000", D("250.00")),
        # a 6-digit item code and a 4-digit weight: the digit after the prefix is not read
        (SIX_DIGIT_ITEMS, "251234560750", "123456", "251234560000", D("0.750")),
    ],
)
def test_a_scale_label_is_read_with_its_layout(layout, twelve, item_code, base_twelve, value):
    code = make_ean13(twelve)
    label = scale_label_decode(code, layout)
    assert label == ScaleLabel(
        code=code, item_code=item_code, base_code=make_ean13(base_twelve), value=value, kind=layout.kind
    )


@pytest.mark.parametrize(
    "layout, code",
    [
        (DEFAULT, make_ean13("616123456789")),  # a maker's barcode (GS1 Kenya), not a scale label
        (DEFAULT, "20123450125"),  # 11 digits: not an EAN-13
        (DEFAULT, make_ean13("201234501250") + "4"),  # glued: 14 digits
        (DEFAULT, "20123A501250"),  # not digits
        (DEFAULT, ""),
        (PRICE_LABELS, make_ean13("211234525000")),  # 21…: this shop's labels start with 22
        (ScaleLayout(prefix=""), make_ean13("201234501250")),  # the shop uses no scale labels
        (ScaleLayout(prefix="2", item_digits=6, value_digits=6), make_ean13("201234501250")),  # 13 digits: unusable
    ],
)
def test_a_code_that_is_no_scale_label_of_the_layout_is_none(layout, code):
    assert scale_label_decode(code, layout) is None


def test_a_wrong_check_digit_is_refused_not_guessed():
    good = make_ean13("201234501250")
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    with pytest.raises(ScaleLabelError, match=rf"check digit of scale label {bad} is wrong \(expected {good[-1]}\)"):
        scale_label_decode(bad, DEFAULT)


def _label(value: str, kind: str = WEIGHT) -> ScaleLabel:
    return ScaleLabel(code="2012345012505", item_code="12345", base_code="2012345000002", value=D(value), kind=kind)


@pytest.mark.parametrize(
    "label, unit_price, places, quantity",
    [
        (_label("1.250"), D("180.00"), 3, D("1.250")),  # a weight is the quantity
        (_label("1.255"), D("180.00"), 2, D("1.26")),  # to the unit's decimals, half up
        (_label("1.254"), D("180.00"), 2, D("1.25")),
        (_label("250.00", PRICE), D("180.00"), 3, D("1.389")),  # KES 250 of KES 180/kg
        (_label("90.00", PRICE), D("180.00"), 3, D("0.500")),
        (_label("100.00", PRICE), D("300.00"), 1, D("0.3")),
    ],
)
def test_the_quantity_a_label_stands_for(label, unit_price, places, quantity):
    result = scale_label_quantity(label, unit_price=unit_price, decimal_places=places, name="Sukuma wiki")
    assert result == quantity and result.as_tuple().exponent == -places


@pytest.mark.parametrize(
    "label, unit_price, places, message",
    [
        (_label("1.250"), D("100.00"), 0, "Geisha soap is not sold by weight"),
        (_label("0.000"), D("180.00"), 3, "is for nothing"),
        (_label("0.0004"), D("180.00"), 3, "is for nothing"),  # rounds to nothing
        (_label("0.05", PRICE), D("180.00"), 3, r"is for nothing \(KES 0.05\)"),  # 0.0003 kg
        (_label("50.00", PRICE), D("0.00"), 3, "has no price per unit"),
    ],
)
def test_a_label_that_cannot_stand_for_a_quantity_is_refused(label, unit_price, places, message):
    name = "Geisha soap" if places == 0 else "Sukuma wiki"
    with pytest.raises(ScaleLabelError, match=message):
        scale_label_quantity(label, unit_price=unit_price, decimal_places=places, name=name)


# ---------------------------------------------------------------------------- with the catalogue and settings
@pytest.fixture
def sukuma(db):
    return ProductFactory(name="Sukuma wiki", unit=KilogramFactory(), selling_price=D("80.00"),
                          barcode=make_ean13("201234500000"))


@pytest.mark.django_db
def test_a_label_finds_the_product_whose_barcode_is_the_label_with_its_value_zeroed(sukuma):
    found = product_for_scan(code=make_ean13("201234501250"))
    assert (found.product, found.quantity, found.label.item_code) == (sukuma, D("1.250"), "12345")
    # the product's own barcode is the product, with no quantity (the till asks for the weight)
    own = product_for_scan(code=sukuma.barcode)
    assert (own.product, own.quantity, own.label) == (sukuma, None, None)


@pytest.mark.django_db
def test_a_label_finds_the_product_by_its_sku_as_the_item_code(branch):
    mince = ProductFactory(name="Beef mince", sku="04711", unit=KilogramFactory(), barcode=None)
    found = product_for_scan(code=make_ean13("210471100725"))
    assert (found.product, found.quantity) == (mince, D("0.725"))


@pytest.mark.django_db
def test_labels_for_unknown_items_or_goods_not_sold_by_weight_are_refused(sukuma):
    with pytest.raises(ScaleLabelError, match="No product has the scale item code 99999"):
        product_for_scan(code=make_ean13("209999900500"))
    ProductFactory(name="Geisha soap", barcode=make_ean13("205555500000"))  # counted in pieces
    with pytest.raises(ScaleLabelError, match="Geisha soap is not sold by weight"):
        product_for_scan(code=make_ean13("205555500500"))
    assert product_for_scan(code=make_ean13("616123456789")) is None  # not a label, not a product


@pytest.mark.django_db
def test_the_shop_layout_comes_from_the_settings(owner, sukuma):
    shop_settings_update(actor=owner, data={"scale_label_prefix": "20", "scale_label_decimals": 2,
                                            "scale_label_kind": "PRICE"})
    found = product_for_scan(code=make_ean13("201234504000"))  # KES 40.00 of KES 80/kg
    assert found.quantity == D("0.500")
    assert product_for_scan(code=make_ean13("221234504000")) is None  # 22…: not this shop's labels


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data, field",
    [
        ({"scale_label_prefix": "3"}, "scale_label_prefix"),  # not a restricted-circulation prefix
        ({"scale_label_prefix": "2", "scale_label_item_digits": 6, "scale_label_value_digits": 6},
         "scale_label_item_digits"),  # 13 digits before the check digit
        ({"scale_label_kind": "PRICE", "scale_label_decimals": 3}, "scale_label_decimals"),
        ({"scale_label_value_digits": 2, "scale_label_decimals": 3}, "scale_label_decimals"),
        ({"scale_label_item_digits": 0}, "scale_label_item_digits"),
    ],
)
def test_a_layout_that_cannot_fit_an_ean13_is_refused_and_changes_nothing(owner, data, field):
    with pytest.raises(ValidationError) as refused:
        shop_settings_update(actor=owner, data=data)
    assert field in refused.value.message_dict
    row = ShopSettings.objects.get(pk=1)
    assert (row.scale_label_prefix, row.scale_label_item_digits, row.scale_label_value_digits,
            row.scale_label_decimals, row.scale_label_kind) == ("2", 5, 5, 3, "WEIGHT")
