"""Writes for customers ("clients"): create and edit; the credit limit is the owner's to set."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.db import retry_on_deadlock
from core.errors import DomainError
from core.money import ZERO, money
from core.phone import normalize_phone
from core.roles import Perm
from pos.customers.models import Customer
from pos.people.audit import AuditAction, audit_record
from pos.people.models import User

MAX_CREDIT_LIMIT = Decimal("100000000.00")


class CustomerError(DomainError):
    """A customer change the rules refuse (duplicate phone, credit limit without permission…)."""


FIELDS = ("name", "phone_number", "email", "kra_pin", "notes")


def _clean(*, customer: Customer, data: dict) -> None:
    for key in FIELDS:
        if key in data:
            value = data[key]
            setattr(customer, key, (value or "").strip() if isinstance(value, str) or value is None else value)
    if not customer.name:
        raise CustomerError("A customer needs a name.", field="name")
    if customer.phone_number:
        try:
            customer.phone_number = normalize_phone(customer.phone_number)
        except ValidationError as exc:
            raise CustomerError(exc.messages[0], field="phone_number") from exc
        clash = Customer.objects.filter(phone_number=customer.phone_number).exclude(pk=customer.pk).first()
        if clash is not None:
            raise CustomerError(f"{clash.name} already has this phone number.", field="phone_number")
    else:
        customer.phone_number = None
    customer.email = (customer.email or "").strip().lower()
    customer.kra_pin = (customer.kra_pin or "").strip().upper()
    try:
        customer.full_clean(exclude=["branch", "balance", "loyalty_points", "credit_limit"])
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise CustomerError(messages[0], field=field if field in FIELDS else None) from exc


def _check_credit_limit(*, actor: User, value) -> Decimal:
    if not actor.has_perm(Perm.SET_CREDIT_LIMIT):
        raise CustomerError("Only the owner can set a credit limit.", field="credit_limit")
    try:
        value = money(value)
    except (TypeError, ValueError) as exc:
        raise CustomerError("The credit limit must be an amount in KES.", field="credit_limit") from exc
    if value < 0:
        raise CustomerError("A credit limit cannot be negative.", field="credit_limit")
    if value > MAX_CREDIT_LIMIT:
        raise CustomerError("That credit limit is not believable.", field="credit_limit")
    return value


@retry_on_deadlock
@transaction.atomic
def customer_create(*, actor: User, data: dict, request=None) -> Customer:
    """A new customer (at the till or on the customers page). A credit limit needs `Perm.SET_CREDIT_LIMIT`."""
    if not actor.has_perm(Perm.MANAGE_CUSTOMERS):
        raise CustomerError("You may not add customers.")
    customer = Customer(branch_id=actor.branch_id)
    _clean(customer=customer, data=data)
    limit = data.get("credit_limit")
    if limit not in (None, "", ZERO, 0):
        customer.credit_limit = _check_credit_limit(actor=actor, value=limit)
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as exc:  # two tills registering the same number at once
        raise CustomerError("Someone already has this phone number.", field="phone_number") from exc
    if customer.credit_limit:
        audit_record(action=AuditAction.CREDIT_LIMIT_CHANGED, user=actor, instance=customer,
                     before={"credit_limit": ZERO}, after={"credit_limit": customer.credit_limit}, request=request)
    return customer


@retry_on_deadlock
@transaction.atomic
def customer_update(*, actor: User, customer: Customer, data: dict, request=None) -> Customer:
    if not actor.has_perm(Perm.MANAGE_CUSTOMERS):
        raise CustomerError("You may not change customers.")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    _clean(customer=customer, data=data)
    if "is_active" in data:
        customer.is_active = bool(data["is_active"])
    before_limit = customer.credit_limit
    if data.get("credit_limit") not in (None, ""):
        try:
            changed = money(data["credit_limit"]) != before_limit
        except (TypeError, ValueError) as exc:
            raise CustomerError("The credit limit must be an amount in KES.", field="credit_limit") from exc
        if changed:
            customer.credit_limit = _check_credit_limit(actor=actor, value=data["credit_limit"])
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as exc:
        raise CustomerError("Someone already has this phone number.", field="phone_number") from exc
    if customer.credit_limit != before_limit:
        audit_record(action=AuditAction.CREDIT_LIMIT_CHANGED, user=actor, instance=customer,
                     before={"credit_limit": before_limit, "balance": customer.balance},
                     after={"credit_limit": customer.credit_limit}, request=request)
    return customer
