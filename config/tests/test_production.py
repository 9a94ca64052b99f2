"""Production settings and serving: `check --deploy` is clean with a real environment, and the shop
answers through gunicorn (our config/gunicorn.conf.py) with WhiteNoise's hashed, compressed static files,
JSON logs and multiprocess metrics, exactly as docs/production.md sets it up."""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.sqlite_only

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def production_env(tmp_path: Path, **extra) -> dict:
    """What a real server's /etc/asiria/asiria.env holds (docs/production.md), with local paths."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "TMPDIR": str(tmp_path),  # gunicorn.conf.py's temporary metrics folder lands here, removed with it
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "ENV_FILE": str(tmp_path / "no.env"),  # never the developer's .env
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "pos.example.co.ke,127.0.0.1",
        "SITE_URL": "https://pos.example.co.ke",
        "DATABASE_URL": "mysql://asiria:a-long-db-password@127.0.0.1:3306/asiria",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "METRICS_TOKEN": secrets.token_urlsafe(32),
        "MPESA_CALLBACK_SECRET": secrets.token_urlsafe(40),  # required by production settings (docs/mpesa.md)
        "BACKUP_ENABLED": "true",
        "BACKUP_DIR": str(tmp_path / "backups"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "LOG_FORMAT": "json",
    }
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


def _python(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)


def _manage(*args: str, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


_SETTINGS_PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "debug": settings.DEBUG,
    "session_engine": settings.SESSION_ENGINE,
    "cache": settings.CACHES["default"]["BACKEND"],
    "huey": settings.HUEY["huey_class"],
    "storage": settings.STORAGES["staticfiles"]["BACKEND"],
    "log_format": settings.LOG_FORMAT,
    "databases": sorted(settings.DATABASES),
    "replica_engine": settings.DATABASES.get("replica", {}).get("ENGINE"),
    "middleware": settings.MIDDLEWARE,
}))
"""


