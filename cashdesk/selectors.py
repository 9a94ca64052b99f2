"""Reads for the cash desk: a session's cash figures, the X/Z report, lists of sessions and M-Pesa payments.

A session's money is everything recorded against it: sale payments (`Payment.session`), cash paid
in/out, refunds, customer receipts, supplier payments and expenses. Expected cash is

    opening float + cash taken − change given + paid in − paid out
    + customer receipts in cash − supplier payments in cash − expenses in cash − cash refunds
    − cash drops to the safe
"""

from dataclasses import asdict, dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from cashdesk.models import (
    CashMovement,
    CashMovementKind,
    CashSession,
    CustomerReceipt,
    CustomerReceiptAllocation,
    Expense,
    MoneyMethod,
    Payment,
    PaymentMethod,
    PaymentStatus,
    SessionStatus,
    SupplierPayment,
)
from cashdesk.mpesa.models import STK_WAITING, StkRequest
from core.branches import for_viewer
from core.money import ZERO, money
from core.roles import Perm
from pos.people.models import ShopSettings, User
from pos.sales.models import Refund, RefundMethod, Sale, SaleLine, SaleStatus
from pos.sales.selectors import sale_pay_reference

# KES notes and coins in circulation (Central Bank of Kenya), largest first.
DENOMINATIONS: list[tuple[int, str]] = [
    (1000, "note"),
    (500, "note"),
    (200, "note"),
    (100, "note"),
    (50, "note"),
    (40, "coin"),
    (20, "coin"),
    (10, "coin"),
    (5, "coin"),
    (1, "coin"),
]


TAKEN = (PaymentStatus.CONFIRMED, PaymentStatus.REFUNDED)


def _sum(qs, field: str = "amount") -> Decimal:
    return money(qs.aggregate(total=Sum(field))["total"] or ZERO)


@dataclass(frozen=True)
class CashFigures:
    opening_float: Decimal
    cash_taken: Decimal  # cash handed over for sales (before change)
    change_given: Decimal
    paid_in: Decimal
    paid_out: Decimal
    customer_receipts: Decimal  # cash received against customers' accounts
    supplier_payments: Decimal  # cash paid to suppliers from the drawer
    expenses: Decimal  # cash paid for expenses from the drawer
    refunds: Decimal  # cash given back for returns and voids (pos.Refund) from this drawer
    cash_drops: Decimal = ZERO  # notes taken from the drawer to the safe

    @property
    def expected(self) -> Decimal:
        return money(
            self.opening_float
            + self.cash_taken
            - self.change_given
            + self.paid_in
            - self.paid_out
            + self.customer_receipts
            - self.supplier_payments
            - self.expenses
            - self.refunds
            - self.cash_drops
        )

    @property
    def cash_sales(self) -> Decimal:
        return self.cash_taken - self.change_given

    def as_dict(self) -> dict:
        data = {k: str(v) for k, v in asdict(self).items()}
        data["cash_sales"] = str(self.cash_sales)
        data["expected"] = str(self.expected)
        return data


def expected_cash_visible_to(*, user: User) -> bool:
    """With a blind close (the shop's setting) a cashier never sees what should be in a drawer before
    counting it; managers and owners, who read other people's drawers, still do."""
    return not ShopSettings.load().blind_close or user.has_perm(Perm.VIEW_ALL_CASH_SESSIONS)


