"""What every endpoint of the JSON API shares: errors as JSON, pagination, base permissions.

Errors (docs/api.md): every error body is JSON.
- 400: `{"detail": "...", "code": "...", "errors": {"field": ["message", ...]}}` — field errors from a
  serializer, or a service's `DomainError` (its `field`, when it names one, carries the message).
- 401 / 403 / 404 / 405 / 429: `{"detail": "...", "code": "..."}`.
- 409: a `ConflictError` from a service (stock short, session closed, already voided…).
Services are the only place business rules live; views call them and let their errors come here.
"""

from __future__ import annotations

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, parsers, status, throttling
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils import json as drf_json

# Not `rest_framework.views` here: its APIView reads DEFAULT_THROTTLE_CLASSES (= this module's
# UserRateThrottle) when it is imported, so importing it from here is circular whenever this module is
# the first to load (DRF's pagination system check under `run_huey` with DEBUG off did exactly that).
from core.errors import DomainError
from core.json_input import MAX_JSON_DEPTH, json_depth
from core.ops.client_address import client_address
from core.phone import phone_or_none


class JSONParser(parsers.JSONParser):
    """DRF's strict JSON parser, refusing bodies nested deeper than `core.json_input.MAX_JSON_DEPTH`
    with a 400 (without it, 1,000 levels were a RecursionError: a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", django_settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
            if json_depth(text) > MAX_JSON_DEPTH:
                raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
            return drf_json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None


class StandardPagination(PageNumberPagination):
    """`?page=N&page_size=M` (at most 200 a page)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def _django_validation_errors(exc: DjangoValidationError) -> dict:
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for e in errors for m in e.messages] for field, errors in exc.error_dict.items()}
    return {"non_field_errors": [str(m) for m in exc.messages]}


def _first_message(errors) -> str:
    if isinstance(errors, dict):
        for value in errors.values():
            message = _first_message(value)
            if message:
                return message
    elif isinstance(errors, list):
        for value in errors:
            message = _first_message(value)
            if message:
                return message
    elif errors:
        return str(errors)
    return ""


def exception_handler(exc, context):
    """DRF's handler, plus DomainError → 400/409 and Django's ValidationError → 400, all one shape."""
    if isinstance(exc, DomainError):
        body = {"detail": exc.message, "code": exc.code}
        if exc.field:
            body["errors"] = {exc.field: [exc.message]}
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        errors = _django_validation_errors(exc)
        return Response(
            {"detail": _first_message(errors) or "Invalid input.", "code": "invalid", "errors": errors},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    # (see the note at the top) rest_framework.views imports this module's throttle through the settings
    from rest_framework.views import exception_handler as drf_exception_handler  # noqa: PLC0415

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: a 500, reported to the logs and Sentry
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = {
            "detail": _first_message(errors) or "Invalid input.",
            "code": "invalid",
            "errors": errors,
        }
    elif isinstance(response.data, dict) and "detail" in response.data:
        detail = response.data["detail"]
        response.data = {
            **response.data,
            "detail": str(detail),
            # SimpleJWT puts its own code beside the detail ("no_active_account", "token_not_valid").
            "code": str(response.data.get("code") or getattr(detail, "code", None) or "error"),
        }
    return response


# ---------------------------------------------------------------------------- permissions and throttles


class RolePermission(BasePermission):
    """The view's `required_perms`: {action: Perm or (Perm, ...)} with "read"/"write" as fallbacks.

    Authenticated users only (anonymous → 401); a missing permission → 403. The services check the
    same permissions again (the rule lives there); this only answers early and in the right status.
    """

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        required = getattr(view, "required_perms", {}) or {}
        action = getattr(view, "action", None) or request.method.lower()
        perms = required.get(action)
        if perms is None:
            perms = required.get("read" if request.method in SAFE_METHODS else "write", ())
        if isinstance(perms, str):
            perms = (perms,)
        return all(user.has_perm(p) for p in perms)


class ServiceViewSetMixin:
    """Base of our viewsets: role permissions, reads through `visible()` (the app's selector, scoped to
    the caller), writes through the app's services (the serializer validates types, the service rules).

    Set `queryset = Model.objects.none()` on the view for the schema; `visible()` gives the real rows.
    """

    permission_classes = [RolePermission]

    def visible(self):
        raise NotImplementedError

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular building the schema
            return self.queryset
        return self.visible()


class _SettingsRates:
    """Read the rate from the settings at request time (tests and env change them)."""

    def get_rate(self):
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError as exc:
            raise ImproperlyConfigured(f"No throttle rate for scope {self.scope!r}") from exc


class UserRateThrottle(_SettingsRates, throttling.UserRateThrottle):
    """Every authenticated user: `API_RATE_USER` requests (per user; anonymous: per trusted address)."""

    def get_ident(self, request):
        return client_address(request) or "unknown"


class TokenRateThrottle(_SettingsRates, throttling.ScopedRateThrottle):
    """The token endpoints (login, refresh, logout): `API_RATE_TOKEN` per address."""

    scope = "token"

    def allow_request(self, request, view):
        # ScopedRateThrottle takes the scope from the view; ours is fixed.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return throttling.SimpleRateThrottle.allow_request(self, request, view)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def get_ident(self, request):
        return client_address(request) or "unknown"


class AccountRateThrottle(TokenRateThrottle):
    """The token login, counted per phone number too (`API_RATE_TOKEN`), whichever address it comes from."""

    cache_format = "throttle_%(scope)s_account_%(ident)s"

    def get_cache_key(self, request, view):
        data = getattr(request, "data", None)
        typed = data.get("phone_number") if isinstance(data, dict) else None
        phone = phone_or_none(typed) if isinstance(typed, str) else None
        if phone is None:
            return None  # no account named: the per-address throttle alone
        return self.cache_format % {"scope": self.scope, "ident": phone}
