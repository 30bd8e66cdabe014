"""`mirador rollup_returns [--country CC ...]`: count the arrivals registered at each country's
reception centres into the observatory's "returns received" figures (a corrected revision of
source "mirador-returns" for the months they cover). Run it daily (cron, a systemd timer);
with nothing registered since the last run it changes nothing."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from mirador.core.audit import request_context
from mirador.core.errors import ApplicationError
from mirador.core.models import Country
from mirador.returns.models import Arrival
from mirador.returns.services import returns_received_rollup


class Command(BaseCommand):
    help = "Count registered arrivals into the observatory's returns-received figures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--country",
            action="append",
            default=[],
            help="ISO code of a country whose centres' arrivals to count (repeatable); "
            "default: every country with arrivals",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        codes = [code.strip().upper() for code in options["country"]] or sorted(
            set(Arrival.objects.values_list("centre__country_id", flat=True).distinct())
        )
        countries = {country.pk: country for country in Country.objects.filter(pk__in=codes)}
        unknown = [code for code in codes if code not in countries]
        if unknown:
            raise CommandError(_("Unknown country codes: %s.") % ", ".join(unknown))
        if not codes:
            self.stdout.write(_("No arrivals are registered: nothing to count."))
            return
        for code in codes:
            try:
                with request_context(ip_address=None, channel="cli"):
                    report = returns_received_rollup(actor=None, country=countries[code])
            except ApplicationError as error:
                raise CommandError(error.message) from None
            if not report.ok:
                raise CommandError(report.summary())
            self.stdout.write(f"{code}: {report.summary()}")
