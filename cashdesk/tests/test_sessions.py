"""Cash sessions: open with a float, paid in/out, close with a count, approval, force-close, X/Z report."""

from decimal import Decimal as D

import pytest
from django.db import IntegrityError, transaction

from cashdesk.models import CashMovement, CashSession, Payment, SessionStatus
from cashdesk.selectors import session_cash_figures, session_report, session_report_for_display
from cashdesk.services import (
    PaymentConflictError,
    PaymentError,
    Tender,
    cash_movement_record,
    denominations_total,
    sale_checkout,
    session_close,
    session_expected_cash,
    session_force_close,
    session_open,
)
from cashdesk.tests.factories import open_session, ring_up
from core.roles import Role
from pos.people.audit import AuditAction
from pos.people.models import AuditLog, ShopSettings
from pos.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------- opening
def test_open_with_a_float(employee):
    session = session_open(cashier=employee, opening_float=D("1500"))
    assert session.status == SessionStatus.OPEN and session.open_for_cashier == employee.pk
    assert session.opening_float == D("1500.00") and session.branch_id == employee.branch_id


@pytest.mark.parametrize(
    "value,message", [(D("-1"), "cannot be negative"), ("abc", "not an amount"), (D("1e9"), "believable")]
)
def test_bad_float_changes_nothing(employee, value, message):
    with pytest.raises(PaymentError, match=message):
        session_open(cashier=employee, opening_float=value)
    assert not CashSession.objects.exists()


def test_one_open_session_per_cashier(employee):
    open_session(employee)
    with pytest.raises(PaymentConflictError, match="already have an open cash session"):
        open_session(employee)
    assert CashSession.objects.count() == 1


def test_the_database_refuses_a_second_open_session(employee, branch):
    open_session(employee)
    with pytest.raises(IntegrityError), transaction.atomic():
        CashSession.objects.create(
            cashier=employee,
            branch=branch,
            open_for_cashier=employee.pk,
            opened_at="2026-01-01T08:00Z",
            opening_float=0,
        )


# ---------------------------------------------------------------------------- paid in / out
def test_paid_in_and_out_move_expected_cash(employee):
    session = open_session(employee, "1000")
    cash_movement_record(session=session, kind="PAID_IN", amount=D("500"), reason="Change from the bank", user=employee)
    cash_movement_record(session=session, kind="PAID_OUT", amount=D("120"), reason="Boda boda delivery", user=employee)
    assert session_expected_cash(session=session) == D("1380.00")
    assert AuditLog.objects.filter(action=AuditAction.CASH_PAID_OUT, reason="Boda boda delivery").exists()


@pytest.mark.parametrize(
    "kind,amount,reason,message",
    [
        ("PAID_OUT", D("0"), "x", "more than zero"),
        ("PAID_OUT", D("-50"), "x", "more than zero"),
        ("PAID_IN", D("50"), "  ", "Say what the money is for"),
        ("STOLEN", D("50"), "x", "paid in or paid out"),
        ("PAID_OUT", D("1000.01"), "Too much", "KES 1000.01 is more than should be in the drawer"),
        ("DROP", D("1000.01"), "To the safe", "KES 1000.01 is more than should be in the drawer"),
    ],
)
def test_bad_cash_movements_change_nothing(employee, kind, amount, reason, message):
    session = open_session(employee, "1000")
    with pytest.raises(PaymentError, match=message):
        cash_movement_record(session=session, kind=kind, amount=amount, reason=reason, user=employee)
    assert not CashMovement.objects.exists()


def test_without_blind_close_the_refusal_says_what_is_in_the_drawer(employee):
    shop = ShopSettings.load()
    shop.blind_close = False
    shop.save()
    session = open_session(employee, "1000")
    with pytest.raises(PaymentError, match="Only KES 1000.00 should be in the drawer"):
        cash_movement_record(session=session, kind="PAID_OUT", amount=D("1000.01"), reason="x", user=employee)


def test_another_cashier_cannot_touch_my_drawer(employee):
    session = open_session(employee)
    with pytest.raises(PaymentError, match="another cashier"):
        cash_movement_record(session=session, kind="PAID_IN", amount=D("5"), reason="x", user=UserFactory())


