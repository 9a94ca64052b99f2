"""URLs of the `customers:` namespace."""

from django.urls import path  # noqa: F401

app_name = "customers"

urlpatterns: list = []
