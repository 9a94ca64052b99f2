"""Huey tasks of the till: e-mailing receipts (with the PDF attached)."""


import structlog
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from huey.contrib.djhuey import db_task

logger = structlog.get_logger(__name__)


@db_task(retries=3, retry_delay=60)
def receipt_email_send(sale_id: int, resend: bool = False) -> bool:
    """E-mail the receipt PDF to the sale's customer. Sent once unless `resend` (a copy asked for).

    Idempotent: a retry after the mail went out finds `receipt_emailed_at` set and stops.
    """
    from pos.people.selectors import shop_settings
    from pos.sales.models import Sale
    from pos.sales.receipts import receipt_pdf

    sale = Sale.objects.select_related("customer", "branch", "cashier").filter(pk=sale_id).first()
    if sale is None or sale.customer is None or not sale.customer.email or not sale.number:
        return False
    if sale.receipt_emailed_at and not resend:
        return False
    shop = shop_settings()
    copy = resend and sale.receipt_emailed_at is not None
    pdf = receipt_pdf(sale=sale, copy=copy)
    message = EmailMessage(
        subject=f"Your receipt {sale.number} from {shop.shop_name}",
        body=(
            f"Dear {sale.customer.name},\n\nThank you for shopping at {shop.shop_name} ({sale.branch.name}). "
            f"Your receipt {sale.number} for KES {sale.total} is attached.\n\n{shop.receipt_footer}\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[sale.customer.email],
        reply_to=[shop.email] if shop.email else None,
    )
    message.attach(f"receipt-{sale.number}.pdf", pdf, "application/pdf")
    message.send()
    with transaction.atomic():
        Sale.objects.filter(pk=sale.pk).update(receipt_emailed_at=timezone.now())
    logger.info("receipt %s e-mailed", sale.number)
    return True
