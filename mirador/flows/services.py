"""Writes of the flows app: importing a file as a batch of observations, storing it as a
corrected revision of its source, rolling a batch back.

An import is all or nothing: the file is read through its mapping (flows.engine) and its
observations are stored in one transaction, in chunks, under a new batch; if any row has a
problem the transaction is rolled back and only a failed batch with its error report remains.
With `keep_valid` the user chooses otherwise: the rows with problems are set aside (counted on
the batch, listed in its report) and the others stored; a problem of the file itself (a missing
column, no header, a wrong constant of the mapping, a file that cannot be read) still stores
nothing. The same file (same SHA-256) imported again in the same format changes nothing.

Revisions: a batch belongs to its mapping's source. An import covering periods (and reporting
countries) for which the same source already has current figures in the dataset is refused,
naming them, unless it is asked to replace them (`replace`): then, in the same transaction, the
figures it replaces move to ObservationHistory (with the interval during which they were
current and the revision that ended it) and leave Observation, in a few set-based statements
whatever the number of rows. A rollback moves a batch's current figures to history and makes
the figures it had replaced current again, unless a later revision replaced them too.
"""

from __future__ import annotations

import csv
import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from mirador.accounts import permissions
from mirador.core.audit import audit_record
from mirador.core.errors import ApplicationError, PermissionDeniedError
from mirador.core.models import AuditAction
from mirador.flows.columnar import read_blocks
from mirador.flows.duplicates import combine_duplicate_blocks
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
)
from mirador.flows.models import (
    OBSERVATION_DIMENSIONS,
    BatchStatus,
    Dataset,
    HistoryReason,
    ImportBatch,
    Incident,
    Observation,
    ObservationHistory,
    PeriodType,
    Series,
    SeriesValue,
    allowed_values,
)
from mirador.flows.records import RecordWriter, record_writer
from mirador.flows.series import ObservationBlock, SeriesRegistry, rows_from_blocks
from mirador.flows.storage import SERIES_COLUMNS, store

if TYPE_CHECKING:
    from mirador.accounts.models import User

# How many issues a failed batch keeps in the database; the full list is in the report.
ISSUES_STORED = 1_000
# How often (in observations) an import tells its progress callback how far it has read.
PROGRESS_EVERY = 10_000
# How many periods and batches a message names before saying "and N more".
NAMED_IN_MESSAGES = 12

# progress(rows_read) while an import reads and stores.
ProgressCallback = Callable[[int], None]
# What a batch covers, and so what a revision replaces: (period, reporting country), the
# country "" for a dataset without that dimension (its observations all hold "").
CoverageKey = tuple[datetime.date, str]
_REPORTING_AT = OBSERVATION_DIMENSIONS.index("reporting_country")


class BatchStateError(ApplicationError):
    code = "batch_state"
    http_status = 409
    default_message = gettext_lazy("The batch cannot be changed in its present state.")


class ImportOutcome:
    IMPORTED = "imported"
    FAILED = "failed"
    ALREADY_IMPORTED = "already_imported"
    VALID = "valid"  # a dry run found nothing wrong
    # The file would replace current figures of its source and was not asked to.
    REVISION_REFUSED = "revision_refused"


@dataclass
class ImportResult(ReadResult):
    """A ReadResult that also tells the problems of the file itself (which store nothing
    even when valid rows may be kept) from those of single rows (which may be set aside).

    A problem of the file does not point at a cell of a data row: it has no row (a constant
    of the mapping), or is at or above the header row (a missing column, no header, a wrong
    column name of a wide layout), or names neither a column nor a value (a file that is not
    text or not a readable table from some record on: the rest of it was never read)."""

    header_row: int = 1
    file_problems: int = 0
    rows_set_aside: set[tuple[str, int]] = field(default_factory=set)

    def add(self, issue: ImportIssue) -> None:
        super().add(issue)
        if issue.row is None or issue.row <= self.header_row or not (issue.column or issue.value):
            self.file_problems += 1
        else:
            self.rows_set_aside.add((issue.sheet, issue.row))


