"""Reads for M-Pesa: incoming payments not yet matched, pushes a manager must look at."""


from decimal import Decimal

from django.db.models import Q, QuerySet

from cashdesk.mpesa.models import STK_TO_CHECK, C2BPayment, C2BStatus, StkRequest
from core.branches import for_viewer
from pos.people.models import User


def c2b_unmatched(*, viewer: User, query: str = "", amount: Decimal | None = None) -> QuerySet[C2BPayment]:
    """Incoming M-Pesa payments nobody has attached yet: search by phone, amount or receipt code."""
    qs = C2BPayment.objects.filter(status=C2BStatus.UNMATCHED)
    qs = for_viewer(qs, viewer, unassigned=True)
    query = (query or "").strip()
    if query:
        digits = "".join(ch for ch in query if ch.isdigit())
        condition = Q(trans_id__iexact=query) | Q(customer_name__icontains=query) | Q(bill_ref_number__iexact=query)
        if len(digits) >= 9:  # a whole phone number: the real one, or the masked one's visible end
            condition |= Q(phone__endswith=digits[-9:]) | Q(msisdn__endswith=digits[-3:])
        elif len(digits) >= 3:  # the last digits the customer reads out
            condition |= Q(phone__endswith=digits) | Q(msisdn__endswith=digits)
        qs = qs.filter(condition)
    if amount is not None:
        qs = qs.filter(amount=amount)
    return qs.order_by("-trans_time", "-id")


def stk_requests_flagged(*, viewer: User) -> QuerySet[StkRequest]:
    """Pushes a manager must decide on: amount mismatches, overpayments, payments M-Pesa never confirmed."""
    qs = StkRequest.objects.filter(status__in=STK_TO_CHECK, resolved_at__isnull=True).select_related(
        "sale", "requested_by", "payment"
    )
    qs = for_viewer(qs, viewer)
    return qs


def c2b_unverified(*, viewer: User) -> QuerySet[C2BPayment]:
    """Incoming payments M-Pesa did not confirm (Transaction Status): a manager checks the portal."""
    qs = C2BPayment.objects.filter(status=C2BStatus.UNVERIFIED)
    qs = for_viewer(qs, viewer, unassigned=True)
    return qs.order_by("-trans_time", "-id")
