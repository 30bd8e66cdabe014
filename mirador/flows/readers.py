"""Reading a file as tables of text cells, whatever it is stored as: the part of the import
engine that knows file formats (CSV with its encodings and delimiters; XLSX workbooks).

`open_tables` yields one `Table` per sheet the mapping reads (a CSV file is one table with no
sheet name): its header (the column names, from the mapping's header row or rows) and an
iterator of its data rows as (row number, cells). Row numbers are 1-based record numbers of
the file as a spreadsheet shows them. Problems (not text, not a readable table or workbook,
no such sheet, no header) are reported through `issue(sheet, row, column, value, reason)`; a
table that cannot be read at all is not yielded, and rows stop at the first unreadable record.

What every reader shares:
- A header spanning several rows (`[reader] header_rows`, ending at `header_row`) is joined
  into one name per column with " / " ("Hombres / Menores"). A merged cell above several
  columns has its text in its first column only (and a CSV export repeats nothing either): it
  is carried rightwards over the empty cells of its row, as far as the row below names
  columns, before the rows are joined.
- `[reader] stop_at` (a pattern) ends the table at the first row whose first non-empty cell
  matches it ("Fuente: ..." notes under the figures): that row and every row after it are
  not read.

Workbooks are read with openpyxl in read-only mode, one row at a time: never the whole
workbook in memory. Cells become the text the engine reads: whole numbers without ".0",
dates as ISO dates ("2024-03-01", which the engine's month and year parsing understand),
empty cells as "".
"""

from __future__ import annotations

import csv
import datetime
import fnmatch
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from mirador.flows.engine import FileInfo, Mapping

SNIFF_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
HEADER_JOINER = " / "

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
    if mapping.reader == "xlsx":
        yield from _xlsx_tables(mapping, info, issue)
    else:
        yield from _csv_tables(mapping, info, issue)


def count_records(mapping: Mapping, info: FileInfo) -> int:
    """About how many records the file has, for progress bars (at least 1)."""
    if mapping.reader == "xlsx":
        return max(_xlsx_row_count(mapping, info), 1)
    count = 0
    with info.path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            count += chunk.count(b"\n")
    return max(count, 1)


def guess_delimiter(line: str) -> str:
    counts = {delimiter: line.count(delimiter) for delimiter in DELIMITERS}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def join_header_rows(rows: list[list[str]]) -> list[str]:
    """One name per column from a header spanning several rows (top row first).

    A merged cell above several columns has its text in its first column only: it is carried
    rightwards over the empty cells of its row wherever the row below names a column (the
    rows below are completed first, so that three-row headers work too). The parts of a
    column are then joined with " / ", leaving out empty parts and a part repeated from the
    row above (a vertical merge that an export wrote twice)."""
    if len(rows) == 1:
        return list(rows[0])
    width = max(len(row) for row in rows)
    filled = [list(row) + [""] * (width - len(row)) for row in rows]
    for level in range(len(filled) - 2, -1, -1):
        row, below = filled[level], filled[level + 1]
        carried = ""
        for index in range(width):
            if row[index]:
                carried = row[index]
            elif carried and below[index]:
                row[index] = carried
            else:
                carried = ""
    header = []
    for index in range(width):
        parts: list[str] = []
        for row in filled:
            if row[index] and (not parts or parts[-1] != row[index]):
                parts.append(row[index])
        header.append(HEADER_JOINER.join(parts))
    # Trailing columns without any name are no columns (a sheet's dimension often runs wider).
    while header and not header[-1]:
        header.pop()
    return header


def _until_stop(
    rows: Iterator[tuple[int, list[str]]], stop_at: re.Pattern[str] | None
) -> Iterator[tuple[int, list[str]]]:
    """The rows before the first one whose first non-empty cell matches `stop_at`."""
    for row, record in rows:
        if stop_at is not None:
            first = next((cell.strip() for cell in record if cell.strip()), "")
            if first and stop_at.search(first):
                return
        yield row, record


def _read_header(records: Iterator[tuple[int, list[str]]], mapping: Mapping) -> list[str] | None:
    """The header from the records up to the mapping's header row (consumed from `records`);
    None if the header row is empty or missing."""
    first_row = mapping.header_row - mapping.header_rows + 1
    rows: list[list[str]] = []
    last = 0
    for last, record in records:
        if last >= first_row:
            rows.append([cell.strip().lstrip("\ufeff").strip() for cell in record])
        if last >= mapping.header_row:
            break
    if last != mapping.header_row or not rows or not any(rows[-1]):
        return None
    header = join_header_rows(rows)
    return header if any(header) else None


# --- CSV ---------------------------------------------------------------------------------


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
        header = _read_header(records, mapping)
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
            rows=_until_stop(records, mapping.stop_at),
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


# --- XLSX --------------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """The text of a workbook cell as the engine reads cells: 12 and 12.0 as "12", 2.5 as
    "2.5", a date (or a date-time at midnight) as "2024-03-01", nothing as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


