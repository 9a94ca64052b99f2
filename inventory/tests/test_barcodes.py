import pytest
from django.core.exceptions import ValidationError

from inventory.barcodes import barcode_problem, gs1_check_digit, make_ean13, validate_barcode


@pytest.mark.parametrize("code", ["5000112637922", "036000291452", "96385074", "6161101660105"])
def test_real_barcodes_are_valid(code):
    assert barcode_problem(code) is None


@pytest.mark.parametrize(
    "code,fragment",
    [
        ("5000112637923", "check digit"),
        ("036000291453", "check digit"),
        ("96385075", "check digit"),
        ("12345", "8 (EAN-8), 12 (UPC-A) or 13"),
        ("50001126379AB", "digits only"),
        ("", "digits only"),
    ],
)
def test_bad_barcodes_say_why(code, fragment):
    assert fragment in barcode_problem(code)
    with pytest.raises(ValidationError):
        validate_barcode(code)


def test_make_ean13_appends_the_check_digit():
    assert make_ean13("500011263792") == "5000112637922"
    assert gs1_check_digit("500011263792") == 2