@dataclass
class RevisionPlan:
    """What storing a file would replace: the current figures of the same source and dataset
    for the periods (and reporting countries) the file covers."""

    observations: int = 0
    periods: list[datetime.date] = field(default_factory=list)
    period_type: str = PeriodType.MONTH
    # (batch id, file name, when it was imported, how many of its observations)
    batches: list[tuple[str, str, datetime.datetime | None, int]] = field(default_factory=list)

    @property
    def replaces_anything(self) -> bool:
        return self.observations > 0

    def describe_periods(self) -> str:
        return describe_periods(self.periods, self.period_type)

    def describe_batches(self) -> str:
        names = [
            _("batch %(id)s (%(file)s, imported %(date)s)")
            % {
                "id": batch_id,
                "file": file_name,
                "date": f"{finished:%Y-%m-%d %H:%M} UTC" if finished else "?",
            }
            for batch_id, file_name, finished, _count in self.batches[:NAMED_IN_MESSAGES]
        ]
        hidden = len(self.batches) - len(names)
        if hidden > 0:
            names.append(_("and %(count)s more") % {"count": hidden})
        return "; ".join(names)

    def as_dict(self) -> dict[str, Any]:
        return {
            "observations": self.observations,
            "periods": self.describe_periods(),
            "batches": [
                {"id": batch_id, "file_name": file_name, "observations": count}
                for batch_id, file_name, _finished, count in self.batches
            ],
        }


def describe_periods(periods: Iterable[datetime.date], period_type: str) -> str:
    """Periods as ranges of consecutive ones: "2022-10 to 2023-09, 2024-01"."""
    yearly = period_type == PeriodType.YEAR
    ordered = sorted(set(periods))

    def label(period: datetime.date) -> str:
        return f"{period:%Y}" if yearly else f"{period:%Y-%m}"

    def following(period: datetime.date) -> datetime.date:
        if yearly:
            return period.replace(year=period.year + 1)
        if period.month == 12:
            return period.replace(year=period.year + 1, month=1)
        return period.replace(month=period.month + 1)

    ranges: list[tuple[datetime.date, datetime.date]] = []
    for period in ordered:
        if ranges and following(ranges[-1][1]) == period:
            ranges[-1] = (ranges[-1][0], period)
        else:
            ranges.append((period, period))
    parts = [
        label(first)
        if first == last
        else _("%(first)s to %(last)s") % {"first": label(first), "last": label(last)}
        for first, last in ranges
    ]
    hidden = len(parts) - NAMED_IN_MESSAGES
    if hidden > 0:
        parts = parts[:NAMED_IN_MESSAGES] + [_("and %(count)s more") % {"count": hidden}]
    return ", ".join(parts)


