"""core.api can be the first module to load DRF's settings (a management command's system checks
with DEBUG off): importing it must not be circular, or `run_huey` dies at start."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db  # the suite's session fixtures expect a database


def test_config_api_imports_first_without_a_cycle(tmp_path):
    code = "import django; django.setup(); import core.api; print(core.api.UserRateThrottle.__name__)"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", "DEBUG": "false",
           "ENV_FILE": str(tmp_path / "no.env"), "SQLITE_PATH": str(tmp_path / "db.sqlite3")}
    env.pop("DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("UserRateThrottle")
