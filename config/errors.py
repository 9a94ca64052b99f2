"""Styled error pages. htmx requests get a short fragment the page can show in place."""

from django.shortcuts import render
from django.template import loader
from django.http import HttpResponseServerError


def _render(request, template: str, status: int, message: str = ""):
    if getattr(request, "htmx", False):
        return render(request, "partials/error_fragment.html", {"status": status, "message": message}, status=status)
    return render(request, template, {"message": message}, status=status)


def permission_denied(request, exception=None):
    return _render(request, "403.html", 403, "Your role does not allow this. Ask a manager or the owner.")


def page_not_found(request, exception=None):
    return _render(request, "404.html", 404, "There is nothing here.")


def server_error(request):
    # No context processors: the database may be what failed.
    return HttpResponseServerError(loader.get_template("500.html").render({}))
