"""`.env.example` names every environment variable that settings and gunicorn read."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_SETTINGS_READS = re.compile(
    r"\benv(?:\.(?:str|int|bool|float|list|tuple|dict|json|url|db|db_url|path|cache))?\(\s*\"([A-Z][A-Z0-9_]+)\""
)
_OS_READS = re.compile(r"(?:os\.environ\.get\(|os\.environ\[|_int\()\s*\"([A-Z][A-Z0-9_]+)\"")
_DOCUMENTED = re.compile(r"^#?\s*([A-Z][A-Z0-9_]+)=", re.MULTILINE)


def _read_by_code() -> set[str]:
    names = set()
    for path in (ROOT / "config" / "settings").glob("*.py"):
        names |= set(_SETTINGS_READS.findall(path.read_text()))
    for path in (ROOT / "config" / "gunicorn.conf.py", ROOT / "config" / "__init__.py"):
        names |= set(_OS_READS.findall(path.read_text()))
    return names


def test_every_variable_is_in_env_example():
    documented = set(_DOCUMENTED.findall((ROOT / ".env.example").read_text()))
    read = _read_by_code()
    assert {"SECRET_KEY", "DATABASE_URL", "METRICS_TOKEN", "GUNICORN_WORKERS", "BACKUP_KEEP"} <= read  # the scan works
    missing = sorted(read - documented)
    assert not missing, f"add to .env.example (with a comment): {', '.join(missing)}"


def test_no_comment_follows_a_value():
    """systemd's EnvironmentFile and django-environ both keep a trailing "# …" as part of the value."""
    text = (ROOT / ".env.example").read_text()
    bad = [line for line in text.splitlines() if re.match(r"^[A-Z][A-Z0-9_]*=.*\s#", line)]
    assert not bad, bad
