"""gunicorn settings for AsiriaPOS: `gunicorn config.wsgi -c config/gunicorn.conf.py`.

Every value can be changed from the environment (the systemd unit's EnvironmentFile, or the Procfile's
platform). Defaults suit one shop server behind nginx on the same machine.
"""

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # `config.*` below, whatever directory gunicorn was started from
chdir = str(ROOT)

import environ  # noqa: E402

from config import set_default_settings_module  # noqa: E402

# The same variables Django reads: the environment first (systemd's EnvironmentFile), then ENV_FILE/.env.
_env_file = Path(os.environ.get("ENV_FILE", ROOT / ".env"))
if _env_file.is_file():
    environ.Env.read_env(str(_env_file), overwrite=False)
# The environment's DJANGO_SETTINGS_MODULE, else the one in .env, else production (never debug settings).
set_default_settings_module(default="config.settings.production")


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # what this process may use (containers, taskset)
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


# --- where to listen: nginx proxies to 127.0.0.1:8000; a platform that sets PORT gets 0.0.0.0:$PORT
bind = os.environ.get("GUNICORN_BIND") or (
    f"0.0.0.0:{os.environ['PORT']}" if os.environ.get("PORT") else "127.0.0.1:8000"
)

# --- workers: one per core by default. Sync workers: a request holds its worker until it answers,
# so nothing slow may happen in a request (Daraja calls, PDFs of a month, exports run in Huey).
workers = _int("GUNICORN_WORKERS", _int("WEB_CONCURRENCY", _cores()))
threads = _int("GUNICORN_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"

# --- timeouts
timeout = _int("GUNICORN_TIMEOUT", 30)  # a worker silent this long is killed and replaced
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)  # on restart, time to finish a checkout
keepalive = _int("GUNICORN_KEEPALIVE", 5)  # nginx keeps upstream connections open

# --- recycle workers now and then (a slow leak in a library never grows for ever); jitter spreads it
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)

# --- behind nginx: trust its X-Forwarded-* headers only from these addresses
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proxy_allow_ips = forwarded_allow_ips

# --- heartbeat files in memory, not on a disk that may stall (gunicorn's advice for containers too)
if Path("/dev/shm").is_dir():  # noqa: S108 - gunicorn's documented heartbeat place, not a data file  # nosec B108
    worker_tmp_dir = "/dev/shm"  # noqa: S108 - gunicorn's heartbeat files only  # nosec B108

# --- logs: JSON access lines (request id, status, duration) on stdout, errors on stderr
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None  # empty: no access log
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logger_class = "core.ops.gunicorn_logging.JsonLogger"
capture_output = False

# --- Prometheus: each worker writes its counts to files here; /metrics adds them up (core/ops/metrics.py).
# Set before any worker imports prometheus_client, so every worker runs in multiprocess mode.
_metrics_dir_given = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="asiria-metrics-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir
raw_env = [f"PROMETHEUS_MULTIPROC_DIR={_metrics_dir}"]

preload_app = False  # each worker opens its own database connections after the fork


def on_starting(server):
    """A fresh start begins with empty counters: files of earlier runs' workers would be added in."""
    path = Path(_metrics_dir)
    if path.is_dir():
        for child in path.iterdir():
            if child.is_file() and child.suffix == ".db":
                child.unlink()
    path.mkdir(parents=True, exist_ok=True)


def post_worker_init(worker):
    """Load WeasyPrint, its fonts and the receipt stylesheet before the worker takes requests, so a new
    worker's first receipt is as quick as the next (workers restart every `max_requests`). A failure only
    costs that speed: the worker starts anyway."""
    from django.db import connections

    from pos.sales.receipts import pdf_warm_up

    started = time.monotonic()
    try:
        pdf_warm_up()
        worker.log.info("receipt PDFs warmed up in %.0f ms", (time.monotonic() - started) * 1000)
    except Exception:  # noqa: BLE001 - a worker that cannot warm up still serves; its first receipt is slower
        worker.log.warning("receipt PDF warm-up failed; the first receipt of this worker will be slower", exc_info=True)
    finally:
        connections.close_all()  # the shop settings were read outside a request: no connection kept open


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if not _metrics_dir_given:  # the temporary folder made above
        shutil.rmtree(_metrics_dir, ignore_errors=True)
