"""Writes of the flows app: importing a file as a batch of observations, rolling a batch back.

An import is all or nothing: the file is read through its mapping (flows.engine) and its
observations are stored in one transaction, in chunks, under a new batch; if any row has a
problem the transaction is rolled back and only a failed batch with its error report remains.
The same file (same SHA-256) imported again in the same format changes nothing.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mirador.core.errors import ApplicationError
from mirador.flows.duplicates import combine_duplicates
from mirador.flows.engine import (
    ISSUE_FIELDS,
    FileInfo,
    ImportIssue,
    Mapping,
    MappingError,
    ParsedObservation,
    ReadResult,
    inspect_file,
    mapping_for,
    read_observations,
)
from mirador.flows.models import (
    BatchStatus,
    Dataset,
    ImportBatch,
    Observation,
    allowed_values,
)
from mirador.flows.records import RecordWriter, record_writer
from mirador.flows.storage import store

if TYPE_CHECKING:
    from mirador.accounts.models import User

# How many issues a failed batch keeps in the database; the full list is in the report.
ISSUES_STORED = 1_000


class BatchStateError(ApplicationError):
    code = "batch_state"
    http_status = 409
    default_message = gettext_lazy("The batch cannot be changed in its present state.")


class ImportOutcome:
    IMPORTED = "imported"
    FAILED = "failed"
    ALREADY_IMPORTED = "already_imported"
    VALID = "valid"  # a dry run found nothing wrong


@dataclass
class ImportReport:
    outcome: str
    format_code: str
    dataset: str
    file: FileInfo
    result: ReadResult = field(default_factory=ReadResult)
    batch: ImportBatch | None = None

    @property
    def ok(self) -> bool:
        return self.outcome != ImportOutcome.FAILED

    @property
    def issues(self) -> list[ImportIssue]:
        return self.result.issues

    def summary(self) -> str:
        values = {
            "file": self.file.name,
            "format": self.format_code,
            "dataset": self.dataset,
            "rows": self.result.rows_read,
            "dropped": self.result.rows_dropped,
            "observations": self.result.observations,
            "errors": self.result.issue_count,
            "batch": self.batch.pk if self.batch else "",
        }
        if self.outcome == ImportOutcome.ALREADY_IMPORTED:
            return (
                _("%(file)s was already imported as %(format)s (batch %(batch)s): nothing changed.")
                % values
            )
        if self.outcome == ImportOutcome.IMPORTED:
            return (
                _(
                    "%(file)s imported as %(format)s into %(dataset)s: %(rows)s rows read, "
                    "%(dropped)s left out, %(observations)s observations stored (batch %(batch)s)."
                )
                % values
            ) + self._left_out()
        if self.outcome == ImportOutcome.VALID:
            return (
                _(
                    "%(file)s is valid as %(format)s: %(rows)s rows read, %(dropped)s left out, "
                    "%(observations)s observations would be stored (dry run: nothing stored)."
                )
                % values
            ) + self._left_out()
        return _("%(file)s was not imported: %(errors)s problems found, nothing stored.") % values

    def _left_out(self) -> str:
        """What the mapping's skip_non_countries left out, named (never left out silently)."""
        if not self.result.left_out:
            return ""
        parts = [
            f"{what} ({rows})" if rows else what
            for what, rows in sorted(self.result.left_out.items())
        ]
        return " " + _("Left out as not countries: %(what)s.") % {"what": "; ".join(parts)}

    def write_issues_csv(self, path: Path) -> None:
        write_issues_csv(self.issues, path)


def write_issues_csv(issues: Iterable[ImportIssue], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ISSUE_FIELDS)
        for issue in issues:
            writer.writerow(
                [issue.file, issue.sheet, issue.row or "", issue.column, issue.value, issue.reason]
            )


def allowed_codes(dataset: Dataset, mapping: Mapping) -> dict[str, set[str]]:
    """The codes each dimension of `dataset` accepts; refuses a mapping that does not give
    exactly the dataset's dimensions. Shared by imports and upload previews."""
    dimensions = {dimension.code: dimension for dimension in dataset.dimensions.all()}
    mapped = mapping.mapped_dimensions()
    if mapped != set(dimensions):
        raise MappingError(
            _(
                "The mapping does not fit the dataset %(dataset)s: it declares %(declared)s; "
                "the mapping gives %(mapped)s."
            )
            % {
                "dataset": dataset.code,
                "declared": ", ".join(sorted(dimensions)),
                "mapped": ", ".join(sorted(mapped)),
            }
        )
    return {code: allowed_values(dimension) for code, dimension in dimensions.items()}


