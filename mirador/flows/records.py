"""Records a data row also is, besides the counts it gives: a mapping's [records] section.

Some sources report events, not counts: an IOM Missing Migrants Project row is one incident
(where, when, coordinates, several countries of origin, the source and its quality) whose dead,
missing and survivors are also counted into observations. A mapping names the kind of record
and the columns of its fields:

    [records]
    kind = "incident"
    [records.fields]
    source_id = "Web ID"
    coordinates = ["Location Coordinates", "Coordinates"]
    ...

`record_writer` gives the writer of a kind for an import: its `add(context, cells)` is the
engine's `on_record` callback (it checks the fields, reporting problems into the import's
ReadResult, which leaves the row out, and keeps the record), and `close()` writes what is left.
With no batch (a dry run, an upload's validation) it only checks.

Kind "incident" (`flows.models.Incident`), its fields (every one optional):
- source_id, region, location, information_source, url: text as written;
- date: "January 05, 2020" (a month name in English or Spanish, the day, the year) or
  "2020-01-05"; an empty cell is no date (the 2023 layout has none);
- coordinates: "latitude, longitude" in decimal degrees (both published layouts write them so);
  an empty cell is no position;
- dead, missing, survivors, females, males, children: whole numbers of 0 or more; an empty cell
  is "not reported" (None), never 0;
- source_quality: IOM's 1 (one unverified source) to 5 (official or several verified sources);
- origins: a country cell, resolved through the mapping's dimension reading the same column
  (its `map`, country names, `several`), kept as the list of every code it names (["HN", "_U"]
  for "Honduras,Unknown"); no such field (the older layout has no origins): [].
The incident's month, route and cause are the row's: its period and the codes the mapping gave
its route and cause dimensions.
"""

from __future__ import annotations

import datetime
import re
from typing import Any, Protocol

from django.db import connection
from django.utils.translation import gettext as _

from mirador.flows.engine import (
    DimensionSpec,
    ImportIssue,
    Mapping,
    MappingError,
    ReadResult,
    RowContext,
    _Resolver,
    parse_month,
)
from mirador.flows.models import (
    OBSERVATION_DIMENSIONS,
    Dataset,
    ImportBatch,
    Incident,
    allowed_values,
)