def session_cash_figures(*, session: CashSession) -> CashFigures:
    # A cash payment later refunded (a voided sale) still came into this drawer: it counts as taken.
    cash = Payment.objects.filter(session=session, method=PaymentMethod.CASH, status__in=TAKEN).aggregate(
        amount=Sum("amount"), change=Sum("change_given")
    )
    movements = {
        row["kind"]: row["total"]
        for row in CashMovement.objects.filter(session=session).values("kind").annotate(total=Sum("amount"))
    }
    return CashFigures(
        opening_float=session.opening_float,
        cash_taken=money(cash["amount"] or ZERO),
        change_given=money(cash["change"] or ZERO),
        paid_in=money(movements.get(CashMovementKind.PAID_IN) or ZERO),
        paid_out=money(movements.get(CashMovementKind.PAID_OUT) or ZERO),
        customer_receipts=_sum(CustomerReceipt.objects.filter(session=session, method=MoneyMethod.CASH)),
        supplier_payments=_sum(SupplierPayment.objects.filter(session=session, method=MoneyMethod.CASH)),
        expenses=_sum(Expense.objects.filter(session=session, method=MoneyMethod.CASH)),
        refunds=_sum(Refund.objects.filter(cash_session=session, method=RefundMethod.CASH)),
        cash_drops=money(movements.get(CashMovementKind.CASH_DROP) or ZERO),
    )


def session_refunds(*, session: CashSession) -> QuerySet[Refund]:
    """Refunds of the session: the cash from its drawer, and what its cashier refunded another way
    (card, M-Pesa, account) at its branch while it was open."""
    end = session.closed_at or timezone.now()
    by_cashier = Q(
        cash_session__isnull=True,
        refunded_by_id=session.cashier_id,
        branch_id=session.branch_id,
        created_at__gte=session.opened_at,
        created_at__lte=end,
    )
    return Refund.objects.filter(Q(cash_session=session) | by_cashier)


# ---------------------------------------------------------------------------- X / Z report
def _d(value) -> str:
    return str(money(value or ZERO))


