"""The bench scripts' database: a fresh test database made for the run and dropped after it."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def in_a_throwaway_database(name: str, work, *, keep: bool = False):
    """Set Django up, make a fresh test database (on SQLite `var/bench-<name>.sqlite3`), return
    `work(vendor)`, then drop the database unless `keep`."""
    import django
    from django.conf import settings

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    vendor = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    if vendor == "sqlite3":
        settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = str(ROOT / "var" / f"bench-{name}.sqlite3")
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        return work(vendor)
    finally:
        if not keep:
            connection.creation.destroy_test_db(old_name, verbosity=0)
