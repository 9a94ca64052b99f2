"""Backups of the shop: the database and the uploaded media, into `BACKUP_DIR`, newest `BACKUP_KEEP` kept.

A backup is one folder, `asiria-YYYYMMDD-HHMMSS[-label]/` (shop-local time), holding
- `database.sqlite3.gz`: SQLite, copied with SQLite's online backup API (a consistent copy while the
  tills keep selling), or `database.sql.gz`: MySQL/MariaDB, `mysqldump --single-transaction --routines`
  (one consistent snapshot, no table locks, so checkout never waits for the backup);
- `media.tar.gz`: everything under `MEDIA_ROOT` (product pictures, expense receipts);
- `manifest.json`: when, which engine, sizes and SHA-256 of each file.

It is written under `<name>.partial` and renamed when complete, so a half-written backup is never listed,
counted for retention, or restored. Restoring checks the checksums first and replaces the database
and the media with the backup's; the `restore` command takes a safety backup of the current state before.

Used by `manage.py backup`, `manage.py restore` and the nightly Huey task (`core/tasks.py`).
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess  # mysqldump/mysql: an argument list, never a shell  # nosec B404
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.recorder import MigrationRecorder
from django.dispatch import Signal
from django.utils import timezone

FORMAT_VERSION = 1
PREFIX = "asiria-"
PARTIAL_SUFFIX = ".partial"
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3.gz"
MYSQL_FILE = "database.sql.gz"
MEDIA_FILE = "media.tar.gz"
_NAME = re.compile(r"^asiria-\d{8}-\d{6}(?:-[a-z0-9][a-z0-9-]{0,39})?$")
_LABEL = re.compile(r"^[a-z0-9][a-z0-9-]{0,29}$")
_CHUNK = 1024 * 1024


# Sent once a backup has replaced the database: apps drop what they cache of the old one.
restored = Signal()


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why in plain words."""


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    manifest: dict

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def engine(self) -> str:
        return self.manifest["engine"]

    @property
    def created_at(self) -> str:
        return self.manifest["created_at"]

    @property
    def size_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.path.iterdir() if f.is_file())


# ---------------------------------------------------------------------------- helpers


def backup_dir() -> Path:
    return Path(settings.BACKUP_DIR)


def _engine(alias: str) -> str:
    vendor = connections[alias].vendor
    if vendor not in ("sqlite", "mysql"):
        raise BackupError(f"Backups support SQLite and MySQL/MariaDB, not {vendor}.")
    return vendor


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _file_entry(path: Path) -> dict:
    return {"file": path.name, "bytes": path.stat().st_size, "sha256": file_sha256(path)}


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)  # a backup holds every sale and every login: owner-only


def _gzip_file(src: Path, dest: Path) -> None:
    with src.open("rb") as fh_in, gzip.open(dest, "wb", compresslevel=6) as fh_out:
        shutil.copyfileobj(fh_in, fh_out, _CHUNK)


def _gunzip_file(src: Path, dest: Path) -> None:
    with gzip.open(src, "rb") as fh_in, dest.open("wb") as fh_out:
        shutil.copyfileobj(fh_in, fh_out, _CHUNK)


def _mysql_binary(kind: str) -> str:
    """`mariadb-dump`/`mysqldump` and `mariadb`/`mysql`, or what MYSQLDUMP_BIN / MYSQL_BIN name."""
    configured = getattr(settings, "MYSQLDUMP_BIN" if kind == "dump" else "MYSQL_BIN", "")
    candidates = [configured] if configured else (
        ["mariadb-dump", "mysqldump"] if kind == "dump" else ["mariadb", "mysql"]
    )
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return found
    raise BackupError(
        f"{' or '.join(candidates)} was not found. Install the MariaDB client (apt install mariadb-client)."
    )


