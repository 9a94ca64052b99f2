"""URLs of the `till:` namespace."""

from django.urls import path  # noqa: F401

app_name = "till"

urlpatterns: list = []
