"""Demo data for the people part of the shop: one branch, an owner, a manager and two cashiers.

`python manage.py seed_demo` runs every app's `demo.STEPS` in order; each step is idempotent.
"""

from dataclasses import dataclass

from django.contrib.auth.hashers import make_password

from core.phone import format_phone_local
from core.roles import Role
from pos.people.models import DEFAULT_BRANCH_CODE, Branch, ShopSettings, User


@dataclass(frozen=True)
class DemoLogin:
    role: str
    full_name: str
    phone: str
    password: str
    pin: str
    email: str


DEMO_LOGINS = [
    DemoLogin(Role.OWNER, "Njeri Wambui", "+254700000001", "mauzo-owner", "1357", "owner@demo.asiria.ke"),
    DemoLogin(Role.MANAGER, "Otieno Odhiambo", "+254700000002", "mauzo-manager", "2468", "manager@demo.asiria.ke"),
    DemoLogin(Role.EMPLOYEE, "Akinyi Atieno", "+254700000003", "mauzo-cashier", "1470", ""),
    DemoLogin(Role.EMPLOYEE, "Kamau Mwangi", "+254700000004", "mauzo-cashier", "3690", ""),
]


def seed_people(*, log) -> None:
    settings_row = ShopSettings.load()
    if settings_row.shop_name in ("", "AsiriaPOS Demo Shop"):
        settings_row.shop_name = "Mama Njeri Supermarket"
        settings_row.kra_pin = "P051234567X"
        settings_row.address = "Kimathi Street, Nairobi"
        settings_row.phone_number = "+254700000001"
        settings_row.email = "shop@demo.asiria.ke"
        settings_row.save()
    branch = Branch.objects.get(code=DEFAULT_BRANCH_CODE)
    # The receipt prints "name · address", so the address must not repeat the name. A demo seeded
    # before that was fixed ("Kimathi Street · Kimathi Street, Nairobi CBD") is renamed in place.
    seeded_before = (branch.name, branch.address) == ("Kimathi Street", "Kimathi Street, Nairobi CBD")
    if branch.name == "Main branch" or seeded_before:
        branch.name = "City Centre"
        branch.address = "Kimathi Street, Nairobi CBD"
        branch.mpesa_till_number = "174379"
        branch.mpesa_paybill = "174379"
        branch.save()
    westlands, _ = Branch.objects.get_or_create(
        code="WSTL",
        defaults={"name": "Westlands", "address": "Woodvale Grove, Nairobi", "mpesa_till_number": "174379"},
    )
    if westlands.address == "Woodvale Grove, Westlands":
        westlands.address = "Woodvale Grove, Nairobi"
        westlands.save(update_fields=["address"])
    created = 0
    for login in DEMO_LOGINS:
        _, was_created = User.objects.get_or_create(
            phone_number=login.phone,
            defaults={
                "full_name": login.full_name,
                "role": login.role,
                "branch": branch,
                "email": login.email or None,
                "is_superuser": login.role == Role.OWNER,
                "password": make_password(login.password),
                "till_pin": make_password(login.pin),
            },
        )
        created += was_created
    log(f"people: {created} demo logins created, {len(DEMO_LOGINS) - created} already there")


def print_logins(*, log) -> None:
    log("")
    log("Demo logins (phone number / password / till PIN):")
    for login in DEMO_LOGINS:
        log(
            f"  {login.role.label:<9} {login.full_name:<16} {format_phone_local(login.phone)}  /  "
            f"{login.password:<14} /  PIN {login.pin}"
        )


STEPS = [(10, seed_people), (1000, print_logins)]
