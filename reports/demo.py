"""Demo sales history for the reports and the dashboard: ~60 days of a small Nairobi supermarket.

Every sale goes through the real till and cash desk services (`sale_add_product`, `sale_checkout`
back-dated with `when`), inside a cash session per cashier per day that is opened, counted and closed
through `session_open` / `session_close`; so the stock ledger, the loyalty ledger, customer balances and
the audit log stay true and `check_stock` stays clean. The one shortcut: an M-Pesa payment is recorded
as a confirmed payment with a receipt number on the sale before checkout, exactly what the STK callback
does when Safaricom confirms (the simulator would take seconds per sale).

Run by `python manage.py seed_demo` (see pos/people/demo.py); idempotent: a second run adds nothing.
"""

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from cashdesk.models import CashSession, Payment, PaymentMethod, PaymentStatus
from cashdesk.services import Tender, sale_checkout, session_close, session_expected_cash, session_open
from core.roles import Role
from inventory.models import Product, StockLevel
from pos.customers.models import Customer
from pos.people.models import DEFAULT_BRANCH_CODE, Branch, ShopSettings, User
from pos.sales.models import Sale
from pos.sales.services import sale_add_product, sale_get_or_open, sale_set_customer
from reports.analytics import basket_pairs_refresh, forecasts_refresh
from reports.summaries import summaries_rebuild

SEED = 2026
HISTORY_DAYS = 60  # "this month", "last month" and the same weekday last week; keeps seed_demo quick
KEY_PREFIX = "demo-sale-"


def _busy(day: dt.date) -> int:
    # Month-end and weekends are busier (salaries, Saturday shopping); Sundays quieter.
    base = {4: 16, 5: 20, 6: 9}.get(day.weekday(), 12)
    if day.day >= 28 or day.day <= 2:
        base += 5
    return base


