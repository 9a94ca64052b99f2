"""htmx: messages raised during a fragment request are shown by swapping them in out of band."""

import time

import structlog
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.messages import get_messages
from django.template.loader import render_to_string

from core.permissions import login_redirect


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


# ---------------------------------------------------------------------------- idle tills

IDLE_SESSION_KEY = "_asiria_last_activity"
# Requests that are not a person at the till (a widget polling for an M-Pesa result, a badge refresh)
# send this header; they are still logged out when the session has expired, but they do not keep it alive.
BACKGROUND_HEADER = "X-Asiria-Background"
# Writing the time on every click would save the session on every request; a minute's precision is plenty.
_STAMP_EVERY_SECONDS = 60


def stamp_activity_on_login(sender, request, user, **kwargs) -> None:
    """`user_logged_in` receiver (connected in core/apps.py): a fresh login starts the idle clock, so the
    first pages after it need no session write of their own."""

    session = getattr(request, "session", None)
    if session is not None:
        session[IDLE_SESSION_KEY] = int(time.time())


class IdleSessionTimeoutMiddleware:
    """Log out a browser session after SESSION_IDLE_TIMEOUT_MINUTES without a request from a person.

    A till left open at lunch must not stay logged in for the next person at the counter. Expired:
    logged out, a message on the login page saying why, and sent to login (`?next=` the page they were
    on); an htmx request gets `HX-Redirect`, so the whole page goes to login, not a fragment. Only
    session logins are concerned: the JSON API uses short-lived JWTs.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):

        minutes = getattr(settings, "SESSION_IDLE_TIMEOUT_MINUTES", 0)
        user = getattr(request, "user", None)
        if minutes and user is not None and user.is_authenticated and hasattr(request, "session"):

            now = int(time.time())
            last = request.session.get(IDLE_SESSION_KEY)
            if isinstance(last, int) and now - last > minutes * 60:
                return self._expired(request, minutes)
            background = request.headers.get(BACKGROUND_HEADER) == "1"
            if not isinstance(last, int) or (not background and now - last >= _STAMP_EVERY_SECONDS):
                request.session[IDLE_SESSION_KEY] = now
        return self.get_response(request)

    def _expired(self, request, minutes: int):

        structlog.get_logger("asiria.security").info("session_idle_logout", idle_minutes=minutes)
        logout(request)
        messages.warning(
            request,
            f"You were logged out because this screen was not used for {minutes} minutes. Log in again to continue.",
        )
        return login_redirect(request)
