"""Build a believable Kenyan demo shop. Idempotent: running it twice duplicates nothing.

Each app contributes steps in its `demo.py` (`STEPS = [(order, function)]`); they run in order:
people (10), catalogue and stock (20–29), customers (30), sales history (40–49), analytics (50–59),
and the demo logins are printed last.
"""

import importlib
import inspect

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

OUR_APPS = ["pos", "inventory", "cashdesk", "reports"]


def collect_steps():
    steps = []
    for label in OUR_APPS:
        config = apps.get_app_config(label)
        try:
            module = importlib.import_module(f"{config.name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.demo":
                raise
            continue
        steps.extend(getattr(module, "STEPS", []))
    return sorted(steps, key=lambda step: step[0])


class Command(BaseCommand):
    help = "Load demo data: a Kenyan shop with staff, products, suppliers and 90 days of sales."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=90, help="days of sales history to generate")
        parser.add_argument("--products", type=int, default=240, help="number of demo products")

    def handle(self, *args, **options):
        def log(message: str) -> None:
            self.stdout.write(message)

        for _order, step in collect_steps():
            kwargs = {"log": log}
            params = inspect.signature(step).parameters
            for name in ("days", "products"):
                if name in params:
                    kwargs[name] = options[name]
            with transaction.atomic():
                step(**kwargs)
        self.stdout.write(self.style.SUCCESS("Demo shop ready."))
