"""The Staff pages, my till PIN, the start page and shop settings, through the test client."""

from decimal import Decimal

import pytest
from django.contrib.auth.hashers import check_password
from django.urls import reverse

from core.roles import Role
from pos.people.audit import AuditAction
from pos.people.models import AuditLog, User
from pos.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _names(response) -> list[str]:
    return [row.record.full_name for row in response.context["table"].page.object_list]


# ---------------------------------------------------------------------------- list
def test_staff_list_full_page(manager_client, employee, manager):
    response = manager_client.get(reverse("pos:staff_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html and 'id="staff-table"' in html
    assert "Esther Cashier" in html and "Mark Manager" in html
    assert "Add a person" in html


def test_staff_list_htmx_fragment_is_only_the_table(manager_client, employee):
    response = manager_client.get(reverse("pos:staff_list"), {"q": "esther"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="staff-table">')
    assert "<html" not in html and "<nav" not in html.split('id="staff-table"')[0]
    assert "Esther Cashier" in html and "Mark Manager" not in html


@pytest.mark.parametrize("query", ["esther", "ESTHER CASH", "0700", "+254 700", "254700"])
def test_staff_search_by_name_or_number_however_typed(manager_client, branch, query):
    UserFactory(full_name="Esther Cashier", phone_number="+254700111222", branch=branch)
    UserFactory(full_name="Peter Stores", phone_number="+254733999888", branch=branch)
    names = _names(manager_client.get(reverse("pos:staff_list"), {"q": query}))
    assert "Esther Cashier" in names and "Peter Stores" not in names


def test_staff_filter_by_role_and_status(owner_client, employee, manager, branch):
    gone = UserFactory(full_name="Zawadi Gone", branch=branch, is_active=False)
    assert _names(owner_client.get(reverse("pos:staff_list"), {"role": "MANAGER"})) == ["Mark Manager"]
    assert gone.full_name not in _names(owner_client.get(reverse("pos:staff_list")))  # active only by default
    assert _names(owner_client.get(reverse("pos:staff_list"), {"active": "no"})) == ["Zawadi Gone"]
    everyone = _names(owner_client.get(reverse("pos:staff_list"), {"active": "all"}))
    assert "Zawadi Gone" in everyone and "Esther Cashier" in everyone


def test_staff_sort_by_column_and_bad_sort_is_ignored(owner_client, branch):
    UserFactory(full_name="Aaron A", branch=branch)
    UserFactory(full_name="Zed Z", branch=branch)
    names = _names(owner_client.get(reverse("pos:staff_list"), {"sort": "-full_name"}))
    assert names[0] == "Zed Z" and names[-1] == "Aaron A"
    assert owner_client.get(reverse("pos:staff_list"), {"sort": "password"}).status_code == 200
    assert owner_client.get(reverse("pos:staff_list"), {"page": "9999"}).status_code in (200, 404)


def test_staff_list_paginates(owner_client, branch):
    for n in range(30):
        UserFactory(full_name=f"Cashier {n:02d}", branch=branch)
    first = owner_client.get(reverse("pos:staff_list"), {"sort": "full_name"})
    assert len(_names(first)) == 25
    second = owner_client.get(reverse("pos:staff_list"), {"sort": "full_name", "page": 2})
    assert len(_names(second)) == 31 - 25 + 0  # 30 cashiers + the owner = 31 people
    assert set(_names(first)).isdisjoint(_names(second))


def test_a_manager_sees_only_their_branch_and_an_owner_every_branch(manager_client, owner_client, other_branch):
    UserFactory(full_name="Westlands Cashier", branch=other_branch)
    assert "Westlands Cashier" not in _names(manager_client.get(reverse("pos:staff_list"), {"active": "all"}))
    assert "Westlands Cashier" in _names(owner_client.get(reverse("pos:staff_list"), {"active": "all"}))


def test_staff_list_query_count_does_not_grow_with_people(owner_client, branch, django_assert_max_num_queries):
    for n in range(25):
        UserFactory(full_name=f"Person {n:02d}", branch=branch)
    # session, user, count, shop settings (cached after the first page), the page of people, and the
    # notification bell's unread count
    with django_assert_max_num_queries(7):
        full = owner_client.get(reverse("pos:staff_list"))
    assert len(_names(full)) == 25
    with django_assert_max_num_queries(6):
        fragment = owner_client.get(reverse("pos:staff_list"), {"q": "person"}, **HTMX)
    assert len(_names(fragment)) == 25


def test_phone_numbers_are_shown_the_kenyan_way(owner_client, branch):
    UserFactory(full_name="Local Format", phone_number="+254712345678", branch=branch)
    assert "0712 345 678" in owner_client.get(reverse("pos:staff_list")).content.decode()


# ---------------------------------------------------------------------------- add
NEW_PERSON = {
    "full_name": "Neema Wafula",
    "phone_number": "0799 123 456",
    "email": "",
    "role": "EMPLOYEE",
    "password1": "Mauzo-mazuri-2024",
    "password2": "Mauzo-mazuri-2024",
}


def test_add_a_person(manager_client, branch):
    response = manager_client.post(reverse("pos:staff_create"), {**NEW_PERSON, "branch": branch.pk})
    person = User.objects.get(phone_number="+254799123456")
    assert response.status_code == 302 and response["Location"] == reverse("pos:staff_edit", args=[person.pk])
    assert person.role == Role.EMPLOYEE and person.check_password("Mauzo-mazuri-2024")
    page = manager_client.get(response["Location"])
    assert "can now log in with +254799123456" in page.content.decode()


@pytest.mark.parametrize(
    "change,field,message",
    [
        ({"phone_number": "0612 000"}, "phone_number", "Enter a Kenyan mobile number"),
        ({"password2": "something-else-1"}, "password2", "The two passwords are different."),
        ({"password1": "12345678", "password2": "12345678"}, "password", "too common"),
        ({"full_name": ""}, "full_name", "This field is required."),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"role": "OWNER"}, "role", "Select a valid choice."),  # a manager is not offered "Owner"
    ],
)
def test_add_refuses_bad_input_with_a_form_error(manager_client, branch, change, field, message):
    before = User.objects.count()
    response = manager_client.post(reverse("pos:staff_create"), {**NEW_PERSON, "branch": branch.pk, **change})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert User.objects.count() == before


def test_add_refuses_a_number_already_in_use(manager_client, branch, employee):
    response = manager_client.post(
        reverse("pos:staff_create"), {**NEW_PERSON, "branch": branch.pk, "phone_number": employee.phone_number}
    )
    assert response.context["form"].errors["phone_number"] == ["Someone already has this number."]


def test_a_manager_is_offered_only_their_branch_and_no_owner_role(manager_client, other_branch):
    form = manager_client.get(reverse("pos:staff_create")).context["form"]
    assert [value for value, _ in form.fields["role"].choices] == [Role.MANAGER, Role.EMPLOYEE]
    assert list(form.fields["branch"].queryset) == [User.objects.get(full_name="Mark Manager").branch]
    response = manager_client.post(reverse("pos:staff_create"), {**NEW_PERSON, "branch": other_branch.pk})
    assert "Select a valid choice." in response.content.decode()


# ---------------------------------------------------------------------------- edit
def test_edit_a_person_and_change_their_role(owner_client, employee, owner):
    data = {"full_name": "Esther Wanjiru", "phone_number": "0700 555 666", "email": "", "role": "MANAGER",
            "branch": employee.branch_id}
    response = owner_client.post(reverse("pos:staff_edit", args=[employee.pk]), data)
    assert response.status_code == 302
    employee.refresh_from_db()
    assert employee.full_name == "Esther Wanjiru" and employee.role == Role.MANAGER
    assert employee.phone_number == "+254700555666"
    assert AuditLog.objects.get(action=AuditAction.ROLE_CHANGED).user == owner


def test_edit_page_shows_the_number_the_kenyan_way(owner_client, employee):
    form = owner_client.get(reverse("pos:staff_edit", args=[employee.pk])).context["form"]
    assert form.initial["phone_number"].startswith("07") and " " in form.initial["phone_number"]


def test_a_manager_sees_an_owner_read_only(manager_client, owner):
    response = manager_client.get(reverse("pos:staff_edit", args=[owner.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="owner-read-only"' in html
    assert 'name="role"' not in html and 'name="full_name"' not in html
    assert reverse("pos:staff_password", args=[owner.pk]) not in html
    assert reverse("pos:staff_active", args=[owner.pk]) not in html


def test_a_managers_post_to_an_owner_is_refused_by_the_service(manager_client, owner):
    data = {"full_name": "Renamed Owner", "phone_number": owner.phone_number, "email": "", "role": "MANAGER",
            "branch": owner.branch_id}
    response = manager_client.post(reverse("pos:staff_edit", args=[owner.pk]), data)
    assert response.status_code == 200
    assert "Only an owner can change an owner&#x27;s account." in response.content.decode()
    owner.refresh_from_db()
    assert owner.full_name == "Olive Owner" and owner.role == Role.OWNER
    assert not AuditLog.objects.exclude(action=AuditAction.LOGIN).exists()
    # The other owner-only actions are refused the same way.
    manager_client.post(reverse("pos:staff_password", args=[owner.pk]),
                        {"password1": "Another-pass-11", "password2": "Another-pass-11"})
    manager_client.post(reverse("pos:staff_active", args=[owner.pk]), {"reason": "no"})
    manager_client.post(reverse("pos:staff_pin", args=[owner.pk]), {"pin": "4826", "pin2": "4826"})
    owner.refresh_from_db()
    assert (
        owner.is_active and not owner.check_password("Another-pass-11") and not check_password("4826", owner.till_pin)
    )


def test_another_branchs_person_is_not_found_for_a_manager(manager_client, owner_client, other_branch):
    elsewhere = UserFactory(branch=other_branch)
    assert manager_client.get(reverse("pos:staff_edit", args=[elsewhere.pk])).status_code == 404
    assert manager_client.post(reverse("pos:staff_active", args=[elsewhere.pk])).status_code == 404
    assert owner_client.get(reverse("pos:staff_edit", args=[elsewhere.pk])).status_code == 200


def test_reset_password(manager_client, employee):
    url = reverse("pos:staff_password", args=[employee.pk])
    response = manager_client.post(url, {"password1": "Another-pass-11", "password2": "Another-pass-11"})
    assert response.status_code == 302
    employee.refresh_from_db()
    assert employee.check_password("Another-pass-11")
    mismatch = manager_client.post(url, {"password1": "Another-pass-22", "password2": "Different-pass-22"}, follow=True)
    assert "The two passwords are different." in mismatch.content.decode()
    weak = manager_client.post(url, {"password1": "password", "password2": "password"}, follow=True)
    assert "too common" in weak.content.decode()
    employee.refresh_from_db()
    assert employee.check_password("Another-pass-11")


def test_set_a_till_pin(manager_client, employee):
    url = reverse("pos:staff_pin", args=[employee.pk])
    assert manager_client.post(url, {"pin": "4826", "pin2": "4826"}).status_code == 302
    employee.refresh_from_db()
    assert check_password("4826", employee.till_pin)
    bad = manager_client.post(url, {"pin": "1234", "pin2": "1234"}, follow=True)
    assert "not a run or a repeated digit" in bad.content.decode()
    letters = manager_client.post(url, {"pin": "12ab", "pin2": "12ab"}, follow=True)
    assert "4 to 6 digits" in letters.content.decode()
    employee.refresh_from_db()
    assert check_password("4826", employee.till_pin)


def test_deactivate_and_reactivate(manager_client, employee):
    url = reverse("pos:staff_active", args=[employee.pk])
    page = manager_client.get(reverse("pos:staff_edit", args=[employee.pk])).content.decode()
    assert 'data-confirm="Deactivate Esther Cashier?' in page
    response = manager_client.post(url, {"reason": "left the shop"})
    assert response.status_code == 302
    employee.refresh_from_db()
    assert not employee.is_active
    assert AuditLog.objects.get(action=AuditAction.STAFF_DEACTIVATED).reason == "left the shop"
    htmx = manager_client.post(url, {}, HTTP_HX_CURRENT_URL="http://testserver/people/staff/", **HTMX)
    assert htmx["HX-Redirect"] == "http://testserver/people/staff/"
    employee.refresh_from_db()
    assert employee.is_active


def test_nobody_deactivates_themselves_from_the_page(manager_client, manager):
    page = manager_client.get(reverse("pos:staff_edit", args=[manager.pk])).content.decode()
    assert reverse("pos:staff_active", args=[manager.pk]) not in page
    response = manager_client.post(reverse("pos:staff_active", args=[manager.pk]), {}, follow=True)
    assert "You cannot deactivate yourself." in response.content.decode()
    manager.refresh_from_db()
    assert manager.is_active


# ---------------------------------------------------------------------------- my PIN, start page, settings
def test_my_pin(employee_client, employee):
    response = employee_client.post(reverse("pos:my_pin"), {"pin": "5937", "pin2": "5937"})
    assert response.status_code == 302
    employee.refresh_from_db()
    assert check_password("5937", employee.till_pin)
    mismatch = employee_client.post(reverse("pos:my_pin"), {"pin": "5937", "pin2": "5938"})
    assert "The two PINs are different." in mismatch.content.decode()


def test_the_start_page_shows_each_role_what_it_may_open(employee_client, manager_client, owner_client):
    employee_page = employee_client.get(reverse("home")).content.decode()
    assert "Open the till" in employee_page
    assert reverse("pos:staff_list") not in employee_page and reverse("pos:audit_log") not in employee_page
    manager_page = manager_client.get(reverse("home")).content.decode()
    assert reverse("pos:staff_list") in manager_page and reverse("pos:settings") not in manager_page
    owner_page = owner_client.get(reverse("home")).content.decode()
    assert reverse("pos:settings") in owner_page and reverse("admin:index") in owner_page


def test_the_header_shows_the_shop_and_the_branch(employee_client, branch):
    html = employee_client.get(reverse("home")).content.decode()
    assert "AsiriaPOS Demo Shop" in html and branch.name in html


def test_shop_settings_change_is_audited(owner_client):
    from pos.people.models import ShopSettings

    data = {
        "shop_name": "Duka la Mama", "kra_pin": "P051234567X", "address": "Tom Mboya St", "phone_number": "",
        "email": "", "receipt_footer": "Asante!", "cashier_discount_limit_percent": "5.00",
        "loyalty_points_per_100": "1.00", "loyalty_point_value": "1.00", "max_cash_difference": "200.00",
        "mpesa_confirm_wait_seconds": "60", "scale_label_prefix": "2", "scale_label_item_digits": "5",
        "scale_label_value_digits": "5", "scale_label_decimals": "3", "scale_label_kind": "WEIGHT",
        "blind_close": "on", "cash_out_pin_limit": "1500.00",
    }
    assert owner_client.post(reverse("pos:settings"), data).status_code == 302
    assert ShopSettings.load().shop_name == "Duka la Mama"
    assert ShopSettings.load().blind_close and ShopSettings.load().cash_out_pin_limit == Decimal("1500.00")
    assert "Duka la Mama" in owner_client.get(reverse("home")).content.decode()  # cache cleared
    assert AuditLog.objects.get(action=AuditAction.SETTINGS_CHANGED).after_data["shop_name"] == "Duka la Mama"
    bad = owner_client.post(reverse("pos:settings"), {**data, "kra_pin": "12345"})
    assert "A KRA PIN is a letter" in bad.content.decode()
    too_long = owner_client.post(reverse("pos:settings"), {**data, "scale_label_item_digits": "6",
                                                           "scale_label_value_digits": "6"})
    assert "at most 12 digits together" in too_long.content.decode()
    assert ShopSettings.load().scale_label_item_digits == 5


def test_a_reset_password_ends_the_persons_open_sessions(manager_client, employee, client_for):
    their_tablet = client_for(employee)
    assert their_tablet.get(reverse("home")).status_code == 200
    manager_client.post(reverse("pos:staff_password", args=[employee.pk]),
                        {"password1": "Another-pass-11", "password2": "Another-pass-11"})
    response = their_tablet.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
