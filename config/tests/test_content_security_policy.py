"""Every page of the role matrix keeps the Content Security Policy: no inline script, handler or style.

The production policy is `script-src 'self'; style-src 'self'`, so a browser would refuse any inline
`<script>`, `onclick=`, `hx-on`, `style=` or `<style>`. This test renders every GET page (and htmx
fragment) of the role matrix as an owner (and public pages as an anonymous visitor), so a page added by
a later issue is held to the same rule automatically, the moment it is in its app's role matrix.
"""

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from pos.tests.matrix import OK
from pos.tests.test_role_matrix import ALL_CASES, build_world

ALLOWED_SCRIPT_TYPES = {"application/json"}  # data for scripts: {{ value|json_script:"id" }}


class InlineCodeFinder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        where = f"<{tag} {' '.join(name for name, _ in attrs)}>"[:120]
        for name, value in attrs:
            name = name.lower()
            if name.startswith("on"):
                self.problems.append(f"event-handler attribute {name}= on {where}")
            elif name.startswith(("hx-on", "data-hx-on")):
                self.problems.append(f"{name} (inline script) on {where}")
            elif name == "style":
                self.problems.append(f"style= attribute on {where}")
            elif name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL in {name} on {where}")
        if tag == "script" and not attributes.get("src"):
            kind = (attributes.get("type") or "").strip().lower()
            if kind not in ALLOWED_SCRIPT_TYPES:
                self.problems.append(f"inline <script> without src (type={kind or 'none'}) {where}")
        if tag == "style":
            self.problems.append("inline <style> element")

    handle_startendtag = handle_starttag


def inline_code_problems(html: str) -> list[str]:
    finder = InlineCodeFinder()
    finder.feed(html)
    finder.close()
    return finder.problems


def page_cases():
    for case in ALL_CASES:
        if case.method != "get" or case.api:
            continue
        for role in ("owner", "anonymous"):  # public pages (the login page) are seen logged out too
            if case.expected(role) == OK:
                yield pytest.param(case, role, id=f"{role}:{case.label}")


def _check_response(response, label: str) -> None:
    policy = response.get("Content-Security-Policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives.get("script-src") == ["'self'"], f"{label}: CSP header missing or script-src not strict: {policy!r}"
    assert directives.get("style-src") == ["'self'"], f"{label}: style-src not strict: {policy!r}"
    if response.get("Content-Type", "").startswith("text/html"):
        problems = inline_code_problems(response.content.decode())
        assert not problems, f"{label}: " + "; ".join(problems)


@pytest.mark.django_db
@pytest.mark.parametrize("case,role", list(page_cases()))
def test_page_has_no_inline_code_and_a_strict_policy(case, role):
    world = build_world()
    client = Client()
    if role != "anonymous":
        client.force_login(world.users[role])
    url = reverse(case.name, args=case.args(world) if case.args else [])
    if case.query:
        url = f"{url}?{case.query}"
    headers = {"HTTP_HX_REQUEST": "true"} if case.htmx else {}
    response = client.get(url, follow=not case.htmx, **headers)
    assert response.status_code < 400, f"{case.label}: {response.status_code}"
    _check_response(response, f"{role}:{case.label}")


@pytest.mark.django_db
def test_error_pages_keep_the_policy(employee_client, client):
    _check_response(employee_client.get(reverse("pos:settings")), "403 page")
    _check_response(client.get("/no-such-page/"), "404 page")


@pytest.mark.parametrize(
    "html,found",
    [
        ('<script>alert(1)</script>', "inline <script>"),
        ('<script type="text/javascript">x()</script>', "inline <script>"),
        ('<script type="module">x()</script>', "inline <script>"),
        ('<button onclick="pay()">Pay</button>', "onclick"),
        ('<div hx-on:click="x()"></div>', "hx-on:click"),
        ('<div hx-on::after-request="x()"></div>', "hx-on::after-request"),
        ('<div data-hx-on-click="x()"></div>', "data-hx-on-click"),
        ('<p style="color:red">x</p>', "style="),
        ('<style>p{}</style>', "<style>"),
        ('<a href="javascript:void(0)">x</a>', "javascript:"),
        ('<img src="x.png" onerror="x()"/>', "onerror"),
    ],
)
def test_the_checker_finds_inline_code(html, found):
    problems = inline_code_problems(html)
    assert problems and found in problems[0]


def test_the_checker_accepts_what_our_pages_use():
    html = (
        '<script src="/static/js/app.js"></script>'
        '<script id="cart-data" type="application/json">{"total": "250.00"}</script>'
        '<button data-confirm="Sure?" hx-post="/x" hx-target="#main">Go</button>'
        '<details open><summary>More</summary></details>'
    )
    assert inline_code_problems(html) == []


def test_form_action_allows_the_single_sign_on_providers(settings):
    form_action = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"]
    assert "'self'" in form_action
    assert "https://accounts.google.com" in form_action  # Chrome applies form-action to the POST's redirect
    assert "https://login.microsoftonline.com" in form_action


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/swagger/", "/redoc/"])
def test_api_doc_pages_get_only_their_relaxations(client, path, settings):
    from django.http import HttpResponse
    from django.test import RequestFactory

    from core.ops.csp import CSPMiddleware

    request = RequestFactory().get(path)
    response = CSPMiddleware(lambda r: HttpResponse("<html></html>"))(request)
    policy = response["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "script-src 'self';" in policy + ";"  # scripts stay strict even there
    other = CSPMiddleware(lambda r: HttpResponse("<html></html>"))(RequestFactory().get("/swagger-not/"))
    assert "'unsafe-inline'" not in other["Content-Security-Policy"]


@pytest.mark.django_db
def test_login_page_with_single_sign_on_buttons_keeps_the_policy(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "google": {"APPS": [{"client_id": "id.apps.googleusercontent.com", "secret": "s", "key": ""}]},
        "microsoft": {"APPS": [{"client_id": "ms-id", "secret": "s", "settings": {"tenant": "organizations"}}]},
    }
    response = client.get(reverse("account_login"))
    assert b"Google" in response.content and b"Microsoft" in response.content
    _check_response(response, "login with SSO")
    sso = client.get(reverse("google_login"))  # the "continue to Google?" page that POSTs
    assert sso.status_code == 200
    _check_response(sso, "google login confirmation")
