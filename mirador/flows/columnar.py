"""Reading a plain CSV file column by column: the import engine's fast path for large files.

`read_blocks` gives the observations of a file in blocks (flows.series). For a CSV file read
through a long mapping (a [value] or [[values]] section, no [wide], no [records], a one-row
header on the file's first line, UTF-8), the file is parsed by pyarrow's streaming CSV reader
in blocks of about BLOCK_BYTES, each column dictionary-encoded: every rule of the engine
(drop patterns, periods, value maps and country names, counts, `skip_non_countries`, the
mapping's `set`) is applied once per distinct cell of a block, through the engine's own
functions (`_Resolver`, `row_period_of`, the count rules), and the rows take the result by
index, in numpy. A statistics table repeats a few hundred distinct cells per column, so a
million rows cost a few thousand Python calls instead of a million.

Exactness over speed: a block is read this way only if every one of its rows is plain, meaning
no problem of any kind, no blank row, and as many cells as the header. At the first block that
is not, reading goes on row by row through `engine.read_observations` from that block's first
record, so every problem is found and told exactly as the row-by-row reader tells it (file,
sheet, row, column, value, reason), and blank rows, short rows and anything pyarrow reads
differently from Python's csv module are read as the engine always read them. A file that
fits none of the conditions is read row by row from the start.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from mirador.flows.engine import (
    _SKIP,
    FileInfo,
    Mapping,
    ReadResult,
    RecordCallback,
    _bind_columns,
    _parse_count,
    _Resolver,
    read_observations,
    row_period_of,
)
from mirador.flows.models import OBSERVATION_DIMENSIONS
from mirador.flows.readers import open_tables
from mirador.flows.series import ObservationBlock, SeriesRegistry, blocks_from_rows

# About this many bytes of the file per block, the first ones smaller.
BLOCK_BYTES = 8 << 20
FIRST_BYTES = 64 << 10
_UTF8 = ("utf-8", "utf8", "utf-8-sig", "utf_8", "utf_8_sig")
# A combination key of dimension codes stays below this before it is renumbered.
_KEY_LIMIT = 1 << 62

Integers = npt.NDArray[np.int64]


def read_blocks(
    mapping: Mapping,
    info: FileInfo,
    *,
    allowed: dict[str, set[str]],
    result: ReadResult,
    registry: SeriesRegistry,
    on_record: RecordCallback | None = None,
) -> Iterator[ObservationBlock]:
    """The observations of a file in blocks, column by column where the file allows it (see
    the module's docstring), row by row otherwise. Problems go to `result`."""
    plan = _plan(mapping, info, allowed) if on_record is None else None
    if plan is None:
        yield from blocks_from_rows(
            read_observations(mapping, info, allowed=allowed, result=result, on_record=on_record),
            registry,
        )
        return
    result.encoding = plan.encoding
    result.delimiter = plan.delimiter
    next_row = 2  # the record after the header
    for batch in _batches(info, plan):
        if batch is None:
            break
        read = _read_batch(mapping, plan, batch, next_row, registry)
        if read is None:
            break
        blocks, dropped, left_out = read
        result.rows_read += batch.num_rows
        result.rows_dropped += dropped
        for what, rows in left_out.items():
            result.left_out[what] = result.left_out.get(what, 0) + rows
        next_row += batch.num_rows
        yield from blocks
    else:
        return
    yield from blocks_from_rows(
        read_observations(mapping, info, allowed=allowed, result=result, from_row=next_row),
        registry,
    )


class _Plan:
    """What the mapping reads from a file that can be read column by column."""

    def __init__(
        self,
        mapping: Mapping,
        header: list[str],
        encoding: str,
        delimiter: str,
        bound: tuple[Any, ...],
        allowed: dict[str, set[str]],
    ) -> None:
        year_at, month_at, dimension_at, value_at, drop_at, _records = bound
        self.header = header
        self.encoding = encoding
        self.delimiter = delimiter
        self.year_at: int | None = year_at
        self.month_at: int | None = month_at
        self.value_at: list[int] = value_at
        self.drop_at: list[tuple[int, Any]] = drop_at
        positions = {name: index for index, name in enumerate(OBSERVATION_DIMENSIONS)}
        self.base = [""] * len(OBSERVATION_DIMENSIONS)
        for name, code in mapping.constants.items():
            self.base[positions[name]] = code
        self.resolvers = [
            (positions[spec.name], index, _Resolver(spec, allowed[spec.name]))
            for spec, index in zip(mapping.dimensions, dimension_at, strict=True)
        ]
        self.sets = [
            [(positions[name], code) for name, code in spec.set.items()] for spec in mapping.values
        ]
        self.columns = sorted(
            {
                *(index for index in (year_at, month_at) if index is not None),
                *dimension_at,
                *value_at,
                *(index for index, _pattern in drop_at),
            }
        )
        # Per dimension position: its codes numbered, across blocks.
        self.code_numbers: dict[int, dict[str, int]] = {}
        self.periods: dict[tuple[str, str], tuple[int, str] | None] = {}
        # (period type, code number of each dimension read) -> series number per value column.
        self.series_numbers: dict[tuple[int, ...], tuple[int, ...]] = {}


def _plan(mapping: Mapping, info: FileInfo, allowed: dict[str, set[str]]) -> _Plan | None:
    """How to read the file column by column, or None to read it row by row (from the
    start: a wrong constant or header is then reported as the engine reports it)."""
    encoding = info.encoding if mapping.encoding == "auto" else mapping.encoding
    if (
        mapping.reader != "csv"
        or mapping.wide is not None
        or mapping.record_kind
        or mapping.header_row != 1
        or mapping.header_rows != 1
        or mapping.stop_at is not None
        or not mapping.values
        or encoding.lower() not in _UTF8
    ):
        return None
    if any(code not in allowed.get(name, set()) for name, code in mapping.constants.items()):
        return None
    problems: list[Any] = []
    tables = open_tables(mapping, info, lambda *problem: problems.append(problem))
    try:
        table = next(tables, None)
    finally:
        close = getattr(tables, "close", None)
        if close is not None:  # a generator: let it close the file now
            close()
    if table is None or problems or not _header_is_the_first_line(info, table.delimiter):
        return None
    bound = _bind_columns(
        mapping, table.header, lambda *problem: problems.append(problem), table.header_row
    )
    if bound is None:
        return None
    year_at, month_at, dimension_at, value_at, drop_at, _records = bound
    others = {*dimension_at, *(i for i in (year_at, month_at) if i is not None)}
    others |= {index for index, _pattern in drop_at}
    if others & set(value_at) or len(set(value_at)) != len(value_at):
        return None  # a column read both as a count and as something else
    return _Plan(mapping, table.header, table.encoding or encoding, table.delimiter, bound, allowed)


def _header_is_the_first_line(info: FileInfo, delimiter: str) -> bool:
    """Whether the header record is the file's first line (no quoted line break in it), so
    that pyarrow's rows after it are the records after it however it counts skipped rows."""
    with info.path.open("rb") as handle:
        line = handle.readline(1 << 20)
    if not line.endswith(b"\n"):
        return False
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    records = list(csv.reader([text], delimiter=delimiter))
    return len(records) == 1


def _batches(info: FileInfo, plan: _Plan) -> Iterator[Any]:
    """pyarrow tables of the columns the mapping reads, every cell dictionary-encoded text,
    one per stretch of about BLOCK_BYTES of the file; None once the file cannot be read that
    way any more (a row with another number of cells, text that is not UTF-8, ...).

    The stretches are cut here, each read on its own (pyarrow's streaming reader reads ahead
    of a slower consumer without bound: 250 MiB for a 5-million-row file)."""
    import pyarrow as pa
    from pyarrow import csv as arrow_csv

    names = [f"c{index}" for index in range(len(plan.header))]
    text = pa.dictionary(pa.int32(), pa.string())
    options = {
        # One block per stretch (the stretch is at most 5 * BLOCK_BYTES): one dictionary per
        # column. Not threaded: the database takes the other core.
        "read_options": arrow_csv.ReadOptions(
            column_names=names, use_threads=False, block_size=6 * BLOCK_BYTES
        ),
        "parse_options": arrow_csv.ParseOptions(
            delimiter=plan.delimiter,
            quote_char='"',
            double_quote=True,
            escape_char=False,
            # One block per stretch: pyarrow's parser reads a quoted line break in it either
            # way; this only tells its block splitter, which has nothing to split.
            newlines_in_values=False,
            ignore_empty_lines=False,
        ),
        "convert_options": arrow_csv.ConvertOptions(
            column_types={names[index]: text for index in plan.columns},
            include_columns=[names[index] for index in plan.columns],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            null_values=[],
        ),
    }
    with info.path.open("rb") as handle:
        handle.readline()  # the header (the first line: _header_is_the_first_line)
        for stretch in _record_stretches(handle):
            if stretch is None:
                yield None
                return
            try:
                table = arrow_csv.read_csv(pa.py_buffer(stretch), **options)
            except (pa.ArrowException, OSError):
                yield None
                return
            if any(column.num_chunks != 1 for column in table.columns):
                table = table.unify_dictionaries().combine_chunks()
            yield table


def _record_stretches(handle: Any) -> Iterator[memoryview | None]:
    """The rest of the file in stretches growing from FIRST_BYTES to about BLOCK_BYTES (so
    that a small file is read, stored and its progress told in several steps too), each
    ending at the end of a line outside quotes (an even number of quote characters before
    it); None if no such end is found within 4 * BLOCK_BYTES (a huge quoted cell, or lines
    ended by CR alone). The file is read from where each stretch ends: nothing is copied."""
    size = step = FIRST_BYTES
    while True:
        start = handle.tell()
        data = handle.read(size)
        if not data:
            return
        if len(data) < size:  # the end of the file
            yield memoryview(data)
            return
        end = data.rfind(b"\n")
        while end >= 0 and data.count(b'"', 0, end) % 2:
            end = data.rfind(b"\n", 0, end)
        if end < 0:
            if size >= 4 * BLOCK_BYTES:
                yield None
                return
            size *= 2
            handle.seek(start)
            continue
        size = step = min(2 * step, BLOCK_BYTES)
        handle.seek(start + end + 1)
        yield memoryview(data)[: end + 1]


class _Column:
    """One column of a batch: its distinct cells and, per row, the index of its cell."""

    def __init__(self, array: Any) -> None:
        self.cells: list[str] = array.dictionary.to_pylist()
        # The indices' data buffer as it is (int32, no nulls); Array.to_numpy would import
        # pandas (50 MiB) to check for it.
        indices = array.indices
        self.at: npt.NDArray[np.int32] = np.frombuffer(
            indices.buffers()[1], dtype=np.int32, count=indices.offset + len(indices)
        )[indices.offset :]

    def per_row(self, per_cell: list[Any] | npt.NDArray[Any], dtype: Any) -> npt.NDArray[Any]:
        return np.asarray(per_cell, dtype=dtype)[self.at]


def _read_batch(
    mapping: Mapping,
    plan: _Plan,
    batch: Any,
    first_row: int,
    registry: SeriesRegistry,
) -> tuple[list[ObservationBlock], int, dict[str, int]] | None:
    """The batch's observations (one block), how many rows were left out and what
    `skip_non_countries` left out; None if a row of it is not plain (see the module)."""
    count = batch.num_rows
    if not count:
        return [], 0, {}
    columns = {
        index: _Column(batch.column(position).chunk(0))
        for position, index in enumerate(plan.columns)
    }
    # A blank row (every cell read blank) is the row-by-row reader's to pass over or report.
    blank = np.ones(count, dtype=np.bool_)
    for column in columns.values():
        blank &= column.per_row([not cell.strip() for cell in column.cells], np.bool_)
    if blank.any():
        return None
    kept = np.ones(count, dtype=np.bool_)
    for index, pattern in plan.drop_at:
        column = columns[index]
        kept &= ~column.per_row([bool(pattern.search(cell)) for cell in column.cells], np.bool_)
    periods = _periods(mapping, plan, columns, kept, count)
    if periods is None:
        return None
    ordinals, period_types = periods
    resolved = _dimensions(plan, columns, kept)
    if resolved is None:
        return None
    codes, skipped_by = resolved
    left_out: dict[str, int] = {}
    active = kept & (skipped_by < 0)
    if (skipped_by >= 0).any():
        labels, label_at = _skip_labels(plan, columns, skipped_by, kept)
        for label, rows in zip(
            labels, np.bincount(label_at, minlength=len(labels)).tolist(), strict=True
        ):
            if rows:
                left_out[label] = left_out.get(label, 0) + rows
    counts = _counts(mapping, plan, columns, active)
    if counts is None:
        return None
    dropped = int(count - active.sum())
    rows = np.arange(first_row, first_row + count, dtype=np.int64)
    block = _block(plan, registry, codes, ordinals, period_types, counts, active, rows)
    return [block], dropped, left_out


def _periods(
    mapping: Mapping,
    plan: _Plan,
    columns: dict[int, _Column],
    kept: npt.NDArray[np.bool_],
    count: int,
) -> tuple[Integers, npt.NDArray[np.int8]] | None:
    """Per row: the period's ordinal and its type (0 month, 1 year), through the engine's
    row_period_of once per distinct (year cell, month cell); None at any problem."""
    year = columns.get(plan.year_at) if plan.year_at is not None else None
    month = columns.get(plan.month_at) if plan.month_at is not None else None
    year_at = year.at.astype(np.int64) if year is not None else np.zeros(count, dtype=np.int64)
    month_at = month.at.astype(np.int64) if month is not None else np.zeros(count, dtype=np.int64)
    width = len(month.cells) if month is not None else 1
    pairs, inverse = np.unique((year_at * width + month_at)[kept], return_inverse=True)
    ordinals = np.zeros(len(pairs), dtype=np.int64)
    types = np.zeros(len(pairs), dtype=np.int8)
    for number, pair in enumerate(pairs.tolist()):
        year_cell = year.cells[pair // width] if year is not None else ""
        month_cell = month.cells[pair % width] if month is not None else ""
        if (year_cell, month_cell) in plan.periods:
            period = plan.periods[(year_cell, month_cell)]
        else:
            _year, row_period, problems = row_period_of(
                mapping, year_cell, month_cell, year is not None, month is not None
            )
            period = None
            if not problems and row_period is not None:
                period = (row_period[0].toordinal(), row_period[1])
            plan.periods[(year_cell, month_cell)] = period
        if period is None:
            return None
        ordinals[number] = period[0]
        types[number] = 0 if period[1] == "month" else 1
    row_ordinals = np.zeros(count, dtype=np.int64)
    row_types = np.zeros(count, dtype=np.int8)
    row_ordinals[kept] = ordinals[inverse]
    row_types[kept] = types[inverse]
    return row_ordinals, row_types


def _dimensions(
    plan: _Plan, columns: dict[int, _Column], kept: npt.NDArray[np.bool_]
) -> tuple[list[tuple[int, list[str], Integers]], Integers] | None:
    """Per dimension read from a column: (position, its codes, per row the index of its
    code); and per row the resolver that left it out as a non-country (its position in
    plan.resolvers, the last one as in the engine), -1 for none. None at any problem of a
    row not dropped."""
    count = len(kept)
    skipped_by = np.full(count, -1, dtype=np.int64)
    codes: list[tuple[int, list[str], Integers]] = []
    for number, (position, index, resolver) in enumerate(plan.resolvers):
        column = columns[index]
        used = np.zeros(len(column.cells), dtype=np.bool_)
        used[column.at[kept]] = True
        numbers = plan.code_numbers.setdefault(position, {})
        per_cell = np.zeros(len(column.cells), dtype=np.int64)
        skips = np.zeros(len(column.cells), dtype=np.bool_)
        for at, cell in enumerate(column.cells):
            if not used[at]:
                continue
            code, reason = resolver(cell)
            if reason:
                return None
            if code == _SKIP:
                skips[at] = True
                continue
            per_cell[at] = numbers.setdefault(code, len(numbers))
        skipped = skips[column.at] & kept
        skipped_by[skipped] = number
        codes.append((position, list(numbers), per_cell[column.at]))
    return codes, skipped_by


def _skip_labels(
    plan: _Plan,
    columns: dict[int, _Column],
    skipped_by: Integers,
    kept: npt.NDArray[np.bool_],
) -> tuple[list[str], Integers]:
    """What each row left out as a non-country is counted under ("column: cell"), as the
    engine counts it."""
    labels: dict[str, int] = {}
    label_at: list[int] = []
    for row in np.flatnonzero(kept & (skipped_by >= 0)).tolist():
        _position, index, _resolver = plan.resolvers[int(skipped_by[row])]
        cell = columns[index].cells[int(columns[index].at[row])]
        label = f"{plan.header[index]}: {cell.strip()}"
        label_at.append(labels.setdefault(label, len(labels)))
    return list(labels), np.asarray(label_at, dtype=np.int64)


def _counts(
    mapping: Mapping, plan: _Plan, columns: dict[int, _Column], active: npt.NDArray[np.bool_]
) -> list[tuple[Integers, npt.NDArray[np.bool_]]] | None:
    """Per value column: the count of each row and whether it has one (an empty cell under
    `empty = "skip"` has none), by the engine's rules; None at any problem of an active row."""
    counts: list[tuple[Integers, npt.NDArray[np.bool_]]] = []
    for spec, index in zip(mapping.values, plan.value_at, strict=True):
        column = columns[index]
        used = np.zeros(len(column.cells), dtype=np.bool_)
        used[column.at[active]] = True
        values = np.zeros(len(column.cells), dtype=np.int64)
        present = np.zeros(len(column.cells), dtype=np.bool_)
        for at, cell in enumerate(column.cells):
            if not used[at]:
                continue
            text = cell.strip()
            if text.isascii() and text.isdigit():
                count: int | None = int(text)
            else:
                count, reason = _parse_count(text, spec.empty)
                if reason:
                    return None
            if count is None:
                continue
            if count > np.iinfo(np.int64).max:
                return None  # the row-by-row reader's to refuse
            values[at], present[at] = count, True
        counts.append((values[column.at], present[column.at] & active))
    return counts


def _block(
    plan: _Plan,
    registry: SeriesRegistry,
    codes: list[tuple[int, list[str], Integers]],
    ordinals: Integers,
    period_types: npt.NDArray[np.int8],
    counts: list[tuple[Integers, npt.NDArray[np.bool_]]],
    active: npt.NDArray[np.bool_],
    rows: Integers,
) -> ObservationBlock:
    """The observations of the active rows, in the engine's order (row by row, value column
    by value column), their series numbered in `registry`."""
    at = np.flatnonzero(active)
    group_of, first_of = _groups(
        [period_types[at].astype(np.int64), *(per_row[at] for _p, _n, per_row in codes)]
    )
    # Each group's (period type, code numbers): the same in every block, so the series of a
    # group are looked up, and numbered only the first time.
    group_rows = at[first_of]
    group_keys = np.stack(
        [
            period_types[group_rows].astype(np.int64),
            *(per_row[group_rows] for _p, _n, per_row in codes),
        ],
        axis=1,
    )
    known = plan.series_numbers
    found: list[tuple[int, ...]] = []
    for key in map(tuple, group_keys.tolist()):
        numbers = known.get(key)
        if numbers is None:
            numbers = known[key] = _number_series(plan, registry, codes, key)
        found.append(numbers)
    series_of_group = np.asarray(found, dtype=np.int64).reshape(len(first_of), len(counts))
    # Rows by value columns, flattened row by row.
    series = series_of_group[group_of].ravel()
    present = np.stack([has[at] for _values, has in counts], axis=1).ravel()
    values = np.stack([value[at] for value, _has in counts], axis=1).ravel()
    width = len(counts)
    return ObservationBlock(
        series[present],
        np.repeat(ordinals[at], width)[present],
        values[present],
        np.repeat(rows[at], width)[present],
    )


def _number_series(
    plan: _Plan,
    registry: SeriesRegistry,
    codes: list[tuple[int, list[str], Integers]],
    key: tuple[int, ...],
) -> tuple[int, ...]:
    """The series numbers, one per value column, of a group's (period type, code numbers)."""
    coordinates = list(plan.base)
    for (position, numbers, _per_row), number in zip(codes, key[1:], strict=True):
        coordinates[position] = numbers[number]
    period_type = "month" if key[0] == 0 else "year"
    series = []
    for overrides in plan.sets:
        values = list(coordinates)
        for position, code in overrides:
            values[position] = code
        series.append(registry.number("", period_type, tuple(values)))
    return tuple(series)


def _groups(columns: list[Integers]) -> tuple[Integers, Integers]:
    """Rows grouped by equal values in every column: per row its group, and per group its
    first row. The columns are combined into one integer key, renumbered densely whenever
    the next column would overflow it."""
    key = columns[0]
    for column in columns[1:]:
        width = int(column.max()) + 1 if len(column) else 1
        if len(key) and int(key.max()) >= _KEY_LIMIT // width:
            _unique, key = np.unique(key, return_inverse=True)
        key = key * width + column
    _unique, first_of, group_of = np.unique(key, return_index=True, return_inverse=True)
    return group_of, first_of
