"""Retail barcodes: EAN-13, UPC-A and EAN-8, with their GS1 check digit."""

from django.core.exceptions import ValidationError

VALID_LENGTHS = {8: "EAN-8", 12: "UPC-A", 13: "EAN-13"}


def gs1_check_digit(digits_without_check: str) -> int:
    """GS1 mod-10: weights 3,1,3,1… from the rightmost data digit."""
    total = 0
    for position, char in enumerate(reversed(digits_without_check)):
        total += int(char) * (3 if position % 2 == 0 else 1)
    return (10 - total % 10) % 10


def barcode_problem(code: str) -> str | None:
    """Why `code` is not a valid retail barcode, or None when it is."""
    if not code.isdigit():
        return "A barcode has digits only."
    if len(code) not in VALID_LENGTHS:
        return "A barcode has 8 (EAN-8), 12 (UPC-A) or 13 (EAN-13) digits."
    expected = gs1_check_digit(code[:-1])
    if int(code[-1]) != expected:
        return f"The check digit of this {VALID_LENGTHS[len(code)]} is wrong (expected {expected}); was it mistyped?"
    return None


def validate_barcode(value: str) -> None:
    problem = barcode_problem(value or "")
    if problem:
        raise ValidationError(problem, code="invalid_barcode")


def make_ean13(twelve_digits: str) -> str:
    """Append the check digit to 12 digits (demo data, in-store codes)."""
    if len(twelve_digits) != 12 or not twelve_digits.isdigit():
        raise ValueError("need 12 digits")
    return twelve_digits + str(gs1_check_digit(twelve_digits))
