"""The M-Pesa block of the pay panel and the M-Pesa pages: full pages, fragments, states, events."""

import json
from decimal import Decimal as D

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from cashdesk.models import Payment, PaymentStatus
from cashdesk.mpesa import services as mpesa
from cashdesk.mpesa.models import C2BPayment, C2BStatus, StkRequest, StkStatus
from cashdesk.tests.factories import open_session, ring_up
from cashdesk.tests.mpesa_support import FakeDaraja, callback_url, sample_bytes, stk_callback_body
from pos.sales.models import SaleStatus
from pos.sales.selectors import sale_pay_reference

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def daraja():
    with FakeDaraja() as fake:
        yield fake


@pytest.fixture
def sale(employee, branch):
    open_session(employee, "1000")
    branch.mpesa_till_number = "5123456"
    branch.mpesa_paybill = "600638"
    branch.save()
    return ring_up(employee, branch, ("1282", "1"))


def test_panel_page_and_fragment(employee_client, sale):
    page = employee_client.get(reverse("cashdesk:mpesa_panel", args=[sale.pk]))
    assert page.status_code == 200 and b"<html" in page.content and b"Send the payment request" in page.content
    fragment = employee_client.get(reverse("cashdesk:mpesa_panel", args=[sale.pk]), **HX)
    html = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in html and 'id="mpesa-panel"' in html
    assert "5123456" in html and "600638" in html and sale_pay_reference(sale) in html
    assert "0708 374 149" in html  # the simulator's numbers are offered in simulator mode


def test_start_from_the_till_form_takes_the_cash_part(daraja, employee_client, sale):
    response = employee_client.post(
        reverse("cashdesk:mpesa_stk_start", args=[sale.pk]),
        # what the till's pay form sends along: its own fields plus ours
        {
            "sale": sale.pk,
            "idempotency_key": "till-key",
            "cash": "300",
            "card": "",
            "mpesa_phone": "0708 374 149",
            "mpesa_amount": "",
        },
        **HX,
    )
    html = response.content.decode()
    assert "Waiting for the customer's PIN" in html and 'hx-trigger="every 1s"' in html
    stk = StkRequest.objects.get()
    assert stk.amount == D("982.00") and stk.other_tenders[0]["amount"] == "300.00"


def test_start_with_a_bad_phone_shows_the_error_in_the_panel(daraja, employee_client, sale):
    response = employee_client.post(
        reverse("cashdesk:mpesa_stk_start", args=[sale.pk]), {"mpesa_phone": "+44 20 7946 0958"}, **HX
    )
    assert response.status_code == 200 and b"Enter a Kenyan mobile number" in response.content
    assert b'value="+44 20 7946 0958"' in response.content  # what was typed stays
    assert not StkRequest.objects.exists()


def test_bad_amount_text_is_an_error(daraja, employee_client, sale):
    response = employee_client.post(
        reverse("cashdesk:mpesa_stk_start", args=[sale.pk]),
        {"mpesa_phone": "0708374149", "mpesa_amount": "12abc"},
        **HX,
    )
    assert b"Enter amounts as numbers" in response.content and not StkRequest.objects.exists()


def test_polling_turns_to_paid_and_announces_the_completed_sale(daraja, employee_client, employee, sale, client):
    stk = mpesa.mpesa_stk_start(sale=sale, phone="0708374149", user=employee, amount=D("982"), other_tenders=[])
    status_url = reverse("cashdesk:mpesa_status", args=[stk.pk])
    waiting = employee_client.get(status_url, **HX)
    assert b'data-status="waiting"' in waiting.content and "HX-Trigger-After-Settle" not in waiting
    client.post(
        callback_url(), data=stk_callback_body("stk_callback_success", amount="982"), content_type="application/json"
    )
    paid = employee_client.get(status_url, **HX)
    html = paid.content.decode()
    assert 'data-status="paid"' in html and "hx-trigger" not in html and "NLJ7RT61SV" in html
    assert "KES 300.00 still to pay" in html
    assert json.loads(paid["HX-Trigger-After-Settle"])["mpesaPaid"] == {
        "sale": sale.pk,
        "amount": "982.00",
        "complete": False,
    }


def test_paid_in_full_completes_and_sends_sale_completed(daraja, employee_client, employee, branch, client):
    open_session(employee)
    sale = ring_up(employee, branch, ("1650", "1"))
    stk = mpesa.mpesa_stk_start(sale=sale, phone="0708374149", user=employee)
    client.post(callback_url(), data=sample_bytes("stk_callback_success"), content_type="application/json")
    response = employee_client.get(reverse("cashdesk:mpesa_status", args=[stk.pk]), **HX)
    sale.refresh_from_db()
    assert sale.status == SaleStatus.COMPLETED
    assert json.loads(response["HX-Trigger-After-Settle"])["saleCompleted"] == {"sale": sale.pk, "number": sale.number}
    assert f"Sale {sale.number} is complete".encode() in response.content


