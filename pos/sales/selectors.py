"""Reads for the till, sales, returns and customers (the writes are in `sale_services`, `customer_services`)."""

import hmac
import re
from collections import OrderedDict
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Count, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.crypto import salted_hmac

from core.branches import for_viewer, may_use_branch
from core.money import ZERO, money
from core.phone import phone_or_none
from core.roles import Perm
from pos.customers.models import Customer
from pos.people.models import AuditLog, User
from pos.sales.models import PaymentStatus, Sale, SaleLine, SaleReturn, SaleStatus

SALE_NUMBER = re.compile(r"^[A-Z0-9]{2,10}-\d{6}$")
CREDIT_NOTE_NUMBER = re.compile(r"^[A-Z0-9]{2,10}-CN-\d{6}$")


# ---------------------------------------------------------------------------- the till
def cart_lines(*, sale: Sale) -> list[SaleLine]:
    return list(sale.lines.all())


def vat_breakdown(lines) -> list[dict]:
    """VAT included per tax class, summed from each line's stored (already rounded) figures."""
    buckets: OrderedDict[str, dict] = OrderedDict()
    for line in sorted(lines, key=lambda line: line.tax_class):
        bucket = buckets.setdefault(
            line.tax_class,
            {"tax_class": line.tax_class, "rate": line.tax_rate, "taxable": ZERO, "tax": ZERO, "total": ZERO},
        )
        bucket["taxable"] += line.line_total - line.tax_amount
        bucket["tax"] += line.tax_amount
        bucket["total"] += line.line_total
    return list(buckets.values())


def held_sales(*, user: User) -> QuerySet[Sale]:
    """Sales parked at the cashier's branch, oldest first, with their size for the list."""
    return (
        Sale.objects.filter(status=SaleStatus.HELD, branch_id=user.branch_id)
        .select_related("cashier", "customer")
        .annotate(line_count=Count("lines"))
        .order_by("held_at", "pk")
    )


def held_sales_count(*, user: User) -> int:
    return Sale.objects.filter(status=SaleStatus.HELD, branch_id=user.branch_id).count()


# ---------------------------------------------------------------------------- what is left to pay
def sale_amount_paid(*, sale: Sale, payments: Iterable | None = None) -> Decimal:
    """What the customer has paid so far: confirmed payments less the change given back.

    Reads `sale.payments.all()`, so a list that prefetched the payments asks nothing more; a service that
    already read them under its lock passes them as `payments`.
    """
    payments = sale.payments.all() if payments is None else payments
    confirmed = (p for p in payments if p.status == PaymentStatus.CONFIRMED)
    return money(sum((p.amount - p.change_given for p in confirmed), ZERO))


def sale_amount_due(*, sale: Sale, payments: Iterable | None = None) -> Decimal:
    """What is still to pay on a sale: its total less what was paid, never below nothing.

    Only an open sale takes payments: a completed one was paid in full, a held or voided one is not
    being paid, so nothing is due on them.
    """
    if sale.status != SaleStatus.OPEN:
        return ZERO
    return max(money(sale.total - sale_amount_paid(sale=sale, payments=payments)), ZERO)


# ---------------------------------------------------------------------------- sales
def for_sales_viewer(queryset: QuerySet, user: User, sale: str = "") -> QuerySet:
    """`queryset` cut to the sales `user` may see: their branch's (every branch's with ALL_BRANCHES), and
    only their own unless they see all sales (VIEW_ALL_SALES).

    `sale` is the lookup from the rows to their sale (`"sale"` for M-Pesa requests); empty for sales.
    """
    prefix = f"{sale}__" if sale else ""
    queryset = for_viewer(queryset, user, field=f"{prefix}branch")
    if not user.has_perm(Perm.VIEW_ALL_SALES):
        queryset = queryset.filter(**{f"{prefix}cashier": user.pk})
    return queryset


def sales_visible_to(*, user: User) -> QuerySet[Sale]:
    """Sales this person may see: their branch (unless all branches), their own (unless all sales)."""
    return for_sales_viewer(Sale.objects.select_related("cashier", "customer", "branch"), user)


# ---------------------------------------------------------------------------- M-Pesa account numbers
# What a customer types as the account number when paying a sale from their phone: the sale's id and
# four letters derived from it with the shop's SECRET_KEY. A sequential "S-123" let anyone who could
# post a confirmation pay (or probe) other people's sales; these cannot be guessed, and a typo in the
# letters or the digits never lands on another sale.
_REFERENCE_LETTERS = "ACDEFGHJKLMNPQRTUVWXY"  # no B/I/O/S/Z: not confused with 8/1/0/5/2
_REFERENCE = re.compile(r"^S?(\d{1,7})([A-Z]{4})$")


def _reference_letters(sale_id: int) -> str:
    digest = salted_hmac("asiria.mpesa.account-reference", str(sale_id), algorithm="sha256").digest()
    return "".join(_REFERENCE_LETTERS[byte % len(_REFERENCE_LETTERS)] for byte in digest[:4])


def sale_pay_reference(sale: Sale) -> str:
    """`123-KQTX`: at most 12 characters (Daraja's AccountReference) for any sale id below 10 million."""
    return f"{sale.pk}-{_reference_letters(sale.pk)}"


def sale_id_from_pay_reference(text: str) -> int | None:
    """The sale id a typed account number names, or None when it is not one of ours (any spacing/case)."""
    cleaned = "".join(ch for ch in (text or "") if ch.isalnum()).upper()
    match = _REFERENCE.match(cleaned)
    if match is None:
        return None
    sale_id = int(match.group(1))
    if not hmac.compare_digest(match.group(2), _reference_letters(sale_id)):
        return None
    return sale_id


