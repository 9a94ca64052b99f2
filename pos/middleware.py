"""htmx: messages raised during a fragment request are shown by swapping them in out of band."""

from django.contrib.messages import get_messages
from django.template.loader import render_to_string


class HtmxMessagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or request.htmx.boosted:
            return response
        if 300 <= response.status_code < 400 or "HX-Redirect" in response or "HX-Location" in response:
            return response
        if response.get("Content-Type", "").split(";")[0] != "text/html" or getattr(response, "streaming", False):
            return response
        storage = get_messages(request)
        if not len(storage):
            return response
        html = render_to_string("partials/messages.html", {"messages": storage, "oob": True}, request=request)
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
        response.content = response.content + html.encode()
        return response
