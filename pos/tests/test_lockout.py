"""One lockout for every way in: the web login, the API token, passkeys and the till PIN count failures on
the same account and address counters, refuse alike once locked and leave the same audit rows."""

import base64
import json

import pytest
from allauth.account.utils import user_pk_to_url_str
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from core.roles import Role
from pos.people.audit import AuditAction
from pos.people.lockout import LOGIN_RATE_LIMITED
from pos.people.models import AuditLog
from pos.people.services import PIN_ACCOUNT_LOCKED, PinError, staff_verify_pin
from pos.tests.factories import DEFAULT_PASSWORD, DEFAULT_PIN, UserFactory

pytestmark = pytest.mark.django_db

TOO_MANY = "Too many failed login attempts. Try again later."


@pytest.fixture
def cashier(branch):
    return UserFactory(phone_number="+254712345678", full_name="Akinyi Atieno", role=Role.EMPLOYEE, branch=branch)


def _web_login(client, phone, password=DEFAULT_PASSWORD):
    return client.post(reverse("account_login"), {"login": phone, "password": password})


def _api_login(phone, password=DEFAULT_PASSWORD, **headers):
    return APIClient().post("/api/token/", {"phone_number": phone, "password": password}, format="json", **headers)


def test_guessing_on_the_api_is_stopped_whatever_x_forwarded_for_says(cashier):
    for n in range(40):
        response = _api_login("0712345678", "guess-guess-1", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
        assert response.status_code in (401, 429)
    response = _api_login("0712345678", HTTP_X_FORWARDED_FOR="203.0.113.250")
    assert response.status_code == 429, response.content
    assert response.json()["detail"] == TOO_MANY


def test_a_web_lockout_also_closes_the_api(client, cashier):
    for _ in range(5):
        _web_login(client, "0712 345 678", "guess-guess-1")
    assert TOO_MANY in _web_login(client, "0712 345 678").content.decode()
    response = _api_login("0712345678")
    assert response.status_code == 429 and response.json()["code"] == "login_locked"


def test_api_failures_lock_the_web_login_with_the_same_audit_rows(client, cashier):
    for _ in range(5):
        assert _api_login("0712345678", "guess-guess-1").status_code == 401
    html = _web_login(client, "0712 345 678").content.decode()
    assert TOO_MANY in html
    failed = AuditLog.objects.filter(action=AuditAction.LOGIN_FAILED)
    assert failed.count() == 5
    assert {row.after_data["way_in"] for row in failed} == {"api token"}
    assert all(row.object_id == str(cashier.pk) and row.reason == "wrong password" for row in failed)
    blocked = AuditLog.objects.get(action=LOGIN_RATE_LIMITED)
    assert blocked.after_data["way_in"] == "web" and blocked.object_id == str(cashier.pk)


def test_someone_else_on_the_same_address_is_not_locked_out(client, cashier):
    for _ in range(5):
        _api_login("0712345678", "guess-guess-1")
    UserFactory(phone_number="+254722000111", branch=cashier.branch)
    assert _api_login("0722000111").status_code == 200


@override_settings(LOGIN_LOCKOUT_ADDRESS_FAILURES=6)
def test_one_address_guessing_many_numbers_is_locked(cashier):
    for n in range(6):
        _api_login(f"07220001{n:02d}", "guess-guess-1")
    assert _api_login("0712345678").status_code == 429


def test_a_right_password_clears_the_account_count(client, cashier):
    for _ in range(4):
        _api_login("0712345678", "guess-guess-1")
    assert _api_login("0712345678").status_code == 200
    for _ in range(4):
        _api_login("0712345678", "guess-guess-1")
    assert _api_login("0712345678").status_code == 200


@pytest.fixture
def manager_with_pin(branch):
    return UserFactory(role=Role.MANAGER, branch=branch, phone_number="+254733000222")


def _pin_request(user):
    request = RequestFactory().post("/till/", REMOTE_ADDR="10.0.0.7")
    request.user = user
    return request


def test_wrong_till_pins_count_towards_the_managers_login_lockout(client, cashier, manager_with_pin):
    for _ in range(5):
        with pytest.raises(PinError):
            staff_verify_pin(user=manager_with_pin, pin="9999", request=_pin_request(cashier))
    assert TOO_MANY in _web_login(client, "0733 000 222").content.decode()
    rows = AuditLog.objects.filter(action=AuditAction.LOGIN_FAILED, object_id=str(manager_with_pin.pk))
    assert rows.count() == 5 and {r.after_data["way_in"] for r in rows} == {"till PIN"}


def test_a_locked_account_refuses_the_right_pin_too(cashier, manager_with_pin):
    for _ in range(5):
        _api_login("0733000222", "guess-guess-1")
    with pytest.raises(PinError) as refused:
        staff_verify_pin(user=manager_with_pin, pin=DEFAULT_PIN, request=_pin_request(cashier))
    assert refused.value.message == PIN_ACCOUNT_LOCKED
    assert AuditLog.objects.filter(action=LOGIN_RATE_LIMITED, after_data__way_in="till PIN").exists()


def _passkey_naming(user) -> str:
    handle = base64.urlsafe_b64encode(user_pk_to_url_str(user).encode()).decode().rstrip("=")
    return json.dumps({"id": "forged", "rawId": "forged", "type": "public-key", "response": {"userHandle": handle}})


def test_a_passkey_that_does_not_verify_counts_and_a_locked_account_refuses_passkeys(cashier):
    browser = Client()
    for _ in range(5):
        browser.get(reverse("mfa_login_webauthn"), HTTP_ACCEPT="application/json",
                    HTTP_X_REQUESTED_WITH="XMLHttpRequest")
        browser.post(reverse("mfa_login_webauthn"), {"credential": _passkey_naming(cashier)})
    rows = AuditLog.objects.filter(action=AuditAction.LOGIN_FAILED, object_id=str(cashier.pk))
    assert rows.count() == 5 and {r.after_data["way_in"] for r in rows} == {"passkey"}
    browser.post(reverse("mfa_login_webauthn"), {"credential": _passkey_naming(cashier)})
    assert AuditLog.objects.filter(action=LOGIN_RATE_LIMITED, after_data__way_in="passkey").exists()
    assert _api_login("0712345678").status_code == 429


def test_the_token_endpoint_is_throttled_per_phone_number_too(cashier, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "1000/minute",
                                                                                   "token": "3/minute"}}
    codes = [
        _api_login("0712345678", "guess-guess-1", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(4)
    ]
    assert codes[-1] == 429
