"""The OpenAPI schema validates with no warning; Swagger UI and ReDoc come from our own static files."""

import re

import pytest
from django.core.management import call_command
from django.test import Client


@pytest.mark.django_db
def test_schema_validates_without_a_single_warning(tmp_path):
    out = tmp_path / "schema.yaml"
    # Raises SchemaGenerationError on any warning or error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "jwtAuth" in text and "bearerFormat: JWT" in text
    assert "/api/token/" in text and "/api/products/" in text


@pytest.mark.django_db
def test_every_operation_documents_the_error_shape():
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = response.json()
    assert set(schema["components"]["schemas"]["Error"]["properties"]) == {"detail", "code", "errors"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            codes = set(operation["responses"])
            assert {"400", "401", "403", "404", "429"} <= codes, f"{method} {path}: {codes}"
            if path not in ("/api/token/", "/api/token/refresh/", "/api/token/blacklist/"):
                assert operation.get("security"), f"{method} {path} needs a token"


@pytest.mark.django_db
def test_swagger_ui_is_served_from_static_files_under_the_strict_script_policy():
    client = Client()
    page = client.get("/swagger/")
    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'<script src="([^"]+)"', html)
    assert sources and all(src.startswith("/static/") or src.startswith("/swagger/") for src in sources), sources
    assert "cdn" not in html.lower()
    assert "<script>" not in html  # the start-up script is its own request
    policy = page["Content-Security-Policy"]
    assert "script-src 'self';" in policy + ";"
    script = client.get("/swagger/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()
    assert client.get(sources[0]).status_code == 200  # the sidecar's bundle is really there


@pytest.mark.django_db
def test_redoc_is_served_from_static_files():
    client = Client()
    page = client.get("/redoc/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "googleapis" not in html and "cdn" not in html.lower()
    src = re.search(r'<script src="([^"]+)"', html).group(1)
    assert src.startswith("/static/")
    assert client.get(src).status_code == 200
    assert 'spec-url="/api/schema/"' in html


@pytest.mark.django_db
def test_unknown_api_urls_answer_json():
    response = Client().get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "There is nothing here.", "code": "not_found"}
