"""Demo data of the cash desk: expense categories, a few weeks of expenses and supplier payments (by
bank or M-Pesa, so no drawer is touched), and incoming M-Pesa payments waiting to be matched.

Run by `python manage.py seed_demo` (see pos/people/demo.py); each step is idempotent.
"""

import datetime as dt
import json
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from cashdesk.etims import demo as etims_demo
from cashdesk.models import Expense, ExpenseCategory, SupplierPayment
from cashdesk.money_services import expense_record, supplier_payment_record
from cashdesk.mpesa.models import C2BPayment, InboxKind
from cashdesk.mpesa.services import mpesa_c2b_confirmation_apply, mpesa_inbox_store
from cashdesk.selectors import purchase_amount_owed
from core.roles import Role
from inventory.models import Purchase, PurchaseStatus, Supplier
from pos.people.models import DEFAULT_BRANCH_CODE, Branch, User

CATEGORIES = [
    "Rent",
    "Electricity (KPLC)",
    "Water",
    "Transport and deliveries",
    "Cleaning",
    "Airtime and internet",
    "Repairs",
    "Security",
    "Salaries and casual labour",
    "County fees and licences",
    "Other",
]

EXPENSES = [  # (days ago, category, KES, method, reference, description)
    (27, "Rent", "45000", "BANK", "EQ-REF-22871", "Shop rent"),
    (20, "Electricity (KPLC)", "6850", "MPESA", "SDK4PL2QX1", "KPLC token, main meter"),
    (14, "Water", "1200", "MPESA", "SDM7QA3ZR8", "Nairobi Water bill"),
    (9, "Security", "8000", "BANK", "EQ-REF-23114", "Night guard, monthly"),
    (6, "County fees and licences", "15000", "BANK", "NCC-2291", "Single business permit"),
    (3, "Repairs", "2400", "MPESA", "SDQ1WE7RT2", "Fridge compressor service"),
    (1, "Airtime and internet", "2999", "MPESA", "SDR8TY5UI3", "Safaricom Home Fibre"),
]

INCOMING = [  # customers who paid the till from their phone, not yet matched to a sale
    ("SDT9KX4LM2", "1250.00", "Buy Goods", "", "2547 ***** 612", "Grace", "Achieng"),
    ("SDU3PQ8NB7", "480.00", "Pay Bill", "KIOSK 4", "2547 ***** 903", "Peter", "Mutua"),
]


def seed_expense_categories(*, log) -> None:

    created = sum(ExpenseCategory.objects.get_or_create(name=name)[1] for name in CATEGORIES)
    log(f"cash desk: {created} expense categories created")


def seed_money_out(*, log) -> None:

    branch = Branch.objects.filter(code=DEFAULT_BRANCH_CODE).first()
    manager = User.objects.filter(branch=branch, role=Role.MANAGER, is_active=True).order_by("pk").first()
    if branch is None or manager is None:
        log("cash desk: no manager at the main branch: no demo expenses")
        return
    today = timezone.localdate()
    added = 0
    for days_ago, category, amount, method, reference, description in EXPENSES:
        if Expense.objects.filter(reference=reference, branch=branch).exists():
            continue
        expense_record(
            category=ExpenseCategory.objects.get(name=category),
            method=method,
            amount=Decimal(amount),
            description=description,
            spent_on=today - dt.timedelta(days=days_ago),
            reference=reference,
            user=manager,
        )
        added += 1
    paid = 0

    received = Purchase.objects.filter(
        branch=branch, status__in=[PurchaseStatus.RECEIVED, PurchaseStatus.PARTLY_RECEIVED]
    ).select_related("supplier")
    for index, purchase in enumerate(received.order_by("pk")[:3]):
        owed = purchase_amount_owed(purchase=purchase)
        if owed <= 0 or not purchase.supplier.is_active or purchase.supplier_payments.exists():
            continue
        supplier_payment_record(
            supplier=purchase.supplier,
            purchase=purchase,
            purchase_reference=purchase.supplier_reference or f"INV-{5400 + index * 17}",
            method="CHEQUE",
            amount=owed if index else (owed / 2).quantize(Decimal("1")),  # the first one half paid so far
            reference=f"CHQ-{100231 + index}-{purchase.pk}",
            user=manager,
            note="Statement",
        )
        paid += 1
    if not paid and not SupplierPayment.objects.exists():  # no purchases: pay suppliers on account
        for index, supplier in enumerate(Supplier.objects.filter(is_active=True).order_by("pk")[:3]):
            supplier_payment_record(
                supplier=supplier,
                method="CHEQUE",
                amount=Decimal(18500 + index * 7250),
                reference=f"CHQ-{100231 + index}",
                user=manager,
                note="Monthly statement",
            )
            paid += 1
    log(f"cash desk: {added} expenses and {paid} supplier payments added")


def seed_incoming_mpesa(*, log) -> None:

    shortcode = getattr(settings, "MPESA_SHORTCODE", "174379") or "174379"
    now = timezone.localtime()
    added = 0
    for index, (code, amount, kind, bill_ref, msisdn, first, last) in enumerate(INCOMING):
        if C2BPayment.objects.filter(trans_id=code).exists():
            continue
        body = {
            "TransactionType": kind,
            "TransID": code,
            "TransTime": (now - dt.timedelta(minutes=25 + 40 * index)).strftime("%Y%m%d%H%M%S"),
            "TransAmount": amount,
            "BusinessShortCode": shortcode,
            "BillRefNumber": bill_ref,
            "InvoiceNumber": "",
            "OrgAccountBalance": "",
            "ThirdPartyTransID": "",
            "MSISDN": msisdn,
            "FirstName": first,
            "MiddleName": "",
            "LastName": last,
        }
        inbox = mpesa_inbox_store(kind=InboxKind.C2B_CONFIRMATION, raw_body=json.dumps(body).encode())
        mpesa_c2b_confirmation_apply(inbox_id=inbox.pk)
        added += 1
    log(f"cash desk: {added} incoming M-Pesa payments waiting to be matched")


STEPS = [(35, seed_expense_categories), (48, seed_money_out), (49, seed_incoming_mpesa), *etims_demo.STEPS]