def test_a_manager_of_the_branch_may_record_in_a_drawer(employee, manager):
    session = open_session(employee)
    cash_movement_record(session=session, kind="PAID_IN", amount=D("5"), reason="float top-up", user=manager)
    assert CashMovement.objects.get().recorded_by == manager


# ---------------------------------------------------------------------------- expected cash
def test_expected_cash_counts_cash_sales_net_of_change(employee, branch):
    session = open_session(employee, "1000")
    sale = ring_up(employee, branch, ("282", "1"))
    sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D("500"))], idempotency_key="e1")
    card_sale = ring_up(employee, branch, ("100", "1"))
    sale_checkout(
        sale=card_sale, user=employee, tenders=[Tender("CARD", D("100"), "AUTH 123456")], idempotency_key="e2"
    )
    figures = session_cash_figures(session=session)
    assert (figures.cash_taken, figures.change_given) == (D("500.00"), D("218.00"))
    # 1000 + 500 − 218; the card sale does not touch the drawer
    assert session_expected_cash(session=session) == D("1282.00")


# ---------------------------------------------------------------------------- closing
def test_close_records_count_expected_and_difference(employee, branch):
    session = open_session(employee, "1000")
    sale = ring_up(employee, branch, ("250", "2"))
    sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D("500"))], idempotency_key="c1")
    closed = session_close(session=session, closed_by=employee, closing_total=D("1450"))
    assert closed.status == SessionStatus.CLOSED and closed.open_for_cashier is None
    assert (closed.expected_cash, closed.closing_total, closed.difference) == (D("1500.00"), D("1450.00"), D("-50.00"))
    assert closed.report["kind"] == "Z" and closed.report["difference"] == "-50.00"
    entry = AuditLog.objects.get(action=AuditAction.SESSION_CLOSED)
    assert entry.after_data["difference"] == "-50.00"


def test_close_by_denominations(employee):
    session = open_session(employee, "1000")
    closed = session_close(session=session, closed_by=employee, denominations={"500": 1, "200": "2", "50": 2, "1": 0})
    assert closed.closing_total == D("1000.00") and closed.denominations == {"500": 1, "200": 2, "50": 2}


def test_denominations_and_typed_total_must_agree(employee):
    session = open_session(employee, "1000")
    with pytest.raises(PaymentError, match="add up to KES 1000.00, not KES 990.00"):
        session_close(session=session, closed_by=employee, closing_total=D("990"), denominations={"1000": 1})
    session.refresh_from_db()
    assert session.status == SessionStatus.OPEN


@pytest.mark.parametrize(
    "denominations,message",
    [({"3": 1}, "not a Kenyan note or coin"), ({"100": -2}, "whole number"), ({"100": "1.5"}, "whole number")],
)
def test_bad_denominations_are_refused(denominations, message):
    with pytest.raises(PaymentError, match=message):
        denominations_total(denominations)


def test_close_needs_a_count(employee):
    session = open_session(employee)
    with pytest.raises(PaymentError, match="Enter the cash you counted"):
        session_close(session=session, closed_by=employee)
    with pytest.raises(PaymentError, match="cannot be negative"):
        session_close(session=session, closed_by=employee, closing_total=D("-1"))


def test_closing_twice_is_refused_and_changes_nothing(employee):
    session = open_session(employee, "100")
    session_close(session=session, closed_by=employee, closing_total=D("100"))
    before = CashSession.objects.filter(pk=session.pk).values().get()
    with pytest.raises(PaymentConflictError, match="already closed"):
        session_close(session=session, closed_by=employee, closing_total=D("90"))
    assert CashSession.objects.filter(pk=session.pk).values().get() == before
    assert AuditLog.objects.filter(action=AuditAction.SESSION_CLOSED).count() == 1


def test_only_the_cashier_closes_their_session(employee):
    session = open_session(employee)
    with pytest.raises(PaymentError, match="Only the cashier"):
        session_close(session=session, closed_by=UserFactory(), closing_total=D("1000"))


