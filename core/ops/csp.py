"""The Content Security Policy middleware: django-csp's, plus per-path relaxations from settings.

The policy itself is `CONTENT_SECURITY_POLICY` in settings: scripts, styles, fonts and connections only
from our own origin, no inline script or style, no plugins, no framing. Our own pages never need more
(see docs/architecture.md). Pages we serve but do not write (Swagger UI at /swagger/, ReDoc at /redoc/)
get the few extra sources they need from `CONTENT_SECURITY_POLICY_PATH_UPDATES`, by URL prefix, so the view code that
mounts them needs no decorator. A view may still use django-csp's `@csp_update`/`@csp_replace`;
those win over the path rules.
"""

from __future__ import annotations

from csp.middleware import CSPMiddleware as _BaseCSPMiddleware
from csp.middleware import PolicyParts
from django.conf import settings


class CSPMiddleware(_BaseCSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if parts.update is None and not report_only:
            for prefix, update in getattr(settings, "CONTENT_SECURITY_POLICY_PATH_UPDATES", {}).items():
                if request.path_info.startswith(prefix):
                    parts.update = update
                    break
        return parts
