"""Run the local KRA eTIMS (OSCU) simulator in the foreground: `manage.py etims_simulator`."""

import logging

import structlog
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cashdesk.etims.config import get_config
from cashdesk.etims.simulator import MODES, EtimsSimulator


class Command(BaseCommand):
    help = "Run a local stand-in for KRA's eTIMS OSCU API (see docs/etims.md)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=get_config().simulator_port,
                            help="port (default ETIMS_SIMULATOR_PORT, 8766)")
        parser.add_argument("--envelope", choices=["legacy", "gateway"], default=get_config().api_style,
                            help="reply shape: KRA's flat legacy replies or the GavaConnect gateway's envelope")
        parser.add_argument("--state-file", default=str(settings.VAR_DIR / "etims-simulator.json"),
                            help="where devices, items and invoices are kept across restarts ('' = memory only)")

    def handle(self, *args, **options):
        structlog.get_logger("cashdesk.etims.simulator").setLevel(logging.INFO)
        simulator = EtimsSimulator(options["host"], options["port"], envelope=options["envelope"],
                                   state_file=options["state_file"] or None)
        self.stdout.write(f"eTIMS simulator on http://{options['host']}:{options['port']} (Ctrl-C to stop)")
        self.stdout.write(f"Faults: POST /simulator/mode {{\"mode\": one of {', '.join(MODES)}, \"count\": n}}")
        try:
            simulator.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("eTIMS simulator stopped.")
        except OSError as exc:
            raise CommandError(f"Cannot listen on {options['host']}:{options['port']}: {exc}") from exc
