"""The cash desk's session pages: desk, open, paid in/out, close (with approval), list, X/Z report and PDF."""

import subprocess
from decimal import Decimal as D

import pytest
from django.urls import reverse

from cashdesk.models import CashMovement, CashSession, SessionStatus
from cashdesk.services import Tender, sale_checkout
from cashdesk.tests.factories import open_session, ring_up
from core.roles import Role
from pos.people.audit import AuditAction
from pos.people.models import AuditLog, ShopSettings
from pos.tests.factories import DEFAULT_PIN, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def not_blind(db):
    """The shop turned blind close off: cashiers see what should be in their drawer."""
    shop = ShopSettings.load()
    shop.blind_close = False
    shop.save()
    return shop


def test_desk_without_a_session_offers_to_open_one(employee_client):
    response = employee_client.get(reverse("cashdesk:index"))
    assert response.status_code == 200
    assert b"Open your cash session" in response.content


def test_open_a_session_from_the_desk(employee_client, employee):
    response = employee_client.post(reverse("cashdesk:session_open"), {"opening_float": "2000"})
    assert response.status_code == 302
    assert CashSession.objects.get(cashier=employee).opening_float == D("2000.00")


def test_open_with_a_negative_float_shows_the_error(employee_client):
    response = employee_client.post(reverse("cashdesk:session_open"), {"opening_float": "-5"})
    assert response.status_code == 400 and not CashSession.objects.exists()


def test_desk_shows_expected_cash(employee_client, employee, not_blind):
    open_session(employee, "1500")
    response = employee_client.get(reverse("cashdesk:index"))
    assert b"KES 1,500.00" in response.content


