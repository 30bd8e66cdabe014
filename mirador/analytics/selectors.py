"""Public tables of the observatory: observations of a dataset aggregated in the database by
the dimensions asked for (GROUP BY on Observation's columns, the same SQL on SQLite and
PostgreSQL), filtered, with every total, after disclosure control, and with the batches each
figure came from.

Everything public (the API, the downloads, the indicators) is built from `public_table`, so
that one breakdown of one selection of figures is always published with the same
suppressions: the indicators add no figure that the table of the same query does not show.
Monthly figures are published with their years (a hierarchy of the period), yearly figures
of a monthly dataset are those same year totals.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, Max, Min, OuterRef, QuerySet, Subquery, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mirador.analytics.disclosure import TOTAL, Hierarchy, ProtectedTable, protect_table
from mirador.analytics.figure_blocks import block_set_for, blocks_coverage
from mirador.analytics.selection_figures import dataset_fact, imported_batches, selection_figures
from mirador.core.errors import ApplicationError, NotFoundError
from mirador.core.models import Country, Subdivision
from mirador.flows.models import (
    OBSERVATION_DIMENSIONS,
    BatchStatus,
    Code,
    Dataset,
    Dimension,
    DimensionKind,
    ImportBatch,
    Observation,
    PeriodType,
    Series,
    SeriesValue,
    allowed_values,
)

PERIOD = "period"
# How many breakdowns one table may have (the period counts as one).
MAX_GROUP_BY = 3
# Beyond this many cells a table is refused: filter it or break it down less.
MAX_CELLS = 60_000
MINOR_CODES = {
    "age_group": ("Y_LT18",),
    "demographic": ("accompanied-minors", "unaccompanied-minors"),
}
ADULT_CODES = {
    "age_group": ("Y_GE18",),
    "demographic": ("single-adults", "family-units"),
}
_YEAR = re.compile(r"^(\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class QueryError(ApplicationError):
    """A question the observatory cannot answer as asked: a dimension the dataset does not
    have, a code that is not one of it, a period out of range, a table too large."""

    code = "bad_query"
    http_status = 400
    default_message = gettext_lazy("The question cannot be answered as asked.")


@dataclass(frozen=True)
class TableQuery:
    """What to publish: a dataset broken down by `group_by` (dimension codes and "period"),
    over a period range, keeping only the codes of `filters`."""

    dataset: Dataset
    group_by: tuple[str, ...]
    period_type: str  # of the figures published: month or year
    stored_period_type: str  # of the observations
    start: datetime.date | None = None
    end: datetime.date | None = None
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def filter_dict(self) -> dict[str, tuple[str, ...]]:
        return dict(self.filters)

    def replace(self, **changes: Any) -> TableQuery:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class BatchSource:
    """A file the figures came from."""

    id: str
    dataset: str
    file_name: str
    format_code: str
    source: str
    sha256: str
    imported_at: datetime.datetime | None


@dataclass(frozen=True)
class PublicRow:
    """One published figure: its codes (TOTAL for a total over a dimension), its value
    (None when suppressed) and the batches it came from."""

    codes: dict[str, str]
    value: int | None
    batches: tuple[str, ...]

    @property
    def suppressed(self) -> bool:
        return self.value is None

    @property
    def is_total(self) -> bool:
        return TOTAL in self.codes.values()


@dataclass
class PublicTable:
    query: TableQuery
    protected: ProtectedTable
    batches_of: dict[tuple[str, ...], frozenset[str]]
    sources: list[BatchSource] = field(default_factory=list)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.query.group_by

    def key_published(self, key: tuple[str, ...]) -> bool:
        """Whether an entry is shown in this table (months are hidden in a yearly table of a
        monthly dataset)."""
        if PERIOD not in self.columns or self.query.period_type == self.query.stored_period_type:
            return True
        code = key[self.columns.index(PERIOD)]
        return code == TOTAL or bool(_YEAR.match(code))

    def value(self, key: tuple[str, ...]) -> int | None:
        return self.protected.published(key)

    def rows(self, *, totals: bool = True) -> list[PublicRow]:
        keys = [key for key in self.protected.values if self.key_published(key)]
        if not totals:
            keys = [key for key in keys if TOTAL not in key]
        keys.sort(key=lambda key: tuple((code == TOTAL, code) for code in key))
        return [
            PublicRow(
                codes=dict(zip(self.columns, key, strict=True)),
                value=self.protected.published(key),
                batches=tuple(sorted(self.batches_of.get(key, frozenset()))),
            )
            for key in keys
        ]

    @property
    def suppressed_count(self) -> int:
        return sum(1 for key in self.protected.suppressed if self.key_published(key))


# --- reading the question ---------------------------------------------------------------------


def dataset_get(*, code: str) -> Dataset:
    dataset = Dataset.objects.filter(code=code).prefetch_related("dimensions").first()
    if dataset is None:
        raise NotFoundError(_("There is no dataset %(code)s.") % {"code": code})
    return dataset


def public_datasets() -> QuerySet[Dataset]:
    return Dataset.objects.prefetch_related("dimensions__code_list").order_by("code")


def dataset_dimensions(dataset: Dataset) -> list[Dimension]:
    return sorted(dataset.dimensions.all(), key=lambda dimension: dimension.code)


def stored_period_types(dataset: Dataset) -> list[str]:
    """The period types of the dataset's current figures: read off its series (a few per
    hundred figures), each checked for one current figure (which stops at the first)."""

    def compute() -> list[str]:
        types = (
            Series.objects.filter(dataset=dataset)
            .values_list("period_type", flat=True)
            .distinct()
            .order_by()
        )
        return sorted(
            period_type
            for period_type in types
            if Series.objects.filter(dataset=dataset, period_type=period_type)
            .filter(Exists(SeriesValue.objects.filter(series=OuterRef("pk"))))
            .exists()
        )

    # Asked several times by each page: kept until the dataset's data changes.
    return list(dataset_fact("period types", dataset, compute))


def dataset_coverage(dataset: Dataset) -> dict[str, Any]:
    """First and last period and number of observations of a dataset."""

    def compute() -> dict[str, Any]:
        block_set = block_set_for(dataset=dataset, batches=imported_batches(dataset))
        if block_set is not None:  # PostgreSQL, once the figure blocks are built
            first, last = blocks_coverage(block_set)
            return {"first_period": first, "last_period": last}
        # Each series' first and last period, read off the figures' primary key (series,
        # period) one series at a time: index probes where MIN and MAX over the figures would
        # read every one of them.
        values = SeriesValue.objects.filter(series=OuterRef("pk")).values("period")
        summary = (
            Series.objects.filter(dataset=dataset)
            .annotate(
                first=Subquery(values.order_by("period")[:1]),
                last=Subquery(values.order_by("-period")[:1]),
            )
            .aggregate(first_period=Min("first"), last_period=Max("last"))
        )
        return {"first_period": summary["first_period"], "last_period": summary["last_period"]}

    # Kept until the dataset's data changes.
    return dict(dataset_fact("coverage", dataset, compute))


def parse_period(text: str, *, end: bool, field_name: str) -> datetime.date:
    """ "2024" or "2024-03": the first month of the range, or (for an end) its last month."""
    text = text.strip()
    year_match, month_match = _YEAR.match(text), _MONTH.match(text)
    if year_match:
        year, month = int(year_match.group(1)), 12 if end else 1
    elif month_match:
        year, month = int(month_match.group(1)), int(month_match.group(2))
    else:
        raise QueryError(
            _("%(field)s must be a year (2024) or a month (2024-03), not “%(value)s”.")
            % {"field": field_name, "value": text[:20]},
            details={"field": field_name},
        )
    if not 1900 <= year <= 2100 or not 1 <= month <= 12:
        raise QueryError(
            _("%(field)s is out of range: years 1900 to 2100, months 01 to 12.")
            % {"field": field_name},
            details={"field": field_name},
        )
    return datetime.date(year, month, 1)


def table_query(
    *,
    dataset: Dataset,
    group_by: Sequence[str] = (),
    period_type: str | None = None,
    start: str | None = None,
    end: str | None = None,
    filters: Mapping[str, Iterable[str]] | None = None,
    minors: bool | None = None,
) -> TableQuery:
    """Check a question against the dataset and turn it into a TableQuery; QueryError (400)
    says what is wrong."""
    declared = {dimension.code: dimension for dimension in dataset.dimensions.all()}
    group = tuple(dict.fromkeys(name.strip() for name in group_by if name.strip()))
    for name in group:
        if name != PERIOD and name not in declared:
            raise QueryError(
                _("The dataset %(dataset)s has no dimension “%(name)s”; it has: %(names)s.")
                % {
                    "dataset": dataset.code,
                    "name": name[:40],
                    "names": ", ".join([PERIOD, *sorted(declared)]),
                },
                details={"field": "by"},
            )
    if len(group) > MAX_GROUP_BY:
        raise QueryError(
            _("A table has at most %(count)d breakdowns.") % {"count": MAX_GROUP_BY},
            details={"field": "by"},
        )
    stored = stored_period_types(dataset) or [PeriodType.MONTH]
    stored_type = PeriodType.MONTH if PeriodType.MONTH in stored else stored[0]
    wanted = period_type or stored_type
    if wanted not in PeriodType.values:
        raise QueryError(_("period_type is “month” or “year”."), details={"field": "period_type"})
    if wanted == PeriodType.MONTH and stored_type == PeriodType.YEAR:
        raise QueryError(
            _("The dataset %(dataset)s has yearly figures only.") % {"dataset": dataset.code},
            details={"field": "period_type"},
        )
    start_date = parse_period(start, end=False, field_name="start") if start else None
    end_date = parse_period(end, end=True, field_name="end") if end else None
    if start_date and end_date and start_date > end_date:
        raise QueryError(_("start is after end."), details={"field": "start"})

    chosen: dict[str, tuple[str, ...]] = {}
    for name, codes in (filters or {}).items():
        values = tuple(dict.fromkeys(code.strip() for code in codes if code.strip()))
        if not values:
            continue
        if name not in declared:
            raise QueryError(
                _("The dataset %(dataset)s has no dimension “%(name)s” to filter on.")
                % {"dataset": dataset.code, "name": name},
                details={"field": name},
            )
        if declared[name].kind == DimensionKind.COUNTRY:
            values = tuple(value.upper() if len(value) == 2 else value for value in values)
        unknown = sorted(set(values) - allowed_values(declared[name]))
        if unknown:
            raise QueryError(
                _("Not codes of %(name)s: %(codes)s.")
                % {"name": name, "codes": ", ".join(code[:40] for code in unknown[:10])},
                details={"field": name},
            )
        chosen[name] = values
    if minors is not None:
        dimension = next((name for name in MINOR_CODES if name in declared), None)
        if dimension is None:
            raise QueryError(
                _("The dataset %(dataset)s has no breakdown by age.") % {"dataset": dataset.code},
                details={"field": "minors"},
            )
        codes = (MINOR_CODES if minors else ADULT_CODES)[dimension]
        if dimension in chosen:
            codes = tuple(code for code in chosen[dimension] if code in codes)
        chosen[dimension] = codes or ("__none__",)
    if "measure" in declared and "measure" not in group:
        measures = chosen.get("measure", ())
        if len(measures) != 1:
            raise QueryError(
                _(
                    "The figures of %(dataset)s are of different measures, which are never "
                    "added up: choose one (measure=dead, ...) or break the table down by measure."
                )
                % {"dataset": dataset.code},
                details={"field": "measure"},
            )
    return TableQuery(
        dataset=dataset,
        group_by=group,
        period_type=wanted,
        stored_period_type=stored_type,
        start=start_date,
        end=end_date,
        filters=tuple(sorted(chosen.items())),
    )


TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}
QUERY_PARAMETERS = ("by", "period_type", "start", "end", "minors")


def parse_bool(text: str, *, field_name: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise QueryError(
        _("%(field)s is true or false, not “%(value)s”.")
        % {"field": field_name, "value": text[:20]},
        details={"field": field_name},
    )


def split_values(values: Iterable[str]) -> list[str]:
    """Repeated parameters and comma-separated lists alike (by=period&by=sex, by=period,sex)."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def table_query_from_params(
    *,
    dataset: Dataset,
    params: Mapping[str, list[str]],
    allowed: Iterable[str] = (),
    default_group_by: Sequence[str] = (),
) -> TableQuery:
    """A TableQuery from a request's parameters (each a list of values): by, period_type,
    start, end, minors, and one filter per dimension; a parameter not known is refused (a
    misspelt filter would otherwise give figures for everything)."""
    known = {*QUERY_PARAMETERS, *OBSERVATION_DIMENSIONS, *allowed}
    unknown = sorted(name for name in params if name not in known)
    if unknown:
        raise QueryError(
            _("Unknown parameters: %(names)s. Known: %(known)s.")
            % {
                "names": ", ".join(name[:40] for name in unknown[:5]),
                "known": ", ".join(sorted(known)),
            },
            details={"field": unknown[0][:40]},
        )

    def one(name: str) -> str | None:
        values = [value for value in params.get(name, []) if value.strip()]
        if len(values) > 1:
            raise QueryError(
                _("%(field)s is given once.") % {"field": name}, details={"field": name}
            )
        return values[0] if values else None

    minors = one("minors")
    return table_query(
        dataset=dataset,
        group_by=split_values(params.get("by", [])) or list(default_group_by),
        period_type=one("period_type"),
        start=one("start"),
        end=one("end"),
        filters={
            name: split_values(params[name]) for name in OBSERVATION_DIMENSIONS if name in params
        },
        minors=parse_bool(minors, field_name="minors") if minors is not None else None,
    )