@dataclass
class ImportReport:
    outcome: str
    format_code: str
    dataset: str
    file: FileInfo
    result: ImportResult = field(default_factory=ImportResult)
    batch: ImportBatch | None = None
    source: str = ""
    # What the file replaces (dry run, refusal) or replaced (a stored revision).
    revision: RevisionPlan = field(default_factory=RevisionPlan)
    keep_valid: bool = False

    @property
    def ok(self) -> bool:
        return self.outcome not in (ImportOutcome.FAILED, ImportOutcome.REVISION_REFUSED)

    @property
    def issues(self) -> list[ImportIssue]:
        return self.result.issues

    @property
    def set_aside_count(self) -> int:
        return len(self.result.rows_set_aside)

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
        if self.outcome == ImportOutcome.REVISION_REFUSED:
            return self.revision_refusal()
        if self.outcome == ImportOutcome.IMPORTED:
            return (
                (
                    _(
                        "%(file)s imported as %(format)s into %(dataset)s: %(rows)s rows read, "
                        "%(dropped)s left out, %(observations)s observations stored "
                        "(batch %(batch)s)."
                    )
                    % values
                )
                + self._set_aside()
                + self._replaced(done=True)
                + self._left_out()
            )
        if self.outcome == ImportOutcome.VALID:
            return (
                (
                    _(
                        "%(file)s is valid as %(format)s: %(rows)s rows read, %(dropped)s left "
                        "out, %(observations)s observations would be stored (dry run: nothing "
                        "stored)."
                    )
                    % values
                )
                + self._replaced(done=False)
                + self._left_out()
            )
        summary = (
            _("%(file)s was not imported: %(errors)s problems found, nothing stored.") % values
        )
        if self.keep_valid and self.result.file_problems:
            summary += " " + _(
                "Some are problems of the file itself (not of single rows), so no rows could "
                "be kept."
            )
        elif not self.keep_valid and self.result.issue_count and not self.result.file_problems:
            summary += " " + ngettext(
                "The other rows are valid: %(count)s row has problems and could be set aside "
                "(--keep-valid).",
                "The other rows are valid: %(count)s rows have problems and could be set "
                "aside (--keep-valid).",
                self.set_aside_count,
            ) % {"count": self.set_aside_count}
        return summary + self._replaced(done=False)

    def revision_refusal(self) -> str:
        return _(
            "%(file)s holds figures of %(source)s for %(periods)s, which %(batches)s already "
            "hold (%(count)s current observations of %(dataset)s): nothing stored. If the file "
            "is a corrected revision, store it so that it replaces those figures (kept in "
            "history, and restored if the revision is rolled back): mirador import --replace "
            "on the command line, “Replace the current figures” on the upload page, or "
            "replace=true in the API."
        ) % {
            "file": self.file.name,
            "source": self.source,
            "periods": self.revision.describe_periods(),
            "batches": self.revision.describe_batches(),
            "count": self.revision.observations,
            "dataset": self.dataset,
        }

    def _set_aside(self) -> str:
        if not self.set_aside_count:
            return ""
        return " " + ngettext(
            "%(count)s row with problems was set aside, not stored (see the report).",
            "%(count)s rows with problems were set aside, not stored (see the report).",
            self.set_aside_count,
        ) % {"count": self.set_aside_count}

    def _replaced(self, *, done: bool) -> str:
        if not self.revision.replaces_anything:
            return ""
        values = {
            "count": self.revision.observations,
            "periods": self.revision.describe_periods(),
            "batches": self.revision.describe_batches(),
        }
        if done:
            return " " + (
                _(
                    "As a corrected revision it replaced %(count)s observations of %(periods)s "
                    "from %(batches)s; they are kept in history."
                )
                % values
            )
        return " " + (
            _(
                "It is a revision: storing it would replace %(count)s current observations of "
                "%(periods)s from %(batches)s (only when asked to replace them)."
            )
            % values
        )

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


