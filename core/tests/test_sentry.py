"""Sentry is off without a DSN; with one, nothing personal is sent and events are scrubbed."""

import json
import os
import subprocess
import sys
from pathlib import Path

from core.ops.sentry import scrub_event

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json, django
django.setup()
import sentry_sdk
client = sentry_sdk.get_client()
options = client.options if client.is_active() else {}
print(json.dumps({
    "active": client.is_active(),
    "send_default_pii": options.get("send_default_pii"),
    "scrubs": getattr(options.get("before_send"), "__name__", None),
    "environment": options.get("environment"),
    "include_local_variables": options.get("include_local_variables"),
}))
"""


def _probe(**env) -> dict:
    full = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", **env}
    full.pop("DATABASE_URL", None)
    if not env.get("SENTRY_DSN"):
        full.pop("SENTRY_DSN", None)
    out = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, env=full, check=True, timeout=120,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_sentry_is_off_without_a_dsn():
    assert _probe()["active"] is False


def test_with_a_dsn_no_personal_data_is_sent():
    seen = _probe(SENTRY_DSN="https://public@sentry.example.invalid/1", SENTRY_ENVIRONMENT="shop-nairobi")
    assert seen == {
        "active": True,
        "send_default_pii": False,
        "scrubs": "scrub_event",
        "environment": "shop-nairobi",
        "include_local_variables": False,
    }


def test_events_are_scrubbed_before_they_leave():
    event = {
        "message": "STK push for 0712345678 failed",
        "request": {
            "url": "https://pos.example.co.ke/cash/mpesa/",
            "headers": {"Authorization": "Bearer eyJabc.def", "X-Request-ID": "abc"},
            "data": {"phone": "0712345678", "pin": "1234", "password": "hunter2", "amount": "250"},
        },
        "breadcrumbs": {"values": [{"message": "login with password=hunter2"}]},
    }
    cleaned = json.dumps(scrub_event(event, {}))
    for secret in ("0712345678", "1234", "hunter2", "eyJabc"):
        assert secret not in cleaned
    assert '"amount": "250"' in cleaned and '"X-Request-ID": "abc"' in cleaned
