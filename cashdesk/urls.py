"""URLs of the `cashdesk:` namespace."""

from django.urls import path  # noqa: F401

app_name = "cashdesk"

urlpatterns: list = []