def session_report(*, session: CashSession, counted_by_method: dict | None = None) -> dict:
    """The X report (open session) or Z report (at close) as JSON-able data.

    A closed session has its Z report frozen in `session.report`; use `session_report_for_display`.
    """
    figures = session_cash_figures(session=session)
    sales = Sale.objects.filter(status=SaleStatus.COMPLETED, payments__session=session).distinct()
    sale_ids = list(sales.values_list("pk", flat=True))
    totals = Sale.objects.filter(pk__in=sale_ids).aggregate(
        count=Count("pk"),
        gross=Sum("subtotal"),
        discounts=Sum("discount_total"),
        net=Sum("total"),
        vat=Sum("tax_total"),
    )
    bands = (
        SaleLine.objects.filter(sale_id__in=sale_ids)
        .values("tax_class", "tax_rate")
        .annotate(gross=Sum("line_total"), vat=Sum("tax_amount"))
        .order_by("tax_class", "tax_rate")
    )
    vat_bands = [
        {
            "tax_class": row["tax_class"],
            "rate": str(row["tax_rate"].normalize()) if row["tax_rate"] is not None else "0",
            "gross": _d(row["gross"]),
            "taxable": _d((row["gross"] or ZERO) - (row["vat"] or ZERO)),
            "vat": _d(row["vat"]),
        }
        for row in bands
    ]
    per_method = {
        row["method"]: row
        for row in Payment.objects.filter(session=session, status__in=TAKEN)
        .values("method")
        .annotate(count=Count("pk"), amount=Sum("amount"), change=Sum("change_given"))
    }
    receipts_by_method = {
        row["method"]: row["total"]
        for row in CustomerReceipt.objects.filter(session=session).values("method").annotate(total=Sum("amount"))
    }
    refunds = session_refunds(session=session)
    returns = refunds.aggregate(count=Count("pk"), amount=Sum("amount"))
    refunds_by_method = {
        row["method"]: row["total"] for row in refunds.values("method").annotate(total=Sum("amount")).order_by()
    }
    counted_by_method = counted_by_method if counted_by_method is not None else (session.counted_by_method or {})
    methods = []
    for method, label in PaymentMethod.choices:
        row = per_method.get(method)
        taken = money((row["amount"] or ZERO) - (row["change"] or ZERO)) if row else ZERO
        received = money(receipts_by_method.get(method) or ZERO)
        refunded = money(refunds_by_method.get(method) or ZERO)
        if method == PaymentMethod.CASH:
            expected = figures.expected
            counted = session.closing_total
        else:
            expected = money(taken + received - refunded)
            counted = counted_by_method.get(method)
            counted = money(counted) if counted not in (None, "") else None
        if not row and not received and not refunded and method != PaymentMethod.CASH and counted is None:
            continue
        methods.append(
            {
                "method": method,
                "label": label,
                "count": row["count"] if row else 0,
                "sales": str(taken),
                "receipts": str(received),
                "refunds": str(refunded),
                "expected": str(expected),
                "counted": None if counted is None else str(counted),
                "difference": None if counted is None else str(money(counted - expected)),
            }
        )
    movements = []
    for movement in CashMovement.objects.filter(session=session).select_related("recorded_by"):
        movements.append(
            {
                "at": timezone.localtime(movement.created_at).isoformat(),
                "kind": movement.get_kind_display(),
                "amount": str(movement.signed_amount),
                "reason": movement.reason,
                "by": movement.recorded_by.full_name,
            }
        )
    for receipt in CustomerReceipt.objects.filter(session=session, method=MoneyMethod.CASH).select_related("customer"):
        movements.append(
            {
                "at": timezone.localtime(receipt.created_at).isoformat(),
                "kind": "Customer receipt",
                "amount": str(receipt.amount),
                "reason": f"{receipt.number} · {receipt.customer.name}",
                "by": "",
            }
        )
    for payment in SupplierPayment.objects.filter(session=session, method=MoneyMethod.CASH).select_related("supplier"):
        movements.append(
            {
                "at": timezone.localtime(payment.created_at).isoformat(),
                "kind": "Supplier payment",
                "amount": str(-payment.amount),
                "reason": payment.supplier.name
                + (f" · {payment.purchase_reference}" if payment.purchase_reference else ""),
                "by": "",
            }
        )
    for expense in Expense.objects.filter(session=session, method=MoneyMethod.CASH).select_related("category"):
        movements.append(
            {
                "at": timezone.localtime(expense.created_at).isoformat(),
                "kind": "Expense",
                "amount": str(-expense.amount),
                "reason": f"{expense.category.name}: {expense.description}",
                "by": "",
            }
        )
    for refund in Refund.objects.filter(cash_session=session, method=RefundMethod.CASH).select_related(
        "sale", "sale_return", "refunded_by"
    ):
        what = refund.sale_return.number if refund.sale_return_id else "void"
        movements.append(
            {
                "at": timezone.localtime(refund.created_at).isoformat(),
                "kind": "Cash refund",
                "amount": str(-refund.amount),
                "reason": f"{refund.sale.number} ({what})",
                "by": refund.refunded_by.full_name,
            }
        )
    movements.sort(key=lambda m: m["at"])
    counted = session.closing_total
    return {
        "kind": "Z" if session.status == SessionStatus.CLOSED else "X",
        "generated_at": timezone.localtime().isoformat(),
        "session": {
            "id": session.pk,
            "cashier": session.cashier.full_name,
            "branch": session.branch.name,
            "opened_at": timezone.localtime(session.opened_at).isoformat(),
            "closed_at": timezone.localtime(session.closed_at).isoformat() if session.closed_at else None,
            "closed_by": session.closed_by.full_name if session.closed_by_id else None,
            "approved_by": session.close_approved_by.full_name if session.close_approved_by_id else None,
            "force_closed": session.force_closed,
            "close_note": session.close_note,
        },
        "sales": {
            "count": totals["count"] or 0,
            "gross": _d(totals["gross"]),
            "discounts": _d(totals["discounts"]),
            "net": _d(totals["net"]),
            "vat": _d(totals["vat"]),
        },
        "returns": {"count": returns["count"] or 0, "amount": _d(returns["amount"])},
        "vat_bands": vat_bands,
        "methods": methods,
        "cash": figures.as_dict(),
        "counted_cash": None if counted is None else str(counted),
        "difference": None if counted is None else str(money(counted - figures.expected)),
        "denominations": session.denominations or None,
        "movements": movements,
        "pending_mpesa": StkRequest.objects.filter(payment__session=session, status__in=STK_WAITING).count(),
    }


