"""No 5xx from input, whatever is typed: a property-based test (hypothesis) over every URL of the role
matrix. Each form field the page shows, each query parameter and each field the case posts gets NaN,
Infinity, huge exponents, 10,000-character and 4-byte-unicode strings; JSON endpoints also get JSON nested
far too deep. Any answer is fine except a server error.

The number of examples per URL is HYPOTHESIS_EXAMPLES (1 by default, drawn afresh on every run, to keep
the suite fast; raise it locally to search harder)."""

import json
import os
import re

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.tests.url_world import ALL_CASES, build_world

pytestmark = [pytest.mark.sqlite_only, pytest.mark.django_db]

EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "1"))
NASTY = st.sampled_from([
    "NaN", "-nan", "sNaN", "Infinity", "-Infinity", "inf", "1E+999999999", "-1e-999999999", "9" * 400,
    "x" * 10_000, "\U0001F4B0" * 10_000, "\U0001D518\U00010348" * 50, "0", "-1", "",
])
DEEP_JSON = "[" * 5_000 + "]" * 5_000
_FIELD = re.compile(r"<(?:input|select|textarea)\b[^>]*\bname=\"([^\"]+)\"", re.I)
_SKIP = {"csrfmiddlewaretoken"}


def _fields(html: str) -> list[str]:
    return sorted({name for name in _FIELD.findall(html) if name not in _SKIP})


def _url(case, world) -> tuple[str, dict]:
    url = reverse(case.name, args=case.args(world) if case.args else [])
    query = dict(part.split("=", 1) for part in case.query.split("&") if "=" in part) if case.query else {}
    return url, query


def _owner(world, api: bool) -> Client:
    from pos.people.tokens import refresh_token_for

    client = Client(raise_request_exception=False)
    owner = world.users["owner"]
    if api:
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {refresh_token_for(owner).access_token}"
    else:
        client.force_login(owner)
    return client


def _send(client, case, url, query, fields, values, deep):
    headers = {"HTTP_HX_REQUEST": "true"} if case.htmx else {}
    if case.method == "get":
        return client.get(url, {**query, **{f: values[f] for f in fields}}, **headers)
    if case.api:
        body = DEEP_JSON if deep else json.dumps({f: values[f] for f in fields})
        return getattr(client, case.method)(f"{url}?{case.query}" if case.query else url, data=body,
                                            content_type="application/json", **headers)
    return getattr(client, case.method)(f"{url}?{case.query}" if case.query else url,
                                        {f: values[f] for f in fields}, **headers)


def _probe(case, client, url, query, fields, failures):
    """A hypothesis test of one URL: each drawn example is one request; a 5xx is recorded."""
    deep_json = st.booleans() if case.api and case.method != "get" else st.just(False)

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(values=st.fixed_dictionaries({f: NASTY for f in fields}), deep=deep_json)
    def probe(values, deep):
        response = _send(client, case, url, query, fields, values, deep)
        if response.status_code >= 500:
            failures.append(f"{case.label} {sorted(values.items())[:3]}… deep={deep}: {response.status_code}")

    return probe


def test_no_url_of_the_role_matrix_answers_5xx_to_nasty_input():
    world = build_world()
    failures = []
    for case in ALL_CASES:
        if case.id.startswith("wrong-secret"):
            continue
        url, query = _url(case, world)
        client = _owner(world, case.api)
        fields = set(query)
        if case.data:
            fields |= set(case.data(world))
        if case.method == "get" and not case.api:
            page = client.get(url, query, **({"HTTP_HX_REQUEST": "true"} if case.htmx else {}))
            if page.status_code < 300 and "html" in page.get("Content-Type", ""):
                fields |= set(_fields(page.content.decode(errors="replace")))
        fields = sorted(fields)

        _probe(case, client, url, query, fields, failures)()
    assert not failures, "\n".join(failures[:40])
