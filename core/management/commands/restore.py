"""`manage.py restore <backup> --yes`: put a backup's database and media back (after a safety backup)."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from core.ops.backup import (
    BackupError,
    backup_create,
    backup_find,
    backup_list,
    backup_restore,
    backup_verify,
    restored,
)


class Command(BaseCommand):
    help = (
        "Replace the database and MEDIA_ROOT with a backup's. Give the folder name in BACKUP_DIR, a path, or "
        "'latest'. Stop the web and worker processes first. Takes a safety backup of the current state, "
        "restores, then runs migrate. Needs --yes."
    )

    def add_arguments(self, parser):
        parser.add_argument("backup", help="Backup folder name in BACKUP_DIR, a path to one, or 'latest'.")
        parser.add_argument("--yes", action="store_true", help="Confirm: the current data is replaced.")
        parser.add_argument("--no-media", action="store_true", help="Restore the database only.")
        parser.add_argument(
            "--no-safety-backup", action="store_true", help="Do not back up the current state first (not advised)."
        )
        parser.add_argument("--no-migrate", action="store_true", help="Do not run migrate afterwards.")

    def handle(self, *args, **options):
        try:
            info = backup_find(options["backup"])
            backup_verify(info)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        database = connections["default"].settings_dict.get("NAME")
        what = "the database" + ("" if options["no_media"] or not info.manifest.get("media") else " and the media")
        if not options["yes"]:
            raise CommandError(
                f"This replaces {what} ({database}) with {info.name} from {info.created_at}. "
                "Everything since then is lost (a safety backup is taken first). Run again with --yes to go ahead."
            )
        try:
            if not options["no_safety_backup"]:
                # Keep every existing backup: pruning now could delete the one being restored.
                safety = backup_create(label="pre-restore", keep=max(settings.BACKUP_KEEP, len(backup_list()) + 1))
                self.stdout.write(f"Safety backup of the current state: {safety.path}")
            backup_restore(backup=info, include_media=not options["no_media"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        # Each app drops only its own cached keys: cache.clear() on Redis would flush the task queue that
        # shares the database.
        restored.send(sender=None)
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(self.style.SUCCESS(f"Restored {what} from {info.name}."))