def test_check_deploy_is_clean_with_a_production_environment(tmp_path):
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _manage("check", env=production_env(tmp_path, SECRET_KEY=None))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_uses_redis_for_cache_sessions_and_queue(tmp_path):
    result = _python(_SETTINGS_PROBE, production_env(
        tmp_path, REPLICA_DATABASE_URL="mysql://reports:pw@10.0.0.12:3306/asiria"))
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["debug"] is False
    assert seen["session_engine"] == "django.contrib.sessions.backends.cached_db"
    assert seen["cache"] == "core.ops.cache.ResilientRedisCache"
    assert seen["huey"] == "huey.RedisHuey"
    assert seen["storage"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert seen["log_format"] == "json"
    assert seen["databases"] == ["default", "replica"] and seen["replica_engine"] == "django.db.backends.mysql"
    order = seen["middleware"]
    assert order.index("whitenoise.middleware.WhiteNoiseMiddleware") < order.index(
        "core.ops.metrics.PrometheusMiddleware"
    )
    assert order.index("django.contrib.auth.middleware.AuthenticationMiddleware") < order.index(
        "pos.people.middleware.IdleSessionTimeoutMiddleware")


def test_sessions_in_a_per_process_cache_are_refused(tmp_path):
    env = production_env(tmp_path, REDIS_URL=None, SESSION_ENGINE="django.contrib.sessions.backends.cache")
    result = _manage("check", env=env)
    assert result.returncode != 0 and "needs REDIS_URL" in result.stderr


_GUNICORN_PROBE = """
import json, runpy
conf = runpy.run_path("config/gunicorn.conf.py")
print(json.dumps({k: conf.get(k) for k in ("bind", "workers", "threads", "worker_class", "timeout",
      "graceful_timeout", "accesslog", "logger_class", "forwarded_allow_ips", "preload_app")}
      | {"settings": __import__("os").environ["DJANGO_SETTINGS_MODULE"],
         "metrics_dir": __import__("os").environ["PROMETHEUS_MULTIPROC_DIR"]}))
"""


def test_gunicorn_defaults_one_worker_per_core_and_production_settings(tmp_path):
    env = production_env(tmp_path, DJANGO_SETTINGS_MODULE=None)
    seen = json.loads(_python(_GUNICORN_PROBE, env).stdout.strip().splitlines()[-1])
    assert seen["workers"] == len(os.sched_getaffinity(0))
    assert seen["worker_class"] == "sync" and seen["threads"] == 1
    assert seen["bind"] == "127.0.0.1:8000"
    assert seen["timeout"] == 30 and seen["graceful_timeout"] == 30
    assert seen["accesslog"] == "-" and seen["logger_class"] == "core.ops.gunicorn_logging.JsonLogger"
    assert seen["forwarded_allow_ips"] == "127.0.0.1,::1" and seen["preload_app"] is False
    assert seen["settings"] == "config.settings.production"  # never the debug settings by accident
    assert seen["metrics_dir"]


def test_gunicorn_takes_its_numbers_from_the_environment(tmp_path):
    env = production_env(tmp_path, GUNICORN_WORKERS="3", GUNICORN_THREADS="4", GUNICORN_TIMEOUT="60", PORT="5000",
                         PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    seen = json.loads(_python(_GUNICORN_PROBE, env).stdout.strip().splitlines()[-1])
    assert (seen["workers"], seen["threads"], seen["worker_class"], seen["timeout"]) == (3, 4, "gthread", 60)
    assert seen["bind"] == "0.0.0.0:5000"
    assert seen["metrics_dir"] == str(tmp_path / "metrics")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_the_shop_is_served_by_gunicorn_with_production_settings(tmp_path):
    """migrate, collectstatic (WhiteNoise manifest + compression, with the vendored .map files), gunicorn
    with two workers; then the pages, static files, headers, logs and metrics as a client sees them."""
    port = _free_port()
    env = production_env(
        tmp_path,
        DATABASE_URL=None,
        REDIS_URL=None,
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
        HUEY_SQLITE_PATH=str(tmp_path / "huey.sqlite3"),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
    )
    for args in (("migrate", "--no-input"), ("collectstatic", "--no-input")):
        result = _manage(*args, env=env, timeout=600)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]
    assert manifest["vendor/bootstrap-5.3.9/bootstrap.min.css.map"].endswith(".map")

    out, err = (tmp_path / "gunicorn.out").open("w"), (tmp_path / "gunicorn.err").open("w")
    server = subprocess.Popen(
        [str(Path(PYTHON).parent / "gunicorn"), "config.wsgi", "-c", "config/gunicorn.conf.py"],
        cwd=ROOT, env=env, stdout=out, stderr=err, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    https = {"X-Forwarded-Proto": "https"}  # what nginx adds
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            for _ in range(100):
                try:
                    if client.get("/healthz", headers=https).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                pytest.fail("gunicorn did not answer: " + (tmp_path / "gunicorn.err").read_text()[-2000:])

            login = client.get("/accounts/login/", headers={**https, "X-Request-ID": "till-3-req-1"})
            assert login.status_code == 200
            assert login.headers["X-Request-ID"] == "till-3-req-1"
            assert "script-src 'self'" in login.headers["Content-Security-Policy"]
            assert login.headers["Strict-Transport-Security"].startswith("max-age=31536000")
            css = manifest["vendor/bootstrap-5.3.9/bootstrap.min.css"]
            assert f"/static/{css}" in login.text  # hashed names in the page

            static = client.get(f"/static/{css}", headers={**https, "Accept-Encoding": "gzip"})
            assert static.status_code == 200 and static.headers["Content-Encoding"] == "gzip"
            assert "immutable" in static.headers["Cache-Control"]

            assert client.get("/accounts/login/").status_code == 301  # plain HTTP goes to HTTPS
            for _ in range(10):
                client.get("/healthz", headers=https)
            metrics = client.get("/metrics", headers={"Authorization": f"Bearer {env['METRICS_TOKEN']}"})
            assert metrics.status_code == 200
            line = next(x for x in metrics.text.splitlines()
                        if x.startswith('asiria_http_requests_total{method="GET",status="200",view="healthz"}'))
            assert float(line.split()[-1]) >= 11  # all workers' requests, added up
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        out.close()
        err.close()

    access = [json.loads(x) for x in (tmp_path / "gunicorn.out").read_text().splitlines() if x.startswith("{")]
    assert any(x["request_id"] == "till-3-req-1" and x["path"] == "/accounts/login/" for x in access)
    app_lines = [json.loads(x) for x in (tmp_path / "gunicorn.err").read_text().splitlines() if x.startswith("{")]
    assert any(x.get("event") == "request_finished" and x.get("request_id") == "till-3-req-1" for x in app_lines)
    assert len({x["pid"] for x in app_lines if x.get("event") == "request_finished"}) >= 1
    # each worker laid out a receipt before its first request (config/gunicorn.conf.py, post_worker_init)
    errors = (tmp_path / "gunicorn.err").read_text()
    assert errors.count("receipt PDFs warmed up in") >= 2 and "warm-up failed" not in errors
