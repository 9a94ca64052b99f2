"""Styled 403, 404 and 500 pages (and the short htmx versions of 403/404)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory, override_settings
from django.urls import include, path, reverse

from core.ops import error_pages as errors

pytestmark = pytest.mark.django_db


def _boom(request):
    raise RuntimeError("the till exploded")


def _forbidden(request):
    raise PermissionDenied


# The project's URLs plus two that fail on purpose (the pages link to the real ones).
urlpatterns = [path("boom/", _boom), path("forbidden/", _forbidden), path("", include("config.urls"))]
handler403 = "core.ops.error_pages.permission_denied"
handler404 = "core.ops.error_pages.page_not_found"
handler500 = "core.ops.error_pages.server_error"


def test_404_is_styled(employee_client, client):
    response = employee_client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "There is nothing here." in html and "Back to the start page" in html
    assert 'href="/static/css/app.css"' in html and "navbar" in html  # the shop's layout, menu included
    anonymous = client.get("/no/such/page/")
    assert anonymous.status_code == 404 and "There is nothing here." in anonymous.content.decode()


def test_403_is_styled(employee_client):
    response = employee_client.get(reverse("pos:staff_list"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "Your role does not allow this." in html and "Back to the start page" in html
    assert "<html" in html


def test_403_and_404_for_htmx_are_a_short_fragment(employee_client):
    response = employee_client.get(reverse("pos:staff_list"), HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    html = response.content.decode()
    assert "<html" not in html and 'class="alert alert-danger' in html and "Your role does not allow" in html
    missing = employee_client.get("/no/such/page/", HTTP_HX_REQUEST="true")
    assert missing.status_code == 404 and "<html" not in missing.content.decode()


@override_settings(ROOT_URLCONF=__name__)
def test_500_is_styled_and_needs_no_context(employee):
    client = Client(raise_request_exception=False)
    client.force_login(employee)
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html and 'href="/static/css/app.css"' in html
    assert "the till exploded" not in html  # nothing of the error leaks to the page


def test_500_renders_even_when_the_database_and_context_processors_fail(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr("pos.people.context_processors.shop", broken)
    monkeypatch.setattr("pos.people.selectors.shop_settings", broken)
    response = errors.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


@override_settings(ROOT_URLCONF=__name__)
def test_permission_denied_raised_anywhere_uses_the_styled_page(employee_client):
    response = employee_client.get("/forbidden/")
    assert response.status_code == 403 and "Your role does not allow this." in response.content.decode()
