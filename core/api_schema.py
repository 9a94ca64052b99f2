"""The schema's shared parts: the one error body, and an AutoSchema that documents it on every operation.

`AutoSchema` adds the error responses (400/401/403/404/409/415/429, one JSON shape, see
`core.api.exception_handler`) to every operation that does not name its own, so clients and
schemathesis know them. Views and serializers import `ErrorSerializer` from here.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as _BaseAutoSchema
from drf_spectacular.utils import (
    OpenApiResponse,
)
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """Every error body: a message, a machine-readable code and, for 400, the messages per field."""

    detail = serializers.CharField(help_text="What went wrong, in words a cashier can read.")
    code = serializers.CharField(help_text="e.g. invalid, not_found, permission_denied, throttled, conflict.")
    errors = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text='400 only: field name → list of messages (nested for nested fields), "non_field_errors" '
        "for the request as a whole.",
    )


ERRORS = {
    "400": OpenApiResponse(ErrorSerializer, description="Bad input: field-level messages in `errors`."),
    "401": OpenApiResponse(ErrorSerializer, description="No token, or the token is invalid or expired."),
    "403": OpenApiResponse(ErrorSerializer, description="Your role may not do this."),
    "404": OpenApiResponse(ErrorSerializer, description="No such record (or not at your branch)."),
    "409": OpenApiResponse(ErrorSerializer, description="Valid, but the state of things forbids it."),
    "415": OpenApiResponse(
        ErrorSerializer, description="The body is not JSON (send `Content-Type: application/json`)."
    ),
    "429": OpenApiResponse(ErrorSerializer, description="Too many requests: wait `Retry-After` seconds."),
}


class AutoSchema(_BaseAutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, response in ERRORS.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return responses




# ---------------------------------------------------------------------------- shared API pieces
def errors(*codes: int) -> dict:
    words = {
        400: "Invalid input: `errors` names the fields.",
        401: "No valid access token.",
        403: "The role may not do this (or a manager's authorisation is needed).",
        404: "Not found, or not visible to the caller.",
        409: "Conflict with the current state (sale completed, session closed, stock short…).",
    }
    return {code: OpenApiResponse(ErrorSerializer, description=words[code]) for code in codes}