class TestBigDifferenceNeedsAManager:
    @pytest.fixture(autouse=True)
    def _limit(self, db):
        settings_row = ShopSettings.load()
        settings_row.max_cash_difference = D("100.00")
        settings_row.save()

    def test_within_the_limit_a_cashier_closes_alone(self, employee):
        session = open_session(employee, "1000")
        closed = session_close(session=session, closed_by=employee, closing_total=D("900"))
        assert closed.close_approved_by is None

    def test_over_the_limit_is_refused_without_approval(self, employee):
        session = open_session(employee, "1000")
        with pytest.raises(PaymentError, match="KES 100.01 short") as info:
            session_close(session=session, closed_by=employee, closing_total=D("899.99"))
        assert info.value.code == "needs_approval"
        session.refresh_from_db()
        assert session.status == SessionStatus.OPEN

    def test_another_cashier_cannot_approve(self, employee):
        session = open_session(employee, "1000")
        with pytest.raises(PaymentError, match="a manager must approve"):
            session_close(session=session, closed_by=employee, closing_total=D("1500"), approved_by=UserFactory())

    def test_a_manager_of_another_branch_cannot_approve(self, employee, other_branch):
        session = open_session(employee, "1000")
        elsewhere = UserFactory(role=Role.MANAGER, branch=other_branch)
        with pytest.raises(PaymentError, match="a manager must approve"):
            session_close(session=session, closed_by=employee, closing_total=D("1500"), approved_by=elsewhere)

    def test_a_managers_approval_closes_it_and_is_audited(self, employee, manager):
        session = open_session(employee, "1000")
        closed = session_close(session=session, closed_by=employee, closing_total=D("1500"), approved_by=manager)
        assert closed.close_approved_by == manager and closed.difference == D("500.00")
        assert AuditLog.objects.get(action=AuditAction.SESSION_CLOSED).authorised_by == manager

    def test_a_manager_closing_their_own_session_approves_it(self, manager):
        session = open_session(manager, "1000")
        closed = session_close(session=session, closed_by=manager, closing_total=D("0"))
        assert closed.close_approved_by == manager


# ---------------------------------------------------------------------------- force-close
def test_force_close_by_a_manager_is_audited(employee, manager):
    session = open_session(employee, "500")
    closed = session_force_close(session=session, manager=manager, closing_total=D("500"), reason="Cashier went home")
    assert closed.force_closed and closed.closed_by == manager
    entry = AuditLog.objects.get(action=AuditAction.SESSION_FORCE_CLOSED)
    assert entry.reason == "Cashier went home" and entry.user == manager


def test_force_close_rules(employee, manager, other_branch):
    session = open_session(employee, "500")
    with pytest.raises(PaymentError, match="Only a manager"):
        session_force_close(session=session, manager=UserFactory(), closing_total=D("500"), reason="x")
    with pytest.raises(PaymentError, match="Only a manager"):
        session_force_close(
            session=session,
            manager=UserFactory(role=Role.MANAGER, branch=other_branch),
            closing_total=D("500"),
            reason="x",
        )
    with pytest.raises(PaymentError, match="Say why"):
        session_force_close(session=session, manager=manager, closing_total=D("500"), reason=" ")
    session.refresh_from_db()
    assert session.status == SessionStatus.OPEN


# ---------------------------------------------------------------------------- a closed session never changes
def test_a_closed_session_never_changes(employee, branch):
    session = open_session(employee, "1000")
    sold = ring_up(employee, branch, ("100", "1"))
    sale_checkout(sale=sold, user=employee, tenders=[Tender("CASH", D("100"))], idempotency_key="n1")
    session_close(session=session, closed_by=employee, closing_total=D("1100"))
    session.refresh_from_db()
    frozen = session.report

    with pytest.raises(PaymentConflictError, match="closed"):
        cash_movement_record(session=session, kind="PAID_IN", amount=D("10"), reason="late", user=employee)
    sale = ring_up(employee, branch, ("50", "1"))
    with pytest.raises(PaymentConflictError, match="Open a cash session"):
        sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D("50"))], idempotency_key="n2")

    assert not CashMovement.objects.exists()
    assert Payment.objects.filter(session=session).count() == 1
    session.refresh_from_db()
    assert session.report == frozen and session_report_for_display(session=session) == frozen


