"""Initialise a branch's eTIMS device with KRA once: `manage.py etims_init --branch MAIN`.

Takes the PIN, branch id and serial from the branch's settings page, or from ETIMS_TIN, ETIMS_BHF_ID and
ETIMS_DEVICE_SERIAL when the branch has none yet. Then syncs KRA's code lists and item classifications.
"""

from django.core.management.base import BaseCommand, CommandError

from cashdesk.etims.config import OFF, get_config
from cashdesk.etims.models import EtimsDevice
from cashdesk.etims.services import EtimsError, etims_codes_sync, etims_device_initialise, etims_item_classes_sync
from pos.people.models import Branch


class Command(BaseCommand):
    help = "Run selectInitOsdcInfo once for a branch's device and store its cmcKey encrypted."

    def add_arguments(self, parser):
        parser.add_argument("--branch", required=True, help="branch code, e.g. MAIN")
        parser.add_argument("--if-needed", action="store_true", help="do nothing if the device is initialised")

    def handle(self, *args, **options):
        branch = Branch.objects.filter(code=options["branch"].upper()).first()
        if branch is None:
            raise CommandError(f"No branch with code {options['branch']!r}.")
        config = get_config()
        device, _ = EtimsDevice.objects.get_or_create(branch=branch)
        if not device.tin:
            device.tin, device.bhf_id, device.serial_number = config.tin, config.bhf_id, config.device_serial
        if device.environment == OFF and config.environment != OFF:
            device.environment = config.environment
        device.save()
        if device.is_initialised and options["if_needed"]:
            self.stdout.write(f"{branch.code}: already initialised (SCU {device.sdc_id}).")
            return
        try:
            device = etims_device_initialise(device=device)
        except EtimsError as exc:
            raise CommandError(f"{branch.code}: {exc.message}") from exc
        self.stdout.write(self.style.SUCCESS(f"{branch.code}: initialised, SCU ID {device.sdc_id}."))
        try:
            changed = etims_codes_sync(device=device)
            classes = etims_item_classes_sync(device=device)
        except EtimsError as exc:
            self.stderr.write(f"Code lists not synced yet ({exc.message}); the nightly task will retry.")
        else:
            self.stdout.write(f"Code lists synced (tax bands changed: {', '.join(changed) or 'none'}); "
                              f"{classes} item classifications.")
