"""The observatory's statistical model: datasets, dimensions, code lists, observations and the
import batches they come from.

An observation is a count at coordinates, in the spirit of SDMX and DHIS2: a dataset, a period
and one value per dimension the dataset declares. Dimensions and code lists are rows, so a
country that publishes another breakdown adds codes, not code.

How the coordinates are stored, and why: one fixed column per dimension (`reporting_country`,
`from_country`, `to_country`, `citizenship` for the countries; `sex`, `age_group`,
`demographic`, `unaccompanied`, `means`, `subdivision`, `authority`, `encounter_type`,
`component`, `route`, `cause`, `measure` for the other code lists; `measure` tells apart several
counts of one event, such as dead, missing and survivors of an incident, which are never added
up across measures), each a short string holding a code, with "" for "the dataset does not
have this dimension".
- Aggregating is a plain `GROUP BY citizenship, period` over columns, the same SQL on SQLite
  and PostgreSQL; a key string plus JSON would need JSON extraction in every query, written
  differently for each database, and could not be indexed the same way.
- The columns hold codes, not foreign keys: a figure for "other citizenships" (`_O`) or an
  unknown one (`_U`, SDMX's special codes) is not an ISO country, and an aggregation should not
  pay for joins. The import engine and `Observation.clean` check every code against its
  dimension (countries against ISO 3166-1 plus the dimension's code list).
- "" rather than NULL for an unused dimension, so that the uniqueness constraint over all the
  coordinates holds on both databases (both treat NULLs as distinct in a unique index).
- A new dimension is a new column (a migration), which is rare and deliberate; new codes, code
  lists and datasets are data.

Current figures are stored as series and values (migration 0007), and read as `Observation`:
- `Series`: what a batch's figures share apart from their period: dataset, batch, period type,
  source sheet and the dimension columns, unique together. A statistics table is a set of
  series over periods, so there are rows / periods of them (12 000 for 5 million CBP rows).
- `SeriesValue`: one figure, five narrow columns: its series, its period, the count, the
  source row, and when it became current if not when its batch finished. Series and period
  are the primary key: one figure per series and period, checked by the database with one
  12-byte index instead of one over twenty columns.
- `Observation` is a database view joining the two, with the columns a figure always had (and
  its series): every read (`Observation.objects.filter(...)`, the analytics' GROUP BY) is
  unchanged; writes go to the two tables (`flows.storage`, `flows.services`).
Why: writing the figures was the import's cost (a 20-column unique index maintained row by row
capped an import at 61 000 rows a second). Five narrow columns are copied several times faster.
On PostgreSQL, `SeriesValue` is partitioned by series id range: an import of more than
`flows.storage.PARTITION_ROWS` figures is written into a table of its own, its primary key built
once after the rows (a sort, several times cheaper than inserting each key in an index), and
attached to `SeriesValue` in the same transaction; smaller imports go into the shared partition.
Partitions are never detached: a rolled-back or replaced batch's partition stays, empty.

A dataset declares its dimensions; an observation with a value in a dimension its dataset does
not declare, or without one in a dimension it does declare, is refused.

Provenance: every observation knows its import batch (file name, SHA-256, format, who and when)
and its source sheet and row. One succeeded batch per file and format: importing the same file
again changes nothing.

Corrections: a batch belongs to a source (the mapping's `source`, by default its format code).
A corrected revision of a source replaces that source's current observations for the periods
(and reporting countries) it covers; the replaced rows move to `ObservationHistory` with the
interval during which they were current, and so do the rows of a rolled-back batch. The
`Observation` table therefore holds exactly the current figures (analytics need no filter),
and any earlier state is the current rows current since before it plus the history rows whose
interval contains it (`flows.selectors`).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from mirador.core.models import BaseModel, BilingualNameMixin, Country, Subdivision

COUNTRY_DIMENSIONS = ("reporting_country", "from_country", "to_country", "citizenship")
CODED_DIMENSIONS = (
    "sex",
    "age_group",
    "demographic",
    "unaccompanied",
    "means",
    "subdivision",
    "authority",
    "encounter_type",
    "component",
    "route",
    "cause",
    "measure",
)
# Every dimension an observation can have: each is a column of Observation.
OBSERVATION_DIMENSIONS = COUNTRY_DIMENSIONS + CODED_DIMENSIONS
CODE_MAX_LENGTH = 40


class CodeList(BaseModel, BilingualNameMixin):
    """A list of codes a dimension's values are taken from (sex, demographic group, ...)."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("code list")
        verbose_name_plural = _("code lists")