def _option_value(value: object) -> str:
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@contextmanager
def mysql_options_file(settings_dict: dict) -> Iterator[str]:
    """Credentials go in a 0600 option file, never on the command line where `ps` would show them."""
    lines = ["[client]"]
    if settings_dict.get("USER"):
        lines.append(f"user={_option_value(settings_dict['USER'])}")
    if settings_dict.get("PASSWORD"):
        lines.append(f"password={_option_value(settings_dict['PASSWORD'])}")
    host = settings_dict.get("HOST") or ""
    if host.startswith("/"):
        lines.append(f"socket={_option_value(host)}")
    elif host:
        lines.append(f"host={_option_value(host)}")
    if settings_dict.get("PORT"):
        lines.append(f"port={int(settings_dict['PORT'])}")
    ssl = (settings_dict.get("OPTIONS") or {}).get("ssl") or {}
    for key in ("ca", "cert", "key"):
        if ssl.get(key):
            lines.append(f"ssl-{key}={_option_value(ssl[key])}")
    lines.append("default-character-set=utf8mb4")
    fd, path = tempfile.mkstemp(prefix="asiria-my-", suffix=".cnf")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        os.chmod(path, 0o600)
        yield path
    finally:
        os.unlink(path)


def _run(cmd: list[str], *, stdin=None, stdout=None) -> subprocess.Popen:
    # cmd is our own argument list: the client binary found on PATH, an option file we wrote, flags, and the
    # database name from settings; no shell, nothing typed by a user.
    return subprocess.Popen(cmd, stdin=stdin, stdout=stdout, stderr=tempfile.TemporaryFile())  # noqa: S603 - see above  # nosec B603


def _stderr_text(proc: subprocess.Popen) -> str:
    proc.stderr.seek(0)
    return proc.stderr.read().decode("utf-8", "replace").strip()[-1000:]


# ---------------------------------------------------------------------------- the database


def _sqlite_backup(alias: str, dest: Path) -> None:
    connection = connections[alias]
    connection.ensure_connection()
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        raw = Path(tmp) / "database.sqlite3"
        target = sqlite3.connect(raw)
        try:
            # The online backup API copies a consistent snapshot even while other connections write.
            connection.connection.backup(target)
        finally:
            target.close()
        _gzip_file(raw, dest)


def _sqlite_restore(alias: str, source_gz: Path) -> None:
    connection = connections[alias]
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "database.sqlite3"
        _gunzip_file(source_gz, raw)
        source = sqlite3.connect(raw)
        try:
            check = source.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise BackupError(f"The backup's database is damaged ({check}); nothing was changed.")
            connection.ensure_connection()
            if connection.in_atomic_block:
                raise BackupError("Cannot restore inside a transaction.")
            # Copies every page into the live database: other processes see the restored data at once.
            source.backup(connection.connection)
        finally:
            source.close()


def _mysql_backup(alias: str, dest: Path) -> None:
    settings_dict = connections[alias].settings_dict
    # mysqldump's output streams through a pipe into gzip: no uncompressed copy of the database touches the disk.
    with mysql_options_file(settings_dict) as options:
        cmd = [
            _mysql_binary("dump"),
            f"--defaults-extra-file={options}",  # must come first
            "--single-transaction",  # one consistent snapshot, no table locks (InnoDB)
            "--routines",
            "--triggers",
            "--hex-blob",
            "--no-tablespaces",  # needs no PROCESS privilege (managed MySQL)
            "--default-character-set=utf8mb4",
            settings_dict["NAME"],
        ]
        proc = _run(cmd, stdout=subprocess.PIPE)
        with gzip.open(dest, "wb", compresslevel=6) as out:
            shutil.copyfileobj(proc.stdout, out, _CHUNK)
        code = proc.wait()
        if code != 0:
            raise BackupError(f"mysqldump failed (exit {code}): {_stderr_text(proc)}")


def _mysql_restore(alias: str, source_gz: Path) -> None:
    connection = connections[alias]
    if connection.in_atomic_block:
        raise BackupError("Cannot restore inside a transaction.")
    # Start from an empty schema, so tables added by later migrations do not survive next to old data.
    with connection.cursor() as cursor:
        tables = connection.introspection.get_table_list(cursor)
        cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
        try:
            for table in tables:
                kind = "VIEW" if table.type == "v" else "TABLE"
                cursor.execute(f"DROP {kind} IF EXISTS {connection.ops.quote_name(table.name)}")
        finally:
            cursor.execute("SET FOREIGN_KEY_CHECKS = 1")
    connection.close()
    settings_dict = connection.settings_dict
    with mysql_options_file(settings_dict) as options:
        cmd = [_mysql_binary("client"), f"--defaults-extra-file={options}", "--binary-mode", settings_dict["NAME"]]
        proc = _run(cmd, stdin=subprocess.PIPE)
        try:
            with gzip.open(source_gz, "rb") as dump:
                shutil.copyfileobj(dump, proc.stdin, _CHUNK)
        except BrokenPipeError:
            pass  # the client stopped reading: its exit code and message say why
        finally:
            proc.stdin.close()
        code = proc.wait()
        if code != 0:
            raise BackupError(f"Loading the dump failed (exit {code}): {_stderr_text(proc)}")


