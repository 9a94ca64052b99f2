"""Kenyan phone numbers: one normaliser for every form, API field and M-Pesa call."""

import re

from django.core.exceptions import ValidationError

PHONE_HELP = "A Kenyan mobile number, e.g. 0712 345 678 or +254 712 345 678."
INVALID_PHONE = "Enter a Kenyan mobile number such as 0712 345 678 (or +254 712 345 678)."

_SEPARATORS = re.compile(r"[\s\-().]")
# Kenyan mobile numbers: 9 national digits starting 7 (07xx…) or 1 (01xx…).
_NATIONAL = re.compile(r"^[71]\d{8}$")


def normalize_phone(value: str) -> str:
    """Return the number in E.164 (`+2547XXXXXXXX`) or raise ValidationError.

    Accepts `0712 345 678`, `0712-345-678`, `712345678`, `254712345678`, `+254 712 345 678`
    and `00254712345678`.
    """
    if value is None:
        raise ValidationError(INVALID_PHONE, code="invalid_phone")
    raw = _SEPARATORS.sub("", str(value).strip())
    if raw.startswith("+"):
        raw = raw[1:]
        if not raw.startswith("254"):
            raise ValidationError(INVALID_PHONE, code="invalid_phone")
    elif raw.startswith("00254"):
        raw = raw[2:]
    if not raw.isdigit():
        raise ValidationError(INVALID_PHONE, code="invalid_phone")
    if raw.startswith("254"):
        national = raw[3:]
    elif raw.startswith("0"):
        national = raw[1:]
    else:
        national = raw
    if not _NATIONAL.match(national):
        raise ValidationError(INVALID_PHONE, code="invalid_phone")
    return f"+254{national}"


def phone_or_none(value: str) -> str | None:
    try:
        return normalize_phone(value)
    except ValidationError:
        return None


def msisdn(value: str) -> str:
    """The form M-Pesa wants: `2547XXXXXXXX`, 12 digits, no plus."""
    return normalize_phone(value)[1:]


def mask_phone(value: str | None) -> str:
    """For logs and screens that must not show a whole number: `+2547•••••678`."""
    if not value:
        return ""
    value = str(value)
    if len(value) <= 6:
        return "•" * len(value)
    return value[:5] + "•" * (len(value) - 8) + value[-3:]


def validate_phone(value: str) -> None:
    """Model/form validator: the value can be normalised to a Kenyan mobile number."""
    normalize_phone(value)


def format_phone_local(value: str | None) -> str:
    """`+254712345678` → `0712 345 678`, the way people in Kenya write it."""
    if not value or not str(value).startswith("+254") or len(str(value)) != 13:
        return value or ""
    national = str(value)[4:]
    return f"0{national[:3]} {national[3:6]} {national[6:]}"