class Code(BaseModel, BilingualNameMixin):
    """One value of a code list, optionally under a parent (a route under a region, ...)."""

    code_list = models.ForeignKey(CodeList, on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(_("code"), max_length=CODE_MAX_LENGTH)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["code_list_id", "code"]
        verbose_name = _("code")
        verbose_name_plural = _("codes")
        constraints = [
            models.UniqueConstraint(fields=["code_list", "code"], name="flows_code_unique_in_list")
        ]


class DimensionKind(models.TextChoices):
    # How a dimension's values are checked; not a code list itself.
    COUNTRY = "country", _("Country (ISO 3166-1 alpha-2, or a code of its code list)")
    SUBDIVISION = "subdivision", _("Subdivision (ISO 3166-2)")
    CODED = "coded", _("Code of its code list")


class Dimension(BaseModel, BilingualNameMixin):
    """A breakdown of counts. Its code is the name of the Observation column holding it."""

    code = models.CharField(
        _("code"),
        max_length=40,
        unique=True,
        choices=[(name, name) for name in OBSERVATION_DIMENSIONS],
    )
    kind = models.CharField(_("kind"), max_length=20, choices=DimensionKind.choices)
    code_list = models.ForeignKey(
        CodeList, null=True, blank=True, on_delete=models.PROTECT, related_name="dimensions"
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("dimension")
        verbose_name_plural = _("dimensions")


class Dataset(BaseModel, BilingualNameMixin):
    """A family of counts (border encounters, returns received, ...) and its dimensions."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    description = models.TextField(_("description"), blank=True)
    dimensions = models.ManyToManyField(Dimension, related_name="datasets")

    class Meta:
        ordering = ["code"]
        verbose_name = _("dataset")
        verbose_name_plural = _("datasets")


class PeriodType(models.TextChoices):
    MONTH = "month", _("Month")
    YEAR = "year", _("Year")


class BatchStatus(models.TextChoices):
    IMPORTED = "imported", _("Imported")
    FAILED = "failed", _("Failed")
    ROLLED_BACK = "rolled_back", _("Rolled back")


class ImportBatch(BaseModel):
    """One import of one file: where its observations came from. A failed import is kept with
    its error report and no observations."""

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="batches")
    format_code = models.CharField(_("format"), max_length=80)
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64)
    sheet = models.CharField(_("sheet"), max_length=120, blank=True)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    rows_read = models.PositiveBigIntegerField(_("rows read"), default=0)
    observation_count = models.PositiveBigIntegerField(_("observations stored"), default=0)
    status = models.CharField(_("status"), max_length=20, choices=BatchStatus.choices)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    error_report = models.JSONField(_("error report"), default=list, blank=True)
    # What a revision replaces: the current figures of the same source (and dataset).
    source = models.CharField(_("source"), max_length=80, blank=True, db_index=True)
    # Rows with problems the user chose to set aside, storing the valid rows only.
    set_aside_count = models.PositiveIntegerField(_("rows set aside"), default=0)
    replaced_count = models.PositiveBigIntegerField(_("observations replaced"), default=0)
    rolled_back_at = models.DateTimeField(_("rolled back at"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        constraints = [
            # Importing the same file again in the same format changes nothing.
            models.UniqueConstraint(
                fields=["format_code", "sha256"],
                condition=models.Q(status="imported"),
                name="flows_batch_one_import_per_file",
            )
        ]

    def __str__(self) -> str:
        return f"{self.format_code}: {self.file_name} ({self.status})"


def _dimension_field(verbose_name: Any) -> models.CharField[str, str]:
    return models.CharField(verbose_name, max_length=CODE_MAX_LENGTH, blank=True, default="")


class Coordinates(models.Model):
    """The dimension columns: one code per dimension, "" where the dataset has none."""

    reporting_country = _dimension_field(_("reporting country"))
    from_country = _dimension_field(_("from country"))
    to_country = _dimension_field(_("to country"))
    citizenship = _dimension_field(_("citizenship"))
    sex = _dimension_field(_("sex"))
    age_group = _dimension_field(_("age group"))
    demographic = _dimension_field(_("demographic group"))
    unaccompanied = _dimension_field(_("unaccompanied minor"))
    means = _dimension_field(_("means of transport"))
    subdivision = _dimension_field(_("subdivision"))
    authority = _dimension_field(_("authority"))
    encounter_type = _dimension_field(_("encounter type"))
    component = _dimension_field(_("component"))
    route = _dimension_field(_("route"))
    cause = _dimension_field(_("cause"))
    measure = _dimension_field(_("measure"))

    class Meta:
        abstract = True

    def coordinates(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in OBSERVATION_DIMENSIONS}


class ObservationFields(Coordinates):
    """What an observation is, shared by the current figures and their history."""

    id = models.BigAutoField(primary_key=True)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="+")
    period = models.DateField(_("period (first day)"))
    period_type = models.CharField(_("period type"), max_length=10, choices=PeriodType.choices)
    value = models.PositiveBigIntegerField(_("value"), validators=[MinValueValidator(0)])
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="+")
    source_sheet = models.CharField(_("source sheet"), max_length=120, blank=True)
    source_row = models.PositiveBigIntegerField(_("source row"), null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.dataset_id} {self.period:%Y-%m}: {self.value}"


# An Observation's id (the view's; it is not stored): its series' id shifted left by 18 bits,
# plus its period's day offset from 1800-01-01 (periods from 1800 to 2517; the engine reads
# years from 1900 to 2200).
OBSERVATION_ID_EPOCH = datetime.date(1800, 1, 1)
OBSERVATION_ID_PERIOD_BITS = 18


class Series(Coordinates):
    """What a batch's current figures share apart from their period: one row per distinct
    dataset, batch, period type, source sheet and coordinates (see the module's docstring).
    Kept when its figures leave Observation, so that a restored figure finds it again."""

    id = models.BigAutoField(primary_key=True)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="series")
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="series")
    period_type = models.CharField(_("period type"), max_length=10, choices=PeriodType.choices)
    source_sheet = models.CharField(_("source sheet"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("series")
        verbose_name_plural = _("series")
        constraints = [
            # Serves the dataset's queries too (it starts with the dataset).
            models.UniqueConstraint(
                fields=[
                    "dataset",
                    "batch",
                    "period_type",
                    "source_sheet",
                    *OBSERVATION_DIMENSIONS,
                ],
                name="flows_series_unique_coordinates",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dataset_id} {self.period_type} {self.pk}"


class SeriesValue(models.Model):
    """One current figure: its series and period (the primary key, so one figure per series
    and period), its count and the row of the file it came from. Written by flows.storage and
    flows.services only; read as Observation. No foreign key constraint to its series in the
    database (one check per row): a figure is written in the transaction that writes its
    series, and series are never deleted."""

    pk = models.CompositePrimaryKey("series", "period")
    # The primary key's index serves the series too.
    series = models.ForeignKey(
        Series,
        on_delete=models.DO_NOTHING,
        related_name="values",
        db_constraint=False,
        db_index=False,
    )
    period = models.DateField(_("period (first day)"))
    value = models.PositiveBigIntegerField(_("value"))
    source_row = models.PositiveBigIntegerField(_("source row"), null=True, blank=True)
    # Null: current since its batch finished. Set when a rollback of a revision makes the
    # figures it had replaced current again.
    current_since = models.DateTimeField(_("current since"), null=True, blank=True)

    class Meta:
        verbose_name = _("series value")
        verbose_name_plural = _("series values")

    def __str__(self) -> str:
        return f"{self.series_id} {self.period:%Y-%m}: {self.value}"


class Observation(ObservationFields):
    """A current count at coordinates, with its source: the view flows_observation over
    Series and SeriesValue (migration 0007), read like a table; never written through."""

    # Computed by the view from the series and the period (OBSERVATION_ID_EPOCH).
    id = models.BigIntegerField(primary_key=True, blank=True, editable=False)
    series = models.ForeignKey(
        Series,
        on_delete=models.DO_NOTHING,
        related_name="observations",
        db_constraint=False,
        blank=True,
        editable=False,
    )
    dataset = models.ForeignKey(
        Dataset, on_delete=models.PROTECT, related_name="observations", db_constraint=False
    )
    batch = models.ForeignKey(
        ImportBatch, on_delete=models.PROTECT, related_name="observations", db_constraint=False
    )
    current_since = models.DateTimeField(_("current since"), null=True, blank=True)

    class Meta:
        managed = False
        db_table = "flows_observation"
        verbose_name = _("observation")
        verbose_name_plural = _("observations")

    def clean(self) -> None:
        super().clean()
        check_period(self.period, self.period_type)
        dimensions = {dimension.code: dimension for dimension in self.dataset.dimensions.all()}
        errors = dimension_errors(self.coordinates(), set(dimensions))
        for name, dimension in dimensions.items():
            value = getattr(self, name)
            if value and name not in errors and value not in allowed_values(dimension):
                errors[name] = str(_("Not a code of this dimension."))
        if errors:
            raise ValidationError(errors)


class HistoryReason(models.TextChoices):
    REVISED = "revised", _("Replaced by a corrected revision")
    ROLLED_BACK = "rolled_back", _("Its batch was rolled back")


class ObservationHistory(ObservationFields):
    """An observation that is no longer current, with the interval during which it was:
    replaced by a corrected revision of its source, or removed when its batch was rolled back.
    Rows are only added; `flows.selectors` rebuilds any earlier state from them."""

    valid_from = models.DateTimeField(_("current from"))
    valid_to = models.DateTimeField(_("current until"))
    ended_by = models.ForeignKey(
        ImportBatch,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_observations",
        help_text=_("The revision that replaced it; empty when its batch was rolled back."),
    )
    reason = models.CharField(_("reason"), max_length=20, choices=HistoryReason.choices)

    class Meta:
        verbose_name = _("past observation")
        verbose_name_plural = _("past observations")
        indexes = [
            models.Index(fields=["dataset", "valid_to"], name="flows_hist_dataset_valid_to"),
        ]


class Incident(models.Model):
    """One event of a source that reports events rather than counts (an IOM Missing Migrants
    Project incident: where, when, how many dead, missing and surviving, of which origins).
    Its counts also go into the dataset's observations; the incident keeps what counts cannot
    hold (coordinates, several countries of origin, the source and its quality) for maps and
    for tracing a figure back to the events behind it."""

    id = models.BigAutoField(primary_key=True)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="incidents")
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="incidents")
    source_row = models.PositiveBigIntegerField(_("source row"))
    source_sheet = models.CharField(_("source sheet"), max_length=120, blank=True)
    source_id = models.CharField(_("identifier at the source"), max_length=60, blank=True)
    period = models.DateField(_("month (first day)"))
    date = models.DateField(_("date"), null=True, blank=True)
    region = models.CharField(_("region of incident"), max_length=120, blank=True)
    location = models.TextField(_("location"), blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    route = models.CharField(_("migration route"), max_length=CODE_MAX_LENGTH, blank=True)
    cause = models.CharField(_("cause of death"), max_length=CODE_MAX_LENGTH, blank=True)
    # ISO 3166-1 alpha-2 codes; ["_U"] when the source says unknown.
    origins = models.JSONField(_("countries of origin"), default=list, blank=True)
    dead = models.PositiveIntegerField(_("dead"), null=True, blank=True)
    missing = models.PositiveIntegerField(_("missing"), null=True, blank=True)
    survivors = models.PositiveIntegerField(_("survivors"), null=True, blank=True)
    females = models.PositiveIntegerField(_("females"), null=True, blank=True)
    males = models.PositiveIntegerField(_("males"), null=True, blank=True)
    children = models.PositiveIntegerField(_("children"), null=True, blank=True)
    information_source = models.TextField(_("information source"), blank=True)
    url = models.TextField(_("source links"), blank=True)
    source_quality = models.PositiveSmallIntegerField(_("source quality"), null=True, blank=True)
    # Set when a corrected revision of the source replaces this incident's period, or its
    # batch is rolled back: selectors show only incidents where it is empty.
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)
    superseded_by = models.ForeignKey(
        ImportBatch,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_incidents",
    )

    class Meta:
        ordering = ["period", "source_row"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        indexes = [models.Index(fields=["dataset", "period"], name="flows_incident_period")]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} {self.location[:40]}"


def allowed_values(dimension: Dimension) -> set[str]:
    """The codes a dimension accepts: ISO countries or subdivisions by kind, plus its code list."""
    values: set[str] = set()
    if dimension.kind == DimensionKind.COUNTRY:
        values.update(Country.objects.values_list("alpha2", flat=True))
    elif dimension.kind == DimensionKind.SUBDIVISION:
        values.update(Subdivision.objects.values_list("code", flat=True))
    if dimension.code_list_id is not None:
        values.update(
            Code.objects.filter(code_list_id=dimension.code_list_id).values_list("code", flat=True)
        )
    return values


def check_period(period: datetime.date, period_type: str) -> None:
    """A period is stored as its first day."""
    if period.day != 1 or (period_type == PeriodType.YEAR and period.month != 1):
        raise ValidationError(
            {"period": _("A period is stored as its first day (of the month or of the year).")}
        )


def dimension_errors(coordinates: dict[str, str], declared: set[str]) -> dict[str, str]:
    """Why these coordinates do not fit a dataset declaring `declared`, by dimension."""
    errors: dict[str, str] = {}
    for name in OBSERVATION_DIMENSIONS:
        value = coordinates.get(name, "")
        if value and name not in declared:
            errors[name] = str(_("The dataset does not have this dimension."))
        elif not value and name in declared:
            errors[name] = str(_("The dataset requires a value for this dimension."))
    return errors
