"""Demo data for the customers: regulars of a Nairobi supermarket, some with credit on account."""

from decimal import Decimal

from pos.customers.models import Customer
from pos.people.models import DEFAULT_BRANCH_CODE, Branch

DEMO_CUSTOMERS = [
    # name, phone, e-mail, KRA PIN, credit limit (KES), notes
    ("Wanjiku Kamau", "+254711000101", "wanjiku@example.com", "", "0", ""),
    ("Baraka Otieno", "+254711000102", "", "", "0", ""),
    ("Amina Hassan", "+254711000103", "amina.hassan@example.com", "", "0", "Prefers receipts by e-mail."),
    ("Mutua Hardware Ltd", "+254711000104", "accounts@mutua-hardware.example.com", "P051111111A", "50000",
     "Pays on account at month end."),
    ("Grace Njoroge", "+254711000105", "", "", "0", ""),
    ("Kevin Ochieng", "+254711000106", "kevin.o@example.com", "", "0", ""),
    ("Mama Mboga Kiosk", "+254711000107", "", "", "5000", "Buys stock for her kiosk; weekly account."),
    ("Faith Chebet", "+254711000108", "", "", "0", ""),
    ("St. Mary's School", "+254711000109", "bursar@stmarys.example.com", "P051222222B", "100000",
     "School account; LPO required."),
    ("John Kiprop", "+254711000110", "", "", "0", ""),
    ("Halima Abdi", "+254711000111", "halima@example.com", "", "0", ""),
    ("Peter Mwangi", "+254711000112", "", "", "2000", "Regular; pays Fridays."),
]


def seed_customers(*, log) -> None:
    branch = Branch.objects.get(code=DEFAULT_BRANCH_CODE)
    created = 0
    for name, phone, email, kra_pin, limit, notes in DEMO_CUSTOMERS:
        _, was_created = Customer.objects.get_or_create(
            phone_number=phone,
            defaults={"name": name, "email": email, "kra_pin": kra_pin, "credit_limit": Decimal(limit),
                      "notes": notes, "branch": branch},
        )
        created += was_created
    log(f"customers: {created} created, {len(DEMO_CUSTOMERS) - created} already there")


STEPS = [(30, seed_customers)]
