"""API tokens and sessions die with the password, a deactivation or a role change, and a reactivation
does not bring them back."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from core.roles import Role
from pos.people.services import staff_reset_password, staff_set_active, staff_update
from pos.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Kahawa-Tamu-2026"


@pytest.fixture
def cashier(branch):
    return UserFactory(phone_number="+254712345678", role=Role.EMPLOYEE, branch=branch)


def _tokens(password=DEFAULT_PASSWORD):
    response = APIClient().post("/api/token/", {"phone_number": "0712345678", "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def _refresh(refresh):
    return APIClient().post("/api/token/refresh/", {"refresh": refresh}, format="json")


def _use(access):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return api.get("/api/clients/")


def test_a_password_reset_ends_refresh_and_access_tokens(cashier, owner):
    tokens = _tokens()
    rotated = _refresh(tokens["refresh"]).json()  # rotation must not keep it alive either
    staff_reset_password(actor=owner, user=cashier, password=NEW_PASSWORD)
    assert _refresh(tokens["refresh"]).status_code == 401
    assert _refresh(rotated["refresh"]).status_code == 401
    assert _use(tokens["access"]).status_code == 401
    assert _use(_tokens(NEW_PASSWORD)["access"]).status_code == 200


def test_changing_ones_own_password_ends_the_old_tokens(cashier):
    tokens = _tokens()
    cashier.set_password(NEW_PASSWORD)
    cashier.save()
    assert _refresh(tokens["refresh"]).status_code == 401
    assert _use(tokens["access"]).status_code == 401


def test_a_reactivated_person_does_not_get_old_tokens_back(cashier, owner):
    tokens = _tokens()
    staff_set_active(actor=owner, user=cashier, active=False)
    staff_set_active(actor=owner, user=cashier, active=True)
    assert _refresh(tokens["refresh"]).status_code == 401
    assert _use(tokens["access"]).status_code == 401
    assert _use(_tokens()["access"]).status_code == 200


def test_a_role_change_ends_tokens_and_sessions(cashier, owner, branch):
    tokens = _tokens()
    browser = Client()
    browser.force_login(cashier)
    assert browser.get("/till/").status_code == 200
    staff_update(actor=owner, user=cashier, full_name=cashier.full_name, role=Role.MANAGER, branch=branch)
    assert _refresh(tokens["refresh"]).status_code == 401
    assert _use(tokens["access"]).status_code == 401
    assert browser.get("/till/").status_code == 302  # logged out: to the login page


def test_a_reactivation_does_not_revive_an_old_session(cashier, owner):
    browser = Client()
    browser.force_login(cashier)
    staff_set_active(actor=owner, user=cashier, active=False)
    staff_set_active(actor=owner, user=cashier, active=True)
    assert browser.get("/till/").status_code == 302


def test_other_details_leave_tokens_alone(cashier, owner, branch):
    tokens = _tokens()
    staff_update(actor=owner, user=cashier, full_name="Akinyi Otieno", role=Role.EMPLOYEE, branch=branch)
    assert _refresh(tokens["refresh"]).status_code == 200
