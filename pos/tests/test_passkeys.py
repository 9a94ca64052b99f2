"""Passkeys (allauth.mfa WebAuthn) without a browser: the pages, the add flow's gate, and the rule that
a passkey is a way in, not a second lock. The real ceremony runs in `test_e2e.py` with Chromium's
virtual authenticator."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added, authenticator_removed
from django.test import RequestFactory, override_settings
from django.urls import reverse

from pos.people.audit import AuditAction
from pos.people.forms import PASSKEY_FORMS
from pos.people.models import AuditLog
from pos.people.signals import PASSKEY_ADDED, PASSKEY_REMOVED
from pos.tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def _webauthn(user, *, passwordless: bool | None, name="Till 1 tablet"):
    """An authenticator row as allauth stores it; `credProps.rk` is what the browser reported."""
    results = {} if passwordless is None else {"credProps": {"rk": passwordless}}
    return Authenticator.objects.create(
        user=user, type=Authenticator.Type.WEBAUTHN,
        data={"name": name, "credential": {"id": "abc", "clientExtensionResults": results}},
    )


def _totp(user):
    return Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})


def _password_login(client, user):
    return client.post(reverse("account_login"), {"login": user.phone_number, "password": DEFAULT_PASSWORD})


# ---------------------------------------------------------------------------- a way in, not a second lock
def test_a_passkey_does_not_make_password_logins_ask_for_a_second_factor(client, employee):
    _webauthn(employee, passwordless=True)
    response = _password_login(client, employee)
    assert response.status_code == 302 and response["Location"] == reverse("till:index")
    assert client.get(reverse("home")).wsgi_request.user == employee


def test_an_authenticator_app_does_ask_for_the_second_factor(client, manager):
    _totp(manager)
    response = _password_login(client, manager)
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    assert not client.get(reverse("home")).wsgi_request.user.is_authenticated
    page = client.get(reverse("mfa_authenticate"))
    assert page.status_code == 200 and "entrance-card" in page.content.decode()


@pytest.mark.parametrize("passwordless", [False, None])
def test_a_plain_security_key_is_a_second_factor(client, manager, passwordless):
    _webauthn(manager, passwordless=passwordless, name="YubiKey")
    response = _password_login(client, manager)
    assert response["Location"] == reverse("mfa_authenticate")


# ---------------------------------------------------------------------------- the pages
def test_passkeys_and_security_page(employee_client, employee):
    page = employee_client.get(reverse("mfa_index"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Passkeys &amp; security" in html and "You have no passkey yet." in html
    assert reverse("mfa_add_webauthn") in html
    _webauthn(employee, passwordless=True, name="Till 1 tablet")
    html = employee_client.get(reverse("mfa_index")).content.decode()
    assert "Till 1 tablet" in html and ">Passkey<" in html
    assert reverse("mfa_list_webauthn") in html


def test_the_menu_links_to_passkeys_and_security(employee_client):
    html = employee_client.get(reverse("home")).content.decode()
    assert reverse("mfa_index") in html and "Passkeys &amp; security" in html


def test_adding_a_passkey_first_asks_for_the_password(employee_client, employee):
    response = employee_client.get(reverse("mfa_add_webauthn"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    page = employee_client.get(response["Location"])
    html = page.content.decode()
    assert "Confirm it is you" in html and reverse("account_reset_password") not in html
    wrong = employee_client.post(response["Location"], {"password": "wrong-pass-1"})
    assert wrong.status_code == 200
    confirmed = employee_client.post(response["Location"], {"password": DEFAULT_PASSWORD})
    assert confirmed.status_code == 302 and confirmed["Location"] == reverse("mfa_add_webauthn")


def _reauthenticated(client):
    client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})


def test_the_add_page_offers_passwordless_ticked_and_carries_its_data_as_json(employee_client):
    _reauthenticated(employee_client)
    response = employee_client.get(reverse("mfa_add_webauthn"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_passwordless"' in html
    checkbox = html.split('id="id_passwordless"')[1].split(">")[0]
    assert "checked" in checkbox
    assert 'name="credential"' in html and 'id="id_credential"' in html
    assert '<script id="js_data" type="application/json">' in html
    assert 'data-allauth-onload="allauth.webauthn.forms.addForm"' in html
    assert '"passwordless": "id_passwordless"' in html
    creation = response.context["js_data"]["creation_options"]["publicKey"]
    assert creation["rp"]["id"] == "testserver"
    assert creation["user"]["name"] == response.wsgi_request.user.phone_number
    assert creation["user"]["displayName"] == "Esther Cashier"


# allauth 65.21 + fido2 2.x answer a malformed credential with a 500 (KeyError "rawId");
# settings.MFA_FORMS = pos.people.forms.PASSKEY_FORMS turns it into allauth's form error.
@override_settings(MFA_FORMS=PASSKEY_FORMS)
@pytest.mark.parametrize("credential", ['{"id": "forged"}', "[]", "42", '{"id": "x", "rawId": "%%%", "response": {}}'])
def test_a_bad_credential_is_a_clear_error_and_adds_nothing(employee_client, employee, credential):
    _reauthenticated(employee_client)
    response = employee_client.post(
        reverse("mfa_add_webauthn"), {"name": "Tablet", "passwordless": "on", "credential": credential}
    )
    assert response.status_code == 200
    assert 'class="alert alert-danger"' in response.content.decode()
    assert not Authenticator.objects.filter(user=employee).exists()


def test_passkey_login_hands_out_a_challenge_as_json(client):
    response = client.get(reverse("mfa_login_webauthn"), HTTP_ACCEPT="application/json",
                          HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert response.status_code == 200
    options = response.json()["request_options"]["publicKey"]
    assert options["rpId"] == "testserver" and options["challenge"]


@override_settings(MFA_FORMS=PASSKEY_FORMS)
@pytest.mark.parametrize("credential", ['{"id": "forged"}', "[]", '{"response": {"userHandle": "bm9ib2R5"}}'])
def test_a_forged_passkey_login_goes_back_to_login_with_a_message(client, credential):
    client.get(reverse("mfa_login_webauthn"), HTTP_ACCEPT="application/json", HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    response = client.post(reverse("mfa_login_webauthn"), {"credential": credential}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("account_login")
    assert not response.wsgi_request.user.is_authenticated
    assert 'class="alert alert-danger' in response.content.decode()


def test_the_login_page_carries_the_passkey_form_and_scripts(client):
    html = client.get(reverse("account_login")).content.decode()
    assert '<form id="mfa_login" action="/accounts/2fa/webauthn/login/" method="post">' in html
    assert 'data-allauth-onload="allauth.webauthn.forms.loginForm"' in html
    for script in ("mfa/js/webauthn-json.js", "mfa/js/webauthn.js", "account/js/onload.js", "js/app.js"):
        assert f'src="/static/{script}"' in html


# ---------------------------------------------------------------------------- audit
def test_adding_and_removing_a_passkey_is_audited(employee):
    request = RequestFactory().get("/")
    passkey = _webauthn(employee, passwordless=True)
    authenticator_added.send(sender=Authenticator, request=request, user=employee, authenticator=passkey)
    authenticator_removed.send(sender=Authenticator, request=request, user=employee, authenticator=passkey)
    added = AuditLog.objects.get(action=PASSKEY_ADDED)
    assert added.user == employee and added.after_data == {"name": "Till 1 tablet", "passwordless": True}
    assert AuditLog.objects.filter(action=PASSKEY_REMOVED, user=employee).count() == 1
    # Recovery codes and authenticator apps are not passkeys: no passkey rows for them.
    authenticator_added.send(sender=Authenticator, request=request, user=employee, authenticator=_totp(employee))
    assert AuditLog.objects.filter(action=PASSKEY_ADDED).count() == 1


def test_login_rows_say_how_the_person_logged_in(client, employee):
    _password_login(client, employee)
    assert AuditLog.objects.get(action=AuditAction.LOGIN).after_data == {"method": "password"}


def test_rename_and_remove_a_passkey(employee_client, employee):
    passkey = _webauthn(employee, passwordless=True, name="This tablet")
    listing = employee_client.get(reverse("mfa_list_webauthn")).content.decode()
    assert "This tablet" in listing and reverse("mfa_remove_webauthn", kwargs={"pk": passkey.pk}) in listing
    _reauthenticated(employee_client)
    edit_url = reverse("mfa_edit_webauthn", kwargs={"pk": passkey.pk})
    assert employee_client.get(edit_url).status_code == 200
    assert employee_client.post(edit_url, {"name": "Till 2 tablet"}).status_code == 302
    passkey.refresh_from_db()
    assert passkey.wrap().name == "Till 2 tablet"
    remove_url = reverse("mfa_remove_webauthn", kwargs={"pk": passkey.pk})
    assert "Remove “Till 2 tablet”?" in employee_client.get(remove_url).content.decode()
    assert employee_client.post(remove_url).status_code == 302
    assert not Authenticator.objects.filter(pk=passkey.pk).exists()
    assert AuditLog.objects.get(action=PASSKEY_REMOVED).user == employee


def test_nobody_touches_someone_elses_passkey(employee_client, manager):
    theirs = _webauthn(manager, passwordless=True)
    _reauthenticated(employee_client)
    assert employee_client.post(reverse("mfa_remove_webauthn", kwargs={"pk": theirs.pk})).status_code == 404
    assert Authenticator.objects.filter(pk=theirs.pk).exists()
