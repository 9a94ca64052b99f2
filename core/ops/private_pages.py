"""Headers for a shop whose tablets are shared: nothing a logged-in person saw stays in the browser's
cache (`Cache-Control: no-store` on every page, PDF, CSV and API answer given to someone logged in), and
only the till may use the camera (`Permissions-Policy`; the till scans barcodes with it).
"""

from django.utils.cache import patch_cache_control

CAMERA_PATHS = ("/till/",)
_CLOSED = "microphone=(), geolocation=(), payment=()"


def permissions_policy(path: str) -> str:
    camera = "camera=(self)" if path.startswith(CAMERA_PATHS) else "camera=()"
    return f"{camera}, {_CLOSED}"


def _logged_in(request) -> bool:
    if request.META.get("HTTP_AUTHORIZATION"):  # the API's bearer tokens
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class PrivatePagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", permissions_policy(request.path))
        if _logged_in(request) and "no-store" not in response.get("Cache-Control", ""):
            # Replaces any max-age a view set: a shared tablet must not keep another person's pages.
            if "Cache-Control" in response:
                del response["Cache-Control"]
            patch_cache_control(response, no_store=True, private=True)
        return response