def test_polling_completes_a_paid_sale_the_callback_could_not(
    daraja, employee_client, employee, branch, client, monkeypatch
):
    open_session(employee)
    sale = ring_up(employee, branch, ("1650", "1"))
    stk = mpesa.mpesa_stk_start(sale=sale, phone="0708374149", user=employee)
    calls = []
    real = mpesa.mpesa_sale_complete_if_paid
    monkeypatch.setattr(mpesa, "mpesa_sale_complete_if_paid", lambda stk: calls.append(stk) or None)
    client.post(callback_url(), data=sample_bytes("stk_callback_success"), content_type="application/json")
    sale.refresh_from_db()
    assert calls and sale.status == SaleStatus.OPEN  # e.g. the worker died after confirming
    monkeypatch.setattr(mpesa, "mpesa_sale_complete_if_paid", real)
    employee_client.get(reverse("cashdesk:mpesa_status", args=[stk.pk]), **HX)
    employee_client.get(reverse("cashdesk:mpesa_status", args=[stk.pk]), **HX)
    sale.refresh_from_db()
    assert sale.status == SaleStatus.COMPLETED and sale.payments.filter(status="CONFIRMED").count() == 1


@pytest.mark.parametrize(
    "name,words",
    [("stk_callback_cancelled", "Cancelled on the phone"), ("stk_callback_timeout", "No answer from the phone")],
)
def test_failed_states_offer_retry_another_way_and_the_till_number(
    daraja, employee_client, employee, sale, client, name, words
):
    from cashdesk.tests.mpesa_support import sample

    daraja.next_checkout_ids = [sample(name)["Body"]["stkCallback"]["CheckoutRequestID"]]
    stk = mpesa.mpesa_stk_start(sale=sale, phone="0708374149", user=employee)
    client.post(callback_url(), data=sample_bytes(name), content_type="application/json")
    html = employee_client.get(reverse("cashdesk:mpesa_status", args=[stk.pk]), **HX).content.decode()
    assert words in html and 'data-testid="mpesa-retry"' in html and 'data-testid="mpesa-other"' in html
    assert "5123456" in html and 'data-testid="mpesa-code"' in html
    # Choose another way: a fresh panel with the start form
    fresh = employee_client.get(reverse("cashdesk:mpesa_panel", args=[sale.pk]), **HX).content.decode()
    assert 'data-testid="mpesa-send"' in fresh and words not in fresh


def test_retry_sends_a_new_push(daraja, employee_client, employee, sale, client):
    daraja.next_checkout_ids = ["ws_CO_191220191020363926"]
    mpesa.mpesa_stk_start(sale=sale, phone="0708374149", user=employee)
    client.post(callback_url(), data=sample_bytes("stk_callback_cancelled"), content_type="application/json")
    employee_client.post(
        reverse("cashdesk:mpesa_stk_start", args=[sale.pk]),
        {"mpesa_phone": "254708374149", "mpesa_amount": "1282"},
        **HX,
    )
    assert StkRequest.objects.count() == 2 and StkRequest.objects.filter(status=StkStatus.SENT).count() == 1


def test_stop_waiting(daraja, employee_client, employee, sale):
    stk = mpesa.mpesa_stk_start(sale=sale, phone="0708374149", user=employee)
    response = employee_client.post(reverse("cashdesk:mpesa_stop", args=[stk.pk]), **HX)
    assert b'data-testid="mpesa-send"' in response.content
    stk.refresh_from_db()
    assert stk.status == StkStatus.FAILED and stk.answered_by == "cashier"


def test_code_attach_from_the_panel(employee_client, employee, branch, client):
    open_session(employee)
    sale = ring_up(employee, branch, ("420", "1"))
    response = employee_client.post(
        reverse("cashdesk:mpesa_code_attach", args=[sale.pk]), {"mpesa_code": "SAB3XK91LM"}, **HX
    )
    assert b"has not told us about SAB3XK91LM yet" in response.content
    client.post(callback_url("confirm"), data=sample_bytes("c2b_confirmation_till"), content_type="application/json")
    response = employee_client.post(
        reverse("cashdesk:mpesa_code_attach", args=[sale.pk]), {"mpesa_code": "SAB3XK91LM"}, **HX
    )
    assert "saleCompleted" in json.loads(response["HX-Trigger-After-Settle"])
    sale.refresh_from_db()
    assert sale.status == SaleStatus.COMPLETED


