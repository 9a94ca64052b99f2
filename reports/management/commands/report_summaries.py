"""Sum finished days for the reports now (what the Huey task does every 15 minutes), sum the whole
history again, or check the summaries against the sales and movements they were summed from."""

import time

from django.core.management.base import BaseCommand, CommandError

from reports.summaries import summaries_catch_up, summaries_check, summaries_rebuild


class Command(BaseCommand):
    help = (
        "Sum the finished days the report summaries do not hold yet. --rebuild: forget them and sum the "
        "whole history again (after loading data in bulk). --check: compare them with the sales "
        "(exit 1 on a difference)."
    )

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--rebuild", action="store_true", help="Forget every summary and sum the whole history again."
        )
        group.add_argument("--check", action="store_true", help="Compare the summaries with the sales; change nothing.")

    def handle(self, *args, rebuild=False, check=False, **options):

        started = time.monotonic()
        if check:
            problems = summaries_check()
            for problem in problems:
                self.stderr.write(problem)
            if problems:
                raise CommandError(f"{len(problems)} difference(s): run `manage.py report_summaries --rebuild`.")
            self.stdout.write(f"report summaries agree with the sales ({time.monotonic() - started:.1f}s)")
            return
        result = summaries_rebuild() if rebuild else summaries_catch_up()
        self.stdout.write(
            f"report summaries: {result.days} day(s) summed, now through {result.through or '—'} "
            f"({time.monotonic() - started:.1f}s)"
        )
