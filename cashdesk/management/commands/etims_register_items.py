"""Register an existing catalogue with KRA (`saveItem` for every active product): `manage.py
etims_register_items --branch MAIN`. Products with no classification are listed, not sent."""

from django.core.management.base import BaseCommand, CommandError

from cashdesk.etims.models import EtimsDevice
from cashdesk.etims.services import EtimsError, etims_item_register
from inventory.models import Product


class Command(BaseCommand):
    help = "Send saveItem for every active product (again only where what KRA has differs, or with --force)."

    def add_arguments(self, parser):
        parser.add_argument("--branch", required=True)
        parser.add_argument("--force", action="store_true")

    def handle(self, *args, **options):
        device = EtimsDevice.objects.filter(branch__code=options["branch"].upper()).first()
        if device is None or not device.is_initialised:
            raise CommandError("That branch's eTIMS device is not initialised (manage.py etims_init).")
        done, skipped = 0, []
        for product in Product.objects.filter(is_active=True).select_related("category", "unit").order_by("pk"):
            try:
                etims_item_register(device=device, product=product, force=options["force"])
                done += 1
            except EtimsError as exc:
                if exc.code == "unreachable":
                    raise CommandError(exc.message) from exc
                skipped.append(exc.message)
        self.stdout.write(self.style.SUCCESS(f"{done} products registered with KRA."))
        for message in skipped:
            self.stdout.write(f"  not sent: {message}")
