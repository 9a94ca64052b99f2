"""API tokens that die with the password: every token carries the person's `token_stamp`.

The stamp changes when the password changes and when `token_version` is raised (deactivation,
reactivation, a role change: `pos.people.services`), so every refresh and access token minted before
stops working, and a reactivated person's old tokens stay dead.
"""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import RefreshToken

STAMP_CLAIM = "stamp"


def token_is_current(payload, user) -> bool:
    return payload.get(STAMP_CLAIM) == user.token_stamp


class StampedJWTAuthentication(JWTAuthentication):
    """SimpleJWT's access-token check, plus: the token's stamp is the person's current one."""

    def get_user(self, validated_token):
        user = super().get_user(validated_token)
        if not token_is_current(validated_token, user):
            raise AuthenticationFailed("Token is no longer valid: log in again.", code="token_not_valid")
        return user


class StampedJWTScheme(SimpleJWTScheme):
    """The OpenAPI schema describes our authentication as SimpleJWT's bearer token (it is one)."""

    target_class = "pos.people.tokens.StampedJWTAuthentication"


def refresh_token_for(user) -> RefreshToken:
    """A refresh token (and its `.access_token`) for `user`, stamped: the only way tokens are minted."""
    token = RefreshToken.for_user(user)
    token[STAMP_CLAIM] = user.token_stamp
    return token