def test_the_till_include_renders_the_panel(employee, sale):
    request = RequestFactory().get("/till/")
    request.user = employee
    from django.contrib.auth.context_processors import PermWrapper

    html = Template('{% include "cashdesk/partials/pay_methods_extra.html" %}').render(
        Context({"sale": sale, "request": request, "perms": PermWrapper(employee)})
    )
    assert (
        'id="mpesa-panel"' in html and "js/cashdesk.js" in html and "<form" not in html
    )  # it lives inside the till's form


def test_unmatched_page_attach_and_set_aside(employee_client, manager_client, employee, branch, client):
    open_session(employee)
    sale = ring_up(employee, branch, ("500", "1"))
    client.post(callback_url("confirm"), data=sample_bytes("c2b_confirmation_till"), content_type="application/json")
    client.post(callback_url("confirm"), data=sample_bytes("c2b_confirmation_paybill"), content_type="application/json")
    page = employee_client.get(reverse("cashdesk:c2b_list"))
    assert b"SAB3XK91LM" in page.content and b"RKTQDM7W6S" in page.content
    fragment = employee_client.get(reverse("cashdesk:c2b_list"), {"amount": "420"}, **HX)
    assert (
        b"SAB3XK91LM" in fragment.content and b"RKTQDM7W6S" not in fragment.content and b"<html" not in fragment.content
    )
    till_row = C2BPayment.objects.get(trans_id="SAB3XK91LM")
    response = employee_client.post(reverse("cashdesk:c2b_attach", args=[till_row.pk]), {"sale_number": ""})
    assert response.status_code == 302
    till_row.refresh_from_db()
    assert till_row.status == C2BStatus.MATCHED and till_row.payment.sale == sale
    paybill_row = C2BPayment.objects.get(trans_id="RKTQDM7W6S")
    assert manager_client.get(reverse("cashdesk:c2b_set_aside", args=[paybill_row.pk])).status_code == 200
    manager_client.post(reverse("cashdesk:c2b_set_aside", args=[paybill_row.pk]), {"note": "Deposit for an order"})
    paybill_row.refresh_from_db()
    assert paybill_row.status == C2BStatus.IGNORED


def test_flagged_page_and_resolve(daraja, manager_client, employee, sale, client):
    stk = mpesa.mpesa_stk_start(sale=sale, phone="0708374149", user=employee, amount=D("1282"))
    client.post(
        callback_url(), data=stk_callback_body("stk_callback_success", amount="1281"), content_type="application/json"
    )
    page = manager_client.get(reverse("cashdesk:mpesa_flagged"))
    assert b"1,281.00" in page.content
    assert manager_client.get(reverse("cashdesk:mpesa_resolve", args=[stk.pk])).status_code == 200
    response = manager_client.post(
        reverse("cashdesk:mpesa_resolve", args=[stk.pk]), {"decision": "accept", "note": "ok"}
    )
    assert response.status_code == 302
    assert Payment.objects.get(pk=stk.payment_id).status == PaymentStatus.CONFIRMED


def test_in_the_till_a_completed_sale_turns_the_dialog_to_paid(daraja, employee_client, employee, branch, client):
    open_session(employee)
    sale = ring_up(employee, branch, ("1650", "1"))
    stk = mpesa.mpesa_stk_start(sale=sale, phone="0708374149", user=employee)
    waiting = employee_client.get(reverse("cashdesk:mpesa_status", args=[stk.pk]), {"in_till": "1"}, **HX)
    assert b'name="in_till" value="1"' in waiting.content and b"Left to pay" not in waiting.content
    client.post(callback_url(), data=sample_bytes("stk_callback_success"), content_type="application/json")
    response = employee_client.get(reverse("cashdesk:mpesa_status", args=[stk.pk]), {"in_till": "1"}, **HX)
    sale.refresh_from_db()
    assert response["HX-Retarget"] == "#till-dialog-content" and response["HX-Reswap"] == "innerHTML"
    assert f"Sale {sale.number} is paid".encode() in response.content
    assert employee_client.session["till_receipt_grants"] == {str(sale.pk): "original"}
    assert employee_client.get(reverse("sales:receipt", args=[sale.pk])).status_code == 200


def test_the_till_include_marks_the_block_as_in_the_till(employee, sale):
    from django.contrib.auth.context_processors import PermWrapper

    request = RequestFactory().get("/till/")
    request.user = employee
    html = Template('{% include "cashdesk/partials/pay_methods_extra.html" %}').render(
        Context({"sale": sale, "request": request, "perms": PermWrapper(employee)})
    )
    assert 'name="in_till" value="1"' in html and "css/cashdesk.css" in html