def write_issues_csv(issues: Iterable[ImportIssue | dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        write_issues(issues, handle)


def write_issues(issues: Iterable[ImportIssue | dict[str, Any]], handle: Any) -> None:
    """The report's CSV: file, sheet, row, column, value, reason, one line per problem."""
    writer = csv.writer(handle)
    writer.writerow(ISSUE_FIELDS)
    for issue in issues:
        entry = issue.as_dict() if isinstance(issue, ImportIssue) else issue
        writer.writerow(
            [
                entry["file"],
                entry["sheet"],
                entry["row"] or "",
                entry["column"],
                entry["value"],
                entry["reason"],
            ]
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
    *,
    reporting_countries: frozenset[str] | None = None,
    coverage: set[CoverageKey] | None = None,
    progress: ProgressCallback | None = None,
) -> Iterator[ParsedObservation]:
    """`import_blocks` one observation at a time: what an upload preview shows."""
    registry = SeriesRegistry()
    blocks = import_blocks(
        mapping,
        info,
        dataset,
        result,
        registry,
        records,
        reporting_countries=reporting_countries,
        coverage=coverage,
        progress=progress,
    )
    return rows_from_blocks(blocks, registry)


def import_blocks(
    mapping: Mapping,
    info: FileInfo,
    dataset: Dataset,
    result: ReadResult,
    registry: SeriesRegistry,
    records: RecordWriter | None = None,
    *,
    reporting_countries: frozenset[str] | None = None,
    coverage: set[CoverageKey] | None = None,
    progress: ProgressCallback | None = None,
) -> Iterator[ObservationBlock]:
    """The observations a file gives, in blocks (their series numbered in `registry`),
    checked and counted, duplicates resolved: what an import stores. Problems go to `result`.

    `reporting_countries` (None: any) are the countries whose figures the importer may store:
    a row of another is a problem naming it. `coverage`, if given, collects the (period,
    reporting country) pairs of the observations, which is what a revision replaces.
    `progress` is called with the rows read so far every PROGRESS_EVERY observations."""
    # Not a generator itself: the codes are read from the database now, before the caller
    # starts writing (a COPY in progress holds the connection).
    allowed = allowed_codes(dataset, mapping)
    if isinstance(result, ImportResult):
        result.header_row = mapping.header_row
    blocks = read_blocks(
        mapping,
        info,
        allowed=allowed,
        result=result,
        registry=registry,
        on_record=records.add if records is not None else None,
    )
    return _admitted(
        combine_duplicate_blocks(
            blocks,
            registry,
            sum_duplicates=mapping.sum_duplicates,
            result=result,
            file_name=info.name,
        ),
        registry,
        result,
        file_name=info.name,
        reporting_countries=reporting_countries,
        coverage=coverage,
        progress=progress,
    )


def _admitted(
    blocks: Iterator[ObservationBlock],
    registry: SeriesRegistry,
    result: ReadResult,
    *,
    file_name: str,
    reporting_countries: frozenset[str] | None,
    coverage: set[CoverageKey] | None,
    progress: ProgressCallback | None,
) -> Iterator[ObservationBlock]:
    """What is counted per observation, a block at a time: the reporting countries the
    importer may store, the coverage, the count and the progress."""
    next_progress = PROGRESS_EVERY
    dates: dict[int, datetime.date] = {}
    for block in blocks:
        if not len(block):
            continue
        countries, country_of = registry.codes_at(_REPORTING_AT)
        if reporting_countries is not None:
            refused = np.asarray(
                [bool(code) and code not in reporting_countries for code in countries],
                dtype=np.bool_,
            )[country_of[block.series]]
            if refused.any():
                for at in np.flatnonzero(refused).tolist():
                    sheet, _type, coordinates = registry.keys[int(block.series[at])]
                    reporting = coordinates[_REPORTING_AT]
                    result.add(
                        ImportIssue(
                            file_name,
                            sheet,
                            int(block.rows[at]),
                            "reporting_country",
                            reporting,
                            _(
                                "You may import only figures reported by %(countries)s; this "
                                "row is reported by %(country)s."
                            )
                            % {
                                "countries": ", ".join(sorted(reporting_countries)) or "-",
                                "country": reporting,
                            },
                        )
                    )
                block = block.take(~refused)
                if not len(block):
                    continue
        result.observations += len(block)
        if coverage is not None:
            pairs = np.unique(block.periods * len(countries) + country_of[block.series]).tolist()
            for pair in pairs:
                ordinal, country = divmod(pair, len(countries))
                period = dates.get(ordinal)
                if period is None:
                    period = dates[ordinal] = datetime.date.fromordinal(ordinal)
                coverage.add((period, countries[country]))
        if progress is not None and result.observations >= next_progress:
            next_progress = (result.observations // PROGRESS_EVERY + 1) * PROGRESS_EVERY
            progress(result.rows_read)
        yield block
    if progress is not None:
        progress(result.rows_read)


# --- Revisions: what a file replaces --------------------------------------------------------


def _coverage_sql(coverage: set[CoverageKey], alias: str) -> tuple[str, list[Any]]:
    """A WHERE fragment selecting the rows of `alias` at the covered (period, reporting
    country) pairs: one `reporting_country = %s AND period IN (...)` per country, so that the
    (dataset, period, ...) index finds them."""
    by_country: dict[str, list[datetime.date]] = defaultdict(list)
    for period, country in sorted(coverage):
        by_country[country].append(period)
    parts: list[str] = []
    params: list[Any] = []
    for country, periods in by_country.items():
        marks = ", ".join(["%s"] * len(periods))
        parts.append(f"({alias}.reporting_country = %s AND {alias}.period IN ({marks}))")
        params.append(country)
        params.extend(connection.ops.adapt_datefield_value(period) for period in periods)
    return "(" + " OR ".join(parts) + ")", params


def _coverage_q(coverage: set[CoverageKey]) -> Q:
    by_country: dict[str, list[datetime.date]] = defaultdict(list)
    for period, country in coverage:
        by_country[country].append(period)
    condition = Q(pk__in=[])
    for country, periods in by_country.items():
        condition |= Q(reporting_country=country, period__in=periods)
    return condition


def _current_of_source(
    dataset: Dataset, source: str, coverage: set[CoverageKey], exclude_batch: ImportBatch | None
) -> Any:
    """The current observations of the source's other imported batches at covered keys. The
    batches are looked up first: a source's first import (the usual case) then reads no
    observation at all, rather than passing over its own millions of rows."""
    batches = ImportBatch.objects.filter(
        dataset=dataset, source=source, status=BatchStatus.IMPORTED
    )
    if exclude_batch is not None:
        batches = batches.exclude(pk=exclude_batch.pk)
    batch_ids = list(batches.values_list("pk", flat=True))
    if not batch_ids or not coverage:
        return Observation.objects.none()
    return Observation.objects.filter(
        _coverage_q(coverage), dataset=dataset, batch_id__in=batch_ids
    )


def revision_plan(
    *,
    dataset: Dataset,
    source: str,
    coverage: set[CoverageKey],
    period_type: str = PeriodType.MONTH,
    exclude_batch: ImportBatch | None = None,
) -> RevisionPlan:
    """The current figures of `source` in `dataset` that a file covering `coverage` would
    replace: how many, of which periods, from which batches."""
    plan = RevisionPlan(period_type=period_type)
    if not coverage:
        return plan
    current = _current_of_source(dataset, source, coverage, exclude_batch)
    by_batch = (
        current.values("batch_id", "batch__file_name", "batch__finished_at")
        .annotate(count=Count("id"), first=Min("period"), last=Max("period"))
        .order_by("batch__finished_at")
    )
    for entry in by_batch:
        plan.batches.append(
            (
                str(entry["batch_id"]),
                entry["batch__file_name"],
                entry["batch__finished_at"],
                entry["count"],
            )
        )
        plan.observations += entry["count"]
    if plan.observations:
        plan.periods = list(current.order_by("period").values_list("period", flat=True).distinct())
    return plan


# Columns an observation and its history share, in the order the statements below use.
_FIGURE_COLUMNS = (
    "dataset_id",
    "period",
    "period_type",
    *OBSERVATION_DIMENSIONS,
    "value",
    "batch_id",
    "source_sheet",
    "source_row",
)


_SERIES = Series._meta.db_table
_VALUES = SeriesValue._meta.db_table


def _key(instance: ImportBatch | Dataset) -> Any:
    """A primary key as a raw statement's parameter (a UUID is text on SQLite)."""
    return instance._meta.pk.get_db_prep_value(instance.pk, connection)


def _columns(alias: str) -> str:
    return ", ".join(f"{alias}.{column}" for column in _FIGURE_COLUMNS)


def _replace_current(
    *,
    revision: ImportBatch,
    dataset: Dataset,
    source: str,
    coverage: set[CoverageKey],
    now: datetime.datetime,
) -> int:
    """Move the current figures of `source` that `revision` covers to history, ended by it;
    supersede the incidents of those periods. Returns how many observations moved. Two
    statements, the same on SQLite and PostgreSQL, whatever the number of rows."""
    observation = Observation._meta.db_table
    history = ObservationHistory._meta.db_table
    batch_table = ImportBatch._meta.db_table
    covered, covered_params = _coverage_sql(coverage, "o")
    # The rows of the source's imported batches (other than the revision) at covered keys.
    where = (
        f"o.dataset_id = %s AND o.batch_id <> %s AND {covered} AND o.batch_id IN "  # noqa: S608 (names are the models', values parameters)
        f"(SELECT b.id FROM {batch_table} b WHERE b.dataset_id = %s AND b.source = %s "
        f"AND b.status = %s)"
    )
    where_params = [
        _key(dataset),
        _key(revision),
        *covered_params,
        _key(dataset),
        source,
        BatchStatus.IMPORTED.value,
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {history} ({', '.join(_FIGURE_COLUMNS)}, valid_from, valid_to, "  # noqa: S608 (table and column names are the models'; values are parameters)
            f"ended_by_id, reason) "
            f"SELECT {_columns('o')}, COALESCE(o.current_since, f.finished_at), %s, %s, %s "
            f"FROM {observation} o JOIN {batch_table} f ON f.id = o.batch_id WHERE {where}",
            [
                connection.ops.adapt_datetimefield_value(now),
                _key(revision),
                HistoryReason.REVISED.value,
                *where_params,
            ],
        )
        cursor.execute(
            f"DELETE FROM {_VALUES} WHERE (series_id, period) IN "  # noqa: S608 (as above)
            f"(SELECT o.series_id, o.period FROM {observation} o WHERE {where})",
            where_params,
        )
        replaced = cursor.rowcount
    Incident.objects.filter(
        dataset=dataset,
        batch__source=source,
        batch__status=BatchStatus.IMPORTED,
        superseded_at__isnull=True,
        period__in={period for period, _country in coverage},
    ).exclude(batch=revision).update(superseded_at=now, superseded_by=revision)
    return replaced


# --- Importing --------------------------------------------------------------------------------


class _InvalidFile(Exception):
    """Raised inside the storing transaction to roll it back."""


class _RevisionRefused(Exception):
    """Raised inside the storing transaction to roll it back: it would replace figures."""


@transaction.atomic
def batch_import(
    *,
    actor: User | None,
    format_code: str,
    path: Path | str,
    mapping_path: Path | str | None = None,
    dry_run: bool = False,
    replace: bool = False,
    keep_valid: bool = False,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import a file in a format (a mapping of flows/formats, or the one given). Returns a
    report; raises ApplicationError only for a file or mapping that cannot be read at all.

    `replace`: store the file as a corrected revision of its source, replacing the current
    figures it covers (refused otherwise, naming them). `keep_valid`: store the valid rows and
    set aside those with problems (a problem of the file itself still stores nothing).
    `progress(rows_read)` is called as the file is read and stored. An `actor` stores only
    figures of the reporting countries accounts.permissions lets them import."""
    mapping = mapping_for(format_code, Path(path), Path(mapping_path) if mapping_path else None)
    info = inspect_file(Path(path), encoding=mapping.encoding, reader=mapping.reader)
    try:
        dataset = Dataset.objects.get(code=mapping.dataset)
    except Dataset.DoesNotExist as error:
        raise MappingError(
            _("The mapping names the dataset %(code)s, which does not exist.")
            % {"code": mapping.dataset}
        ) from error
    source = mapping.source or mapping.code
    report = ImportReport(
        outcome=ImportOutcome.VALID,
        format_code=mapping.code,
        dataset=dataset.code,
        file=info,
        source=source,
        keep_valid=keep_valid,
    )
    existing = ImportBatch.objects.filter(
        format_code=mapping.code, sha256=info.sha256, status=BatchStatus.IMPORTED
    ).first()
    if existing is not None:
        report.outcome, report.batch = ImportOutcome.ALREADY_IMPORTED, existing
        return report

    scope = permissions.import_countries(actor) if actor is not None else None
    result = report.result
    coverage: set[CoverageKey] = set()
    period_type = _period_type(mapping)
    if dry_run:
        checker = record_writer(mapping, dataset, None, result, file_name=info.name)
        blocks = import_blocks(
            mapping,
            info,
            dataset,
            result,
            SeriesRegistry(),
            checker,
            reporting_countries=scope,
            coverage=coverage,
            progress=progress,
        )
        for _block in blocks:
            pass
        report.revision = revision_plan(
            dataset=dataset, source=source, coverage=coverage, period_type=period_type
        )
        report.outcome = ImportOutcome.VALID if not result.issue_count else ImportOutcome.FAILED
        return report

    started_at = timezone.now()
    batch_fields = {
        "dataset": dataset,
        "format_code": mapping.code,
        "source": source,
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
            registry = SeriesRegistry()
            store(
                batch,
                dataset,
                import_blocks(
                    mapping,
                    info,
                    dataset,
                    result,
                    registry,
                    records,
                    reporting_countries=scope,
                    coverage=coverage,
                    progress=progress,
                ),
                registry,
                result,
                keep_valid=keep_valid,
            )
            if records is not None:
                records.close()
            if result.issue_count and (
                not keep_valid or result.file_problems or not result.observations
            ):
                raise _InvalidFile
            # One import or rollback of a dataset at a time decides what is current: a
            # concurrent revision of the same periods waits here, then sees this one's rows.
            _lock_dataset(dataset)
            report.revision = revision_plan(
                dataset=dataset,
                source=source,
                coverage=coverage,
                period_type=period_type,
                exclude_batch=batch,
            )
            if report.revision.replaces_anything and not replace:
                raise _RevisionRefused
            finished_at = timezone.now()
            if report.revision.replaces_anything:
                batch.replaced_count = _replace_current(
                    revision=batch,
                    dataset=dataset,
                    source=source,
                    coverage=coverage,
                    now=finished_at,
                )
            batch.rows_read = result.rows_read
            batch.observation_count = result.observations
            batch.finished_at = finished_at
            batch.set_aside_count = report.set_aside_count
            batch.error_count = result.issue_count
            batch.error_report = [issue.as_dict() for issue in result.issues[:ISSUES_STORED]]
            batch.save(
                update_fields=[
                    "rows_read",
                    "observation_count",
                    "finished_at",
                    "set_aside_count",
                    "error_count",
                    "error_report",
                    "replaced_count",
                ]
            )
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
    except _RevisionRefused:
        report.outcome = ImportOutcome.REVISION_REFUSED
        return report
    except IntegrityError:
        # Another import of the same file finished first.
        existing = ImportBatch.objects.filter(
            format_code=mapping.code, sha256=info.sha256, status=BatchStatus.IMPORTED
        ).first()
        if existing is None:
            raise
        report.outcome, report.batch = ImportOutcome.ALREADY_IMPORTED, existing
        report.result = ImportResult()
        return report
    report.outcome, report.batch = ImportOutcome.IMPORTED, batch
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="flows.importbatch",
        object_id=batch.pk,
        reason="revision" if batch.replaced_count else "import",
        details={
            "format": mapping.code,
            "source": source,
            "file": info.name,
            "sha256": info.sha256,
            "observations": batch.observation_count,
            "replaced": batch.replaced_count,
            "replaced_batches": [entry[0] for entry in report.revision.batches],
            "set_aside": batch.set_aside_count,
        },
    )
    return report


def _lock_dataset(dataset: Dataset) -> None:
    Dataset.objects.select_for_update().filter(pk=dataset.pk).first()


def _period_type(mapping: Mapping) -> str:
    return PeriodType.YEAR if mapping.period_rule == "calendar-year" else PeriodType.MONTH


# --- Rolling back -----------------------------------------------------------------------------


def may_roll_back(actor: User | None, batch: ImportBatch) -> bool:
    """accounts.permissions decides, from the reporting countries of the batch's figures
    (current, or in the history when a later revision replaced them all). None is the
    command line, run by whoever operates the installation."""
    if actor is None:
        return True
    rows: Any = Observation.objects.filter(batch=batch)
    if not rows.exists():  # every figure of the batch was replaced by a later revision
        rows = ObservationHistory.objects.filter(batch=batch)
    countries = set(rows.values_list("reporting_country", flat=True).distinct()) - {""}
    return permissions.can_roll_back_batch(actor, countries)


def _restore_replaced(*, batch: ImportBatch, now: datetime.datetime) -> int:
    """Make the figures `batch` had replaced as a revision current again, at the (period,
    reporting country) keys no later revision of the source covers, unless their own batch was
    rolled back meanwhile. Decided per key, of which a file has hundreds, not per row, of
    which it may have millions: one statement then copies the rows back."""
    replaced = ObservationHistory.objects.filter(ended_by=batch, reason=HistoryReason.REVISED)
    keys: set[CoverageKey] = set(
        replaced.values_list("period", "reporting_country").distinct().order_by()
    )
    if not keys:
        return 0
    covered = set(
        _current_of_source(batch.dataset, batch.source, keys, exclude_batch=batch)
        .values_list("period", "reporting_country")
        .distinct()
        .order_by()
    )
    restorable = keys - covered
    if not restorable:
        return 0
    history = ObservationHistory._meta.db_table
    batch_table = ImportBatch._meta.db_table
    at_keys, key_params = _coverage_sql(restorable, "h")
    restored = (
        f"h.ended_by_id = %s AND h.reason = %s AND {at_keys} AND h.batch_id IN "  # noqa: S608 (names are the models', values parameters)
        f"(SELECT b.id FROM {batch_table} b WHERE b.status = %s)"
    )
    params = [_key(batch), HistoryReason.REVISED.value, *key_params, BatchStatus.IMPORTED.value]
    # Their series are kept when figures leave Observation; made again if missing.
    same_series = " AND ".join(f"s.{column} = h.{column}" for column in SERIES_COLUMNS)
    columns = ", ".join(SERIES_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_SERIES} ({columns}) "  # noqa: S608 (as above)
            f"SELECT DISTINCT {', '.join(f'h.{column}' for column in SERIES_COLUMNS)} "
            f"FROM {history} h WHERE {restored} "
            f"AND NOT EXISTS (SELECT 1 FROM {_SERIES} s WHERE {same_series})",
            params,
        )
        cursor.execute(
            f"INSERT INTO {_VALUES} (series_id, period, value, source_row, current_since) "  # noqa: S608 (as above)
            f"SELECT s.id, h.period, h.value, h.source_row, %s "
            f"FROM {history} h JOIN {_SERIES} s ON {same_series} WHERE {restored}",
            [connection.ops.adapt_datetimefield_value(now), *params],
        )
        return cursor.rowcount


@transaction.atomic
def batch_rollback(*, actor: User | None, batch: ImportBatch) -> int:
    """Take an imported batch's figures out of the current ones: they move to history (rolled
    back), and the figures it had replaced as a revision become current again unless a later
    revision replaced them too. The batch stays, marked rolled back, so that its provenance is
    kept. Returns how many observations were removed."""
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if not may_roll_back(actor, batch):
        raise PermissionDeniedError(
            _("You may roll back only batches of figures your own country reports.")
        )
    if batch.status != BatchStatus.IMPORTED:
        raise BatchStateError(_("Only an imported batch can be rolled back."))
    _lock_dataset(batch.dataset)
    now = timezone.now()
    observation = Observation._meta.db_table
    history = ObservationHistory._meta.db_table
    moment = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {history} ({', '.join(_FIGURE_COLUMNS)}, valid_from, valid_to, "  # noqa: S608 (table and column names are the models'; values are parameters)
            f"ended_by_id, reason) "
            f"SELECT {_columns('o')}, COALESCE(o.current_since, %s), %s, NULL, %s "
            f"FROM {observation} o WHERE o.batch_id = %s",
            [
                connection.ops.adapt_datetimefield_value(batch.finished_at or batch.started_at),
                moment,
                HistoryReason.ROLLED_BACK.value,
                _key(batch),
            ],
        )
        cursor.execute(
            f"DELETE FROM {_VALUES} WHERE series_id IN "  # noqa: S608 (as above)
            f"(SELECT s.id FROM {_SERIES} s WHERE s.batch_id = %s)",
            [_key(batch)],
        )
        removed = cursor.rowcount
    restored = _restore_replaced(batch=batch, now=now)
    Incident.objects.filter(batch=batch, superseded_at__isnull=True).update(
        superseded_at=now, superseded_by=None
    )
    covered_now = Observation.objects.filter(
        dataset=OuterRef("dataset"),
        period=OuterRef("period"),
        batch__source=batch.source,
        batch__status=BatchStatus.IMPORTED,
    ).exclude(batch=OuterRef("batch"))
    Incident.objects.filter(superseded_by=batch, batch__status=BatchStatus.IMPORTED).exclude(
        batch=batch
    ).exclude(Exists(covered_now)).update(superseded_at=None, superseded_by=None)
    batch.status = BatchStatus.ROLLED_BACK
    batch.rolled_back_at = now
    batch.modified_by = actor
    batch.save(update_fields=["status", "rolled_back_at", "modified_by", "modified_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="flows.importbatch",
        object_id=batch.pk,
        reason="rollback",
        details={
            "format": batch.format_code,
            "source": batch.source,
            "file": batch.file_name,
            "removed": removed,
            "restored": restored,
        },
    )
    return removed