def import_rows(
    mapping: Mapping,
    info: FileInfo,
    dataset: Dataset,
    result: ReadResult,
    records: RecordWriter | None = None,
) -> Iterator[ParsedObservation]:
    """The observations a file gives, checked and counted, duplicates resolved: what an import
    stores and an upload preview shows. Problems go to `result`."""
    # Not a generator itself: the codes are read from the database now, before the caller
    # starts writing (a COPY in progress holds the connection).
    allowed = allowed_codes(dataset, mapping)
    rows = read_observations(
        mapping,
        info,
        allowed=allowed,
        result=result,
        on_record=records.add if records is not None else None,
    )
    return _counted(
        combine_duplicates(
            rows, sum_duplicates=mapping.sum_duplicates, result=result, file_name=info.name
        ),
        result,
    )


def _counted(rows: Iterator[ParsedObservation], result: ReadResult) -> Iterator[ParsedObservation]:
    for observation in rows:
        result.observations += 1
        yield observation


class _InvalidFile(Exception):
    """Raised inside the storing transaction to roll it back."""


@transaction.atomic
def batch_import(
    *,
    actor: User | None,
    format_code: str,
    path: Path | str,
    mapping_path: Path | str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Import a file in a format (a mapping of flows/formats, or the one given). Returns a
    report; raises ApplicationError only for a file or mapping that cannot be read at all."""
    mapping = mapping_for(format_code, Path(path), Path(mapping_path) if mapping_path else None)
    info = inspect_file(Path(path), encoding=mapping.encoding, reader=mapping.reader)
    try:
        dataset = Dataset.objects.get(code=mapping.dataset)
    except Dataset.DoesNotExist as error:
        raise MappingError(
            _("The mapping names the dataset %(code)s, which does not exist.")
            % {"code": mapping.dataset}
        ) from error
    report = ImportReport(
        outcome=ImportOutcome.VALID, format_code=mapping.code, dataset=dataset.code, file=info
    )
    existing = ImportBatch.objects.filter(
        format_code=mapping.code, sha256=info.sha256, status=BatchStatus.IMPORTED
    ).first()
    if existing is not None:
        report.outcome, report.batch = ImportOutcome.ALREADY_IMPORTED, existing
        return report

    result = report.result
    if dry_run:
        checker = record_writer(mapping, dataset, None, result)
        for _observation in import_rows(mapping, info, dataset, result, checker):
            pass
        report.outcome = ImportOutcome.VALID if not result.issue_count else ImportOutcome.FAILED
        return report

    started_at = timezone.now()
    batch_fields = {
        "dataset": dataset,
        "format_code": mapping.code,
        "file_name": info.name,
        "sha256": info.sha256,
        "size": info.size,
        "started_at": started_at,
        "created_by": actor,
        "modified_by": actor,
    }
    try:
        with transaction.atomic():
            batch = ImportBatch.objects.create(status=BatchStatus.IMPORTED, **batch_fields)
            records = record_writer(mapping, dataset, batch, result)
            store(
                batch,
                dataset,
                import_rows(mapping, info, dataset, result, records),
                result,
            )
            if records is not None:
                records.close()
            if result.issue_count:
                raise _InvalidFile
            batch.rows_read = result.rows_read
            batch.observation_count = result.observations
            batch.finished_at = timezone.now()
            batch.save(update_fields=["rows_read", "observation_count", "finished_at"])
    except _InvalidFile:
        report.outcome = ImportOutcome.FAILED
        report.batch = ImportBatch.objects.create(
            status=BatchStatus.FAILED,
            rows_read=result.rows_read,
            finished_at=timezone.now(),
            error_count=result.issue_count,
            error_report=[issue.as_dict() for issue in result.issues[:ISSUES_STORED]],
            **batch_fields,
        )
        return report
    except IntegrityError:
        # Another import of the same file finished first.
        existing = ImportBatch.objects.filter(
            format_code=mapping.code, sha256=info.sha256, status=BatchStatus.IMPORTED
        ).first()
        if existing is None:
            raise
        report.outcome, report.batch = ImportOutcome.ALREADY_IMPORTED, existing
        report.result = ReadResult()
        return report
    report.outcome, report.batch = ImportOutcome.IMPORTED, batch
    return report


@transaction.atomic
def batch_rollback(*, actor: User | None, batch: ImportBatch) -> int:
    """Remove an imported batch's observations; the batch stays, marked rolled back, so that
    its provenance is kept. Returns how many observations were removed."""
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != BatchStatus.IMPORTED:
        raise BatchStateError(_("Only an imported batch can be rolled back."))
    removed, _details = Observation.objects.filter(batch=batch).delete()
    batch.status = BatchStatus.ROLLED_BACK
    batch.modified_by = actor
    batch.save(update_fields=["status", "modified_by", "modified_at"])
    return removed
