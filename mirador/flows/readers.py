"""Reading a file as tables of text cells, whatever it is stored as: the part of the import
engine that knows file formats (CSV with its encodings and delimiters; spreadsheets to come).

`open_tables` yields one `Table` per sheet the mapping reads (a CSV file is one table with no
sheet name): its header (the column names, from the mapping's header row) and an iterator of
its data rows as (row number, cells). Row numbers are 1-based record numbers of the file as a
spreadsheet shows them. Problems (not text, not a readable table, no header) are reported
through `issue(sheet, row, column, value, reason)`; a table that cannot be read at all is not
yielded, and rows stop at the first unreadable record.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from mirador.flows.engine import FileInfo, Mapping

SNIFF_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")

# issue(sheet, row, column, value, reason)
IssueSink = Callable[[str, int | None, str, str, str], None]


@dataclass
class Table:
    sheet: str  # "" for a CSV file
    header: list[str]
    header_row: int  # the (last) record the header was read from
    rows: Iterator[tuple[int, list[str]]]  # data rows after the header, blank ones included
    encoding: str = ""
    delimiter: str = ""


def open_tables(mapping: Mapping, info: FileInfo, issue: IssueSink) -> Iterator[Table]:
    """The tables of the file the mapping reads, one at a time (the file is streamed)."""
    yield from _csv_tables(mapping, info, issue)


def count_records(mapping: Mapping, info: FileInfo) -> int:
    """About how many records the file has, for progress bars (at least 1)."""
    count = 0
    with info.path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            count += chunk.count(b"\n")
    return max(count, 1)


def guess_delimiter(line: str) -> str:
    counts = {delimiter: line.count(delimiter) for delimiter in DELIMITERS}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _csv_tables(mapping: Mapping, info: FileInfo, issue: IssueSink) -> Iterator[Table]:
    encoding = info.encoding if mapping.encoding == "auto" else mapping.encoding
    with info.path.open(encoding=encoding, newline="", errors="strict") as handle:
        try:
            # Guess from the header line: title and note lines above it may have no delimiter.
            lines = [handle.readline(SNIFF_BYTES) for _line in range(mapping.header_row)]
            sample = lines[-1] if lines[-1].strip() else next((x for x in lines if x.strip()), "")
            delimiter = (
                guess_delimiter(sample) if mapping.delimiter == "auto" else mapping.delimiter
            )
            handle.seek(0)
        except UnicodeDecodeError as error:
            issue("", 1, "", "", _not_text(encoding, error))
            return
        records = _csv_records(csv.reader(handle, delimiter=delimiter), encoding, issue)
        header: list[str] | None = None
        for row, record in records:
            if row == mapping.header_row:
                cells = [cell.strip().lstrip("\ufeff") for cell in record]
                if any(cells):
                    header = cells
                break
        if header is None:
            issue(
                "",
                mapping.header_row,
                "",
                "",
                _("The file has no header row (row %(row)s is empty or missing).")
                % {"row": mapping.header_row},
            )
            return
        yield Table(
            sheet="",
            header=header,
            header_row=mapping.header_row,
            rows=records,
            encoding=encoding,
            delimiter=delimiter,
        )


def _csv_records(
    reader: Iterator[list[str]], encoding: str, issue: IssueSink
) -> Iterator[tuple[int, list[str]]]:
    row = 0
    try:
        for row, record in enumerate(reader, start=1):
            yield row, record
    except UnicodeDecodeError as error:
        issue("", row + 1, "", "", _not_text(encoding, error))
    except csv.Error as error:
        issue(
            "",
            row + 1,
            "",
            "",
            _("The file is not a readable CSV table: %(error)s.") % {"error": error},
        )


def _not_text(encoding: str, error: UnicodeDecodeError) -> str:
    return _("The file is not %(encoding)s text: %(error)s.") % {
        "encoding": encoding,
        "error": error.reason,
    }
