"""A view sends the whole page to a browser and only the named fragment to htmx."""

import pytest
from django.test import RequestFactory
from django_htmx.middleware import HtmxDetails

from core.htmx import render_partial

pytestmark = pytest.mark.django_db  # the suite's session fixtures need the database

TEMPLATE = "pos/customers/list.html"


@pytest.fixture
def customers_page(manager):
    def get(**headers):
        request = RequestFactory().get("/customers/", **headers)
        request.user = manager
        request.htmx = HtmxDetails(request)
        from django_tables2 import RequestConfig

        from pos.till.tables import CustomerTable

        table = CustomerTable([])
        RequestConfig(request).configure(table)
        return render_partial(request, TEMPLATE, "customers-table", {"table": table, "query": ""}, status=201)

    return get


def test_a_browser_gets_the_whole_page(customers_page):
    response = customers_page()
    assert response.status_code == 201
    assert b"<html" in response.content


def test_htmx_gets_only_the_fragment(customers_page):
    response = customers_page(HTTP_HX_REQUEST="true")
    assert response.status_code == 201
    assert b"<html" not in response.content
    assert response.content.strip()
