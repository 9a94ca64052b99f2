"""The one way typed numbers (amounts, quantities, prices) become `Decimal`.

`Decimal()` happily reads "NaN", "sNaN", "Infinity" and "1E+999999999": each of those became a 500
somewhere (a comparison with NaN raises, quantize overflows). `parse_decimal` refuses them with a field
error; every form and serializer number field of the project (`DecimalFormField`,
`DecimalSerializerField`) and every view that reads a number by hand goes through it.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from rest_framework import serializers

MAX_TEXT = 40  # characters: no amount or quantity of a shop is longer
MAX_ADJUSTED_EXPONENT = 15  # 10**15: far above any amount (12 digits) or quantity
NOT_A_NUMBER = "Enter a number, e.g. 500 or 1.5."
TOO_LARGE = "That number is too large or too small."


class DecimalInputError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def parse_decimal(value, *, allow_blank: bool = False) -> Decimal | None:
    """Typed text (or an int/Decimal) → a finite Decimal of sensible size; floats are refused."""
    if isinstance(value, bool) or isinstance(value, float):
        raise DecimalInputError(NOT_A_NUMBER)
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    else:
        text = str(value if value is not None else "").strip()
        if text == "":
            if allow_blank:
                return None
            raise DecimalInputError(NOT_A_NUMBER)
        if len(text) > MAX_TEXT:
            raise DecimalInputError(TOO_LARGE)
        try:
            number = Decimal(text)
        except (InvalidOperation, ValueError, TypeError):
            raise DecimalInputError(NOT_A_NUMBER) from None
    if not number.is_finite():
        raise DecimalInputError(NOT_A_NUMBER)
    if number and abs(number.adjusted()) > MAX_ADJUSTED_EXPONENT:
        raise DecimalInputError(TOO_LARGE)
    return number


class DecimalFormField(forms.DecimalField):
    """Django's DecimalField, reading the text through `parse_decimal`."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if self.localize:
            from django.utils.formats import sanitize_separators  # noqa: PLC0415 - only for localized fields

            value = sanitize_separators(value)
        try:
            return parse_decimal(value)
        except DecimalInputError as exc:
            raise forms.ValidationError(exc.message, code="invalid") from None


class DecimalSerializerField(serializers.DecimalField):
    """DRF's DecimalField, reading the value through `parse_decimal` (a number or a string)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and len(data) > self.MAX_STRING_LENGTH:
            self.fail("max_string_length")
        try:
            # A JSON number arrives as int or float: read as its text ("1650.5"), never as a binary float.
            parse_decimal(str(data) if isinstance(data, float) else data)
        except DecimalInputError:
            self.fail("invalid")
        return super().to_internal_value(data)
