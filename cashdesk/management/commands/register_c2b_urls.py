"""Tell Daraja (or the local simulator) where to post C2B validation and confirmation requests.

    python manage.py register_c2b_urls                 # MPESA_SHORTCODE
    python manage.py register_c2b_urls --branches      # and every branch's till / paybill number
    python manage.py register_c2b_urls --shortcode 600638 --response-type Cancelled

In production Safaricom registers URLs once per shortcode; changing them later goes through its portal.
"""

import dataclasses

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from cashdesk.mpesa.daraja import CallbackURLError, DarajaClient, DarajaError, callback_url, get_config
from pos.people.models import Branch


class Command(BaseCommand):
    help = "Register the shop's C2B validation and confirmation URLs with Daraja for its shortcode(s)."

    def add_arguments(self, parser):
        parser.add_argument("--shortcode", action="append", default=[], help="a till/paybill number (repeatable)")
        parser.add_argument("--branches", action="store_true", help="also every branch's till and paybill number")
        parser.add_argument(
            "--response-type",
            choices=["Completed", "Cancelled"],
            default="Completed",
            help="what Safaricom does when the validation URL cannot be reached (default: Completed, accept)",
        )
        parser.add_argument(
            "--base-url",
            default="",
            help="simulator only: the address the simulator should post to (default MPESA_CALLBACK_BASE_URL)",
        )
        parser.add_argument("--api-version", choices=["v1", "v2"], default="v2", help="Daraja register URL version")

    def handle(self, *args, **options):
        config = get_config()
        if not config.callback_secret:
            raise CommandError("MPESA_CALLBACK_SECRET is empty: the callback URLs would be open to anyone.")
        if options["base_url"]:
            if not config.is_simulator:
                raise CommandError("--base-url is for the local simulator; set MPESA_CALLBACK_BASE_URL for Safaricom.")
            config = dataclasses.replace(config, callback_base_url=options["base_url"].rstrip("/"))
        try:
            confirmation = callback_url(
                reverse("cashdesk:c2b_confirmation", args=[config.callback_secret]), config=config
            )
            validation = callback_url(reverse("cashdesk:c2b_validation", args=[config.callback_secret]), config=config)
        except CallbackURLError as exc:
            raise CommandError(f"Safaricom would refuse our callback URL: {exc}") from exc
        shortcodes = list(dict.fromkeys(options["shortcode"] or [config.shortcode]))
        if options["branches"]:
            for branch in Branch.objects.filter(is_active=True):
                for code in (branch.mpesa_till_number, branch.mpesa_paybill):
                    if code and code not in shortcodes:
                        shortcodes.append(code)
        failures = 0
        with DarajaClient(config) as client:
            for shortcode in shortcodes:
                try:
                    result = client.register_c2b_urls(
                        confirmation,
                        validation,
                        options["response_type"],
                        shortcode=shortcode,
                        version=options["api_version"],
                    )
                except DarajaError as exc:
                    failures += 1
                    self.stderr.write(self.style.ERROR(f"{shortcode}: {exc.message}"))
                    continue
                self.stdout.write(
                    self.style.SUCCESS(
                        f"{shortcode}: {result.response_description or 'registered'} ({config.environment})"
                    )
                )
        # The secret is in the paths: show where they point without printing it.
        base = config.callback_base_url
        self.stdout.write(f"Confirmation and validation URLs: {base}/cash/hooks/<MPESA_CALLBACK_SECRET>/c2b/…")
        if failures:
            raise CommandError(f"{failures} of {len(shortcodes)} shortcode(s) could not be registered.")