def session_report_for_display(*, session: CashSession) -> dict:
    """The frozen Z report of a closed session, or a live X report of an open one."""
    if session.status == SessionStatus.CLOSED and session.report:
        return session.report
    return session_report(session=session)


# ---------------------------------------------------------------------------- lists
def sessions_visible_to(user: User) -> QuerySet[CashSession]:
    """Managers see every session of their branch (all branches with ALL_BRANCHES); cashiers their own."""
    qs = CashSession.objects.select_related("cashier", "branch", "closed_by")
    if not user.has_perm(Perm.VIEW_ALL_CASH_SESSIONS):
        return qs.filter(cashier=user)
    qs = for_viewer(qs, user)
    return qs


def session_current(*, cashier: User) -> CashSession | None:
    return CashSession.objects.filter(open_for_cashier=cashier.pk).first()


def session_drawer_cash(*, session: CashSession) -> Decimal:
    return session_cash_figures(session=session).expected


def sale_reference(sale: Sale) -> str:
    """What the customer types as the M-Pesa account number: an open sale's pay reference (`123-KQTX`,
    not guessable), or the number of a completed one."""
    return sale.number or sale_pay_reference(sale)


# ---------------------------------------------------------------------------- money in and out
def _money_subquery(qs) -> Coalesce:
    total = qs.values("sale").annotate(total=Sum("amount")).values("total")
    return Coalesce(Subquery(total), Value(ZERO), output_field=DecimalField(max_digits=12, decimal_places=2))


def unpaid_account_sales(*, customer) -> list[Sale]:
    """The customer's completed sales with money still owed on account, oldest first.

    Each has `on_account` (paid "on account"), `settled` (by customer receipts), `returned` (goods
    brought back, taken off the account) and `outstanding`.
    """
    credit = Payment.objects.filter(
        sale=OuterRef("pk"), method=PaymentMethod.CUSTOMER_CREDIT, status=PaymentStatus.CONFIRMED
    )
    settled = CustomerReceiptAllocation.objects.filter(sale=OuterRef("pk"))
    returned = Refund.objects.filter(sale=OuterRef("pk"), method=RefundMethod.CUSTOMER_CREDIT)  # off the account
    qs = (
        Sale.objects.filter(customer=customer, status=SaleStatus.COMPLETED)
        .annotate(
            on_account=_money_subquery(credit), settled=_money_subquery(settled), returned=_money_subquery(returned)
        )
        .filter(on_account__gt=0)
        .order_by("completed_at", "pk")
    )
    result = []
    for sale in qs:
        sale.outstanding = money(sale.on_account - sale.settled - sale.returned)
        if sale.outstanding > 0:
            result.append(sale)
    return result


def customer_receipts_visible_to(user: User) -> QuerySet[CustomerReceipt]:
    qs = CustomerReceipt.objects.select_related("customer", "received_by", "branch")
    qs = for_viewer(qs, user)
    return qs


def supplier_payments_visible_to(user: User) -> QuerySet[SupplierPayment]:
    qs = SupplierPayment.objects.select_related("supplier", "paid_by", "branch", "purchase")
    qs = for_viewer(qs, user)
    return qs


def expenses_visible_to(user: User) -> QuerySet[Expense]:
    qs = Expense.objects.select_related("category", "recorded_by", "branch")
    qs = for_viewer(qs, user)
    return qs


def purchase_amount_owed(*, purchase) -> Decimal:
    """What the shop still owes on a purchase: the goods received (or, before any arrive, the order, for
    a deposit) less what was paid against it."""
    value = purchase.total_received if purchase.total_received > 0 else purchase.total_ordered
    paid = _sum(SupplierPayment.objects.filter(purchase=purchase))
    return max(money(value - paid), ZERO)
