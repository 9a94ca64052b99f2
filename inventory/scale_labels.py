"""Scale labels: the EAN-13 a shop's scale prints on loose goods, carrying the item and its weight or price.

One rule for the till and the API: `scale_label_decode` reads a code with the shop's layout, and
`scale_label_quantity` turns what it carries into the quantity sold. The layout is in the shop's
settings (`ShopSettings.scale_label_*`); the common shape is the default:

    2 d IIIII VVVVV C   prefix 2 (labels 20–29), a free digit, 5-digit item code,
                        5-digit value (kg with 3 decimals), GS1 check digit

Digits between the prefix and the item code are not read (the second prefix digit, or a scale's
price-check digit). The product is the one whose own barcode is the label with its value zeroed
(how scales and catalogues agree on an item: `2012345000002` for item 12345), else the one whose SKU
is the item code.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from core.errors import DomainError
from inventory.barcodes import gs1_check_digit

WEIGHT = "WEIGHT"
PRICE = "PRICE"
EAN13 = 13


class ScaleLabelError(DomainError):
    """A scale label that cannot be read or does not fit the product it names."""


@dataclass(frozen=True)
class ScaleLayout:
    """Where a label keeps its parts (`ShopSettings.scale_label_*`). `prefix` empty: no scale labels."""

    prefix: str = "2"
    item_digits: int = 5
    value_digits: int = 5
    decimals: int = 3
    kind: str = WEIGHT

    @property
    def usable(self) -> bool:
        """The shop uses scale labels and the layout fits an EAN-13 (the settings' `clean` checks it)."""
        return bool(self.prefix) and len(self.prefix) + self.item_digits + self.value_digits <= EAN13 - 1


DEFAULT_LAYOUT = ScaleLayout()


@dataclass(frozen=True)
class ScaleLabel:
    code: str
    item_code: str
    base_code: str  # the label with its value zeroed: the product's own barcode
    value: Decimal  # kg (or the product's unit) for WEIGHT, KES for PRICE
    kind: str


def scale_label_decode(code: str, layout: ScaleLayout = DEFAULT_LAYOUT) -> ScaleLabel | None:
    """The label `code` carries, or None when it is not a scale label of this layout.

    Raises ScaleLabelError for a label with a wrong check digit: a misread, never a guess.
    """
    code = (code or "").strip()
    if not layout.usable or len(code) != EAN13 or not code.isdigit() or not code.startswith(layout.prefix):
        return None
    expected = gs1_check_digit(code[:-1])
    if int(code[-1]) != expected:
        raise ScaleLabelError(
            f"The check digit of scale label {code} is wrong (expected {expected}): scan it again.",
            field="barcode", code="check_digit",
        )
    value_start = EAN13 - 1 - layout.value_digits
    item_code = code[value_start - layout.item_digits:value_start]
    raw_value = code[value_start:EAN13 - 1]
    base = code[:value_start] + "0" * layout.value_digits
    return ScaleLabel(
        code=code,
        item_code=item_code,
        base_code=base + str(gs1_check_digit(base)),
        value=Decimal(raw_value).scaleb(-layout.decimals),
        kind=layout.kind,
    )


def scale_label_quantity(label: ScaleLabel, *, unit_price: Decimal, decimal_places: int, name: str) -> Decimal:
    """How much of the product the label is for, rounded half-up to the unit's decimals.

    A weight is the quantity; a price is divided by the product's price per unit. Refuses a product
    counted in whole units (not sold by weight) and a label worth nothing.
    """
    if decimal_places <= 0:
        raise ScaleLabelError(
            f"{name} is not sold by weight: its scale label cannot be read. Scan its own barcode.",
            field="barcode", code="not_weighed",
        )
    step = Decimal(1).scaleb(-decimal_places)
    if label.kind == PRICE:
        if unit_price <= 0:
            raise ScaleLabelError(f"{name} has no price per unit, so a price label cannot say how much.",
                                  field="barcode", code="no_price")
        quantity = (label.value / unit_price).quantize(step, rounding=ROUND_HALF_UP)
    else:
        quantity = label.value.quantize(step, rounding=ROUND_HALF_UP)
    if quantity <= 0:
        what = f"KES {label.value}" if label.kind == PRICE else f"{label.value} of a unit"
        raise ScaleLabelError(f"Scale label {label.code} is for nothing ({what}): weigh the item again.",
                              field="barcode", code="zero")
    return quantity
