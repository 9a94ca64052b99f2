"""Logging in with a phone number and password (django-allauth), logging out, changing the password,
the closed sign-up, and the audit rows all of these leave."""

import runpy
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from core.phone import INVALID_PHONE
from core.roles import Role
from pos.people.adapters import LOGIN_RATE_LIMITED, MANAGED_ON_STAFF_PAGE
from pos.people.audit import AuditAction
from pos.people.models import AuditLog, User
from pos.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

WRONG_PASSWORD = "The phone number and/or password you specified are not correct."
TOO_MANY = "Too many failed login attempts. Try again later."


@pytest.fixture
def cashier(branch):
    return UserFactory(phone_number="+254712345678", full_name="Akinyi Atieno", role=Role.EMPLOYEE, branch=branch)


def _login(client, login, password=DEFAULT_PASSWORD, **extra):
    return client.post(reverse("account_login"), {"login": login, "password": password, **extra})


@pytest.mark.parametrize("typed", ["0712 345 678", "254712345678", "+254 712 345 678", "0712-345-678"])
def test_every_way_of_typing_the_number_logs_in_the_same_person(client, cashier, typed):
    response = _login(client, typed)
    assert response.status_code == 302
    assert response["Location"] == reverse("till:index")  # cashiers land on the till
    home = client.get(reverse("till:index"))
    assert home.status_code == 200
    assert home.wsgi_request.user == cashier
    assert [str(m) for m in home.context["messages"]] == ["Logged in as Akinyi Atieno."]
    row = AuditLog.objects.get(action=AuditAction.LOGIN)
    assert row.user == cashier and row.object_id == str(cashier.pk)
    assert row.after_data == {"method": "password"}
    assert row.ip_address == "127.0.0.1"
    assert row.branch_id == cashier.branch_id


def test_login_page_is_the_tablet_friendly_phone_form(client):
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'type="tel"' in html and 'inputmode="tel"' in html
    assert 'autocomplete="current-password"' in html
    assert "Log in with a passkey" in html
    # Staff without an e-mail address cannot use allauth's e-mail reset: no link to it.
    assert reverse("account_reset_password") not in html
    assert "Ask them for a new one" in html


def test_a_malformed_number_is_a_clear_form_error(client, cashier):
    response = _login(client, "0712 34")
    assert response.status_code == 200
    assert INVALID_PHONE in response.content.decode()
    assert response.context["form"].errors["login"] == [INVALID_PHONE]
    assert not response.wsgi_request.user.is_authenticated


def test_wrong_password_gives_allauths_message_and_an_audit_row(client, cashier):
    response = _login(client, "0712 345 678", password="not-the-password")
    assert response.status_code == 200
    assert WRONG_PASSWORD in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated
    row = AuditLog.objects.get(action=AuditAction.LOGIN_FAILED)
    assert row.user is None
    assert row.object_id == str(cashier.pk)
    assert row.reason == "wrong password"
    assert row.after_data == {"phone_number": "+254712345678", "way_in": "web"}
    assert row.branch_id == cashier.branch_id


def test_an_unknown_number_is_the_same_message_and_audited(client, cashier):
    response = _login(client, "0799 999 999", password="whatever-123")
    assert WRONG_PASSWORD in response.content.decode()
    row = AuditLog.objects.get(action=AuditAction.LOGIN_FAILED)
    assert row.reason == "unknown phone number" and row.object_id == ""


