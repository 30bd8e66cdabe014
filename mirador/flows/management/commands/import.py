"""`mirador import FORMAT FILE`: import a table into the observatory through its mapping;
`mirador import --rollback BATCH_ID`: roll an imported batch back.

Prints a one-line summary, or the first problems found (all of them go to --errors-csv).
Nothing is stored unless the whole file is valid, or --keep-valid is given (the rows with
problems are then set aside and listed in --errors-csv). A file covering periods its source
already has figures for is refused unless --replace stores it as a corrected revision.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from mirador.core.audit import request_context
from mirador.core.errors import ApplicationError
from mirador.flows.engine import available_formats
from mirador.flows.models import ImportBatch
from mirador.flows.services import batch_import, batch_rollback

ISSUES_SHOWN = 20


class Command(BaseCommand):
    # The system checks load every app's URLs and API (the linkage engine with pandas): seconds
    # and a hundred MiB before a file is read. `mirador check` and the server run them.
    requires_system_checks: list[str] = []
    help = (
        "Import a table into the observatory through a format's mapping: "
        "mirador import FORMAT FILE [--mapping M] [--dry-run] [--replace] [--keep-valid] "
        "[--errors-csv R]. Roll an imported batch back (its figures go to history; those it "
        "had replaced as a revision become current again): mirador import --rollback BATCH_ID."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "format", nargs="?", help=f"format code, one of: {', '.join(available_formats())}"
        )
        parser.add_argument("file", nargs="?", type=Path, help="the file to import")
        parser.add_argument(
            "--mapping", type=Path, help="a mapping file (TOML) instead of the format's own"
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check the file and say what it would replace; store nothing",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help=(
                "store the file as a corrected revision of its source: it replaces the "
                "source's current figures for the periods it covers (kept in history)"
            ),
        )
        parser.add_argument(
            "--keep-valid",
            action="store_true",
            help=(
                "store the valid rows and set aside the rows with problems (listed with "
                "their reasons in --errors-csv); a problem of the file itself stores nothing"
            ),
        )
        parser.add_argument(
            "--errors-csv", type=Path, help="write every problem found to this CSV file"
        )
        parser.add_argument(
            "--rollback",
            metavar="BATCH_ID",
            help="roll back this imported batch instead of importing (no FORMAT or FILE)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["rollback"]:
            if options["format"] or options["file"]:
                raise CommandError(
                    _("Give either --rollback BATCH_ID or FORMAT FILE to import, not both.")
                )
            self._rollback(options["rollback"])
            return
        if not options["format"] or not options["file"]:
            raise CommandError(
                _("Give the format and the file: mirador import FORMAT FILE (see --help).")
            )
        errors_csv: Path | None = options["errors_csv"]
        try:
            with request_context(ip_address=None, channel="cli"):
                report = batch_import(
                    actor=None,
                    format_code=options["format"],
                    path=options["file"],
                    mapping_path=options["mapping"],
                    dry_run=options["dry_run"],
                    replace=options["replace"],
                    keep_valid=options["keep_valid"],
                )
        except ApplicationError as error:
            raise CommandError(error.message) from None
        if errors_csv is not None and report.issues:
            report.write_issues_csv(errors_csv)
        if report.ok and not report.issues:
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
        if report.ok:  # stored, with the rows that had problems set aside
            self.stdout.write(report.summary())
            return
        raise CommandError(report.summary())

    def _rollback(self, batch_id: str) -> None:
        try:
            batch = ImportBatch.objects.get(pk=uuid.UUID(batch_id))
        except (ValueError, ImportBatch.DoesNotExist):
            raise CommandError(_("There is no import batch %(id)s.") % {"id": batch_id}) from None
        try:
            with request_context(ip_address=None, channel="cli"):
                removed = batch_rollback(actor=None, batch=batch)
        except ApplicationError as error:
            raise CommandError(error.message) from None
        batch.refresh_from_db()
        self.stdout.write(
            _(
                "Batch %(id)s (%(file)s) rolled back: %(removed)s observations removed from "
                "the current figures (kept in history)."
            )
            % {"id": batch.pk, "file": batch.file_name, "removed": removed}
        )
