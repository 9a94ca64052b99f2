"""Helpers for API tests: a client that sends a JWT for a user, and JSON posting."""

from rest_framework.test import APIClient

from pos.people.tokens import refresh_token_for


def api_client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh_token_for(user).access_token}")
    return client
