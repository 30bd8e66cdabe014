"""`mirador load_reference_data`: reload the reference data, e.g. after a pycountry upgrade."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mirador.core.reference_data import DATA_DIR, ReferenceDataError, load_reference_data


class Command(BaseCommand):
    help = (
        "Load or update the reference data (countries, subdivisions, organisation types, "
        "organisations, reception centres, consulates). Running it twice changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--update-existing",
            action="store_true",
            help="Also bring organisations, reception centres and consulates back to the CSV "
            "files, overwriting edits made in the admin.",
        )
        parser.add_argument(
            "--data-dir",
            type=Path,
            default=DATA_DIR,
            help="Directory holding organisations.csv, reception_centres.csv and consulates.csv.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            results = load_reference_data(
                apps, data_dir=options["data_dir"], update_existing=options["update_existing"]
            )
        except (ReferenceDataError, FileNotFoundError) as error:
            raise CommandError(str(error)) from None
        for table, counts in results.items():
            line = (
                f"{table}: {counts.in_source} in source, {counts.created} created, "
                f"{counts.updated} updated, {counts.unchanged} unchanged"
            )
            if counts.kept_as_edited:
                line += f", {counts.kept_as_edited} differ from the source and were kept as edited"
            if counts.not_in_source:
                line += f", {counts.not_in_source} in the database only (kept)"
            self.stdout.write(line)
