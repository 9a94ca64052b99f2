"""`manage.py backup`: the database and media into BACKUP_DIR, keeping the newest BACKUP_KEEP."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.ops.backup import BackupError, backup_create, backup_list


def _size(num: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if num < 1024 or unit == "GB":
            return f"{num:.0f} {unit}" if unit == "B" else f"{num:.1f} {unit}"
        num /= 1024
    return f"{num} B"  # pragma: no cover


class Command(BaseCommand):
    help = (
        "Back up the database (SQLite online backup, or mysqldump --single-transaction) and MEDIA_ROOT into "
        "BACKUP_DIR, then delete all but the newest BACKUP_KEEP backups. --list shows the backups."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dir", type=Path, help=f"Where to write (default BACKUP_DIR: {settings.BACKUP_DIR}).")
        parser.add_argument(
            "--keep", type=int, help=f"How many backups to keep (default BACKUP_KEEP: {settings.BACKUP_KEEP})."
        )
        parser.add_argument("--no-media", action="store_true", help="Leave MEDIA_ROOT out.")
        parser.add_argument("--label", default="", help="A word added to the folder name, e.g. before-upgrade.")
        parser.add_argument("--list", action="store_true", help="List the backups instead of making one.")

    def handle(self, *args, **options):
        try:
            if options["list"]:
                backups = backup_list(directory=options["dir"])
                if not backups:
                    self.stdout.write(f"No backups in {options['dir'] or settings.BACKUP_DIR}.")
                for info in backups:
                    media = info.manifest.get("media")
                    self.stdout.write(
                        f"{info.name}  {info.created_at}  {info.engine}  {_size(info.size_bytes)}"
                        + (f"  media: {media['files']} files" if media else "  no media")
                    )
                return
            info = backup_create(
                directory=options["dir"],
                keep=options["keep"],
                include_media=not options["no_media"],
                label=options["label"],
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Backup written: {info.path} ({_size(info.size_bytes)})"))
