"""Every URL of the project against every role: allowed, forbidden, or redirected to login."""

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from config.tests.url_world import ALL_CASES, ALL_EXEMPT, materialise
from pos.people.tokens import refresh_token_for
from pos.tests.matrix import FORBIDDEN, LOGIN, OK, ROLES

pytestmark = pytest.mark.sqlite_only


def _client(world, role: str, api: bool) -> Client:
    client = Client()
    if role == "anonymous":
        return client
    user = world.users[role]
    if api:
        token = refresh_token_for(user).access_token
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    else:
        client.force_login(user)
    return client


def _check(case, role, response, login_url):
    expected = case.expected(role)
    status = response.status_code
    where = f"{case.label} as {role}: got {status}"
    if expected is None:
        pytest.fail(f"{case.label}: no expectation for role {role}")
    if case.api and role == "anonymous" and expected == LOGIN:
        assert status == 401, where
        return
    if expected == OK:
        assert status < 400, where
        if 300 <= status < 400:
            assert not response["Location"].startswith(login_url), f"{where} (sent to login)"
    elif expected == FORBIDDEN:
        assert status == 403, where
    elif expected == LOGIN:
        if case.htmx:
            assert response.get("HX-Redirect", "").startswith(login_url), where
        else:
            assert status == 302 and response["Location"].startswith(login_url), where
    else:
        assert status == expected, where


def _request(world, case, role):
    args = case.args(world) if case.args else []
    url = reverse(case.name, args=args)
    if case.query:
        url = f"{url}?{case.query}"
    client = _client(world, role, case.api)
    headers = {"HTTP_HX_REQUEST": "true"} if case.htmx else {}
    data = case.data(world) if case.data else None
    if case.api and data is not None and case.method in ("post", "put", "patch"):
        return getattr(client, case.method)(url, data=data, content_type="application/json", **headers)
    if data is not None:
        return getattr(client, case.method)(url, data=data, **headers)
    return getattr(client, case.method)(url, **headers)


@pytest.mark.django_db
@pytest.mark.parametrize("case", ALL_CASES, ids=[c.label for c in ALL_CASES])
def test_role_matrix(case, url_world):
    login_url = reverse(settings.LOGIN_URL)
    if case.fresh_world:  # make what the case points at first: each role's rollback undoes only its request
        materialise(url_world, [case])
    for role in ROLES:
        if case.fresh_world:
            # A POST that changes the world: each role meets it as it was built.
            with transaction.atomic():
                response = _request(url_world, case, role)
                transaction.set_rollback(True)
        else:
            response = _request(url_world, case, role)
        _check(case, role, response, login_url)


def _walk(patterns, namespace="", prefix=""):
    """Yield each URL's name (with namespace); an unnamed URL as `<route>` with its full path."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            yield from _walk(entry.url_patterns, f"{namespace}{ns}:" if ns else namespace, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}" if entry.name else f"{namespace}<{prefix}{entry.pattern}>"


def _exempt(name: str) -> bool:
    for exempt in ALL_EXEMPT:
        if exempt.pattern.endswith("*") and name.startswith(exempt.pattern[:-1]):
            return True
        if name == exempt.pattern:
            return True
    return False


def test_every_url_is_in_the_matrix():
    covered = {case.name for case in ALL_CASES}
    missing = sorted({name for name in _walk(get_resolver().url_patterns) if name not in covered and not _exempt(name)})
    assert not missing, "URLs with no role-matrix case (add them to <app>/tests/role_matrix.py): " + ", ".join(missing)


def test_every_exemption_has_a_reason():
    assert all(exempt.reason for exempt in ALL_EXEMPT)

