"""Printable documents of the stock app: the purchase order (A4 PDF, WeasyPrint)."""

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone

from inventory.models import Purchase
from pos.people.selectors import shop_settings


def purchase_order_pdf(*, purchase: Purchase, base_url: str = "") -> bytes:
    """An A4 purchase order: the shop's header, the supplier, the lines and the totals."""
    from weasyprint import CSS, HTML  # noqa: PLC0415 - WeasyPrint takes a second to load: only processes that print pay for it

    lines = list(purchase.lines.select_related("product", "product__unit").order_by("pk"))
    html = render_to_string(
        "inventory/purchase_order_pdf.html",
        {
            "purchase": purchase,
            "lines": lines,
            "shop": shop_settings(),
            "printed_at": timezone.localtime(),
        },
    )
    stylesheet = finders.find("css/purchase_order_pdf.css")
    return HTML(string=html, base_url=base_url or None).write_pdf(stylesheets=[CSS(filename=stylesheet)])