class _WorkbookError(Exception):
    """The file cannot be opened as a workbook; the message says why."""


def _open_workbook(handle: IO[bytes], name: str) -> Any:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        # A file object, not a path: openpyxl would refuse a name without an .xlsx ending,
        # and uploads keep the name the user gave.
        return load_workbook(handle, read_only=True, data_only=True)
    except BadZipFile as error:
        raise _WorkbookError(
            _(
                "The file %(name)s is not an Excel workbook (XLSX): it is damaged or another kind "
                "of ZIP archive (%(error)s)."
            )
            % {"name": name, "error": error}
        ) from error
    except Exception as error:
        # openpyxl reports damaged or foreign parts with many exception types (KeyError for a
        # missing part, XML parse errors, ValueError, ...); all mean the same to the user.
        raise _WorkbookError(
            _("The file %(name)s is not a readable Excel workbook (XLSX): %(error)s.")
            % {"name": name, "error": str(error) or type(error).__name__}
        ) from error


def _choose_sheets(sheet_names: list[str], wanted: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The sheets to read (in the mapping's order, each once) and the names not found.

    Each wanted sheet is found by its exact name, then ignoring case and surrounding spaces,
    then as a 1-based position ("2"), then as a pattern with * and ? ("2024*": every sheet
    it matches, in the workbook's order). No sheet wanted: the first one."""
    if not wanted:
        return sheet_names[:1], []
    folded = {name.strip().casefold(): name for name in reversed(sheet_names)}
    chosen: list[str] = []
    missing: list[str] = []
    for want in wanted:
        found: list[str] = []
        if want in sheet_names:
            found = [want]
        elif want.strip().casefold() in folded:
            found = [folded[want.strip().casefold()]]
        elif want.strip().isdigit() and 1 <= int(want) <= len(sheet_names):
            found = [sheet_names[int(want) - 1]]
        elif any(mark in want for mark in "*?["):
            pattern = want.strip().casefold()
            found = [n for n in sheet_names if fnmatch.fnmatchcase(n.strip().casefold(), pattern)]
        if not found:
            missing.append(want)
        chosen.extend(name for name in found if name not in chosen)
    return chosen, missing


def _xlsx_tables(mapping: Mapping, info: FileInfo, issue: IssueSink) -> Iterator[Table]:
    with info.path.open("rb") as handle:
        try:
            workbook = _open_workbook(handle, info.name)
        except _WorkbookError as error:
            issue("", None, "", "", str(error))
            return
        try:
            sheet_names = list(workbook.sheetnames)
            chosen, missing = _choose_sheets(sheet_names, mapping.sheets)
            for want in missing:
                issue(
                    want,
                    None,
                    "",
                    want,
                    _("The workbook has no sheet “%(sheet)s”; its sheets are: %(sheets)s.")
                    % {"sheet": want, "sheets": ", ".join(sheet_names) or _("none")},
                )
            for name in chosen:
                worksheet = workbook[name]
                if not hasattr(worksheet, "iter_rows"):  # a chart sheet has no cells
                    issue(name, None, "", name, _("The sheet is a chart, not a table."))
                    continue
                records = _xlsx_records(worksheet.iter_rows(min_row=1, values_only=True))
                records = _reported(records, name, issue)
                header = _read_header(records, mapping)
                if header is None:
                    issue(
                        name,
                        mapping.header_row,
                        "",
                        "",
                        _("The sheet has no header row (row %(row)s is empty or missing).")
                        % {"row": mapping.header_row},
                    )
                    continue
                yield Table(
                    sheet=name,
                    header=header,
                    header_row=mapping.header_row,
                    rows=_until_stop(records, mapping.stop_at),
                )
        finally:
            workbook.close()


def _xlsx_records(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[int, list[str]]]:
    for row, values in enumerate(rows, start=1):
        yield row, [cell_text(value) for value in values]


def _reported(
    records: Iterator[tuple[int, list[str]]], sheet: str, issue: IssueSink
) -> Iterator[tuple[int, list[str]]]:
    """The records of a sheet; a sheet damaged part-way is one issue where reading stopped."""
    row = 0
    try:
        for row, record in records:
            yield row, record
    except Exception as error:
        # Damaged sheet XML surfaces while streaming, as parse errors of several kinds.
        issue(
            sheet,
            row + 1,
            "",
            "",
            _("The sheet cannot be read from this row on: %(error)s.")
            % {"error": str(error) or type(error).__name__},
        )


def _xlsx_row_count(mapping: Mapping, info: FileInfo) -> int:
    """The rows of the sheets the mapping reads, from the sizes the workbook declares."""
    with info.path.open("rb") as handle:
        try:
            workbook = _open_workbook(handle, info.name)
        except _WorkbookError:
            return 1
        try:
            chosen, _missing = _choose_sheets(list(workbook.sheetnames), mapping.sheets)
            return sum(getattr(workbook[name], "max_row", None) or 0 for name in chosen)
        finally:
            workbook.close()
