"""Styled error pages. htmx requests get a short fragment the page can show in place; the JSON API
(/api/…) gets its JSON error body (docs/api.md) even for URLs no view answers."""

from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader

_API_CODES = {403: "permission_denied", 404: "not_found", 500: "server_error"}


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def _api_error(status: int, message: str):
    return JsonResponse({"detail": message, "code": _API_CODES[status]}, status=status)


def _render(request, template: str, status: int, message: str = ""):
    if _is_api(request):
        return _api_error(status, message)
    if getattr(request, "htmx", False):
        return render(request, "partials/error_fragment.html", {"status": status, "message": message}, status=status)
    return render(request, template, {"message": message}, status=status)


def permission_denied(request, exception=None):
    return _render(request, "403.html", 403, "Your role does not allow this. Ask a manager or the owner.")


def page_not_found(request, exception=None):
    return _render(request, "404.html", 404, "There is nothing here.")


def server_error(request):
    if _is_api(request):
        return _api_error(500, "Something went wrong on our side. It has been reported.")
    # No context processors: the database may be what failed.
    return HttpResponseServerError(loader.get_template("500.html").render({}))