# --- computing the table ----------------------------------------------------------------------


def observations_for(query: TableQuery) -> QuerySet[Observation]:
    rows = Observation.objects.filter(dataset=query.dataset, period_type=query.stored_period_type)
    if query.start:
        rows = rows.filter(period__gte=query.start)
    if query.end:
        rows = rows.filter(period__lte=query.end)
    for name, codes in query.filters:
        rows = rows.filter(**{f"{name}__in": codes})
    return rows


@functools.lru_cache(maxsize=8192)  # called for every row of every table: strftime is dear
def period_code(period: datetime.date, period_type: str) -> str:
    return f"{period:%Y}" if period_type == PeriodType.YEAR else f"{period:%Y-%m}"


def public_table(query: TableQuery, *, threshold: int | None = None) -> PublicTable:
    """The table of a query after disclosure control, with its sources."""
    columns = [name for name in query.group_by]
    cells: dict[tuple[str, ...], int] = defaultdict(int)
    cell_batches: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for row in _grouped_rows(query, columns):
        key = tuple(
            period_code(row[name], query.stored_period_type) if name == PERIOD else row[name]
            for name in columns
        )
        cells[key] += int(row["total"])
        cell_batches[key].add(str(row["batch_id"]))
        if len(cells) > MAX_CELLS:
            raise QueryError(
                _(
                    "The table would have more than %(count)d cells: filter it or break it "
                    "down less."
                )
                % {"count": MAX_CELLS}
            )
    hierarchies = {}
    if PERIOD in columns and query.stored_period_type == PeriodType.MONTH:
        position = columns.index(PERIOD)
        months = {key[position] for key in cells}
        hierarchies[position] = Hierarchy(parent={month: month[:4] for month in months})
    protected = protect_table(cells, hierarchies=hierarchies, threshold=threshold)
    batch_sets = {frozenset(batches) for batches in cell_batches.values()}
    if len(batch_sets) == 1:
        # Every cell from the same batches (a single file, as most selections are): so is
        # every total, and protect_table has listed them all.
        (only,) = batch_sets
        batches_of = dict.fromkeys(protected.values, only)
    else:
        batches_of = _batches_of_entries(cell_batches, hierarchies)
    batch_ids = set().union(*cell_batches.values()) if cell_batches else set()
    return PublicTable(
        query=query,
        protected=protected,
        batches_of=batches_of,
        sources=batch_sources(batch_ids),
    )