def seed_sales_history(*, log, days: int = 90) -> None:

    if Sale.objects.filter(idempotency_key__startswith=KEY_PREFIX).exists():
        log("reports: demo sales history already there")
        return
    branch = Branch.objects.filter(code=DEFAULT_BRANCH_CODE).first()
    cashiers = list(User.objects.filter(branch=branch, role=Role.EMPLOYEE, is_active=True).order_by("pk")[:2])
    manager = User.objects.filter(branch=branch, role=Role.MANAGER, is_active=True).order_by("pk").first()
    if branch is None or not cashiers or manager is None:
        log("reports: no cashiers or manager at the main branch: no sales history")
        return
    if CashSession.objects.filter(open_for_cashier__in=[c.pk for c in cashiers]).exists():
        log("reports: a demo cashier has a session in use: no sales history")
        return
    rng = random.Random(SEED)
    days = min(days, HISTORY_DAYS)
    on_hand = dict(StockLevel.objects.filter(branch=branch).values_list("product_id", "quantity"))
    products = list(
        Product.objects.filter(is_active=True, track_stock=True, pk__in=list(on_hand)).select_related("unit")
        .order_by("sku")
    )
    if not products:
        log("reports: no stocked products: no sales history")
        return
    # A few best sellers, a long tail and some that never sell (dead stock for the slow-movers report).
    weights = [0 if i % 17 == 3 else 1 / (1 + (i * 7919) % len(products)) ** 0.8 for i in range(len(products))]
    customers = list(Customer.objects.filter(is_active=True).order_by("pk"))
    limit = ShopSettings.load().max_cash_difference
    now = timezone.now()
    today = timezone.localdate()
    made = 0
    for days_ago in range(days, -1, -1):
        day = today - dt.timedelta(days=days_ago)
        for cashier in cashiers:
            opened = timezone.make_aware(dt.datetime.combine(day, dt.time(8, rng.randrange(0, 20))))
            if opened > now:
                continue
            session = session_open(cashier=cashier, opening_float=Decimal("2000.00"), when=opened)
            for _ in range(_busy(day) // len(cashiers) + rng.randint(-2, 3)):
                when = opened + dt.timedelta(minutes=rng.randint(20, 12 * 60))
                if when > now:
                    continue
                sale = _ring_up(rng, cashier, products, weights, on_hand, sale_get_or_open, sale_add_product)
                if sale is None:
                    continue
                customer = rng.choice(customers) if customers and rng.random() < 0.25 else None
                if customer is not None:
                    sale = sale_set_customer(sale=sale, customer=customer, user=cashier)
                sale.refresh_from_db()
                tenders = _tenders(rng, sale, customer)
                if tenders is None:  # M-Pesa: confirmed before checkout, as the STK callback does
                    Payment.objects.create(
                        sale=sale, session=session, method=PaymentMethod.MPESA, status=PaymentStatus.CONFIRMED,
                        amount=sale.total, received_by=cashier, confirmed_at=when,
                        mpesa_receipt=f"SD{sale.pk:08d}{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}",
                        reference="demo STK push",
                    )
                    tenders = []
                sale_checkout(sale=sale, user=cashier, tenders=tenders, idempotency_key=f"{KEY_PREFIX}{sale.pk}",
                              when=when)
                made += 1
            if day == today:
                continue  # today's drawers stay open: the dashboard shows them
            expected = session_expected_cash(session=session)
            difference = Decimal(rng.choice([0, 0, 0, 0, 0, 10, -20, -50, 40, -100, -350]))
            closing = max(expected + difference, Decimal("0"))
            session_close(
                session=session, closed_by=cashier, closing_total=closing,
                approved_by=manager if abs(closing - expected) > limit else None,
                when=opened + dt.timedelta(hours=12, minutes=rng.randint(0, 30)),
                note="Demo close",
            )
    log(f"reports: {made} demo sales over {days + 1} days")


def _ring_up(rng, cashier, products, weights, on_hand, sale_get_or_open, sale_add_product):
    sale = sale_get_or_open(cashier=cashier)
    picked = set()
    for _ in range(rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 6])):
        product = rng.choices(products, weights=weights)[0]
        if product.pk in picked:
            continue
        quantity = Decimal(rng.choice([1, 1, 1, 2, 2, 3]))
        if product.unit.decimal_places:
            quantity = Decimal(rng.choice(["0.5", "1", "1.5", "2"]))
        if on_hand.get(product.pk, 0) < quantity:
            continue  # never oversell the demo shelf
        sale_add_product(sale=sale, product=product, user=cashier, quantity=quantity)
        on_hand[product.pk] -= quantity
        picked.add(product.pk)
    return sale if picked else None


def _tenders(rng, sale, customer):

    roll = rng.random()
    if customer is not None and customer.credit_limit > 0 and roll < 0.3:
        customer.refresh_from_db(fields=["balance"])
        if customer.balance + sale.total <= customer.credit_limit:
            return [Tender("CUSTOMER_CREDIT", sale.total)]
    if roll < 0.45:
        return None  # M-Pesa
    if roll < 0.55:
        return [Tender("CARD", sale.total, f"TID{rng.randint(100000, 999999)}")]
    handed = (sale.total / 100).to_integral_value(rounding="ROUND_CEILING") * 100
    if rng.random() < 0.3:
        handed += 500
    return [Tender("CASH", handed)]


def seed_analytics(*, log) -> None:
    """Run the nightly analytics once, so a new demo shop opens with forecasts and basket pairs.

    The same functions the nightly Huey task runs (reports/tasks.py); a few seconds for the demo shop.
    Running it again replaces the stored figures with the same ones.
    """

    forecasts = forecasts_refresh()
    pairs = basket_pairs_refresh()
    log(f"reports: {forecasts} demand forecasts and {pairs} bought-together pairs computed")


def seed_report_summaries(*, log) -> None:
    """Sum the demo's past days for the reports now (the back-dated history was written after any
    summing the Huey task may already have done, so sum it all again)."""

    result = summaries_rebuild()
    log(f"reports: {result.days} past day(s) summed for the reports, through {result.through}")


STEPS = [(45, seed_sales_history), (46, seed_analytics), (47, seed_report_summaries)]
