"""Create the MySQL/MariaDB database named in DATABASE_URL if it does not exist (SQLite: nothing to do)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create the configured MySQL/MariaDB database (utf8mb4) when it is missing."

    def handle(self, *args, **options):
        db = settings.DATABASES["default"]
        if db["ENGINE"] != "django.db.backends.mysql":
            self.stdout.write(f"Database: {db['ENGINE'].rsplit('.', 1)[-1]} at {db['NAME']}")
            return
        import MySQLdb  # noqa: PLC0415 - only installations on MySQL/MariaDB load the driver

        try:
            conn = MySQLdb.connect(
                host=db.get("HOST") or "127.0.0.1",
                port=int(db.get("PORT") or 3306),
                user=db.get("USER") or "root",
                password=db.get("PASSWORD") or "",
                charset="utf8mb4",
            )
        except MySQLdb.OperationalError as exc:
            raise CommandError(f"Cannot reach MySQL/MariaDB at {db.get('HOST')}:{db.get('PORT')}: {exc}") from exc
        name = db["NAME"].replace("`", "")
        with conn.cursor() as cursor:
            cursor.execute(
                f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"  # noqa: S608
            )
        conn.close()
        self.stdout.write(f"Database: MySQL/MariaDB `{name}` is ready")
