"""Single sign-on (Google, Microsoft, OpenID Connect): only an existing, active member of staff whose
e-mail address the provider has verified gets in; everyone else sees the refusal page; nobody is created.

These drive allauth's own `complete_social_login` with a hand-built `SocialLogin`, as the provider's
callback would after talking to Google, so the whole flow after the provider runs for real.
"""

import pytest
from allauth.account.models import EmailAddress
from allauth.core import context
from allauth.socialaccount.helpers import complete_social_login
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import RequestFactory, override_settings

from core.roles import Role
from pos.people import services
from pos.people.adapters import SSO_REFUSED, SocialAccountAdapter
from pos.people.audit import AuditAction
from pos.people.models import AuditLog, User
from pos.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROVIDERS = {
    "google": {"APPS": [{"client_id": "google-id", "secret": "google-secret", "key": ""}]},
    "openid_connect": {
        "APPS": [
            {
                "provider_id": "keycloak",
                "name": "Shop Keycloak",
                "client_id": "oidc-id",
                "secret": "oidc-secret",
                "settings": {"server_url": "https://login.example.com/realms/shop"},
            }
        ]
    },
}


@pytest.fixture(autouse=True)
def _providers():
    with override_settings(SOCIALACCOUNT_PROVIDERS=PROVIDERS):
        yield


@pytest.fixture
def wanjiku(branch):
    return UserFactory(
        full_name="Wanjiku Manager",
        role=Role.MANAGER,
        branch=branch,
        email="wanjiku@shop.co.ke",
        phone_number="+254711000222",
    )


def _request(user=None):
    request = RequestFactory().get("/accounts/google/login/callback/")
    SessionMiddleware(lambda r: None).process_request(request)
    AuthenticationMiddleware(lambda r: None).process_request(request)
    MessageMiddleware(lambda r: None).process_request(request)
    if user is not None:
        from django.contrib.auth import login

        login(request, user, backend="pos.people.backends.RoleBackend")
    else:
        request.user = AnonymousUser()
    return request


def _sociallogin(*emails, provider="google", uid="google-uid-1", process="login"):
    """What a provider's callback hands allauth.

    One address: the provider's own `sociallogin_from_response` builds it from an ID-token-like
    payload (`email`, `email_verified`), exactly as after a real round trip. Several addresses
    (Microsoft and some OpenID Connect servers report more than one): built directly.
    """
    from allauth.socialaccount.adapter import get_adapter

    request = _request()
    with context.request_context(request):
        the_provider = get_adapter().get_provider(request, provider)
        if len(emails) == 1:
            email, verified = emails[0]
            payload = {"sub": uid, "id": uid, "email": email, "email_verified": verified, "name": "Someone"}
            sociallogin = the_provider.sociallogin_from_response(request, payload)
        else:
            sociallogin = SocialLogin(
                user=User(),
                provider=the_provider,
                account=SocialAccount(provider=the_provider.sub_id, uid=uid, extra_data={"sub": uid}),
                email_addresses=[
                    EmailAddress(email=email, verified=verified, primary=i == 0)
                    for i, (email, verified) in enumerate(emails)
                ],
            )
    sociallogin.state = {"process": process}
    return sociallogin


def _complete(request, sociallogin):
    with context.request_context(request):
        return complete_social_login(request, sociallogin)


def _logged_in_as(request):
    return request.session.get(SESSION_KEY)


def test_a_verified_address_of_active_staff_connects_and_logs_in(wanjiku):
    users_before = User.objects.count()
    request = _request()
    response = _complete(request, _sociallogin(("wanjiku@shop.co.ke", True)))
    assert response.status_code == 302 and response["Location"] == "/reports/"  # a manager lands on the dashboard
    assert _logged_in_as(request) == str(wanjiku.pk)
    link = SocialAccount.objects.get()
    assert link.user == wanjiku and link.provider == "google" and link.uid == "google-uid-1"
    assert User.objects.count() == users_before
    login = AuditLog.objects.get(action=AuditAction.LOGIN)
    assert login.user == wanjiku and login.after_data == {"method": "single sign-on (google)"}


def test_the_address_is_matched_whatever_its_capitals(wanjiku):
    request = _request()
    _complete(request, _sociallogin(("Wanjiku@Shop.CO.KE", True)))
    assert _logged_in_as(request) == str(wanjiku.pk)


def test_the_generic_openid_connect_provider_works_the_same(wanjiku):
    request = _request()
    response = _complete(request, _sociallogin(("wanjiku@shop.co.ke", True), provider="keycloak", uid="kc-7"))
    assert response.status_code == 302
    assert _logged_in_as(request) == str(wanjiku.pk)
    assert SocialAccount.objects.get().provider == "keycloak"


