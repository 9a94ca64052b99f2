"""Reads for customers."""


import re

from core.phone import phone_or_none
from pos.customers.models import Customer


# ---------------------------------------------------------------------------- customers
def customer_search(*, query: str, limit: int = 10) -> list[Customer]:
    """Active customers by phone number (any Kenyan way of writing it) or name."""
    query = (query or "").strip()
    if not query:
        return []
    qs = Customer.objects.filter(is_active=True)
    phone = phone_or_none(query)
    if phone:
        return list(qs.filter(phone_number=phone)[:limit])
    digits = re.sub(r"\D", "", query)
    if len(digits) >= 4 and len(digits) >= len(query.replace(" ", "")) - 1:
        return list(qs.filter(phone_number__contains=digits.lstrip("0"))[:limit])
    for word in query.split()[:4]:
        qs = qs.filter(name__icontains=word)
    return list(qs.order_by("name")[:limit])