def test_repeated_failures_are_rate_limited_with_a_clear_message(client, cashier):
    # settings.test: allauth's "login_failed" limit is 5 per 5 minutes per phone number.
    for _ in range(5):
        assert WRONG_PASSWORD in _login(client, "0712 345 678", password="guess-guess-1").content.decode()
    response = _login(client, "+254 712 345 678")  # even the right password is refused now
    html = response.content.decode()
    assert response.status_code == 200
    assert TOO_MANY in html
    assert 'data-testid="login-error"' in html  # shown in the alert at the top of the form
    assert not response.wsgi_request.user.is_authenticated
    assert AuditLog.objects.filter(action=AuditAction.LOGIN_FAILED).count() == 5
    blocked = AuditLog.objects.get(action=LOGIN_RATE_LIMITED)
    assert blocked.object_id == str(cashier.pk) and blocked.reason == "too many failed logins"
    # Someone else on the same tablet is not locked out by the cashier's mistakes.
    other = UserFactory(phone_number="+254722000111", branch=cashier.branch)
    assert _login(Client(), "0722 000 111").status_code == 302
    assert AuditLog.objects.filter(action=AuditAction.LOGIN, user=other).exists()


def test_a_deactivated_person_cannot_log_in(client, cashier):
    cashier.is_active = False
    cashier.save()
    response = _login(client, "0712 345 678", follow=False)
    assert response.status_code == 302 and response["Location"] == reverse("account_inactive")
    page = client.get(reverse("account_inactive"))
    assert "This account has been deactivated" in page.content.decode()
    assert not client.get(reverse("home")).wsgi_request.user.is_authenticated
    assert AuditLog.objects.get(action=AuditAction.LOGIN_FAILED).reason == "deactivated account"


def test_deactivating_someone_ends_their_open_session(client, cashier, owner):
    from pos.people import services

    client.force_login(cashier)
    assert client.get(reverse("home")).status_code == 200
    services.staff_set_active(actor=owner, user=cashier, active=False)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_logout_is_a_post_and_is_audited(client, cashier):
    client.force_login(cashier)
    confirm = client.get(reverse("account_logout"))  # GET only asks
    assert confirm.status_code == 200
    assert client.get(reverse("home")).status_code == 200
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302 and response["Location"] == reverse("account_login")
    assert client.get(reverse("home")).status_code == 302
    row = AuditLog.objects.get(action=AuditAction.LOGOUT)
    assert row.user == cashier


def test_the_menu_logs_out_with_a_post_form(client, cashier):
    client.force_login(cashier)
    html = client.get(reverse("home")).content.decode()
    assert f'<form method="post" action="{reverse("account_logout")}">' in html


def test_password_change_page_is_styled_and_works(client, cashier):
    client.force_login(cashier)
    page = client.get(reverse("account_change_password"))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="password-change-form"' in html and "account-manage" in html
    assert reverse("account_reset_password") not in html
    bad = client.post(
        reverse("account_change_password"),
        {"oldpassword": "wrong-one-1", "password1": "new-pass-word-42", "password2": "new-pass-word-42"},
    )
    assert bad.status_code == 200 and "Please type your current password." in bad.content.decode()
    ok = client.post(
        reverse("account_change_password"),
        {"oldpassword": DEFAULT_PASSWORD, "password1": "new-pass-word-42", "password2": "new-pass-word-42"},
    )
    assert ok.status_code == 302
    cashier.refresh_from_db()
    assert cashier.check_password("new-pass-word-42")
    assert client.get(reverse("home")).status_code == 200  # still logged in here
    assert _login(Client(), "0712345678", password="new-pass-word-42").status_code == 302


def test_a_weak_new_password_is_refused(client, cashier):
    client.force_login(cashier)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": DEFAULT_PASSWORD, "password1": "12345678", "password2": "12345678"},
    )
    assert response.status_code == 200
    assert "This password is entirely numeric." in response.content.decode()
    cashier.refresh_from_db()
    assert cashier.check_password(DEFAULT_PASSWORD)


def test_there_is_no_public_sign_up(client):
    page = client.get(reverse("account_signup"))
    assert page.status_code == 200
    assert "Sign-up is closed" in page.content.decode()
    before = User.objects.count()
    posted = client.post(reverse("account_signup"), {"phone": "0711 222 333", "password1": "a-long-pass-99"})
    assert "Sign-up is closed" in posted.content.decode()
    assert User.objects.count() == before
    assert reverse("account_signup") not in client.get(reverse("account_login")).content.decode()