def test_desk_fragment(employee_client, employee, django_assert_max_num_queries):
    open_session(employee)
    with django_assert_max_num_queries(25):
        response = employee_client.get(reverse("cashdesk:index"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b'id="drawer"' in response.content and b"<html" not in response.content


def test_paid_out_by_htmx_updates_the_drawer(employee_client, employee, not_blind):
    open_session(employee, "1000")
    response = employee_client.post(
        reverse("cashdesk:movement_create"),
        {"kind": "PAID_OUT", "amount": "150", "reason": "Tea and sugar"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert b"Tea and sugar" in response.content and b"KES 850.00" in response.content
    assert CashMovement.objects.get().amount == D("150.00")


def test_paid_out_too_much_is_a_form_error(employee_client, employee):
    open_session(employee, "100")
    response = employee_client.post(
        reverse("cashdesk:movement_create"),
        {"kind": "PAID_OUT", "amount": "500", "reason": "x"},
        HTTP_HX_REQUEST="true",
    )
    assert b"KES 500.00 is more than should be in the drawer" in response.content
    assert not CashMovement.objects.exists()


def test_close_page_and_close(employee_client, employee):
    session = open_session(employee, "1000")
    assert employee_client.get(reverse("cashdesk:session_close")).status_code == 200
    response = employee_client.post(reverse("cashdesk:session_close"), {"count_1000": "1"})
    assert response.status_code == 302 and response["Location"] == reverse("cashdesk:session_report", args=[session.pk])
    session.refresh_from_db()
    assert session.status == SessionStatus.CLOSED and session.closing_total == D("1000.00")


def test_close_with_a_big_difference_asks_for_a_manager_pin(employee_client, employee, manager):
    settings_row = ShopSettings.load()
    settings_row.max_cash_difference = D("50")
    settings_row.save()
    session = open_session(employee, "1000")
    response = employee_client.post(reverse("cashdesk:session_close"), {"closing_total": "800"})
    assert response.status_code == 400 and b"a manager must approve" in response.content
    response = employee_client.post(
        reverse("cashdesk:session_close"), {"closing_total": "800", "approver": manager.pk, "approver_pin": "0000"}
    )
    assert b"Wrong PIN" in response.content
    session.refresh_from_db()
    assert session.status == SessionStatus.OPEN
    response = employee_client.post(
        reverse("cashdesk:session_close"), {"closing_total": "800", "approver": manager.pk, "approver_pin": "2580"}
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.close_approved_by == manager and session.difference == D("-200.00")


def test_a_cashier_sees_only_their_own_sessions(client_for, employee, branch, not_blind):
    mine = open_session(employee)
    other = open_session(UserFactory(branch=branch))
    client = client_for(employee)
    assert client.get(reverse("cashdesk:session_report", args=[mine.pk])).status_code == 200
    assert client.get(reverse("cashdesk:session_report", args=[other.pk])).status_code == 404
    listing = client.get(reverse("cashdesk:session_list")).content.decode()
    assert f">{mine.pk}<" in listing and f">{other.pk}<" not in listing


def test_a_manager_sees_their_branch_only(client_for, manager, branch, other_branch):
    here = open_session(UserFactory(branch=branch))
    there = open_session(UserFactory(branch=other_branch))
    client = client_for(manager)
    assert client.get(reverse("cashdesk:session_report", args=[here.pk])).status_code == 200
    assert client.get(reverse("cashdesk:session_report", args=[there.pk])).status_code == 404
    owner = UserFactory(role=Role.OWNER, branch=branch)
    assert client_for(owner).get(reverse("cashdesk:session_report", args=[there.pk])).status_code == 200


def test_session_list_fragment(manager_client, employee):
    open_session(employee)
    response = manager_client.get(reverse("cashdesk:session_list"), {"status": "OPEN"}, HTTP_HX_REQUEST="true")
    assert (
        response.status_code == 200 and b'id="session-table"' in response.content and b"<html" not in response.content
    )


def test_force_close_page(manager_client, employee, manager):
    session = open_session(employee, "300")
    assert manager_client.get(reverse("cashdesk:session_force_close", args=[session.pk])).status_code == 200
    response = manager_client.post(
        reverse("cashdesk:session_force_close", args=[session.pk]), {"closing_total": "300", "reason": "Went home sick"}
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.force_closed and session.closed_by == manager


def _pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True).stdout


def test_z_report_page_and_pdf(employee_client, employee, branch, tmp_path, django_assert_max_num_queries):
    session = open_session(employee, "1000")
    sale = ring_up(employee, branch, ("116", "2", "B"), ("50", "1", "C"))
    sale_checkout(
        sale=sale,
        user=employee,
        tenders=[Tender("CARD", D("82"), "RRN 1"), Tender("CASH", D("300"))],
        idempotency_key="z",
    )
    employee_client.post(reverse("cashdesk:movement_create"), {"kind": "PAID_OUT", "amount": "40", "reason": "Airtime"})
    employee_client.post(reverse("cashdesk:session_close"), {"closing_total": "1155", "card_counted": "82"})

    with django_assert_max_num_queries(12):
        page = employee_client.get(reverse("cashdesk:session_report", args=[session.pk]))
    html = page.content.decode()
    assert "Z report" in html and "KES 5.00 short" in html and "Airtime" in html

    response = employee_client.get(reverse("cashdesk:session_report_pdf", args=[session.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content, tmp_path)
    assert "Z report" in text and "Esther Cashier" in text
    assert "Net sales (VAT included)" in text and "282.00" in text
    assert "B 16%" in text and "32.00" in text  # VAT in 232 at 16 %
    assert "Expected in the drawer" in text and "1,160.00" in text
    assert "KES 5.00 short" in text and "Airtime" in text


def test_x_report_fragment(employee_client, employee, not_blind):
    session = open_session(employee)
    response = employee_client.get(reverse("cashdesk:session_report", args=[session.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"X report" in response.content and b"<html" not in response.content


# ---------------------------------------------------------------------------- blind close and cash controls
def test_blind_close_hides_what_should_be_in_the_drawer_from_the_cashier(employee_client, employee):
    open_session(employee, "4400")
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        page = employee_client.get(reverse("cashdesk:index"), **headers).content.decode()
        assert "Should be in the drawer" not in page and "4,400.00" not in page
        assert 'data-testid="blind-close"' in page


def test_blind_close_keeps_the_x_report_from_the_cashier(employee_client, employee):
    session = open_session(employee, "4400")
    response = employee_client.get(reverse("cashdesk:session_report", args=[session.pk]), follow=True)
    assert b"4,400.00" not in response.content and b"A manager can read the X report" in response.content
    response = employee_client.get(reverse("cashdesk:session_report", args=[session.pk]), HTTP_HX_REQUEST="true")
    assert response.headers["HX-Redirect"] == reverse("cashdesk:index")
    pdf = employee_client.get(reverse("cashdesk:session_report_pdf", args=[session.pk]))
    assert pdf.status_code == 302
    assert not AuditLog.objects.filter(action=AuditAction.X_REPORT_READ).exists()


def test_a_manager_still_sees_expected_cash_and_x_report_reads_are_audited(client_for, manager, employee):
    mine = open_session(manager, "700")
    theirs = open_session(employee, "4400")
    client = client_for(manager)
    assert b"KES 700.00" in client.get(reverse("cashdesk:index")).content
    response = client.get(reverse("cashdesk:session_report", args=[theirs.pk]))
    assert response.status_code == 200 and b"4,400.00" in response.content
    read = AuditLog.objects.get(action=AuditAction.X_REPORT_READ)
    assert read.user == manager and read.object_id == str(theirs.pk)
    client.get(reverse("cashdesk:session_report", args=[mine.pk]))
    assert AuditLog.objects.filter(action=AuditAction.X_REPORT_READ).count() == 2


def test_the_variance_shows_after_the_count_and_a_recount_asks_for_a_manager(employee_client, employee, manager):
    session = open_session(employee, "1000")
    page = employee_client.get(reverse("cashdesk:session_close")).content.decode()
    assert "1,000.00" not in page
    first = employee_client.post(reverse("cashdesk:session_close"), {"closing_total": "600"})
    assert first.status_code == 400 and "KES 400.00 short" in first.content.decode()
    again = employee_client.post(reverse("cashdesk:session_close"), {"closing_total": "1000"})
    text = again.content.decode()
    assert again.status_code == 400 and "counting again needs a manager" in text and 'data-testid="first-count"' in text
    session.refresh_from_db()
    assert session.is_open and session.first_count == D("600.00")
    approved = employee_client.post(
        reverse("cashdesk:session_close"),
        {"closing_total": "1000", "approver": manager.pk, "approver_pin": DEFAULT_PIN},
    )
    assert approved.status_code == 302
    session.refresh_from_db()
    assert session.closing_total == D("1000.00") and not session.is_open
    assert AuditLog.objects.get(action=AuditAction.COUNT_RECOUNTED).authorised_by == manager


def test_a_big_paid_out_asks_for_a_manager_pin_on_the_desk(employee_client, employee, manager):
    ShopSettings.objects.filter(pk=1).update(cash_out_pin_limit=D("500"))
    open_session(employee, "3000")
    data = {"kind": "PAID_OUT", "amount": "800", "reason": "Supplier of eggs"}
    asked = employee_client.post(reverse("cashdesk:movement_create"), data, HTTP_HX_REQUEST="true")
    text = asked.content.decode()
    assert 'data-testid="pin-box"' in text and "needs a manager" in text and manager.full_name in text
    assert not CashMovement.objects.exists()
    wrong = employee_client.post(reverse("cashdesk:movement_create"), {**data, "authoriser": manager.pk, "pin": "0000"},
                                 HTTP_HX_REQUEST="true")
    assert 'data-testid="pin-error"' in wrong.content.decode() and not CashMovement.objects.exists()
    done = employee_client.post(reverse("cashdesk:movement_create"),
                                {**data, "authoriser": manager.pk, "pin": DEFAULT_PIN}, HTTP_HX_REQUEST="true")
    assert done.status_code == 200 and CashMovement.objects.get().amount == D("800.00")
    assert AuditLog.objects.get(action=AuditAction.CASH_PAID_OUT).authorised_by == manager


def test_the_desk_lists_a_receipt_that_did_not_print_with_a_retry(employee_client, employee, branch):
    from cashdesk.printing.models import PrintJob, PrintJobStatus, ReceiptPrinter
    from cashdesk.tests.printing_support import closed_port

    ReceiptPrinter.objects.create(branch=branch, host="127.0.0.1", port=closed_port())
    open_session(employee)
    response = employee_client.post(reverse("cashdesk:drawer_open"), {"reason": ""}, follow=True)
    assert b"Say why the drawer is opened" in response.content and not PrintJob.objects.exists()
    employee_client.post(reverse("cashdesk:drawer_open"), {"reason": "Change for a customer"})
    job = PrintJob.objects.get()
    job.status, job.error = PrintJobStatus.FAILED, "The printer refused the connection."
    job.save()
    page = employee_client.get(reverse("cashdesk:index")).content.decode()
    assert 'data-testid="failed-prints"' in page and "refused the connection" in page
    assert reverse("cashdesk:print_job_retry", args=[job.pk]) in page
