"""gunicorn's logger for AsiriaPOS: access lines as one JSON object each, with the request id;
gunicorn's own messages through the same formatter as Django's (core/ops/logs.py).

Selected in config/gunicorn.conf.py (`logger_class`). The access line is built as a dict and dumped,
never by pasting values into a JSON-looking format string, so a `"` in a user agent cannot break it.
Query strings are left out (a search box can hold a phone number) and the path is scrubbed.
"""

from __future__ import annotations

import datetime
import json
import logging
import os

from gunicorn.glogging import Logger

from core.ops.logs import REQUEST_ID_HEADER, formatter, scrub_text


class JsonLogger(Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        log_format = os.environ.get("LOG_FORMAT", "json")
        for handler in self.error_log.handlers:
            handler.setFormatter(formatter(log_format))
        for handler in self.access_log.handlers:
            handler.setFormatter(logging.Formatter("%(message)s"))

    def access(self, resp, req, environ, request_time) -> None:
        if not self.access_log_enabled:
            return
        try:
            self.access_log.info(json.dumps(access_record(resp, environ, request_time), ensure_ascii=False))
        except Exception:  # a log line must never take a request down
            self.exception("could not write the access log line")


def access_record(resp, environ: dict, request_time: datetime.timedelta) -> dict:
    headers = {name.lower(): value for name, value in (getattr(resp, "headers", None) or [])}
    status = getattr(resp, "status_code", None) or str(getattr(resp, "status", "0")).split(" ")[0]
    referer = (environ.get("HTTP_REFERER") or "").split("?")[0]
    return {
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z"),
        "level": "info",
        "logger": "gunicorn.access",
        "event": "http_access",
        "request_id": headers.get(REQUEST_ID_HEADER.lower()) or environ.get("HTTP_X_REQUEST_ID"),
        "remote_addr": environ.get("HTTP_X_REAL_IP") or environ.get("REMOTE_ADDR"),
        "method": environ.get("REQUEST_METHOD"),
        "path": scrub_text(environ.get("PATH_INFO") or ""),
        "protocol": environ.get("SERVER_PROTOCOL"),
        "status": int(status) if str(status).isdigit() else status,
        "bytes": getattr(resp, "sent", None),
        "duration_ms": round(request_time.total_seconds() * 1000, 1),
        "user_agent": environ.get("HTTP_USER_AGENT"),
        "referer": scrub_text(referer) or None,
        "pid": os.getpid(),
    }
