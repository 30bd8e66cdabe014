"""`mirador import FORMAT FILE`: import a table into the observatory through its mapping.

Prints a one-line summary, or the first problems found (all of them go to --errors-csv).
Nothing is stored unless the whole file is valid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from mirador.core.audit import request_context
from mirador.core.errors import ApplicationError
from mirador.flows.engine import available_formats
from mirador.flows.services import batch_import

ISSUES_SHOWN = 20


class Command(BaseCommand):
    help = "Import a table (CSV) into the observatory through a format's mapping."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("format", help=f"format code, one of: {', '.join(available_formats())}")
        parser.add_argument("file", type=Path, help="the file to import")
        parser.add_argument(
            "--mapping", type=Path, help="a mapping file (TOML) instead of the format's own"
        )
        parser.add_argument("--dry-run", action="store_true", help="check the file, store nothing")
        parser.add_argument(
            "--errors-csv", type=Path, help="write every problem found to this CSV file"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        errors_csv: Path | None = options["errors_csv"]
        try:
            with request_context(ip_address=None, channel="cli"):
                report = batch_import(
                    actor=None,
                    format_code=options["format"],
                    path=options["file"],
                    mapping_path=options["mapping"],
                    dry_run=options["dry_run"],
                )
        except ApplicationError as error:
            raise CommandError(error.message) from None
        if errors_csv is not None and report.issues:
            report.write_issues_csv(errors_csv)
        if report.ok:
            self.stdout.write(report.summary())
            return
        for issue in report.issues[:ISSUES_SHOWN]:
            where = ", ".join(
                part
                for part in (
                    issue.file,
                    _("sheet %s") % issue.sheet if issue.sheet else "",
                    _("row %s") % issue.row if issue.row else "",
                    _("column “%s”") % issue.column if issue.column else "",
                    _("value “%s”") % issue.value if issue.value else "",
                )
                if part
            )
            self.stderr.write(f"{where}: {issue.reason}")
        hidden = report.result.issue_count - min(len(report.issues), ISSUES_SHOWN)
        if hidden > 0:
            hint = (
                _("the full list is in %s") % errors_csv
                if errors_csv is not None
                else _("use --errors-csv FILE for the full list")
            )
            self.stderr.write(
                _("… and %(count)s more (%(hint)s).") % {"count": hidden, "hint": hint}
            )
        raise CommandError(report.summary())
