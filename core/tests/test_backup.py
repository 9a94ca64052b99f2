"""Backups: back up, change the data, restore, and find the old data again (database and media)."""

import datetime
import io
import json
import os
import stat
import tarfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from core.ops import backup as backups
from core.ops.backup import BackupError, backup_create, backup_find, backup_list, backup_restore
from pos.people.models import Branch

# The backup must see committed rows (mysqldump reads through its own connection) and the restore replaces
# the whole database, so these tests run outside a per-test transaction; Django empties the database after
# each one. Not serialized_rollback: reloading the serialized rows fails once an earlier transactional test
# has let post_migrate re-create the content types under new ids. The migrations' own rows are put back
# when the module is done instead (see _migration_rows_back).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module", autouse=True)
def _migration_rows_back(django_db_blocker):
    """After the last test's flush: the rows pos migration 0002 and django.contrib.sites make."""
    yield
    from django.conf import settings
    from django.contrib.sites.models import Site

    from pos.people.models import ShopSettings

    with django_db_blocker.unblock():
        Branch.objects.get_or_create(code="MAIN", defaults={"name": "Main branch"})
        ShopSettings.objects.get_or_create(pk=1)
        Site.objects.get_or_create(pk=settings.SITE_ID, defaults={"domain": "example.com", "name": "example.com"})


@pytest.fixture
def places(tmp_path, settings):
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.BACKUP_KEEP = 5
    (settings.MEDIA_ROOT / "products").mkdir(parents=True)
    (settings.MEDIA_ROOT / "products" / "sugar.jpg").write_bytes(b"the old picture of sugar")
    return settings


def _run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def _backup_change_restore(places):
    Branch.objects.get_or_create(code="MAIN", defaults={"name": "Main branch"})
    Branch.objects.create(name="Westlands", code="WSTL", address="Old address")
    out = _run("backup")
    assert "Backup written" in out
    (only,) = backup_list()
    assert only.engine == connection.vendor

    # The day goes on: data and pictures change.
    Branch.objects.filter(code="WSTL").update(name="Westlands Renamed", address="New address")
    Branch.objects.create(name="Karen", code="KRN")
    Branch.objects.filter(code="MAIN").update(address="Moi Avenue")
    media = Path(places.MEDIA_ROOT)
    (media / "products" / "sugar.jpg").write_bytes(b"a new picture")
    (media / "products" / "salt.jpg").write_bytes(b"added after the backup")

    out = _run("restore", only.name, "--yes")
    assert f"Restored the database and the media from {only.name}" in out

    westlands = Branch.objects.get(code="WSTL")
    assert (westlands.name, westlands.address) == ("Westlands", "Old address")
    assert not Branch.objects.filter(code="KRN").exists()
    assert Branch.objects.get(code="MAIN").address == ""
    assert (media / "products" / "sugar.jpg").read_bytes() == b"the old picture of sugar"
    assert not (media / "products" / "salt.jpg").exists()

    # The state just before the restore was kept as a safety backup.
    names = [info.name for info in backup_list()]
    assert len(names) == 2 and names[0].endswith("-pre-restore") and names[1] == only.name


def test_backup_change_restore_finds_the_old_data(places):
    _backup_change_restore(places)


@pytest.mark.mysql_only
def test_backup_change_restore_on_mariadb(places):
    if connection.vendor != "mysql":
        pytest.skip("needs MariaDB/MySQL (DATABASE_URL=mysql://…)")
    _backup_change_restore(places)
    (first, *_rest) = reversed(backup_list())
    assert first.manifest["database"]["file"] == "database.sql.gz"
    import gzip

    dump = gzip.open(first.path / "database.sql.gz", "rt").read()
    assert "CREATE TABLE `pos_branch`" in dump and "Westlands" in dump


def test_restore_needs_confirmation_and_changes_nothing_without_it(places):
    info = backup_create()
    Branch.objects.create(name="Karen", code="KRN")
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", info.name)
    assert Branch.objects.filter(code="KRN").exists()
    assert len(backup_list()) == 1  # not even a safety backup


