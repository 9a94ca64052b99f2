"""The OpenAPI schema (drf-spectacular) and its two readers, Swagger UI and ReDoc, from our static files.

`/api/schema/` is the schema, `/swagger/` Swagger UI (its start-up script is a separate request, so the
strict `script-src 'self'` holds), `/redoc/` ReDoc. The sidecar package ships their files: no CDN.
The pages are public (they show nothing but the schema); every call they make needs a token.
The error responses every operation documents come from `core.api_schema`.
"""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "swagger/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema"),
        name="swagger-ui",
    ),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html"), name="redoc"),
]
