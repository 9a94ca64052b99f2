"""Foundation pieces every app builds on: the timestamped base model, money and quantity rules.

`inventory`, `cashdesk` and `reports` may import this module, `pos.roles`, `pos.phone`,
`pos.permissions` and `pos.audit` (the foundation layer of `pos`), never the till's sales code.
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


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class DomainError(Exception):
    """Base of each app's one domain exception (StockError, SaleError, PaymentError…).

    Services raise it with a message a cashier can read; `field` names the form or API field it
    belongs to when there is one. Views turn it into a form error, the API into a 400/409.
    """

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code or "invalid"


class ConflictError(DomainError):
    """The request is valid but the world disagrees: stock short, session closed (API: 409)."""

    status_code = 409


def retry_on_deadlock(function=None, *, attempts: int = 3):
    """Run an outermost transaction again when InnoDB picks it as a deadlock victim (error 1213/1205).

    Only the outermost call retries (inside another transaction the whole outer one must be redone,
    so the error is passed up). SQLite never deadlocks: IMMEDIATE transactions queue at BEGIN.
    """
    import functools
    import time

    from django.db import OperationalError, transaction

    def decorator(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for attempt in range(1, attempts + 1):
                if transaction.get_connection().in_atomic_block:
                    return func(*args, **kwargs)
                try:
                    return func(*args, **kwargs)
                except OperationalError as exc:
                    code = exc.args[0] if exc.args else None
                    if code not in (1213, 1205) or attempt == attempts:
                        raise
                    time.sleep(0.05 * attempt)
            raise AssertionError("unreachable")

        return wrapper

    return decorator(function) if function is not None else decorator