def _grouped_rows(query: TableQuery, columns: list[str]) -> Iterable[dict[str, Any]]:
    """The query's figures summed by its columns and batch: from the selection's arrays where
    analytics.selection_figures holds them, else by the database's GROUP BY."""
    figures = selection_figures(query)
    if figures is not None:
        return figures.grouped(columns)
    rows = (
        observations_for(query).values(*columns, "batch_id").annotate(total=Sum("value")).order_by()
    )
    return rows.iterator(chunk_size=5000)


def _batches_of_entries(
    cell_batches: Mapping[tuple[str, ...], set[str]], hierarchies: Mapping[int, Hierarchy]
) -> dict[tuple[str, ...], frozenset[str]]:
    from mirador.analytics.disclosure import entry_ancestors

    found: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for key, batches in cell_batches.items():
        for ancestor in entry_ancestors(key, hierarchies):
            found[ancestor].update(batches)
    return {key: frozenset(batches) for key, batches in found.items()}


# Finished batches' sources, kept per process: what they say of their file never changes.
_KEPT_SOURCES = 4096
_sources: dict[str, tuple[tuple[datetime.datetime, str], BatchSource]] = {}


def batch_sources(batch_ids: Iterable[str]) -> list[BatchSource]:
    """The files these batches read, in the order they were imported."""
    wanted = {str(batch_id) for batch_id in batch_ids}
    found = {batch_id: _sources[batch_id] for batch_id in wanted if batch_id in _sources}
    missing = wanted - set(found)
    if missing:
        batches = ImportBatch.objects.filter(pk__in=list(missing)).select_related("dataset")
        for batch in batches:
            source = BatchSource(
                id=str(batch.pk),
                dataset=batch.dataset.code,
                file_name=batch.file_name,
                format_code=batch.format_code,
                source=batch.source,
                sha256=batch.sha256,
                imported_at=batch.finished_at,
            )
            found[source.id] = ((batch.started_at, source.id), source)
            if batch.finished_at is not None:
                if len(_sources) >= _KEPT_SOURCES:
                    _sources.clear()
                _sources[source.id] = found[source.id]
    return [source for _order, source in sorted(found.values(), key=lambda entry: entry[0])]