INCIDENT_TEXT_FIELDS = ("source_id", "region", "location", "information_source", "url")
INCIDENT_COUNT_FIELDS = ("dead", "missing", "survivors", "females", "males", "children")
INCIDENT_FIELDS = frozenset(
    (
        *INCIDENT_TEXT_FIELDS,
        *INCIDENT_COUNT_FIELDS,
        "date",
        "coordinates",
        "origins",
        "source_quality",
    )
)
CHUNK_SIZE = 2_000
SOURCE_QUALITY = range(1, 6)
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
_WRITTEN_DATE = re.compile(r"([^\W\d_]+)\.?\s+(\d{1,2}),?\s+(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


class RecordWriter(Protocol):
    def add(self, context: RowContext, cells: dict[str, str]) -> None: ...

    def close(self) -> None: ...


def record_writer(
    mapping: Mapping,
    dataset: Dataset,
    batch: ImportBatch | None,
    result: ReadResult,
    *,
    file_name: str = "",
) -> RecordWriter | None:
    """The writer of the mapping's [records] kind, or None if the mapping has none.
    `file_name` names the file in the problems reported (by default the batch's)."""
    if not mapping.record_kind:
        return None
    if mapping.record_kind == "incident":
        return IncidentWriter(
            mapping,
            dataset,
            batch,
            result,
            file_name=file_name or (batch.file_name if batch is not None else ""),
        )
    raise MappingError(
        _("[records] kind “%(kind)s” is not a kind of record Mirador keeps.")
        % {"kind": mapping.record_kind}
    )


class IncidentWriter:
    """Checks each row's incident fields and keeps the incidents; with a batch, writes them.

    On PostgreSQL the observations are being written with COPY while the rows stream past,
    which holds the connection: the incidents wait for `close()` there (an incident file has
    tens of thousands of rows, not millions). Elsewhere they are written in chunks. Nothing is
    written once the import has a problem: its transaction will be rolled back."""

    def __init__(
        self,
        mapping: Mapping,
        dataset: Dataset,
        batch: ImportBatch | None,
        result: ReadResult,
        *,
        file_name: str,
    ) -> None:
        unknown = sorted(set(mapping.record_fields) - INCIDENT_FIELDS)
        if unknown:
            raise MappingError(
                _(
                    "[records.fields] %(names)s: an incident has no such field; "
                    "its fields are: %(known)s."
                )
                % {"names": ", ".join(unknown), "known": ", ".join(sorted(INCIDENT_FIELDS))}
            )
        self.mapping = mapping
        self.dataset = dataset
        self.batch = batch
        self.result = result
        self.file_name = file_name
        self.pending: list[Incident] = []
        self.defer = connection.vendor == "postgresql"
        self.positions = {name: index for index, name in enumerate(OBSERVATION_DIMENSIONS)}
        self.origins = self._origin_resolver() if "origins" in mapping.record_fields else None
        self.max_lengths = {
            name: getattr(Incident._meta.get_field(name), "max_length", None)
            for name in INCIDENT_TEXT_FIELDS
        }

    def _origin_resolver(self) -> _Resolver:
        """Origins resolve as the dimension reading the same column does (its map, its
        `several`), or as plain country names if no dimension reads it."""
        columns = self.mapping.record_fields["origins"]
        spec = next(
            (spec for spec in self.mapping.dimensions if spec.columns == columns),
            DimensionSpec(name="citizenship", columns=columns, countries=True, map={}),
        )
        dimension = self.dataset.dimensions.filter(code=spec.name).first()
        allowed = allowed_values(dimension) if dimension is not None else set()
        return _Resolver(spec, allowed)

    def add(self, context: RowContext, cells: dict[str, str]) -> None:
        problems_before = self.result.issue_count

        def issue(name: str, value: str, reason: str) -> None:
            column = self._column(name)
            self.result.add(
                ImportIssue(self.file_name, context.sheet, context.row, column, value, reason)
            )

        values: dict[str, Any] = {}
        for name in INCIDENT_TEXT_FIELDS:
            text = cells.get(name, "").strip()
            limit = self.max_lengths[name]
            if limit is not None and len(text) > limit:
                issue(name, text, _("Longer than %(limit)s characters.") % {"limit": limit})
            values[name] = text
        for name in INCIDENT_COUNT_FIELDS:
            values[name] = self._count(cells.get(name, ""), name, issue)
        values["date"] = self._date(cells.get("date", ""), context, issue)
        values["latitude"], values["longitude"] = self._coordinates(
            cells.get("coordinates", ""), issue
        )
        values["source_quality"] = self._source_quality(cells.get("source_quality", ""), issue)
        values["origins"] = []
        if self.origins is not None:
            codes, reason = self.origins.each(cells.get("origins", ""))
            if reason:
                issue("origins", cells.get("origins", ""), reason)
            values["origins"] = codes
        if self.result.issue_count > problems_before or self.batch is None:
            return
        self.pending.append(
            Incident(
                dataset=self.dataset,
                batch=self.batch,
                source_row=context.row,
                source_sheet=context.sheet,
                period=context.period,
                route=context.coordinates[self.positions["route"]],
                cause=context.coordinates[self.positions["cause"]],
                **values,
            )
        )
        if not self.defer and len(self.pending) >= CHUNK_SIZE:
            self._flush()

    def close(self) -> None:
        self._flush()

    def _flush(self) -> None:
        if self.result.issue_count:
            self.pending.clear()  # the import will be rolled back: nothing to write
            return
        Incident.objects.bulk_create(self.pending, batch_size=CHUNK_SIZE)
        self.pending.clear()

    def _column(self, name: str) -> str:
        columns = self.mapping.record_fields.get(name, ())
        return columns[0] if len(columns) == 1 else " / ".join(columns)

    def _count(self, cell: str, name: str, issue: Any) -> int | None:
        text = cell.strip().replace("\u00a0", "").replace(" ", "")
        if not text:
            return None  # not reported: not 0
        if text.startswith("-") and text[1:].isdigit():
            issue(name, cell, _("A count cannot be negative."))
            return None
        if not text.isascii() or not text.lstrip("+").isdigit():
            issue(name, cell, _("A count must be a whole number."))
            return None
        return int(text)

    def _date(self, cell: str, context: RowContext, issue: Any) -> datetime.date | None:
        text = cell.strip()
        if not text:
            return None
        date = None
        written = _WRITTEN_DATE.fullmatch(text)
        iso = _ISO_DATE.fullmatch(text)
        try:
            if written is not None:
                month = parse_month(written.group(1))
                if month is not None:
                    date = datetime.date(int(written.group(3)), month, int(written.group(2)))
            elif iso is not None:
                date = datetime.date(*(int(part) for part in iso.groups()))
        except ValueError:
            date = None
        if date is None:
            issue("date", cell, _("Not a date: write it as “January 05, 2020” or 2020-01-05."))
        return date

    def _coordinates(self, cell: str, issue: Any) -> tuple[float | None, float | None]:
        text = cell.strip()
        if not text:
            return None, None
        parts = [part.strip() for part in text.split(",")]
        if len(parts) != 2 or not all(_NUMBER.fullmatch(part) for part in parts):
            issue(
                "coordinates",
                cell,
                _(
                    "Not coordinates: write the latitude and the longitude in decimal degrees, "
                    "separated by a comma (“31.65, -110.37”)."
                ),
            )
            return None, None
        latitude, longitude = float(parts[0]), float(parts[1])
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            issue(
                "coordinates",
                cell,
                _("The latitude must be between -90 and 90, the longitude between -180 and 180."),
            )
            return None, None
        return latitude, longitude

    def _source_quality(self, cell: str, issue: Any) -> int | None:
        text = cell.strip()
        if not text:
            return None
        if not text.isdigit() or int(text) not in SOURCE_QUALITY:
            issue("source_quality", cell, _("The source quality is a whole number from 1 to 5."))
            return None
        return int(text)