def test_a_damaged_backup_is_refused_before_anything_changes(places):
    info = backup_create()
    Branch.objects.create(name="Karen", code="KRN")
    db_file = info.path / info.manifest["database"]["file"]
    db_file.write_bytes(db_file.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(CommandError, match="checksum"):
        call_command("restore", info.name, "--yes")
    assert Branch.objects.filter(code="KRN").exists()


def test_a_backup_of_another_engine_is_refused(places):
    info = backup_create()
    manifest = dict(info.manifest, engine="mysql" if connection.vendor == "sqlite" else "sqlite")
    with pytest.raises(BackupError, match="Nothing was changed"):
        backup_restore(backup=backups.BackupInfo(path=info.path, manifest=manifest))


def test_a_media_archive_that_escapes_its_folder_is_refused(places, tmp_path):
    info = backup_create()
    Branch.objects.create(name="Karen", code="KRN")
    evil = info.path / backups.MEDIA_FILE
    with tarfile.open(evil, "w:gz") as tar:
        data = b"owned"
        member = tarfile.TarInfo("media/../../escaped.txt")
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data))
    manifest = json.loads((info.path / backups.MANIFEST).read_text())
    manifest["media"].update(sha256=backups.file_sha256(evil), bytes=evil.stat().st_size)
    (info.path / backups.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(BackupError, match="cannot be unpacked safely"):
        backup_restore(backup=backup_find(info.name))
    assert not (tmp_path / "escaped.txt").exists()
    assert Branch.objects.filter(code="KRN").exists()  # the database was not touched


def test_retention_keeps_the_newest(places):
    made = [backup_create(keep=2, include_media=False).name for _ in range(4)]
    assert [info.name for info in backup_list()] == [made[3], made[2]]


def test_partial_backups_are_neither_listed_nor_restorable(places):
    backup_create()
    partial = Path(places.BACKUP_DIR) / "asiria-20250101-020000.partial"
    partial.mkdir()
    assert len(backup_list()) == 1
    with pytest.raises(BackupError, match="not a complete"):
        backup_find(partial.name)
    with pytest.raises(CommandError, match="not a complete"):
        call_command("restore", "asiria-20990101-000000", "--yes")


def test_backups_are_private_to_the_owner_of_the_files(places):
    info = backup_create()
    assert stat.S_IMODE(os.stat(places.BACKUP_DIR).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(info.path).st_mode) == 0o700
    for path in info.path.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_backup_inside_media_root_is_not_backed_up_into_itself(places):
    places.BACKUP_DIR = Path(places.MEDIA_ROOT) / "backups"
    first = backup_create()
    second = backup_create()
    with tarfile.open(second.path / backups.MEDIA_FILE) as tar:
        names = tar.getnames()
    assert "media/products/sugar.jpg" in names
    assert not any(first.name in name for name in names)


def test_list_and_bad_arguments(places):
    assert "No backups" in _run("backup", "--list")
    _run("backup", "--label", "before-upgrade")
    listing = _run("backup", "--list")
    assert "-before-upgrade" in listing and "media: 1 files" in listing
    with pytest.raises(CommandError, match="label"):
        call_command("backup", "--label", "Bad Label!")
    with pytest.raises(CommandError, match="at least 1"):
        call_command("backup", "--keep", "0")


def test_mysql_credentials_go_in_a_private_option_file_not_the_command_line():
    settings_dict = {"USER": "asiria", "PASSWORD": 'p"w\\d#1', "HOST": "db.internal", "PORT": "3307", "OPTIONS": {}}
    with backups.mysql_options_file(settings_dict) as path:
        text = Path(path).read_text()
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert 'password="p\\"w\\\\d#1"' in text and 'host="db.internal"' in text and "port=3307" in text
    assert not Path(path).exists()


# ---------------------------------------------------------------------------- the nightly task


def test_nightly_task_does_nothing_unless_enabled(places):
    from core.tasks import nightly_backup

    places.BACKUP_ENABLED = False
    assert nightly_backup.call_local() is None
    assert backup_list() == []
    places.BACKUP_ENABLED = True
    written = nightly_backup.call_local()
    (info,) = backup_list()
    assert written == str(info.path) and info.name.endswith("-nightly")


def test_nightly_task_fires_at_two_in_the_morning_shop_time():
    from core.tasks import at_shop_time

    at_two = at_shop_time(2, 0)
    # Huey's clock is naive UTC; Nairobi is UTC+3, so 02:00 in the shop is 23:00 UTC the day before.
    assert at_two(datetime.datetime(2025, 3, 1, 23, 0))
    assert not at_two(datetime.datetime(2025, 3, 2, 2, 0))
    assert not at_two(datetime.datetime(2025, 3, 1, 23, 1))
    with pytest.raises(ValueError):
        at_shop_time(24, 0)


def test_the_nightly_task_is_registered_with_huey():
    from huey.contrib.djhuey import HUEY

    assert "core.tasks.nightly_backup" in HUEY._registry._registry
