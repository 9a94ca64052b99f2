"""What a cashier reads on the count-and-close page: managers by name and role (never their phone
numbers, on a tablet on the counter), and an empty choice that says what it means."""

import pytest
from django.urls import reverse

from cashdesk.tests.factories import open_session

pytestmark = pytest.mark.django_db


def test_close_form_names_approvers_by_role_not_phone(employee_client, employee, manager, owner):
    open_session(employee)
    html = employee_client.get(reverse("cashdesk:session_close")).content.decode()
    assert f"{manager.full_name} (Manager)" in html and f"{owner.full_name} (Owner)" in html
    assert manager.phone_number not in html and owner.phone_number not in html
    assert "No approval needed" in html and "---------" not in html