# ---------------------------------------------------------------------------- media


def _media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def _media_backup(dest: Path) -> int:
    """Tar MEDIA_ROOT as `media/…`; returns the number of files. BACKUP_DIR is skipped if it lies inside."""
    root = _media_root()
    skip = backup_dir().resolve()
    count = 0
    with tarfile.open(dest, "w:gz") as tar:
        if not root.is_dir():
            return 0
        tar.add(root, arcname="media", recursive=False)
        for dirpath, dirnames, filenames in os.walk(root):
            here = Path(dirpath)
            dirnames[:] = sorted(name for name in dirnames if (here / name).resolve() != skip)
            for name in dirnames:
                tar.add(here / name, arcname=f"media/{(here / name).relative_to(root)}", recursive=False)
            for name in sorted(filenames):
                tar.add(here / name, arcname=f"media/{(here / name).relative_to(root)}", recursive=False)
                count += 1
    return count


@contextmanager
def _media_unpacked(source: Path) -> Iterator[Path]:
    """Unpack a media archive next to MEDIA_ROOT (same disk, so moving is cheap) and yield its `media/`."""
    root = _media_root()
    root.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root.parent, prefix=".media-restore-") as tmp:
        try:
            with tarfile.open(source, "r:gz") as tar:
                # The "data" filter refuses absolute paths, "..", links out of the tree and device files.
                tar.extractall(tmp, filter="data")
        except (tarfile.TarError, OSError) as exc:
            raise BackupError(f"The media archive cannot be unpacked safely ({exc}); nothing was changed.") from exc
        yield Path(tmp) / "media"


def _media_replace(extracted: Path) -> None:
    """Make MEDIA_ROOT hold exactly what was unpacked (works when MEDIA_ROOT is a mount point)."""
    root = _media_root()
    root.mkdir(parents=True, exist_ok=True)
    keep = backup_dir().resolve()
    for child in list(root.iterdir()):
        if child.resolve() == keep:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    if extracted.is_dir():
        for child in extracted.iterdir():
            shutil.move(str(child), root / child.name)


# ---------------------------------------------------------------------------- listing and retention


def _read_manifest(path: Path) -> dict | None:
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and manifest.get("format") == FORMAT_VERSION else None


def backup_list(*, directory: Path | None = None) -> list[BackupInfo]:
    """Complete backups in `directory` (default BACKUP_DIR), newest first."""
    directory = Path(directory or backup_dir())
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        if path.is_dir() and _NAME.match(path.name):
            manifest = _read_manifest(path)
            if manifest is not None:
                found.append(BackupInfo(path=path, manifest=manifest))
    return sorted(found, key=_created, reverse=True)


def _created(info: BackupInfo) -> datetime.datetime:
    try:
        return datetime.datetime.fromisoformat(str(info.manifest.get("created_at")))
    except ValueError:
        return datetime.datetime.min.replace(tzinfo=datetime.UTC)


def backup_prune(*, keep: int, directory: Path | None = None) -> list[Path]:
    """Delete all but the newest `keep` complete backups (and partial ones older than a day)."""
    if keep < 1:
        raise BackupError("BACKUP_KEEP must be at least 1.")
    directory = Path(directory or backup_dir())
    removed = []
    for info in backup_list(directory=directory)[keep:]:
        shutil.rmtree(info.path)
        removed.append(info.path)
    if directory.is_dir():
        for path in directory.glob(f"{PREFIX}*{PARTIAL_SUFFIX}"):
            if path.is_dir() and time.time() - path.stat().st_mtime > 24 * 3600:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed


