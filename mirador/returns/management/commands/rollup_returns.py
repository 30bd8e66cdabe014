"""`mirador rollup_returns [--country CC ...]`: count the arrivals registered at each country's
reception centres into the observatory's "returns received" figures (return events: a
corrected revision of source "mirador-returns" for the months they cover) and its "persons
returned" figures (persons, and those returned again within twelve months: source
"mirador-returns-persons", mirador.returns.persons_returned). Run it daily (cron, a systemd
timer); with nothing registered since the last run it changes nothing, except when a month's
twelve months of follow-up come to an end."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from mirador.core.audit import request_context
from mirador.core.errors import ApplicationError
from mirador.core.models import Country
from mirador.returns.models import Arrival
from mirador.returns.persons_returned import returns_persons_rollup
from mirador.returns.services import returns_received_rollup


class Command(BaseCommand):
    help = (
        "Count registered arrivals into the observatory's returns-received (events) and "
        "returns-persons (persons, returned again) figures."
    )

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
            for rollup in (returns_received_rollup, returns_persons_rollup):
                try:
                    with request_context(ip_address=None, channel="cli"):
                        report = rollup(actor=None, country=countries[code])
                except ApplicationError as error:
                    raise CommandError(error.message) from None
                if not report.ok:
                    raise CommandError(report.summary())
                self.stdout.write(f"{code}: {report.summary()}")
