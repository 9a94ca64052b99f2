"""Kenyan phone numbers: every way people write them becomes one E.164 number, anything else is refused."""

import pytest
from django.core.exceptions import ValidationError

from core.phone import INVALID_PHONE, format_phone_local, mask_phone, msisdn, normalize_phone, phone_or_none


@pytest.mark.parametrize(
    "typed",
    [
        "0712345678",
        "0712 345 678",
        "0712-345-678",
        "(0712) 345.678",
        "712345678",
        "254712345678",
        "+254712345678",
        "+254 712 345 678",
        "00254712345678",
        "  0712 345 678  ",
    ],
)
def test_every_way_of_writing_a_safaricom_number_is_the_same_number(typed):
    assert normalize_phone(typed) == "+254712345678"


@pytest.mark.parametrize(
    "typed,expected",
    [("0110 123 456", "+254110123456"), ("+254 110 123 456", "+254110123456"), ("0799000111", "+254799000111")],
)
def test_01_and_07_numbers(typed, expected):
    assert normalize_phone(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "07123",  # too short
        "07123456789",  # too long
        "0612345678",  # not a mobile prefix
        "+255712345678",  # Tanzania
        "+1 712 345 678",
        "0712 345 67a",
        "zero seven one two",
        "+254",
        "254 612 345 678",
        "++254712345678",
    ],
)
def test_malformed_numbers_are_refused_with_a_clear_message(typed):
    with pytest.raises(ValidationError) as exc:
        normalize_phone(typed)
    assert exc.value.messages == [INVALID_PHONE]
    assert phone_or_none(typed) is None


def test_none_is_refused():
    with pytest.raises(ValidationError):
        normalize_phone(None)


def test_local_format_msisdn_and_mask():
    assert format_phone_local("+254712345678") == "0712 345 678"
    assert format_phone_local("") == ""
    assert format_phone_local("not a number") == "not a number"
    assert msisdn("0712 345 678") == "254712345678"
    assert mask_phone("+254712345678") == "+2547•••••678"
    assert mask_phone(None) == ""
