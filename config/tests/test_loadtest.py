"""The load test's short version, as a test of correctness (counts, not timings): three tills sell at
once through gunicorn (two workers), a Huey consumer and the Daraja simulator, on the database the
suite runs on; afterwards no sale is lost or doubled, every sale is paid in full, stock matches the
ledger and nothing answered 5xx. The driver is bench/loadtest.py, the same one the figures in
bench/README.md come from."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from pos.people.models import DEFAULT_BRANCH_CODE, Branch

ROOT = Path(__file__).resolve().parents[2]


def _database_env(tmp_path: Path) -> dict:
    """Point the server processes at the suite's own test database (committed rows: a transactional test)."""
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        # The suite's SQLite database lives in memory, which another process cannot open: hand the server
        # processes a file copy of it (migrated, with the migrations' rows) made with SQLite's backup API.
        connection.ensure_connection()
        target = sqlite3.connect(tmp_path / "load.sqlite3")
        connection.connection.backup(target)
        target.close()
        return {"SQLITE_PATH": str(tmp_path / "load.sqlite3"), "DATABASE_URL": None}
    if connection.vendor == "mysql":
        auth = settings["USER"] + (f":{settings['PASSWORD']}" if settings["PASSWORD"] else "")
        host = settings["HOST"] or "127.0.0.1"
        port = settings["PORT"] or "3306"
        return {"DATABASE_URL": f"mysql://{auth}@{host}:{port}/{settings['NAME']}"}
    pytest.skip(f"no load test for {connection.vendor}")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_three_tills_at_once_lose_and_double_nothing(tmp_path):
    # An earlier transactional test may have emptied the tables, the migrations' main branch included.
    Branch.objects.get_or_create(code=DEFAULT_BRANCH_CODE, defaults={"name": "Main branch"})
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", "REDIS_URL": None,
           "HUEY_SQLITE_PATH": str(tmp_path / "huey.sqlite3")}
    env.update(_database_env(tmp_path))
    env = {k: v for k, v in env.items() if v is not None}
    out = tmp_path / "result.json"
    command = [sys.executable, "bench/loadtest.py", "--tills", "3", "--sales", "12", "--workers", "2",
               "--mpesa-share", "0.35", "--retry-share", "0.5", "--callback-delay", "0.3", "--poll", "0.3",
               "--seed", "7", "--json", str(out), "--workdir", str(tmp_path / "servers")]
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=150)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:] + _tail(tmp_path / "servers")

    result = json.loads(out.read_text())
    client, server = result["client"], result["verify"]
    assert result["problems"] == []
    assert client["sales_completed"] == server["server_completed"] == 12
    assert server["lost"] == [] and server["unexpected"] == []
    assert client["cash_sales"] >= 1 and client["mpesa_sales"] >= 1  # both ways of paying were exercised
    assert server["payment_methods"] == {"CASH": client["cash_sales"], "MPESA": client["mpesa_sales"]}
    assert client["retries"] >= 1 and client["retries_same_receipt"] == client["retries"]
    assert client["status_5xx"] == 0 and server["stock_discrepancies"] == []
    assert server["sale_stock_movements"] == server["lines"] > 12 * 2
    assert server["mpesa_callbacks_unprocessed"] == 0


def _tail(folder: Path) -> str:
    return "".join(f"\n--- {log.name}\n" + log.read_text()[-2000:] for log in sorted(folder.glob("*.log")))
