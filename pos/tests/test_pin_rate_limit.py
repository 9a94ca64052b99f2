"""The till PIN is rate-limited by who types it, not only locked per manager.

`staff_verify_pin` locks one manager's PIN after TILL_PIN_MAX_FAILURES wrong tries. A cashier going
through every manager's PIN in turn would never lock any of them, so wrong PINs are also counted per
logged-in person typing them (TILL_PIN_RATE_LIMIT) and per address (TILL_PIN_RATE_LIMIT_IP) within
TILL_PIN_RATE_WINDOW_MINUTES; past the limit every PIN from there is refused, the right one too.
"""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import RequestFactory, override_settings
from django.urls import reverse

from core.roles import Role
from pos.people.audit import AuditAction
from pos.people.models import AuditLog, User
from pos.people.services import PinError, staff_verify_pin
from pos.tests.factories import DEFAULT_PIN, UserFactory

pytestmark = pytest.mark.django_db

LIMITS = {"TILL_PIN_MAX_FAILURES": 5, "TILL_PIN_RATE_LIMIT": 4, "TILL_PIN_RATE_LIMIT_IP": 6}


def _request(user, ip="10.0.0.7"):
    request = RequestFactory().post("/till/", REMOTE_ADDR=ip)
    request.user = user
    return request


@pytest.fixture
def managers(branch):
    return [UserFactory(role=Role.MANAGER, branch=branch, full_name=f"Manager {n}") for n in range(3)]


@override_settings(**LIMITS)
def test_guessing_through_several_managers_is_stopped_before_any_pin_locks(employee, managers):
    request = _request(employee)
    for attempt in range(4):  # spread over three managers: none reaches its own lock-out
        with pytest.raises(PinError, match="Wrong PIN"):
            staff_verify_pin(user=managers[attempt % 3], pin="0000", request=request)
    with pytest.raises(PinError, match="Too many wrong PINs from this till") as refused:
        staff_verify_pin(user=managers[0], pin=DEFAULT_PIN, request=request)  # even the right PIN
    assert refused.value.code == "rate_limited"
    assert not User.objects.filter(pin_locked_until__isnull=False).exists()  # no manager was locked out
    entry = AuditLog.objects.get(action=AuditAction.PIN_RATE_LIMITED)
    assert entry.user == employee and entry.ip_address == "10.0.0.7"
    # Another cashier on another tablet is not held up, and the window passing frees the first one.
    other = UserFactory(role=Role.EMPLOYEE, branch=employee.branch)
    assert staff_verify_pin(user=managers[0], pin=DEFAULT_PIN, request=_request(other, ip="10.0.0.8")) == managers[0]
    cache.clear()
    assert staff_verify_pin(user=managers[0], pin=DEFAULT_PIN, request=request) == managers[0]


@override_settings(**LIMITS)
def test_the_address_is_limited_too(branch, managers):
    cashiers = [UserFactory(role=Role.EMPLOYEE, branch=branch) for _ in range(3)]
    for n in range(6):  # two wrong PINs each: under the per-person limit, at the per-address one
        with pytest.raises(PinError, match="Wrong PIN"):
            staff_verify_pin(user=managers[n % 3], pin="0000", request=_request(cashiers[n % 3]))
    with pytest.raises(PinError, match="Too many wrong PINs"):
        staff_verify_pin(user=managers[0], pin=DEFAULT_PIN, request=_request(cashiers[0]))
    assert staff_verify_pin(user=managers[0], pin=DEFAULT_PIN, request=_request(cashiers[0], ip="10.9.9.9"))


@override_settings(**LIMITS)
def test_right_pins_do_not_count(employee, managers):
    request = _request(employee)
    for _ in range(10):
        assert staff_verify_pin(user=managers[1], pin=DEFAULT_PIN, request=request) == managers[1]


@override_settings(**LIMITS)
def test_the_till_dialog_says_wait(employee_client, employee, branch, managers):
    from cashdesk.tests.factories import ring_up

    line = ring_up(employee, branch, ("100", "1")).lines.get()
    url = reverse("till:line_price", args=[line.pk])
    for attempt in range(4):
        data = {"unit_price": "80", "reason": "damaged box", "authoriser": managers[attempt % 3].pk, "pin": "0000"}
        response = employee_client.post(url, data, HTTP_HX_REQUEST="true")
        assert b"Wrong PIN" in response.content
    data = {"unit_price": "80", "reason": "damaged box", "authoriser": managers[0].pk, "pin": DEFAULT_PIN}
    response = employee_client.post(url, data, HTTP_HX_REQUEST="true")
    assert b"Too many wrong PINs from this till" in response.content
    line.refresh_from_db()
    assert line.unit_price == Decimal("100.00")  # nothing changed
