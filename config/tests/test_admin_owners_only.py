"""Only owners get /admin/: a manager of another branch walks every changelist and reads nothing."""

import pytest
from django.contrib import admin
from django.urls import reverse

from core.roles import Role
from pos.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _changelists():
    return [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    ]


def test_every_changelist_is_closed_to_a_manager_of_another_branch(client, owner, other_branch):
    UserFactory(role=Role.EMPLOYEE, branch=owner.branch, phone_number="+254711000999", email="njeri@example.com")
    manager = UserFactory(role=Role.MANAGER, branch=other_branch)
    client.force_login(manager)
    urls = _changelists()
    assert len(urls) > 10
    for url in urls:
        response = client.get(url)
        assert response.status_code == 403, url
        assert b"+254711000999" not in response.content and b"njeri@example.com" not in response.content
    assert client.get(reverse("admin:index")).status_code == 403


def test_cashiers_are_kept_out_too_without_a_redirect_loop(employee_client):
    assert employee_client.get(reverse("admin:index")).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_owners_keep_the_admin(owner_client):
    for url in _changelists():
        assert owner_client.get(url).status_code == 200, url