def test_phone_number_cannot_be_changed_by_oneself(client, cashier):
    client.force_login(cashier)
    page = client.get(reverse("account_change_phone"))
    assert MANAGED_ON_STAFF_PAGE in page.content.decode()
    response = client.post(reverse("account_change_phone"), {"phone": "0733 444 555"})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    cashier.refresh_from_db()
    assert cashier.phone_number == "+254712345678"
    assert MANAGED_ON_STAFF_PAGE in client.get(reverse("home")).content.decode()


def test_email_cannot_be_added_by_oneself(client, cashier):
    client.force_login(cashier)
    assert MANAGED_ON_STAFF_PAGE in client.get(reverse("account_email")).content.decode()
    response = client.post(reverse("account_email"), {"action_add": "", "email": "me@example.com"})
    assert response.status_code == 200
    assert MANAGED_ON_STAFF_PAGE in response.content.decode()
    cashier.refresh_from_db()
    assert cashier.email is None
    from allauth.account.models import EmailAddress

    assert not EmailAddress.objects.filter(email="me@example.com").exists()


# ---------------------------------------------------------------------------- single sign-on buttons
def _settings_from_env(monkeypatch, tmp_path, **env) -> dict:
    """Run the login settings (config/settings/auth.py) with these environment variables (and no .env file)."""
    for name in ("GOOGLE_CLIENT_ID", "MICROSOFT_CLIENT_ID", "OIDC_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ENV_FILE", str(tmp_path / "no.env"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(Path(settings.BASE_DIR) / "config" / "settings" / "auth.py"))


def test_no_provider_buttons_when_none_is_configured(client, monkeypatch, tmp_path):
    providers = _settings_from_env(monkeypatch, tmp_path)["SOCIALACCOUNT_PROVIDERS"]
    assert providers == {}
    with override_settings(SOCIALACCOUNT_PROVIDERS=providers):
        html = client.get(reverse("account_login")).content.decode()
    assert "Sign in with" not in html and "sso-providers" not in html


def test_configured_providers_appear_on_the_login_page(client, monkeypatch, tmp_path):
    providers = _settings_from_env(
        monkeypatch,
        tmp_path,
        GOOGLE_CLIENT_ID="google-id",
        GOOGLE_CLIENT_SECRET="google-secret",
        MICROSOFT_CLIENT_ID="ms-id",
        OIDC_CLIENT_ID="oidc-id",
        OIDC_PROVIDER_ID="keycloak",
        OIDC_PROVIDER_NAME="Shop Keycloak",
        OIDC_SERVER_URL="https://login.example.com/realms/shop",
    )["SOCIALACCOUNT_PROVIDERS"]
    assert set(providers) == {"google", "microsoft", "openid_connect"}
    assert providers["google"]["APPS"][0]["client_id"] == "google-id"
    assert providers["openid_connect"]["APPS"][0]["settings"]["server_url"] == "https://login.example.com/realms/shop"
    with override_settings(SOCIALACCOUNT_PROVIDERS=providers):
        html = client.get(reverse("account_login")).content.decode()
    assert "Sign in with Google" in html
    assert "Sign in with Microsoft" in html
    assert "Sign in with Shop Keycloak" in html
    # Provider logins start with a POST (SOCIALACCOUNT_LOGIN_ON_GET is off), so each button is a form.
    assert '<form method="post" action="/accounts/google/login/?process=login">' in html


def test_only_google_when_only_google_is_configured(client, monkeypatch, tmp_path):
    providers = _settings_from_env(monkeypatch, tmp_path, GOOGLE_CLIENT_ID="google-id")["SOCIALACCOUNT_PROVIDERS"]
    with override_settings(SOCIALACCOUNT_PROVIDERS=providers):
        html = client.get(reverse("account_login")).content.decode()
    assert "Sign in with Google" in html and "Microsoft" not in html
