"""Optional error reports to Sentry (or a self-hosted GlitchTip): on only when `SENTRY_DSN` is set.

No personal data leaves the shop: `send_default_pii=False` (no cookies, no IP, no user names), and every
event and breadcrumb goes through the same scrubber as the logs (`core.ops.logs.scrub`), so passwords,
tokens, PINs and phone numbers in request bodies, local variables or messages are removed or masked.
"""

from __future__ import annotations

from typing import Any

from core.ops.logs import scrub


def scrub_event(event: dict[str, Any], hint: dict | None = None) -> dict[str, Any]:
    """`before_send` / `before_breadcrumb`: the event with secrets removed and phones masked."""
    return scrub(event)


def init_sentry(*, dsn: str, environment: str, release: str = "", traces_sample_rate: float = 0.0) -> bool:
    if not dsn:
        return False
    import sentry_sdk  # noqa: PLC0415 - only installations with SENTRY_DSN load Sentry
    from sentry_sdk.integrations.django import DjangoIntegration  # noqa: PLC0415 - only installations with SENTRY_DSN load Sentry

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        send_default_pii=False,
        traces_sample_rate=traces_sample_rate,
        integrations=[DjangoIntegration()],
        before_send=scrub_event,
        before_breadcrumb=scrub_event,
        # Local variables can hold a PIN or a customer's number; the scrubber masks what it recognises,
        # but a frame's variables are not worth that risk in a point of sale.
        include_local_variables=False,
        max_request_body_size="small",
    )
    return True