# ---------------------------------------------------------------------------- the X / Z report
def test_report_figures(employee, branch):
    session = open_session(employee, "1000")
    vat = ring_up(employee, branch, ("116", "2", "B"), ("50", "1", "C"))  # 232 at 16 % + 50 zero-rated
    sale_checkout(
        sale=vat,
        user=employee,
        tenders=[Tender("CARD", D("200"), "RRN 778812"), Tender("CASH", D("100"))],
        idempotency_key="r1",
    )
    other = ring_up(employee, branch, ("100", "1", "B"))
    sale_checkout(sale=other, user=employee, tenders=[Tender("CASH", D("100"))], idempotency_key="r2")
    cash_movement_record(session=session, kind="PAID_OUT", amount=D("30"), reason="Sugar for tea", user=employee)

    report = session_report(session=session)
    assert report["kind"] == "X"
    assert report["sales"] == {"count": 2, "gross": "382.00", "discounts": "0.00", "net": "382.00", "vat": "45.79"}
    bands = {b["tax_class"]: b for b in report["vat_bands"]}
    assert bands["B"]["vat"] == "45.79" and bands["B"]["gross"] == "332.00" and bands["C"]["vat"] == "0.00"
    methods = {m["method"]: m for m in report["methods"]}
    assert methods["CARD"]["sales"] == "200.00" and methods["CARD"]["counted"] is None
    # cash: 1000 float + 100 + (100 − 18 change) − 30 paid out
    assert methods["CASH"]["sales"] == "182.00" and methods["CASH"]["expected"] == "1152.00"
    assert [m["reason"] for m in report["movements"]] == ["Sugar for tea"]

    closed = session_close(
        session=session, closed_by=employee, closing_total=D("1150"), counted_by_method={"CARD": "200"}
    )
    methods = {m["method"]: m for m in closed.report["methods"]}
    assert closed.report["kind"] == "Z"
    assert (methods["CASH"]["counted"], methods["CASH"]["difference"]) == ("1150.00", "-2.00")
    assert (methods["CARD"]["counted"], methods["CARD"]["difference"]) == ("200.00", "0.00")


# ---------------------------------------------------------------------------- checkout: other methods
def test_card_needs_the_terminal_reference_and_never_the_card_number(employee, branch):
    open_session(employee)
    sale = ring_up(employee, branch, ("100", "1"))
    with pytest.raises(PaymentError, match="terminal"):
        sale_checkout(sale=sale, user=employee, tenders=[Tender("CARD", D("100"))], idempotency_key="k")
    with pytest.raises(PaymentError, match="looks like a card number"):
        sale_checkout(
            sale=sale, user=employee, tenders=[Tender("CARD", D("100"), "4111 1111 1111 1111")], idempotency_key="k"
        )
    assert not Payment.objects.exists()
    done = sale_checkout(
        sale=sale, user=employee, tenders=[Tender("CARD", D("100"), "012345678901")], idempotency_key="k"
    )
    assert done.payments.get().reference == "012345678901"


def test_voucher_needs_its_code(employee, branch):
    open_session(employee)
    sale = ring_up(employee, branch, ("100", "1"))
    with pytest.raises(PaymentError, match="voucher"):
        sale_checkout(sale=sale, user=employee, tenders=[Tender("VOUCHER", D("100"))], idempotency_key="v")


def test_a_split_whose_parts_exceed_the_total_is_refused(employee, branch):
    open_session(employee)
    sale = ring_up(employee, branch, ("100", "1"))
    with pytest.raises(PaymentError, match="more than what is due"):
        sale_checkout(
            sale=sale,
            user=employee,
            tenders=[Tender("CARD", D("80"), "ref1"), Tender("VOUCHER", D("40"), "V1")],
            idempotency_key="s",
        )
    assert not Payment.objects.exists()


# ---------------------------------------------------------------------------- refunds (the till's returns and voids)
def test_cash_refunds_leave_the_drawer_and_show_in_the_z_report(employee, manager, branch):
    from cashdesk.refund_services import sale_return_refund, sale_void_completed
    from pos.sales.models import RefundTo
    from pos.sales.services import ReturnItem

    session = open_session(employee, "1000")
    sale = ring_up(employee, branch, ("100", "2"))
    sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D("200"))], idempotency_key="r1")
    card_sale = ring_up(employee, branch, ("300", "1"))
    sale_checkout(sale=card_sale, user=employee, tenders=[Tender("CARD", D("300"), "RRN 9")], idempotency_key="r2")
    line = sale.lines.get()
    sale_return_refund(
        sale=sale, items=[ReturnItem(line.pk, D("1"))], user=employee, reason="Broken", authorised_by=manager,
        refund_to=RefundTo.CASH,
    )
    sale_void_completed(sale=card_sale, user=employee, reason="Wrong card", authorised_by=manager, reference="REV-1")

    figures = session_cash_figures(session=session)
    assert figures.refunds == D("100.00")
    assert session_expected_cash(session=session) == D("1100.00")  # 1000 + 200 − 100
    closed = session_close(session=session, closed_by=employee, closing_total=D("1100"))
    report = closed.report
    assert report["returns"] == {"count": 2, "amount": "400.00"}
    methods = {m["method"]: m for m in report["methods"]}
    assert methods["CARD"]["refunds"] == "300.00" and methods["CARD"]["expected"] == "0.00"
    assert methods["CASH"]["expected"] == "1100.00"
    assert [m["kind"] for m in report["movements"]] == ["Cash refund"]


