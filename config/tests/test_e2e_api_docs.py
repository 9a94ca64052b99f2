"""In a real browser: Swagger UI and ReDoc load from our static files under our Content Security Policy,
and a user can authorise Swagger UI with a token and call the API from it.

    DJANGO_ALLOW_ASYNC_UNSAFE=true pytest -m e2e config/tests/test_e2e_api_docs.py
"""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

def _watch(page, live_server):
    refused: list[str] = []
    elsewhere: list[str] = []
    page.on("console", lambda msg: refused.append(msg.text)
            if "Content Security Policy" in msg.text or "Refused to" in msg.text else None)
    page.on("request", lambda request: None if request.url.startswith((live_server.url, "data:", "blob:"))
            else elsewhere.append(request.url))
    return refused, elsewhere


def test_swagger_ui_loads_and_calls_the_api_with_a_token(live_server, page):
    from core.roles import Role
    from pos.people.tokens import refresh_token_for
    from pos.tests.factories import CustomerFactory, UserFactory

    owner = UserFactory(role=Role.OWNER, is_superuser=True)
    CustomerFactory(name="Swagger Client")
    token = str(refresh_token_for(owner).access_token)
    refused, elsewhere = _watch(page, live_server)

    page.goto(f"{live_server.url}/swagger/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("AsiriaPOS API", timeout=20000)
    page.get_by_role("button", name="Authorize").first.click()
    page.locator(".auth-container input").first.fill(token)
    page.locator(".auth-btn-wrapper button.authorize").click()
    page.locator(".auth-btn-wrapper button.btn-done").click()

    operation = page.locator("#operations-clients-clients_list")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table .response .response-col_status").first
    expect(status).to_contain_text("200", timeout=20000)
    expect(operation.locator(".live-responses-table")).to_contain_text("Swagger Client")
    assert not refused, "\n".join(refused)
    assert not elsewhere, elsewhere


# ReDoc's "API docs by Redocly" footer points an <img> at its CDN; our policy refuses it (as it should),
# which costs a logo and nothing else. Any other refusal fails the test.
REDOC_LOGO = "cdn.redoc.ly/redoc/logo-mini.svg"


def test_redoc_loads_under_the_policy(live_server, page):
    refused, elsewhere = _watch(page, live_server)
    page.goto(f"{live_server.url}/redoc/")
    expect(page.get_by_role("heading", name="AsiriaPOS API").first).to_be_visible(timeout=20000)
    expect(page.get_by_text("/api/products/low_stock/").first).to_be_attached()
    refused = [message for message in refused if REDOC_LOGO not in message]
    assert not refused, "\n".join(refused)
    assert not [url for url in elsewhere if REDOC_LOGO not in url], elsewhere
