"""The page or its htmx fragment: one way every view chooses what to send back."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def render_partial(
    request: HttpRequest, template: str, partial: str, context: dict | None = None, *, status: int = 200
) -> HttpResponse:
    """Render `template#partial` (django-template-partials) for htmx, the whole `template` otherwise.

    The whole page keeps every link working without JavaScript; htmx swaps only the fragment in.
    """
    name = f"{template}#{partial}" if getattr(request, "htmx", False) else template
    return render(request, name, context or {}, status=status)
