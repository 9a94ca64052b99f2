"""In a real browser: no page of the role matrix makes Chromium refuse anything under our Content
Security Policy (an inline style set by a library, an eval, a font or image from elsewhere).

    DJANGO_ALLOW_ASYNC_UNSAFE=true pytest -m e2e config/tests/test_e2e_csp.py
"""

import pytest
from django.test import Client
from django.urls import reverse

from config.tests.url_world import build_world, page_cases

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_no_page_triggers_a_policy_violation_in_chromium(live_server, page):
    world = build_world()
    client = Client()
    client.force_login(world.users["owner"])
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )

    refused: list[str] = []
    page.on("console", lambda msg: refused.append(f"{page.url}: {msg.text}")
            if "Content Security Policy" in msg.text or "Refused to" in msg.text else None)
    visited = 0
    for case, _role in page_cases(("owner",)):
        if case.htmx:
            continue
        url = reverse(case.name, args=case.args(world) if case.args else []) + (f"?{case.query}" if case.query else "")
        if not client.get(url).get("Content-Type", "").startswith("text/html"):
            continue  # CSV and PDF downloads, JSON: nothing for a browser to run
        response = page.goto(f"{live_server.url}{url}")
        assert response is not None and response.status < 400, f"{case.label}: {response and response.status}"
        page.wait_for_load_state("networkidle")
        visited += 1
    page.context.clear_cookies()
    page.goto(f"{live_server.url}{reverse('account_login')}")
    page.wait_for_load_state("networkidle")
    assert visited >= 10
    assert not refused, "\n".join(refused)
