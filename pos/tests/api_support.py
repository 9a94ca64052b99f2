"""Helpers for API tests: a client that sends a JWT for a user, and JSON posting."""

from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken


def api_client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client
