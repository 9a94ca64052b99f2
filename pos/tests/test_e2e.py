"""Browser tests in headless Chromium (pytest-playwright on the live server): a cashier logs in with
phone and password; a cashier adds a passkey and logs in with it through Chromium's virtual
authenticator. Screenshots of the login and start pages (768×1024) go to $E2E_SCREENSHOTS
(default /tmp/shots), outside the repository.

    DJANGO_ALLOW_ASYNC_UNSAFE=true pytest -m e2e
"""

import os
import re
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import Page, expect

from core.roles import Role
from pos.people.audit import AuditAction
from pos.people.models import AuditLog
from pos.tests.factories import DEFAULT_PASSWORD, UserFactory

# serialized_rollback: the flush after each test would otherwise take the migration-made MAIN branch along.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHOTS = Path(os.environ.get("E2E_SCREENSHOTS", "/tmp/shots"))


@pytest.fixture
def cashier(branch):
    return UserFactory(full_name="Akinyi Atieno", phone_number="+254712345678", role=Role.EMPLOYEE, branch=branch)


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def _log_in_with_password(page: Page, base: str, typed_phone: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Phone number").fill(typed_phone)
    page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()


def test_a_cashier_logs_in_with_phone_and_password_and_lands_on_the_till(e2e, page: Page, cashier):
    page.goto(f"{e2e}/accounts/login/")
    expect(page.get_by_role("heading", name="AsiriaPOS Demo Shop")).to_be_visible()
    expect(page.get_by_role("button", name="Log in with a passkey")).to_be_enabled()
    _shot(page, "foundation-login.png")

    # A wrong password first: allauth's message, still on the login page.
    page.get_by_label("Phone number").fill("0712 345 678")
    page.get_by_label("Password", exact=True).fill("not-my-password")
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_test_id("login-error")).to_contain_text("phone number and/or password")

    _log_in_with_password(page, e2e, "0712 345 678")
    # A cashier's start page is the till: the scan box has the keyboard.
    expect(page).to_have_url(f"{e2e}/till/")
    expect(page.get_by_role("searchbox", name="Scan or search")).to_be_focused()
    message = page.locator("#messages .alert")
    expect(message).to_have_text("Logged in as Akinyi Atieno.")
    message.get_by_role("button", name="Close").click()
    expect(message).to_have_count(0)
    # A cashier's start page offers no manager pages.
    expect(page.get_by_text("Audit log")).to_have_count(0)
    _shot(page, "foundation-start.png")
    assert AuditLog.objects.filter(action=AuditAction.LOGIN, user=cashier).count() == 1


def _virtual_authenticator(page: Page):
    """Chromium's virtual authenticator: a platform passkey (fingerprint) that always says yes."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    result = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, result["authenticatorId"]


def test_a_cashier_adds_a_passkey_and_logs_in_with_it(e2e, page: Page, cashier):
    cdp, authenticator_id = _virtual_authenticator(page)
    _log_in_with_password(page, e2e, "+254 712 345 678")
    expect(page.get_by_role("searchbox", name="Scan or search")).to_be_visible()

    # Menu → Passkeys & security (the tablet's collapsed menu first).
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("button", name=re.compile("Akinyi")).click()
    page.get_by_role("link", name="Passkeys & security").click()
    expect(page.get_by_role("heading", name="Passkeys & security")).to_be_visible()
    page.get_by_role("link", name="Add a passkey on this device").click()

    # allauth asks for the password again before the way of logging in changes.
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Add a passkey")).to_be_visible()
    expect(page.get_by_label("Use it to log in without a password")).to_be_checked()
    page.get_by_label("Name of this passkey").fill("Till 1 tablet")
    _shot(page, "foundation-add-passkey.png")
    page.get_by_role("button", name="Add passkey").click()
    expect(page.get_by_role("heading", name="Recovery codes")).to_be_visible()  # allauth's first-key step
    _shot(page, "foundation-recovery-codes.png")
    page.get_by_role("link", name="Done").click()
    expect(page.get_by_test_id("passkeys")).to_contain_text("Till 1 tablet")
    _shot(page, "foundation-passkeys.png")

    passkey = Authenticator.objects.get(user=cashier, type=Authenticator.Type.WEBAUTHN)
    assert passkey.wrap().name == "Till 1 tablet"
    assert passkey.wrap().is_passwordless is True
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]
    assert len(credentials) == 1 and credentials[0]["isResidentCredential"] is True
    assert credentials[0]["rpId"] == "localhost"
    assert AuditLog.objects.filter(action="passkey_added", user=cashier).count() == 1

    # Log out from the menu (a POST form).
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("button", name=re.compile("Akinyi")).click()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))

    # The passkey alone logs in: no phone number, no password.
    page.get_by_role("button", name="Log in with a passkey").click()
    expect(page).to_have_url(f"{e2e}/till/")
    expect(page.get_by_role("searchbox", name="Scan or search")).to_be_visible()
    login = AuditLog.objects.filter(action=AuditAction.LOGIN, user=cashier).latest("id")
    assert login.after_data == {"method": "passkey"}
    passkey.refresh_from_db()
    assert passkey.last_used_at is not None


def test_a_cancelled_passkey_login_says_so(e2e, page: Page, cashier):
    _virtual_authenticator(page)
    # The authenticator holds no passkey for this shop: the browser refuses, the page says so.
    page.goto(f"{e2e}/accounts/login/")
    page.get_by_role("button", name="Log in with a passkey").click()
    expect(page.locator("#messages .alert-danger")).to_contain_text("cancelled or timed out", timeout=15000)
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
