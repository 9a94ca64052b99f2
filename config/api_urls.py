"""The JSON API under /api/: JWT auth, each app's router, the OpenAPI schema (see docs/api.md)."""

urlpatterns: list = []
