"""Staff, branches, clients and the audit log through the JSON API (pos/people/api.py): the web pages' services
and rules, branch scoping, bad input as 400 with nothing written, bounded queries."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from core.roles import Role
from pos.customers.models import Customer
from pos.people.models import AuditLog, User
from pos.tests.api_support import api_client
from pos.tests.factories import DEFAULT_PASSWORD, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db
client_for = api_client  # a JWT-carrying API client for a user


def new_person(branch, **extra):
    return {"phone_number": "0799 555 111", "full_name": "Njeri Wambui", "role": "EMPLOYEE", "branch": branch.pk,
            "password": "a-long-pass-99", **extra}


# ---------------------------------------------------------------------------- staff
def test_manager_adds_an_employee_who_can_then_log_in(manager, branch):
    response = client_for(manager).post("/api/users/", new_person(branch, email="NJERI@example.com"), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["phone_number"] == "+254799555111" and body["email"] == "njeri@example.com"
    assert "password" not in body
    assert AuditLog.objects.filter(action="staff_created", object_id=str(body["id"])).exists()
    login = APIClient().post("/api/token/", {"phone_number": "0799555111", "password": "a-long-pass-99"}, format="json")
    assert login.status_code == 200


def test_manager_cannot_create_or_edit_an_owner(manager, owner, branch):
    api = client_for(manager)
    response = api.post("/api/users/", new_person(branch, role="OWNER"), format="json")
    assert response.status_code == 400 and "role" in response.json()["errors"]
    response = api.patch(f"/api/users/{owner.pk}/", {"full_name": "Renamed"}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "Only an owner can change an owner's account."
    assert api.patch(f"/api/users/{owner.pk}/", {"is_active": False}, format="json").status_code == 400
    assert (
        api.post(f"/api/users/{owner.pk}/set_password/", {"password": "x-new-pass-77"}, format="json").status_code
        == 400
    )
    owner.refresh_from_db()
    assert owner.full_name == "Olive Owner" and owner.is_active
    assert not User.objects.filter(role=Role.OWNER).exclude(pk=owner.pk).exists()


def test_employees_may_not_touch_staff(employee):
    api = client_for(employee)
    assert api.get("/api/users/").status_code == 403
    assert api.post("/api/users/", {}, format="json").status_code == 403


@pytest.mark.parametrize(
    "change,field",
    [
        ({"phone_number": "12345"}, "phone_number"),
        ({"phone_number": None}, "phone_number"),
        ({"full_name": ""}, "full_name"),
        ({"role": "KING"}, "role"),
        ({"branch": 999999}, "branch"),
        ({"password": "short"}, "password"),
        ({"password": None}, "password"),
        ({"email": "not-an-email"}, "email"),
        ({"phone_number": "+254790000001"}, "phone_number"),  # someone has it (the manager below)
    ],
)
def test_bad_staff_input_is_a_400_and_writes_nothing(owner, branch, change, field):
    UserFactory(phone_number="+254790000001")
    before = (User.objects.count(), AuditLog.objects.count())
    body = {k: v for k, v in {**new_person(branch), **change}.items() if v is not None}
    response = client_for(owner).post("/api/users/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert (User.objects.count(), AuditLog.objects.count()) == before


def test_deactivating_through_the_api_stops_their_tokens(manager, employee):
    victim = client_for(employee)
    assert victim.get("/api/clients/").status_code == 200
    response = client_for(manager).patch(f"/api/users/{employee.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert victim.get("/api/clients/").status_code == 401
    assert AuditLog.objects.filter(action="staff_deactivated", object_id=str(employee.pk)).exists()


def test_role_change_and_set_password(owner, employee):
    api = client_for(owner)
    response = api.patch(f"/api/users/{employee.pk}/", {"role": "MANAGER"}, format="json")
    assert response.json()["role"] == "MANAGER"
    assert AuditLog.objects.filter(action="role_changed", object_id=str(employee.pk)).exists()
    assert api.post(f"/api/users/{employee.pk}/set_password/", {"password": "x"}, format="json").status_code == 400
    assert api.post(f"/api/users/{employee.pk}/set_password/", {"password": "brand-new-pass-8"},
                    format="json").status_code == 204
    login = APIClient().post("/api/token/", {"phone_number": employee.phone_number, "password": "brand-new-pass-8"},
                             format="json")
    assert login.status_code == 200
    assert api.patch(f"/api/users/{employee.pk}/", {"password": "x-y-z-1234"}, format="json").status_code == 400
    assert api.delete(f"/api/users/{employee.pk}/").status_code == 405


def test_nobody_changes_their_own_role_or_deactivates_themselves(owner):
    api = client_for(owner)
    assert api.patch(f"/api/users/{owner.pk}/", {"role": "MANAGER"}, format="json").status_code == 400
    assert api.patch(f"/api/users/{owner.pk}/", {"is_active": False}, format="json").status_code == 400


def test_staff_of_another_branch_are_invisible_to_a_manager(manager, owner, other_branch):
    far = UserFactory(role=Role.EMPLOYEE, branch=other_branch)
    api = client_for(manager)
    ids = {row["id"] for row in api.get("/api/users/").json()["results"]}
    assert far.pk not in ids and manager.pk in ids
    assert api.get(f"/api/users/{far.pk}/").status_code == 404
    assert api.patch(f"/api/users/{far.pk}/", {"full_name": "X"}, format="json").status_code == 404
    assert far.pk in {row["id"] for row in client_for(owner).get("/api/users/?page_size=200").json()["results"]}
    assert client_for(owner).get(f"/api/users/?branch={other_branch.pk}").json()["count"] == 1


def test_staff_list_filters_search_and_queries(owner, branch, django_assert_max_num_queries):
    for n in range(10):
        UserFactory(role=Role.EMPLOYEE, branch=branch, full_name=f"Cashier {n}")
    UserFactory(role=Role.MANAGER, branch=branch, full_name="Kamau Otieno")
    api = client_for(owner)
    with django_assert_max_num_queries(5):
        body = api.get("/api/users/?role=EMPLOYEE").json()
    assert body["count"] == 10
    assert api.get("/api/users/?search=kamau").json()["count"] == 1
    assert api.get("/api/users/?ordering=-full_name").json()["results"][0]["full_name"] == "Olive Owner"


# ---------------------------------------------------------------------------- branches
def test_branches_scoped_to_the_viewer(manager, owner, branch, other_branch, employee):
    assert [b["code"] for b in client_for(manager).get("/api/branches/").json()["results"]] == [branch.code]
    assert client_for(manager).get(f"/api/branches/{other_branch.pk}/").status_code == 404
    assert client_for(owner).get("/api/branches/").json()["count"] == 2
    assert client_for(employee).get("/api/branches/").status_code == 403
    assert client_for(owner).post("/api/branches/", {"name": "X"}, format="json").status_code == 405


# ---------------------------------------------------------------------------- clients
def test_clients_create_update_and_credit_limit_rules(employee, owner):
    api = client_for(employee)
    response = api.post("/api/clients/", {"name": "Mama Mboga", "phone_number": "0711 222 333"}, format="json")
    assert response.status_code == 201, response.content
    client = response.json()
    assert client["phone_number"] == "+254711222333" and client["balance"] == "0.00" and client["total_spent"] == "0.00"
    refused = api.patch(f"/api/clients/{client['id']}/", {"credit_limit": "5000.00"}, format="json")
    assert refused.status_code == 400 and "credit_limit" in refused.json()["errors"]
    allowed = client_for(owner).patch(f"/api/clients/{client['id']}/", {"credit_limit": "5000.00"}, format="json")
    assert allowed.status_code == 200 and allowed.json()["credit_limit"] == "5000.00"
    assert AuditLog.objects.filter(action="credit_limit_changed").count() == 1
    duplicate = api.post("/api/clients/", {"name": "Other", "phone_number": "+254711222333"}, format="json")
    assert duplicate.status_code == 400 and "phone_number" in duplicate.json()["errors"]
    assert api.delete(f"/api/clients/{client['id']}/").status_code == 405
    assert api.patch(f"/api/clients/{client['id']}/", {"is_active": False}, format="json").json()["is_active"] is False


@pytest.mark.parametrize(
    "body,field",
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "A", "phone_number": "123"}, "phone_number"),
        ({"name": "A", "email": "nope"}, "email"),
        ({"name": "A", "kra_pin": "123"}, "kra_pin"),
        ({"name": "A", "credit_limit": "-5"}, "credit_limit"),
        ({"name": "A", "credit_limit": "lots"}, "credit_limit"),
        ({"name": ["A"]}, "name"),
    ],
)
def test_bad_clients_are_400_and_write_nothing(owner, body, field):
    response = client_for(owner).post("/api/clients/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert not Customer.objects.exists()


def test_client_list_filters_search_and_queries(employee, django_assert_max_num_queries):
    for n in range(10):
        CustomerFactory(name=f"Client {n}")
    CustomerFactory(name="Debtor Wanjiru", balance=Decimal("150.00"))
    api = client_for(employee)
    with django_assert_max_num_queries(4):
        assert api.get("/api/clients/").json()["count"] == 11
    assert api.get("/api/clients/?has_balance=true").json()["results"][0]["name"] == "Debtor Wanjiru"
    assert api.get("/api/clients/?search=wanjiru").json()["count"] == 1
    assert api.get("/api/clients/?ordering=-balance").json()["results"][0]["name"] == "Debtor Wanjiru"
    assert api.get("/api/clients/999999/").status_code == 404
    assert api.get("/api/clients/abc/").status_code == 404


# ---------------------------------------------------------------------------- audit log
def test_audit_log_is_read_only_scoped_and_filterable(owner, manager, employee, branch, other_branch):
    AuditLog.objects.create(action="price_override", user=manager, branch=branch, reason="Damaged box")
    AuditLog.objects.create(action="line_void", user=owner, branch=other_branch, reason="Wrong item")
    api = client_for(manager)
    rows = api.get("/api/audit-logs/").json()["results"]
    assert [r["action"] for r in rows] == ["price_override"]
    assert rows[0]["user_name"] == "Mark Manager"
    assert client_for(owner).get("/api/audit-logs/?action=line_void").json()["count"] == 1
    assert client_for(owner).get("/api/audit-logs/?search=Damaged").json()["count"] == 1
    assert client_for(employee).get("/api/audit-logs/").status_code == 403
    assert api.post("/api/audit-logs/", {}, format="json").status_code == 405
    entry = rows[0]["id"]
    assert api.delete(f"/api/audit-logs/{entry}/").status_code == 405
    assert api.get("/api/audit-logs/?created_after=not-a-date").status_code == 400


def test_audit_log_list_queries_are_bounded(owner, branch, django_assert_max_num_queries):
    for _ in range(15):
        AuditLog.objects.create(action="login", user=UserFactory(), branch=branch)
    with django_assert_max_num_queries(4):
        assert client_for(owner).get("/api/audit-logs/").json()["count"] == 15


def test_default_password_fixture_still_logs_in(owner):
    response = APIClient().post("/api/token/", {"phone_number": owner.phone_number, "password": DEFAULT_PASSWORD},
                                format="json")
    assert response.json()["user"]["role"] == "OWNER"