def loyalty_history(*, customer, user: User, limit: int = 20) -> list:
    """The customer's latest loyalty entries. A sale of another branch is named without its number
    (`entry.sale_shown` False) unless the viewer sees every branch; `entry.sale_link` says whether the
    viewer may open the sale."""
    entries = list(customer.loyalty_entries.select_related("sale", "sale__branch")[:limit])
    sale_ids = [e.sale_id for e in entries if e.sale_id]
    openable = set(sales_visible_to(user=user).filter(pk__in=sale_ids).values_list("pk", flat=True))
    for entry in entries:
        entry.sale_shown = bool(entry.sale_id) and may_use_branch(user, entry.sale.branch_id)
        entry.sale_link = entry.sale_shown and entry.sale_id in openable
    return entries


def sale_list(*, user: User) -> QuerySet[Sale]:
    return (
        sales_visible_to(user=user)
        .exclude(status=SaleStatus.OPEN)
        .annotate(
            returned=Coalesce(
                Subquery(
                    SaleReturn.objects.filter(sale=OuterRef("pk"))
                    .values("sale")
                    .annotate(total=Sum("total"))
                    .values("total")[:1]
                ),
                Value(ZERO),
                output_field=DecimalField(max_digits=12, decimal_places=2),
            )
        )
        .order_by("-completed_at", "-created_at", "-pk")
    )


def sales_returnable_by(*, user: User) -> QuerySet[Sale]:
    """Completed sales a till user may take goods back for: any cashier's at their branch (the customer
    holds the receipt; a manager authorises the refund), every branch for those who see all branches."""
    qs = Sale.objects.select_related("cashier", "customer", "branch").filter(status=SaleStatus.COMPLETED)
    qs = for_viewer(qs, user)
    return qs


def sale_find(*, user: User, text: str, returnable: bool = False) -> Sale | None:
    """A completed (or voided) sale by its number, as typed or scanned from the receipt's QR code.

    `returnable` looks among the sales the user may take a return for instead of those they may view.
    """
    text = (text or "").strip().upper()
    if not text:
        return None
    if returnable:
        qs = sales_returnable_by(user=user)
    else:
        qs = sales_visible_to(user=user).exclude(status__in=[SaleStatus.OPEN, SaleStatus.HELD])
    if CREDIT_NOTE_NUMBER.match(text):
        return qs.filter(returns__number=text).first()
    if text.isdigit():  # just the digits: this branch's sale with that sequence
        return qs.filter(branch_id=user.branch_id, sequence=int(text)).first()
    return qs.filter(number=text).first()


def sale_audit_trail(*, sale: Sale) -> QuerySet[AuditLog]:
    """Every audit row about the sale: the header, its lines (voids and overrides keep the sale's id
    in their before/after data) and its returns."""
    return_ids = [str(pk) for pk in sale.returns.values_list("pk", flat=True)]
    return (
        AuditLog.objects.filter(
            Q(model_name="pos.Sale", object_id=str(sale.pk))
            | Q(model_name="pos.SaleLine", before_data__sale=sale.pk)
            | Q(model_name="pos.SaleLine", after_data__sale=sale.pk)
            | Q(model_name="pos.SaleReturn", object_id__in=return_ids)
        )
        .select_related("user", "authorised_by")
        .order_by("created_at", "pk")
    )


def sale_returns(*, sale: Sale) -> list[SaleReturn]:
    return list(
        sale.returns.select_related("processed_by", "authorised_by")
        .prefetch_related("lines__sale_line", "refunds")
        .order_by("created_at", "pk")
    )


def _spent_subquery():
    completed = (
        Sale.objects.filter(customer=OuterRef("pk"), status=SaleStatus.COMPLETED)
        .values("customer")
        .annotate(total=Sum("total"))
        .values("total")[:1]
    )
    returned = (
        SaleReturn.objects.filter(sale__customer=OuterRef("pk"), sale__status=SaleStatus.COMPLETED)
        .values("sale__customer")
        .annotate(total=Sum("total"))
        .values("total")[:1]
    )
    money = DecimalField(max_digits=12, decimal_places=2)
    return Coalesce(Subquery(completed), Value(ZERO), output_field=money) - Coalesce(
        Subquery(returned), Value(ZERO), output_field=money
    )


def customer_list(*, query: str = "") -> QuerySet[Customer]:
    qs = Customer.objects.annotate(total_spent=_spent_subquery())
    query = (query or "").strip()
    if query:
        phone = phone_or_none(query)
        if phone:
            qs = qs.filter(phone_number=phone)
        else:
            condition = Q()
            for word in query.split()[:4]:
                condition &= Q(name__icontains=word)
            digits = re.sub(r"\D", "", query)
            if len(digits) >= 4:
                condition |= Q(phone_number__contains=digits.lstrip("0"))
            qs = qs.filter(condition | Q(email__iexact=query))
    return qs.order_by("-is_active", "name")


def customer_total_spent(*, customer: Customer) -> Decimal:
    return Customer.objects.filter(pk=customer.pk).annotate(total_spent=_spent_subquery()).values_list(
        "total_spent", flat=True
    ).get()


def customer_history(*, customer: Customer, user: User) -> QuerySet[Sale]:
    """The customer's sales the viewer may see, newest first."""
    return (
        sales_visible_to(user=user)
        .filter(customer=customer)
        .exclude(status__in=[SaleStatus.OPEN, SaleStatus.HELD])
        .order_by("-completed_at", "-pk")
    )