# ---------------------------------------------------------------------------- cash controls
def test_a_big_paid_out_or_cash_drop_needs_a_manager(employee, manager):
    shop = ShopSettings.load()
    shop.cash_out_pin_limit = D("1000.00")
    shop.save()
    session = open_session(employee, "5000")
    cash_movement_record(session=session, kind="PAID_OUT", amount=D("1000.00"), reason="Boda boda", user=employee)
    for kind in ("PAID_OUT", "DROP"):
        with pytest.raises(PaymentError, match="needs a manager's authorisation") as refused:
            cash_movement_record(session=session, kind=kind, amount=D("1000.01"), reason="Big", user=employee)
        assert refused.value.code == "needs_pin"
    assert CashMovement.objects.count() == 1
    drop = cash_movement_record(
        session=session, kind="DROP", amount=D("2500"), reason="To the safe", user=employee, authorised_by=manager
    )
    entry = AuditLog.objects.get(action=AuditAction.CASH_DROP)
    assert entry.authorised_by == manager and entry.object_id == str(drop.pk)
    assert session_expected_cash(session=session) == D("1500.00")
    assert session_cash_figures(session=session).cash_drops == D("2500.00")
    # a manager's own paid-out needs nobody else; paid in is never guarded
    cash_movement_record(session=session, kind="PAID_OUT", amount=D("1200"), reason="Supplier", user=manager)
    cash_movement_record(session=session, kind="PAID_IN", amount=D("9000"), reason="Bank change", user=employee)


def test_a_cashier_of_another_branch_cannot_authorise_a_paid_out(employee, other_branch):
    ShopSettings.objects.filter(pk=1).update(cash_out_pin_limit=D("10"))
    session = open_session(employee, "500")
    elsewhere = UserFactory(role=Role.MANAGER, branch=other_branch)
    with pytest.raises(PaymentError):
        cash_movement_record(session=session, kind="PAID_OUT", amount=D("50"), reason="x", user=employee,
                             authorised_by=elsewhere)
    assert not CashMovement.objects.exists()


def test_the_first_count_is_kept_and_a_recount_needs_a_manager(employee, manager):
    session = open_session(employee, "1000")
    with pytest.raises(PaymentError) as refused:
        session_close(session=session, closed_by=employee, closing_total=D("700"))
    assert refused.value.code == "needs_approval" and "KES 300.00 short" in refused.value.message
    session.refresh_from_db()
    assert session.is_open and session.first_count == D("700.00")
    # the over/short has been shown: counting "1000" now is a recount
    with pytest.raises(PaymentError, match="counting again needs a manager") as again:
        session_close(session=session, closed_by=employee, closing_total=D("1000"))
    assert again.value.code == "needs_approval"
    session.refresh_from_db()
    assert session.is_open and session.first_count == D("700.00")
    closed = session_close(session=session, closed_by=employee, closing_total=D("1000"), approved_by=manager)
    assert closed.closing_total == D("1000.00") and closed.difference == D("0.00")
    entry = AuditLog.objects.get(action=AuditAction.COUNT_RECOUNTED)
    assert entry.authorised_by == manager
    assert entry.before_data == {"counted": "700.00"} and entry.after_data == {"counted": "1000.00"}


def test_the_same_count_again_is_not_a_recount(employee, manager):
    session = open_session(employee, "1000")
    with pytest.raises(PaymentError):
        session_close(session=session, closed_by=employee, closing_total=D("700"))
    closed = session_close(session=session, closed_by=employee, closing_total=D("700"), approved_by=manager)
    assert closed.close_approved_by == manager
    assert not AuditLog.objects.filter(action=AuditAction.COUNT_RECOUNTED).exists()
