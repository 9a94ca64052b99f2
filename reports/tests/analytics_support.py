"""Building sales by hand for the analytics tests: completed sales written straight to the tables
(the till's full flow is tested in pos; here only the figures matter)."""

import datetime as dt
import itertools
from decimal import Decimal

from django.utils import timezone

from pos.sales.models import Sale, SaleLine, SaleStatus

_numbers = itertools.count(1)


def local_dt(day: dt.date, hour: int = 12, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def completed_sale(*, branch, cashier, when: dt.datetime, items, customer=None) -> Sale:
    """items: [(product, quantity)] or [(product, quantity, unit_price)]. Total = Σ quantity × price."""
    n = next(_numbers)
    lines, total = [], Decimal("0.00")
    for position, item in enumerate(items):
        product, quantity, *price = item
        price = Decimal(price[0]) if price else product.selling_price
        quantity = Decimal(quantity)
        line_total = (quantity * price).quantize(Decimal("0.01"))
        total += line_total
        lines.append((position, product, quantity, price, line_total))
    sale = Sale.objects.create(
        branch=branch, cashier=cashier, customer=customer, status=SaleStatus.COMPLETED,
        number=f"T{branch.pk}-{n:07d}", sequence=n, completed_at=when, subtotal=total, total=total, paid_total=total,
    )
    SaleLine.objects.bulk_create(
        [
            SaleLine(
                sale=sale, product=product, position=position, product_name=product.name, sku=product.sku,
                quantity=quantity, list_price=price, unit_price=price, tax_class=product.tax_class,
                tax_rate=Decimal("16.00"), cost_price=product.cost_price, gross_amount=line_total,
                line_total=line_total,
            )
            for position, product, quantity, price, line_total in lines
        ]
    )
    return sale
