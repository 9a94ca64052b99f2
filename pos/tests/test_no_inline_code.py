"""No inline JavaScript or styles on any page of ours, so the production Content Security Policy can be
`script-src 'self'; style-src 'self'`: every <script> has a `src` or is JSON data, no `on…=`
handlers, no `hx-on`, no `style=` attributes, no <style> blocks."""

from html.parser import HTMLParser

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from pos.tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


class _InlineCodeFinder(HTMLParser):
    def __init__(self):
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src") and attributes.get("type") != "application/json":
            self.problems.append(f"inline <script {attrs}>")
        if tag == "style":
            self.problems.append("<style> block")
        for name, _value in attrs:
            if name.startswith("on") or name.startswith("hx-on") or name == "style":
                self.problems.append(f"<{tag} {name}=…>")


def _problems(html: str) -> list[str]:
    finder = _InlineCodeFinder()
    finder.feed(html)
    return finder.problems


def _check(response):
    assert response.status_code in (200, 403, 404), response.status_code
    problems = _problems(response.content.decode())
    assert not problems, f"{response.wsgi_request.path}: {problems}"


def test_the_finder_finds_inline_code():
    assert _problems('<script>alert(1)</script><a onclick="x()">') == ["inline <script []>", "<a onclick=…>"]
    assert _problems('<div style="color:red" hx-on:click="x">') == ["<div style=…>", "<div hx-on:click=…>"]
    assert _problems('<script src="/a.js"></script><script type="application/json">{}</script>') == []


def test_public_pages(client):
    for name in ("account_login", "account_signup", "account_inactive"):
        _check(client.get(reverse(name)))
    _check(client.get("/no/such/page/"))


def test_pages_of_a_logged_in_owner(owner_client, owner, employee):
    urls = [
        reverse("home"),
        reverse("pos:staff_list"),
        reverse("pos:staff_create"),
        reverse("pos:staff_edit", args=[employee.pk]),
        reverse("pos:staff_edit", args=[owner.pk]),
        reverse("pos:audit_log"),
        reverse("pos:settings"),
        reverse("pos:my_pin"),
        reverse("mfa_index"),
        reverse("mfa_list_webauthn"),
        reverse("account_change_password"),
        reverse("account_logout"),
        reverse("account_email"),
        reverse("account_change_phone"),
        reverse("account_reauthenticate"),
    ]
    for url in urls:
        _check(owner_client.get(url))
    owner_client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})
    _check(owner_client.get(reverse("mfa_add_webauthn")))
    _check(owner_client.get(reverse("mfa_activate_totp")))


def test_a_manager_looking_at_an_owner_and_the_403_page(manager_client, owner, employee_client):
    _check(manager_client.get(reverse("pos:staff_edit", args=[owner.pk])))
    _check(employee_client.get(reverse("pos:staff_list")))


def test_the_500_and_refusal_pages():
    assert not _problems(render_to_string("500.html"))
    assert not _problems(render_to_string("account/sso_refused.html", {"reason": "No."}))
