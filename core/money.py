"""Foundation pieces every app builds on: the timestamped base model, money and quantity rules.

`inventory`, `cashdesk` and `reports` may import this module, `core.roles`, `core.phone`,
`core.permissions` and `pos.people.audit` (the foundation layer of `pos`), never the till's sales code.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import models

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MONEY_DIGITS = 12  # up to 9,999,999,999.99 KES
MONEY_PLACES = 2
QTY_DIGITS = 12
QTY_PLACES = 3  # 0.5 kg, 0.125 l; a unit may allow fewer places


def MoneyField(*args, **kwargs) -> models.DecimalField:  # noqa: N802 - reads like a field class
    """KES amount: Decimal with two places, the same width everywhere."""
    kwargs.setdefault("max_digits", MONEY_DIGITS)
    kwargs.setdefault("decimal_places", MONEY_PLACES)
    return models.DecimalField(*args, **kwargs)


def QuantityField(*args, **kwargs) -> models.DecimalField:  # noqa: N802
    kwargs.setdefault("max_digits", QTY_DIGITS)
    kwargs.setdefault("decimal_places", QTY_PLACES)
    return models.DecimalField(*args, **kwargs)


def money(value) -> Decimal:
    """Round to cents, half-up (the shop's rule for every line). Floats are refused."""
    if isinstance(value, float):
        raise TypeError("money amounts must never be floats; pass a Decimal or a string")
    if value is None or value == "":
        return ZERO
    try:
        return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
