"""JWT by phone number: log in (any Kenyan format), refresh, log out, deactivation, throttling."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from core.roles import Role
from pos.people.models import AuditLog
from pos.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def cashier(branch):
    return UserFactory(role=Role.EMPLOYEE, branch=branch, full_name="Wanjiku Cashier", phone_number="+254712345678")


def login(api, phone, password=DEFAULT_PASSWORD):
    return api.post("/api/token/", {"phone_number": phone, "password": password}, format="json")


@pytest.mark.parametrize("typed", ["0712 345 678", "+254712345678", "254712345678", "712345678", "0712-345-678"])
def test_login_with_any_kenyan_format(api, cashier, typed):
    response = login(api, typed)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["refresh"] and body["access"]
    assert body["user"] == {
        "id": cashier.pk,
        "full_name": "Wanjiku Cashier",
        "phone_number": "+254712345678",
        "role": "EMPLOYEE",
        "branch": cashier.branch_id,
        "branch_name": cashier.branch.name,
    }
    assert AuditLog.objects.filter(action="login", user=cashier).exists()


def test_the_access_token_opens_the_api_and_nothing_opens_it_without(api, cashier):
    assert api.get("/api/clients/").status_code == 401
    assert api.get("/api/clients/").json()["code"] == "not_authenticated"
    access = login(api, "0712345678").json()["access"]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert api.get("/api/clients/").status_code == 200
    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = api.get("/api/clients/")
    assert response.status_code == 401 and response.json()["code"] == "token_not_valid"


@pytest.mark.parametrize(
    "body,field",
    [
        ({}, "phone_number"),
        ({"phone_number": "0712345678"}, "password"),
        ({"phone_number": "12345", "password": "x"}, "phone_number"),
        ({"phone_number": ["0712345678"], "password": "x"}, "phone_number"),
    ],
)
def test_bad_login_bodies_are_400_with_field_errors(api, cashier, body, field):
    response = api.post("/api/token/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_wrong_password_is_401_and_audited(api, cashier):
    response = login(api, "0712345678", "wrong-password-1")
    assert response.status_code == 401
    assert response.json()["code"] == "no_active_account"
    assert AuditLog.objects.filter(action="login_failed").exists()


def test_malformed_json_is_a_400(api):
    response = api.post("/api/token/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_a_form_body_is_415(api):
    response = api.post("/api/token/", {"phone_number": "0712345678", "password": "x"})  # multipart
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_refresh_gives_a_new_access_token_and_rotates(api, cashier):
    refresh = login(api, "0712345678").json()["refresh"]
    response = api.post("/api/token/refresh/", {"refresh": refresh}, format="json")
    assert response.status_code == 200
    assert response.json()["access"] and response.json()["refresh"] != refresh
    again = api.post("/api/token/refresh/", {"refresh": refresh}, format="json")
    assert again.status_code == 401  # the old one was blacklisted when it was used


def test_logout_blacklists_the_refresh_token(api, cashier):
    refresh = login(api, "0712345678").json()["refresh"]
    assert api.post("/api/token/blacklist/", {"refresh": refresh}, format="json").status_code == 200
    response = api.post("/api/token/refresh/", {"refresh": refresh}, format="json")
    assert response.status_code == 401
    assert api.post("/api/token/blacklist/", {"refresh": "garbage"}, format="json").status_code == 401


def test_deactivated_user_cannot_log_in_and_their_tokens_stop_working(api, cashier, owner):
    tokens = login(api, "0712345678").json()
    cashier.is_active = False
    cashier.save(update_fields=["is_active"])
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api.get("/api/clients/").status_code == 401
    api.credentials()
    assert api.post("/api/token/refresh/", {"refresh": tokens["refresh"]}, format="json").status_code == 401
    assert login(api, "0712345678").status_code == 401


def test_refresh_token_of_a_deleted_user_is_401_not_500(api):
    user = UserFactory()
    from rest_framework_simplejwt.tokens import RefreshToken

    refresh = str(RefreshToken.for_user(user))
    user.delete()
    assert api.post("/api/token/refresh/", {"refresh": refresh}, format="json").status_code == 401


def test_token_endpoints_are_throttled_per_address(api, cashier, settings):
    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "1000/minute", "token": "3/minute"},
    }
    statuses = [login(api, "0712345678", "wrong-password-1").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    response = login(api, "0712345678")
    assert response.status_code == 429
    assert response.json()["code"] == "throttled" and "Retry-After" in response
    cache.clear()


def test_every_user_is_throttled(api, cashier, settings):
    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "2/minute", "token": "1000/minute"},
    }
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {login(api, '0712345678').json()['access']}")
    statuses = [api.get("/api/clients/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    other = APIClient()
    other.force_authenticate(UserFactory(role=Role.EMPLOYEE))
    assert other.get("/api/clients/").status_code == 200  # the rate is per user
    cache.clear()
