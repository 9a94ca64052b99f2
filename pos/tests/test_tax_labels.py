"""What the receipt, the credit note, the sale page and the X/Z report call each KRA tax class: exempt (A)
and non-VAT (D) supplies have no rate, so they must not read "0%" like zero-rated (C) goods."""

import uuid
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import reverse

from cashdesk.services import Tender, sale_checkout
from cashdesk.tests.factories import open_session, ring_up
from inventory.models import TaxClass, tax_label
from pos.sales.receipts import receipt_context

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "tax_class,rate,label",
    [
        (TaxClass.A, Decimal("0"), "A Exempt"),
        (TaxClass.B, Decimal("16.00"), "B 16%"),
        (TaxClass.C, Decimal("0.00"), "C 0%"),
        (TaxClass.D, Decimal("0"), "D Non-VAT"),
        (TaxClass.E, Decimal("8.00"), "E 8%"),
        (TaxClass.B, None, "B 16%"),  # no snapshot: the class's current rate
    ],
)
def test_each_tax_class_has_the_label_kra_expects(tax_class, rate, label):
    assert tax_label(tax_class, rate) == label
    rendered = Template("{% load till_tags %}{{ c|tax_label:r }}").render(Context({"c": tax_class, "r": rate}))
    assert rendered == label


def test_the_filter_never_breaks_a_page_on_odd_input():
    assert Template("{% load till_tags %}{{ c|tax_label:r }}").render(Context({"c": "Z", "r": "n/a"})) == "Z"


def _sale_with_every_class(employee, branch):
    open_session(employee)
    sale = ring_up(employee, branch, ("100", "1", "A"), ("116", "1", "B"), ("50", "1", "C"), ("20", "1", "D"))
    tenders = [Tender("CASH", sale.total)]
    return sale_checkout(sale=sale, user=employee, tenders=tenders, idempotency_key=uuid.uuid4().hex)


def test_receipt_page_and_pdf_source_say_exempt_not_zero(employee, branch):
    from django.template.loader import render_to_string

    sale = _sale_with_every_class(employee, branch)
    context = receipt_context(sale=sale)
    page = render_to_string("pos/receipts/receipt.html", {**context, "grant": "original"})
    pdf_source = render_to_string("pos/receipts/receipt_pdf.html", context)
    for html in (page, pdf_source):
        assert "A Exempt" in html and "B 16%" in html and "C 0%" in html and "D Non-VAT" in html
        assert "A 0%" not in html and "D 0%" not in html


def test_sale_detail_names_the_class(manager_client, employee, branch):
    sale = _sale_with_every_class(employee, branch)
    html = manager_client.get(reverse("sales:detail", args=[sale.pk])).content.decode()
    assert "VAT A Exempt on" in html and "VAT B 16% on" in html