# --- code lists -------------------------------------------------------------------------------


def dimension_codes(
    dimension: Dimension, *, dataset: Dataset | None = None
) -> list[dict[str, str]]:
    """The codes of a dimension with their names: its code list, and for countries and
    subdivisions the codes the dataset uses (the full ISO list is not repeated)."""
    codes: dict[str, dict[str, str]] = {}
    if dimension.code_list_id is not None:
        for code in Code.objects.filter(code_list_id=dimension.code_list_id):
            codes[code.code] = {"code": code.code, "name_en": code.name_en, "name_es": code.name_es}
    if dimension.kind != DimensionKind.CODED and dataset is not None:
        # Read off the series of the imported batches (not every figure): a series whose
        # figures a revision has all replaced still lists its code.
        used = (
            Series.objects.filter(dataset=dataset, batch__status=BatchStatus.IMPORTED)
            .values_list(dimension.code, flat=True)
            .distinct()
            .order_by()
        )
        names: dict[str, Country | Subdivision] = {}
        if dimension.kind == DimensionKind.COUNTRY:
            names = {
                country.alpha2: country for country in Country.objects.filter(alpha2__in=list(used))
            }
        else:
            names = {
                subdivision.code: subdivision
                for subdivision in Subdivision.objects.filter(code__in=list(used))
            }
        for value in used:
            if value and value not in codes:
                row = names.get(value)
                codes[value] = {
                    "code": value,
                    "name_en": row.name_en if row else value,
                    "name_es": row.name_es if row else value,
                }
    return sorted(codes.values(), key=lambda code: code["code"])


def dimension_names() -> tuple[str, ...]:
    return OBSERVATION_DIMENSIONS
