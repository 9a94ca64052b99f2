"""Run the local Daraja (M-Pesa) simulator in the foreground: `manage.py daraja_simulator`."""

import logging

import structlog
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cashdesk.mpesa.daraja.config import SANDBOX_PASSKEY, SANDBOX_SHORTCODE, get_config
from cashdesk.mpesa.daraja.simulator import DEMO_PHONES, DarajaSimulator


class Command(BaseCommand):
    help = (
        "Run a local stand-in for Safaricom's Daraja API (OAuth, STK push/query, C2B) that sends real "
        "callbacks. The customer's behaviour is chosen by the phone number (see docs/mpesa.md)."
    )

    def add_arguments(self, parser):
        config = get_config()
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument(
            "--port", type=int, default=config.simulator_port, help="port (default MPESA_SIMULATOR_PORT, 8765)"
        )
        parser.add_argument(
            "--delay", type=float, default=3.0, help="seconds until the customer answers the prompt (default 3)"
        )
        parser.add_argument(
            "--no-answer-delay",
            type=float,
            default=None,
            help="seconds until a phone that never answers gives up with 1037 (default: --delay)",
        )
        parser.add_argument(
            "--no-validation",
            action="store_true",
            help="never call the C2B validation URL (as when Safaricom has not enabled external validation)",
        )
        parser.add_argument(
            "--state-file",
            default=str(settings.VAR_DIR / "daraja-simulator.json"),
            help="where the registered C2B URLs are kept across restarts",
        )

    def handle(self, *args, **options):
        config = get_config()
        if not config.is_simulator:
            self.stderr.write(
                self.style.WARNING(
                    f"MPESA_ENVIRONMENT is {config.environment}: the shop talks to {config.base_url}, not to "
                    "this simulator."
                )
            )
        passkeys = {SANDBOX_SHORTCODE: SANDBOX_PASSKEY, config.shortcode: config.passkey}
        if options["delay"] < 0 or (options["no_answer_delay"] or 0) < 0:
            raise CommandError("Delays cannot be negative.")
        structlog.get_logger("cashdesk.mpesa.daraja.simulator").setLevel(logging.INFO)
        simulator = DarajaSimulator(
            options["host"],
            options["port"],
            options["delay"],
            no_answer_delay=options["no_answer_delay"],
            passkeys=passkeys,
            external_validation=not options["no_validation"],
            state_file=options["state_file"],
        )
        self.stdout.write(f"Daraja simulator on http://{options['host']}:{options['port']} (Ctrl-C to stop)")
        self.stdout.write(f"Shortcodes: {', '.join(sorted(passkeys))}; the customer answers after {options['delay']} s")
        self.stdout.write("Phones: any number pays, e.g. 254708374149 (0708 374 149); demo numbers:")
        for phone, behaviour in DEMO_PHONES.items():
            self.stdout.write(f"  0{phone[3:]}  {behaviour.value}")
        self.stdout.write("Help: GET /simulator/   Customer pays the till: POST /simulator/c2b/pay")
        try:
            simulator.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Daraja simulator stopped.")
        except OSError as exc:
            raise CommandError(f"Cannot listen on {options['host']}:{options['port']}: {exc}") from exc
