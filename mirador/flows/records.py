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
"""

from __future__ import annotations

from typing import Protocol

from django.utils.translation import gettext as _

from mirador.flows.engine import Mapping, MappingError, ReadResult, RowContext
from mirador.flows.models import Dataset, ImportBatch


class RecordWriter(Protocol):
    def add(self, context: RowContext, cells: dict[str, str]) -> None: ...

    def close(self) -> None: ...


def record_writer(
    mapping: Mapping, dataset: Dataset, batch: ImportBatch | None, result: ReadResult
) -> RecordWriter | None:
    """The writer of the mapping's [records] kind, or None if the mapping has none."""
    if not mapping.record_kind:
        return None
    raise MappingError(
        _("[records] kind “%(kind)s” is not a kind of record Mirador keeps.")
        % {"kind": mapping.record_kind}
    )