def backup_find(name_or_path: str, *, directory: Path | None = None) -> BackupInfo:
    """A backup by folder name (in BACKUP_DIR) or by path; "latest" is the newest."""
    directory = Path(directory or backup_dir())
    if name_or_path == "latest":
        backups = backup_list(directory=directory)
        if not backups:
            raise BackupError(f"There are no backups in {directory}.")
        return backups[0]
    path = Path(name_or_path)
    if not path.is_absolute() and not path.exists():
        path = directory / name_or_path
    manifest = _read_manifest(path) if path.is_dir() else None
    if manifest is None:
        raise BackupError(f"{name_or_path} is not a complete AsiriaPOS backup (no valid {MANIFEST}).")
    return BackupInfo(path=path, manifest=manifest)


# ---------------------------------------------------------------------------- create and restore


def _new_name(directory: Path, label: str) -> str:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    base = f"{PREFIX}{stamp}" + (f"-{label}" if label else "")
    name, n = base, 2
    while (directory / name).exists() or (directory / f"{name}{PARTIAL_SUFFIX}").exists():
        name, n = f"{base}-{n}" if label else f"{PREFIX}{stamp}-{n}", n + 1
    return name


def backup_create(
    *,
    directory: Path | None = None,
    keep: int | None = None,
    include_media: bool = True,
    label: str = "",
    using: str = DEFAULT_DB_ALIAS,
) -> BackupInfo:
    """Back up the database (and media) into a new folder, then prune to the newest `keep`."""
    if label and not _LABEL.match(label):
        raise BackupError("A backup label is up to 30 lower-case letters, digits and dashes.")
    keep = settings.BACKUP_KEEP if keep is None else keep
    if keep < 1:
        raise BackupError("BACKUP_KEEP must be at least 1.")
    engine = _engine(using)
    directory = Path(directory or backup_dir())
    _private_dir(directory)
    name = _new_name(directory, label)
    partial = directory / f"{name}{PARTIAL_SUFFIX}"
    _private_dir(partial)
    try:
        db_file = partial / (SQLITE_FILE if engine == "sqlite" else MYSQL_FILE)
        (_sqlite_backup if engine == "sqlite" else _mysql_backup)(using, db_file)
        manifest = {
            "format": FORMAT_VERSION,
            "created_at": timezone.localtime().isoformat(timespec="microseconds"),
            "label": label,
            "engine": engine,
            "database_name": str(connections[using].settings_dict.get("NAME")) if engine == "mysql" else "",
            "applied_migrations": MigrationRecorder(connections[using]).migration_qs.count(),
            "database": _file_entry(db_file),
            "media": None,
        }
        if include_media:
            media_file = partial / MEDIA_FILE
            files = _media_backup(media_file)
            manifest["media"] = {**_file_entry(media_file), "files": files}
        for path in partial.iterdir():
            os.chmod(path, 0o600)
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        os.chmod(partial / MANIFEST, 0o600)
        final = directory / name
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    backup_prune(keep=keep, directory=directory)
    return BackupInfo(path=final, manifest=manifest)


def backup_verify(info: BackupInfo) -> None:
    """Every file the manifest names is there with the right checksum (and gzip reads to the end)."""
    entries = [info.manifest.get("database")] + ([info.manifest["media"]] if info.manifest.get("media") else [])
    for entry in entries:
        if not entry:
            raise BackupError(f"{info.name}: the manifest names no database file.")
        path = info.path / entry["file"]
        if not path.is_file():
            raise BackupError(f"{info.name}: {entry['file']} is missing.")
        if file_sha256(path) != entry["sha256"]:
            raise BackupError(f"{info.name}: {entry['file']} does not match its checksum; it is damaged.")


def backup_restore(*, backup: BackupInfo, include_media: bool = True, using: str = DEFAULT_DB_ALIAS) -> None:
    """Replace the database (and media) with the backup's. The caller takes a safety backup first.

    Everything that can fail on a bad backup (checksums, engine, unpacking the media) is checked before
    the database is touched.
    """
    engine = _engine(using)
    if backup.engine != engine:
        raise BackupError(
            f"{backup.name} is a {backup.engine} backup; this shop runs on {engine}. Nothing was changed."
        )
    backup_verify(backup)
    db_file = backup.path / backup.manifest["database"]["file"]
    media = backup.manifest.get("media") if include_media else None
    with ExitStack() as stack:
        unpacked = stack.enter_context(_media_unpacked(backup.path / media["file"])) if media else None
        (_sqlite_restore if engine == "sqlite" else _mysql_restore)(using, db_file)
        if unpacked is not None:
            _media_replace(unpacked)
