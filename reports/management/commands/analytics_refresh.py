"""Recompute the stored analytics now (what the nightly Huey task does): forecasts and basket pairs."""

import time

from django.core.management.base import BaseCommand, CommandError

from pos.people.models import Branch
from reports.analytics import basket_pairs_refresh, forecasts_refresh


class Command(BaseCommand):
    help = "Recompute demand forecasts and basket pairs for every branch (or --branch CODE)."

    def add_arguments(self, parser):
        parser.add_argument("--branch", action="append", help="Branch code; repeat for several. Default: all.")
        parser.add_argument("--only", choices=["forecasts", "baskets"], help="Run one part only.")

    def handle(self, *args, branch=None, only=None, **options):

        branch_ids = None
        if branch:
            found = dict(Branch.objects.filter(code__in=branch).values_list("code", "pk"))
            unknown = sorted(set(branch) - set(found))
            if unknown:
                raise CommandError(f"Unknown branch code(s): {', '.join(unknown)}")
            branch_ids = list(found.values())
        if only in (None, "forecasts"):
            started = time.monotonic()
            count = forecasts_refresh(branch_ids=branch_ids)
            self.stdout.write(f"forecasts: {count} stored in {time.monotonic() - started:.1f}s")
        if only in (None, "baskets"):
            started = time.monotonic()
            count = basket_pairs_refresh(branch_ids=branch_ids)
            self.stdout.write(f"basket pairs: {count} stored in {time.monotonic() - started:.1f}s")