def test_a_linked_account_logs_in_again_without_a_new_link(wanjiku):
    _complete(_request(), _sociallogin(("wanjiku@shop.co.ke", True)))
    request = _request()
    response = _complete(request, _sociallogin(("wanjiku@shop.co.ke", True)))
    assert response.status_code == 302
    assert _logged_in_as(request) == str(wanjiku.pk)
    assert SocialAccount.objects.count() == 1


def _assert_refused(response, request, reason_fragment):
    assert response.status_code == 403
    html = response.content.decode()
    assert 'data-testid="sso-refused"' in html
    assert "We could not sign you in" in html
    assert reason_fragment in html
    assert _logged_in_as(request) is None
    row = AuditLog.objects.filter(action=SSO_REFUSED).latest("id")
    assert reason_fragment in row.reason


def test_an_unverified_address_is_refused_even_when_it_matches(wanjiku):
    users_before = User.objects.count()
    request = _request()
    response = _complete(request, _sociallogin(("wanjiku@shop.co.ke", False)))
    _assert_refused(response, request, "did not confirm an e-mail address")
    assert not SocialAccount.objects.exists()
    assert User.objects.count() == users_before


def test_an_unverified_matching_address_next_to_a_verified_stranger_is_refused(wanjiku):
    request = _request()
    response = _complete(request, _sociallogin(("someone@gmail.com", True), ("wanjiku@shop.co.ke", False)))
    _assert_refused(response, request, "No member of staff uses this e-mail address")
    assert not SocialAccount.objects.exists()


def test_someone_who_is_not_staff_is_refused_and_nobody_is_created(wanjiku):
    users_before = User.objects.count()
    request = _request()
    response = _complete(request, _sociallogin(("stranger@gmail.com", True)))
    _assert_refused(response, request, "No member of staff uses this e-mail address")
    assert User.objects.count() == users_before
    assert not SocialAccount.objects.exists()
    assert AuditLog.objects.get(action=SSO_REFUSED).after_data == {
        "provider": "google",
        "emails": ["stranger@gmail.com"],
    }


def test_a_deactivated_member_of_staff_is_refused(wanjiku):
    wanjiku.is_active = False
    wanjiku.save()
    request = _request()
    response = _complete(request, _sociallogin(("wanjiku@shop.co.ke", True)))
    _assert_refused(response, request, "This staff account has been deactivated.")
    assert not SocialAccount.objects.exists()


def test_a_linked_account_is_refused_once_the_person_is_deactivated(wanjiku, owner):
    _complete(_request(), _sociallogin(("wanjiku@shop.co.ke", True)))
    services.staff_set_active(actor=owner, user=wanjiku, active=False)
    request = _request()
    response = _complete(request, _sociallogin(("wanjiku@shop.co.ke", True)))
    _assert_refused(response, request, "This staff account has been deactivated.")


def test_changing_the_staff_email_unlinks_single_sign_on(wanjiku, owner):
    _complete(_request(), _sociallogin(("wanjiku@shop.co.ke", True)))
    services.staff_update(
        actor=owner, user=wanjiku, full_name=wanjiku.full_name, role=wanjiku.role, branch=wanjiku.branch,
        email="wanjiku.new@shop.co.ke", phone_number=wanjiku.phone_number,
    )
    assert not SocialAccount.objects.exists()
    request = _request()
    response = _complete(request, _sociallogin(("wanjiku@shop.co.ke", True)))
    _assert_refused(response, request, "No member of staff uses this e-mail address")


def test_no_address_at_all_is_refused(wanjiku):
    request = _request()
    response = _complete(request, _sociallogin())
    _assert_refused(response, request, "did not confirm an e-mail address")


def test_connecting_a_provider_to_ones_own_account_needs_ones_own_address(wanjiku, manager):
    manager.email = "mark@shop.co.ke"
    manager.save()
    request = _request(user=manager)
    response = _complete(request, _sociallogin(("wanjiku@shop.co.ke", True), process="connect"))
    assert response.status_code == 403
    assert not SocialAccount.objects.exists()
    request = _request(user=manager)
    _complete(request, _sociallogin(("mark@shop.co.ke", True), process="connect", uid="mark-1"))
    assert SocialAccount.objects.get().user == manager


def test_the_adapter_never_opens_sign_up():
    adapter = SocialAccountAdapter()
    assert adapter.is_open_for_signup(_request(), _sociallogin(("x@example.com", True))) is False


def test_the_refusal_page_is_styled_and_says_what_to_do(wanjiku):
    response = _complete(_request(), _sociallogin(("stranger@gmail.com", True)))
    html = response.content.decode()
    assert "Ask the shop owner or a manager to add it" in html
    assert 'href="/accounts/login/"' in html
