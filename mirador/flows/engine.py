"""The one import engine: reads a table through a declarative mapping file into observations.

A format is a TOML mapping in `flows/formats/` (or a file the user gives), not a parser of its
own. The engine owns everything formats share: finding the encoding (UTF-8, UTF-8 with BOM,
UTF-16 with BOM, else Latin-1) and the delimiter, refusing empty and binary files, the header
row and the rows around it, periods (calendar or US fiscal), value maps to codes with country
names resolved by `flows.country_names`, counts, and the duplicated-coordinate rule. It streams
rows through `flows.readers` (CSV files, XLSX workbooks) and never holds the file; it yields
observations one at a time and records every problem as an `ImportIssue` naming file, sheet,
row, column, value and reason.
Storing (all or nothing) is `flows.services.batch_import`'s job.

A mapping, with every key the engine reads (see formats/cbp_sbo_encounters.toml):

    [format]
    code = "cbp-sbo-encounters"          # what `mirador import CODE FILE` calls it
    name = "..."                          # one line for people
    dataset = "border-encounters"         # a Dataset code
    sum_duplicates = false                # rows with the same coordinates: error, or add up

    [reader]
    type = "csv"                          # or "xlsx" (a workbook, see flows.readers)
    encoding = "auto"                     # csv: or "utf-8", "utf-8-sig", "latin-1", ...
    delimiter = "auto"                    # csv: or ",", ";", "\\t", "|"
    sheet = "Returns"                     # xlsx: a name (exact, then ignoring case and
                                          # spaces), a 1-based position (2 or "2"), a pattern
                                          # ("2024*") or a list of these; default the first
    header_row = 1                        # 1-based record number of the header; rows before
                                          # it (titles, notes) are skipped
    header_rows = 1                       # rows the header spans, ending at header_row;
                                          # joined per column as "Hombres / Menores"
    drop = [{ column = "Month", pattern = "(?i)^total" }]   # rows to leave out (totals, notes)
    stop_at = "(?i)^fuente"               # the table ends at the first row whose first
                                          # non-empty cell matches (notes under it)

    [period]
    rule = "us-fiscal-month"              # or "calendar-month", "calendar-year"
    year = "Fiscal Year"                  # cells such as "2025 (FYTD)" or "FY2025" are read
    month = "Month (abbv)"                # "OCT", "October", "oct.", "octubre", "10"; a month
                                          # with its year ("2024-03", a date cell, "enero
                                          # 2024", "ene-24") is that calendar month, and
                                          # `year` may then be left out
    year_value = 2024                     # instead of `year`: the year of every row

    [constants]
    reporting_country = "US"

    [dimensions.citizenship]
    column = "Citizenship Grouping"       # or a list of names a column has had over the years
    countries = true                      # fall back to country names -> ISO alpha-2
    map = { "Other" = "_O" }              # cell -> code (exact, then ignoring case)
    skip_non_countries = false            # true: a row whose cell is a known non-country
                                          # ("Caribbean", "WORLD") is left out, counted in
                                          # the summary; false: such a cell is an error
                                          # unless `map` gives it a code ("_O")
    several = "_M"                        # a cell listing several values ("Guatemala,
                                          # Honduras") is this code when its values give
                                          # more than one code, their code when they give
                                          # one; each value must resolve on its own. Countries
                                          # are split by country_names.split_country_list

    [dimensions.cause]
    column = "Cause of Death"
    map = { "Mixed" = "_U" }
    patterns = [{ pattern = "(?i)drown", code = "drowning" }]   # tried in order after `map`
                                          # (re.search); then the dimension's own codes
    several = "_M"
    separator = ","                       # what separates the values of a list cell (with
                                          # `several`, for dimensions that are not countries)

    [value]                               # or [[values]] with `set = {dimension = code}` for
    column = "Encounter Count"            # one column per code (a wide layout)
    empty = "error"                       # or "skip", "zero"

A wide layout whose column headers are themselves codes of a dimension (one column per country
of origin, as in UN DESA's migrant stock table) is declared instead of [value] and is not
hand-listed (see formats/undesa_migrant_stock.toml):

    [wide]
    dimension = "from_country"            # the dimension the headers give
    columns_after = "Dest"                # every column after this one is a value column
    countries = true                      # headers resolve like cells: `map`, then country
    map = { "Other" = "_O" }              # names; an unknown header is an error naming it
    skip_non_countries = true             # a header that is a known non-country ("Channel
                                          # Islands") is left out, named in the summary;
                                          # false: it is an error unless `map` gives a code
    empty = "skip"                        # an empty cell: "skip", "zero" or "error"
    missing = ["..", "-"]                 # cells meaning "no figure", read as empty
    zeros = "skip"                        # "skip": a 0 is not stored (a stock table is mostly
                                          # zeros; absent means none); "store": kept

Headers that give the same code (two mapped to "_O") are added up within a row.

A wide layout with one column per month (a bulletin's "Ene", "Feb", ...) declares the headers to
be months instead of codes; each row's figures are unpivoted into monthly periods:

    [wide]
    headers = "months"                    # default "codes" (with `dimension`)
    columns_after = "Departamento"        # every column after this one is a month ...
    skip_columns = ["Total"]              # ... except these (also with headers = "codes")
    empty = "skip"                        # missing, zeros: as above

A month header may carry its year ("2024-01", "enero 2024", "ene-24", a date cell): it is that
calendar month. A header without one takes the row's year from [period] `year` (a column, under
the period rule: "Oct" of FY2024 is October 2023) or `year_value`; [period] `month` is left out.

A format family is several published layouts of one source, each a mapping of its own that
names the family (see formats/iom_mmp_2020.toml and iom_mmp_2023.toml):

    [format]
    code = "iom-mmp-2023"
    family = "iom-mmp"                    # `mirador import iom-mmp FILE` picks the layout
    family_name = "..."                   # what people call the family (format_name)

The family code is a format too: its layouts are tried newest first (by code) and the first
whose columns the file's header has is used; the import's summary names it. A file that fits
none is refused, naming every layout and the columns the file lacks for it.

Every dimension the dataset declares must come from a column, a constant, a value column's
`set` or the [wide] dimension, and nothing else: the mapping is refused before any row is read
otherwise. Rows and columns are never left out silently: only by `drop` or
`skip_non_countries`, and the result counts them (`ReadResult.left_out`).
Row numbers are 1-based record numbers of the file as a spreadsheet shows them.
"""

from __future__ import annotations

import codecs
import datetime
import hashlib
import itertools
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mirador.core.errors import ApplicationError
from mirador.flows.models import OBSERVATION_DIMENSIONS, PeriodType
from mirador.flows.readers import IssueSink, Table, open_tables

FORMATS_DIR = Path(__file__).resolve().parent / "formats"
# Kept in memory and in the batch's report; the count goes on beyond.
MAX_ISSUES_KEPT = 10_000
_SNIFF_BYTES = 64 * 1024
_HASH_CHUNK = 1024 * 1024
# How an OLE compound file begins: an Excel 97-2003 workbook (.xls), and also any workbook
# saved with a password (Excel encrypts it inside such a file).
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_READERS = ("csv", "xlsx")  # flows.readers reads each
_PERIOD_RULES = ("calendar-month", "us-fiscal-month", "calendar-year")
_EMPTY_RULES = ("error", "skip", "zero")
_ZERO_RULES = ("store", "skip")
# What a resolver returns for a known non-country its dimension is told to leave out.
_SKIP = "\x00skip"
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january", "ene", "enero"),
            ("feb", "february", "febrero"),
            ("mar", "march", "marzo"),
            ("apr", "april", "abr", "abril"),
            ("may", "mayo"),
            ("jun", "june", "junio"),
            ("jul", "july", "julio"),
            ("aug", "august", "ago", "agosto"),
            ("sep", "sept", "september", "septiembre", "setiembre", "set"),
            ("oct", "october", "octubre"),
            ("nov", "november", "noviembre"),
            ("dec", "december", "dic", "diciembre"),
        ],
        start=1,
    )
    for name in names
}
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
# A month with its year: "2024-03", "2024-03-01" (a date cell), "2024/3"; "03/2024"; "enero
# 2024", "enero de 2024", "Jan. 2024", "ene-24" (Excel's "mmm-yy"); "2024 enero".
_ISO_MONTH = re.compile(r"(\d{4})[-/.](\d{1,2})(?:[-/.]\d{1,2})?(?:[ T][\d:.]+)?")
_NUMERIC_MONTH_YEAR = re.compile(r"(\d{1,2})[-/.](\d{4})")
_NAMED_MONTH_YEAR = re.compile(r"([^\W\d_]+)\.?(?:\s+de|\s+del)?[\s\-/.']*(\d{4}|\d{2})")
_YEAR_NAMED_MONTH = re.compile(r"(\d{4})[\s\-/.]+([^\W\d_]+)\.?")
_COUNT = re.compile(r"[+]?\d+")


class MappingError(ApplicationError):
    code = "mapping_invalid"
    default_message = gettext_lazy("The mapping file is not valid.")


class UnknownFormatError(ApplicationError):
    code = "format_unknown"
    default_message = gettext_lazy("There is no such import format.")


class ImportFileError(ApplicationError):
    """The file cannot be read as a table at all (missing, empty, binary)."""

    code = "import_file_unreadable"
    default_message = gettext_lazy("The file cannot be read.")


@dataclass(frozen=True, slots=True)
class ImportIssue:
    """One reason a file cannot be stored as it is."""

    file: str
    sheet: str
    row: int | None
    column: str
    value: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "reason": self.reason,
        }


ISSUE_FIELDS = ("file", "sheet", "row", "column", "value", "reason")


class RowContext(NamedTuple):
    """Where a data row is and what the mapping made of it, for `on_record` callbacks."""

    sheet: str
    row: int
    period: datetime.date
    coordinates: tuple[str, ...]  # before a value column's `set` or a [wide] column


# on_record(context, {field: cell}) for the mapping's [records] fields; it reports problems
# into the ReadResult it was made with, which leaves the row's observations out.
RecordCallback = Callable[[RowContext, dict[str, str]], None]


class ParsedObservation(NamedTuple):
    period: datetime.date
    period_type: str
    coordinates: tuple[str, ...]  # one code per OBSERVATION_DIMENSIONS, "" where unused
    value: int
    row: int
    sheet: str


@dataclass(frozen=True)
class DimensionSpec:
    name: str
    columns: tuple[str, ...]
    countries: bool
    map: dict[str, str]
    skip_non_countries: bool = False
    # A cell listing several values is this code when they give more than one code ("_M").
    several: str = ""
    # What separates the values of such a cell when they are not countries (countries are
    # split by country_names.split_country_list, which knows "Korea, Republic of").
    separator: str = ""
    # (regular expression, code), tried in order after `map` on cells it does not name.
    patterns: tuple[tuple[re.Pattern[str], str], ...] = ()


@dataclass(frozen=True)
class ValueSpec:
    columns: tuple[str, ...]
    set: dict[str, str]
    empty: str


@dataclass(frozen=True)
class WideSpec:
    """The value columns after `after`: one per code of `dimension.name`, the codes read from
    the headers; or, with `months`, one per month, the periods read from the headers."""

    dimension: DimensionSpec | None  # None with `months`
    after: tuple[str, ...]
    empty: str
    missing: frozenset[str]
    zeros: str
    months: bool = False
    # Headers (casefolded) of columns after `after` that hold no figures of their own ("Total").
    skip_columns: frozenset[str] = frozenset()


# What a wide layout's header gives: a code of its dimension, or (year or None, month).
WideKey = str | tuple[int | None, int]
# The key of a wide layout's columns without a name: they must hold no figures.
_UNNAMED = ""


@dataclass(frozen=True)
class Mapping:
    code: str
    name: str
    dataset: str
    sum_duplicates: bool
    reader: str
    encoding: str
    delimiter: str
    header_row: int
    drop: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...]
    period_rule: str
    year_columns: tuple[str, ...]
    month_columns: tuple[str, ...]
    constants: dict[str, str]
    dimensions: tuple[DimensionSpec, ...]
    values: tuple[ValueSpec, ...]
    path: Path
    wide: WideSpec | None = None
    # xlsx: the sheets to read, by name or 1-based position ("2"); empty: the first sheet.
    sheets: tuple[str, ...] = ()
    # How many rows the header spans, ending at header_row (merged cells above columns).
    header_rows: int = 1
    # Who publishes the figures: a corrected revision replaces the same source's figures.
    source: str = ""
    # [records]: what kind of record each data row also is ("incident"), and the columns
    # its fields come from (see flows.records).
    record_kind: str = ""
    record_fields: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # [reader] stop_at: the table ends at the first row whose first non-empty cell matches.
    stop_at: re.Pattern[str] | None = None
    # [period] year_value: the year of every row when no column gives it.
    year_value: int | None = None

    def mapped_dimensions(self) -> set[str]:
        names = set(self.constants) | {spec.name for spec in self.dimensions}
        for value in self.values:
            names |= set(value.set)
        if self.wide is not None and self.wide.dimension is not None:
            names.add(self.wide.dimension.name)
        return names


class LayoutUnknownError(ImportFileError):
    """A file given as a format family fits none of the family's layouts."""

    code = "import_layout_unknown"
    default_message = gettext_lazy("The file fits none of the format's layouts.")


def _code_of(path: Path) -> str:
    return path.stem.replace("_", "-")


def _format_families() -> dict[str, list[Path]]:
    """Family code -> the mapping files of its layouts, newest first (by code: "…-2023"
    before "…-2020"), from the `family` key of each mapping's [format]."""
    families: dict[str, list[Path]] = {}
    for path in sorted(FORMATS_DIR.glob("*.toml"), key=_code_of, reverse=True):
        family = _format_section(path).get("family")
        if isinstance(family, str) and family.strip():
            families.setdefault(family.strip().lower(), []).append(path)
    return families


def _format_section(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            section = tomllib.load(handle).get("format", {})
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError, AttributeError):
        return {}  # load_mapping says what is wrong when the format itself is used
    return section if isinstance(section, dict) else {}


def format_name(format_code: str) -> str:
    """What people call a format: its mapping's name; for a family, the `family_name` its
    newest layout gives (else that layout's name)."""
    path = format_mapping_path(format_code)
    if format_code.strip().lower() in _format_families():
        family_name = _format_section(path).get("family_name")
        if isinstance(family_name, str) and family_name.strip():
            return family_name.strip()
    return load_mapping(path).name


def available_formats() -> list[str]:
    """The format codes `mirador import` accepts: every mapping of flows/formats/ and every
    format family (whose file's layout is told by its header)."""
    codes = {_code_of(path) for path in FORMATS_DIR.glob("*.toml")}
    return sorted(codes | set(_format_families()))


def format_mapping_path(format_code: str) -> Path:
    """The mapping shipped for a format code ("cbp-sbo-encounters"); for a family
    ("iom-mmp"), its newest layout's (`mapping_for` picks the layout a file has)."""
    stem = format_code.strip().lower().replace("-", "_")
    path = FORMATS_DIR / f"{stem}.toml"
    if re.fullmatch(r"[a-z0-9_]+", stem):
        if path.is_file():
            return path
        layouts = _format_families().get(stem.replace("_", "-"))
        if layouts:
            return layouts[0]
    raise UnknownFormatError(
        _("There is no import format “%(code)s”; the formats are: %(formats)s.")
        % {"code": format_code, "formats": ", ".join(available_formats())}
    )


def mapping_for(format_code: str, path: Path, mapping_path: Path | None = None) -> Mapping:
    """The mapping to read `path` with: the one given, else the format's own; for a format
    family, the first of its layouts (newest first) whose columns the file's header has.
    A file that fits none is refused, naming each layout and what the file lacks for it."""
    if mapping_path:
        return load_mapping(mapping_path)
    code = format_code.strip().lower()
    layouts = _format_families().get(code)
    if layouts is None or (FORMATS_DIR / f"{code.replace('-', '_')}.toml").is_file():
        return load_mapping(format_mapping_path(format_code))
    return _detect_layout(code, [load_mapping(layout) for layout in layouts], path)


def _detect_layout(family: str, layouts: list[Mapping], path: Path) -> Mapping:
    files: dict[tuple[str, str], FileInfo | ImportFileError] = {}
    lacks: list[str] = []
    for mapping in layouts:
        key = (mapping.encoding, mapping.reader)
        if key not in files:  # the file is hashed once per way of reading it
            try:
                files[key] = inspect_file(path, encoding=mapping.encoding, reader=mapping.reader)
            except ImportFileError as error:
                # Not this layout's kind of file (a CSV for a workbook layout), or no file.
                files[key] = error
        info = files[key]
        if isinstance(info, ImportFileError):
            lacks.append(f"{mapping.code}: {info.message}")
            continue
        missing = _layout_lacks(mapping, info)
        if not missing:
            return mapping
        lacks.append(
            _("%(layout)s lacks %(columns)s")
            % {"layout": mapping.code, "columns": ", ".join(f"“{name}”" for name in missing)}
        )
    unreadable = [info for info in files.values() if isinstance(info, ImportFileError)]
    if len(unreadable) == len(files):
        raise unreadable[0]  # no layout can read it at all: say why, once
    raise LayoutUnknownError(
        _("%(file)s is not in any layout of the format %(family)s (%(layouts)s): %(lacks)s.")
        % {
            "file": path.name,
            "family": family,
            "layouts": ", ".join(mapping.code for mapping in layouts),
            "lacks": "; ".join(lacks),
        }
    )


def _layout_lacks(mapping: Mapping, info: FileInfo) -> list[str]:
    """The columns `mapping` reads that the file's header does not have (["header"] when the
    file has no readable header where the mapping expects it)."""
    problems: list[str] = []

    def issue(sheet: str, row: int | None, column: str, value: str, reason: str) -> None:
        problems.append(column or _("a header row"))

    tables = open_tables(mapping, info, issue)
    try:
        table = next(tables, None)
    finally:
        close = getattr(tables, "close", None)
        if close is not None:  # a generator: let it close the file now
            close()
    if table is None:
        return problems or [_("a header row")]
    missing: list[str] = []
    _bind_columns(
        mapping, table.header, lambda row, column, value, reason: missing.append(column), 1
    )
    if mapping.wide is not None:
        folded = {name.casefold() for name in table.header}
        if not any(name.casefold() in folded for name in mapping.wide.after):
            missing.append(mapping.wide.after[0])
    return list(dict.fromkeys(missing))


def _columns(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str) and value.strip():
        return (value.strip(),)
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return tuple(v.strip() for v in value)
    raise MappingError(
        _("%(where)s: give a column name or a list of column names.") % {"where": where}
    )


def load_mapping(path: Path) -> Mapping:
    """Read and check a mapping file; every mistake is a MappingError naming the key."""
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError as error:
        raise MappingError(
            _("The mapping file %(path)s does not exist.") % {"path": path}
        ) from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise MappingError(
            _("The mapping file %(path)s is not valid TOML: %(error)s")
            % {"path": path, "error": error}
        ) from error
    try:
        return _parse_mapping(raw, path)
    except (KeyError, TypeError, ValueError, AttributeError, re.error) as error:
        raise MappingError(
            _("The mapping file %(path)s is incomplete or wrong: %(error)s")
            % {"path": path, "error": error}
        ) from error


# The keys each section of a mapping may have: any other is a mistake (a typo such as
# "stop-at" would otherwise be ignored and the mapping read as if it were not there).
_SECTION_KEYS = {
    "[format]": frozenset(
        {"code", "name", "dataset", "sum_duplicates", "source", "family", "family_name"}
    ),
    "[reader]": frozenset(
        {"type", "encoding", "delimiter", "sheet", "header_row", "header_rows", "drop", "stop_at"}
    ),
    "[period]": frozenset({"rule", "year", "month", "year_value"}),
    "[value]": frozenset({"column", "set", "empty"}),
    "[[values]]": frozenset({"column", "set", "empty"}),
    "[wide]": frozenset(
        {
            "headers",
            "dimension",
            "columns_after",
            "countries",
            "map",
            "skip_non_countries",
            "empty",
            "missing",
            "zeros",
            "skip_columns",
        }
    ),
    "[dimensions]": frozenset(
        {"column", "countries", "map", "skip_non_countries", "several", "separator", "patterns"}
    ),
    "[records]": frozenset({"kind", "fields"}),
}


def _refuse_unknown_keys(section: Any, where: str, kind: str = "") -> None:
    """A MappingError naming the section and every key of it the engine does not read."""
    if not isinstance(section, dict):
        return  # what the section must be is told where it is read
    known = _SECTION_KEYS[kind or where]
    unknown = sorted(str(key) for key in section if key not in known)
    if unknown:
        raise MappingError(
            _("%(where)s has no key %(keys)s; its keys are: %(known)s.")
            % {
                "where": where,
                "keys": ", ".join(f"“{key}”" for key in unknown),
                "known": ", ".join(sorted(known)),
            }
        )


def _parse_mapping(raw: dict[str, Any], path: Path) -> Mapping:
    fmt = raw["format"]
    reader = raw.get("reader", {})
    period = raw["period"]
    for where in ("[format]", "[reader]", "[period]", "[value]", "[wide]", "[records]"):
        _refuse_unknown_keys(raw.get(where.strip("[]"), {}), where)
    for spec in _as_list(raw.get("values", [])):
        _refuse_unknown_keys(spec, "[[values]]")
    if reader.get("type", "csv") not in _READERS:
        raise MappingError(_("[reader] type must be one of: %s.") % ", ".join(_READERS))
    if period.get("rule") not in _PERIOD_RULES:
        raise MappingError(_("[period] rule must be one of: %s.") % ", ".join(_PERIOD_RULES))
    header_row = int(reader.get("header_row", 1))
    if header_row < 1:
        raise MappingError(_("[reader] header_row counts from 1."))
    if not 1 <= int(reader.get("header_rows", 1)) <= header_row:
        raise MappingError(_("[reader] header_rows must be between 1 and header_row."))
    delimiter = str(reader.get("delimiter", "auto"))
    if delimiter != "auto" and len(delimiter) != 1:
        raise MappingError(_("[reader] delimiter must be one character or “auto”."))
    encoding = str(reader.get("encoding", "auto"))
    if encoding != "auto":
        codecs.lookup(encoding)  # LookupError is a ValueError: reported as a wrong mapping
    drop = tuple(
        (_columns(rule["column"], "[reader] drop"), re.compile(str(rule["pattern"])))
        for rule in reader.get("drop", [])
    )
    stop_at = re.compile(str(reader["stop_at"])) if reader.get("stop_at") else None
    constants = {str(k): str(v) for k, v in raw.get("constants", {}).items()}
    dimensions = tuple(
        _parse_dimension(name, spec) for name, spec in raw.get("dimensions", {}).items()
    )
    wide = _parse_wide(raw["wide"]) if "wide" in raw else None
    year_columns, month_columns, year_value = _parse_period(period, wide)
    if wide is not None and ("value" in raw or "values" in raw):
        raise MappingError(_("A mapping has either [wide] or [value]/[[values]], not both."))
    value_specs = [] if wide is not None else raw.get("values") or [raw["value"]]
    values = tuple(
        ValueSpec(
            columns=_columns(spec.get("column"), "[value] column"),
            set={str(k): str(v) for k, v in spec.get("set", {}).items()},
            empty=str(spec.get("empty", "error")),
        )
        for spec in value_specs
    )
    for value in values:
        if value.empty not in _EMPTY_RULES:
            raise MappingError(_("[value] empty must be one of: %s.") % ", ".join(_EMPTY_RULES))
    mapping = Mapping(
        code=str(fmt["code"]),
        name=str(fmt.get("name", fmt["code"])),
        dataset=str(fmt["dataset"]),
        sum_duplicates=bool(fmt.get("sum_duplicates", False)),
        reader=str(reader.get("type", "csv")),
        encoding=encoding,
        delimiter=delimiter,
        header_row=header_row,
        sheets=tuple(str(sheet) for sheet in _as_list(reader.get("sheet", []))),
        header_rows=int(reader.get("header_rows", 1)),
        drop=drop,
        period_rule=str(period["rule"]),
        year_columns=year_columns,
        month_columns=month_columns,
        year_value=year_value,
        stop_at=stop_at,
        constants=constants,
        dimensions=dimensions,
        values=values,
        path=path,
        wide=wide,
        source=str(fmt.get("source", fmt["code"])),
        record_kind=str(raw.get("records", {}).get("kind", "")),
        record_fields={
            str(name): _columns(columns, f"[records.fields] {name}")
            for name, columns in raw.get("records", {}).get("fields", {}).items()
        },
    )
    unknown = sorted(mapping.mapped_dimensions() - set(OBSERVATION_DIMENSIONS))
    if unknown:
        raise MappingError(
            _("There are no dimensions called %(names)s; the dimensions are: %(known)s.")
            % {"names": ", ".join(unknown), "known": ", ".join(OBSERVATION_DIMENSIONS)}
        )
    return mapping


def _parse_dimension(name: str, spec: dict[str, Any]) -> DimensionSpec:
    where = f"[dimensions.{name}]"
    _refuse_unknown_keys(spec, where, "[dimensions]")
    countries = bool(spec.get("countries", False))
    several = str(spec.get("several", "")).strip()
    separator = str(spec.get("separator", ""))
    if separator and countries:
        raise MappingError(
            _("%(where)s separator: country lists are split by their names; leave it out.")
            % {"where": where}
        )
    if several and not countries and not separator:
        raise MappingError(
            _("%(where)s several needs a separator (what separates the values of a cell).")
            % {"where": where}
        )
    if separator and not several:
        raise MappingError(
            _("%(where)s separator needs several (the code of a cell listing several values).")
            % {"where": where}
        )
    patterns = []
    for rule in _as_list(spec.get("patterns", [])):
        if not isinstance(rule, dict) or not rule.get("pattern") or not rule.get("code"):
            raise MappingError(
                _("%(where)s patterns: give a list of {pattern = “…”, code = “…”}.")
                % {"where": where}
            )
        patterns.append((re.compile(str(rule["pattern"])), str(rule["code"])))
    return DimensionSpec(
        name=name,
        columns=_columns(spec.get("column"), f"{where} column"),
        countries=countries,
        map={str(k).strip(): str(v) for k, v in spec.get("map", {}).items()},
        skip_non_countries=bool(spec.get("skip_non_countries", False)),
        several=several,
        separator=separator,
        patterns=tuple(patterns),
    )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _parse_period(
    period: dict[str, Any], wide: WideSpec | None
) -> tuple[tuple[str, ...], tuple[str, ...], int | None]:
    """[period]: the year columns, the month columns and the fixed year (`year_value`).

    The year comes from a column (`year`), from `year_value`, or from the months themselves
    (date cells, "enero 2024", month headers "2024-01"): `year` may then be left out. The
    month comes from a column (`month`) or, in a [wide] layout with `headers = "months"`, from
    the headers."""
    rule = str(period["rule"])
    year_value = period.get("year_value")
    if year_value is not None:
        if isinstance(year_value, bool) or not isinstance(year_value, int | str):
            raise MappingError(_("[period] year_value must be a year, such as 2024."))
        year_value = parse_year(str(year_value))
        if year_value is None:
            raise MappingError(_("[period] year_value must be a year, such as 2024."))
    if period.get("year") is not None and year_value is not None:
        raise MappingError(_("[period] has either year (a column) or year_value, not both."))
    year_columns = (
        _columns(period.get("year"), "[period] year") if period.get("year") is not None else ()
    )
    months_wide = wide is not None and wide.months
    if rule == "calendar-year":
        if months_wide:
            raise MappingError(
                _("[wide] headers = “months” needs a monthly [period] rule, not calendar-year.")
            )
        if not year_columns and year_value is None:
            raise MappingError(_("[period] needs year (a column) or year_value."))
        return year_columns, (), year_value
    if months_wide:
        if period.get("month") is not None:
            raise MappingError(
                _("[period] month is not used when [wide] headers are months; leave it out.")
            )
        return year_columns, (), year_value
    return year_columns, _columns(period.get("month"), "[period] month"), year_value


def _parse_wide(spec: dict[str, Any]) -> WideSpec:
    headers = str(spec.get("headers", "codes"))
    if headers not in ("codes", "months"):
        raise MappingError(_("[wide] headers must be “codes” or “months”."))
    if headers == "months" and "dimension" in spec:
        raise MappingError(
            _("[wide] with headers = “months” reads periods from the headers: leave out dimension.")
        )
    empty = str(spec.get("empty", "error"))
    zeros = str(spec.get("zeros", "store"))
    if empty not in _EMPTY_RULES:
        raise MappingError(_("[wide] empty must be one of: %s.") % ", ".join(_EMPTY_RULES))
    if zeros not in _ZERO_RULES:
        raise MappingError(_("[wide] zeros must be one of: %s.") % ", ".join(_ZERO_RULES))
    missing = spec.get("missing", [])
    if not isinstance(missing, list) or not all(isinstance(m, str) for m in missing):
        raise MappingError(_("[wide] missing must be a list of cell texts."))
    skip_columns = _as_list(spec.get("skip_columns", []))
    if not all(isinstance(name, str) for name in skip_columns):
        raise MappingError(_("[wide] skip_columns must be a list of column names."))
    dimension = None
    if headers == "codes":
        dimension = DimensionSpec(
            name=str(spec["dimension"]),
            columns=(),
            countries=bool(spec.get("countries", False)),
            map={str(k).strip(): str(v) for k, v in spec.get("map", {}).items()},
            skip_non_countries=bool(spec.get("skip_non_countries", False)),
        )
    return WideSpec(
        dimension=dimension,
        after=_columns(spec.get("columns_after"), "[wide] columns_after"),
        empty=empty,
        missing=frozenset(m.strip() for m in missing),
        zeros=zeros,
        months=headers == "months",
        skip_columns=frozenset(name.strip().casefold() for name in skip_columns),
    )


# --- The file as a whole -----------------------------------------------------------------


@dataclass(frozen=True)
class FileInfo:
    path: Path
    name: str
    size: int
    sha256: str
    encoding: str


def inspect_file(path: Path, *, encoding: str = "auto", reader: str = "csv") -> FileInfo:
    """Hash the file and find its encoding in one streamed pass; refuse what is no table.
    A workbook (reader "xlsx") has no encoding: it must be a ZIP archive, as XLSX files are."""
    name = path.name
    if not path.exists():
        raise ImportFileError(_("The file %(path)s does not exist.") % {"path": path})
    if not path.is_file():
        raise ImportFileError(_("%(path)s is not a file.") % {"path": path})
    size = path.stat().st_size
    if size == 0:
        raise ImportFileError(_("The file %(name)s is empty.") % {"name": name})
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
        if head.startswith(_OLE_SIGNATURE):
            raise ImportFileError(
                _(
                    "The file %(name)s is not an Excel workbook (XLSX) but an old one (.xls) or "
                    "a password-protected one: open it in Excel, remove the password if it has "
                    "one, and save it as .xlsx."
                )
                % {"name": name}
            )
        if reader == "xlsx":
            if not head.startswith(b"PK\x03\x04"):
                raise ImportFileError(
                    _("The file %(name)s is not an Excel workbook (XLSX).") % {"name": name}
                )
            chunk = head
            while chunk:
                digest.update(chunk)
                chunk = handle.read(_HASH_CHUNK)
            return FileInfo(path=path, name=name, size=size, sha256=digest.hexdigest(), encoding="")
        detected = encoding
        if encoding == "auto":
            if head.startswith(codecs.BOM_UTF8):
                detected = "utf-8-sig"
            elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                detected = "utf-16"
            else:
                detected = "utf-8"
        if b"\x00" in head and not detected.startswith("utf-16"):
            raise ImportFileError(
                _("The file %(name)s is binary, not a text table (CSV).") % {"name": name}
            )
        decoder = codecs.getincrementaldecoder("utf-8")() if detected == "utf-8" else None
        chunk = head
        while chunk:
            digest.update(chunk)
            if decoder is not None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    # Not UTF-8: every byte is a Latin-1 character, the usual alternative of
                    # spreadsheets exported on Windows in the Americas.
                    decoder, detected = None, "latin-1"
            chunk = handle.read(_HASH_CHUNK)
        if decoder is not None:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                detected = "latin-1"
    return FileInfo(path=path, name=name, size=size, sha256=digest.hexdigest(), encoding=detected)


# --- Rows --------------------------------------------------------------------------------


def parse_year(cell: str) -> int | None:
    """The year of "2024", "2025 (FYTD)", "FY2025"; None if there is none."""
    match = _YEAR.search(cell)
    if match is None:
        return None
    year = int(match.group(1))
    return year if 1900 <= year <= 2200 else None


def parse_month(cell: str) -> int | None:
    """The month of "OCT", "October", "oct.", "octubre", "10"; None if it is not one."""
    text = cell.strip().rstrip(".").casefold()
    if text.isdigit():
        number = int(text)
        return number if 1 <= number <= 12 else None
    return _MONTHS.get(text)


def parse_year_month(cell: str) -> tuple[int | None, int] | None:
    """(year, month) of a month that may carry its year: "2024-03", "2024-03-01" (a workbook's
    date cell), "03/2024", "enero 2024", "ene-24", "Jan. 2024"; (None, month) of a month
    alone ("Ene", "10"); None if it is no month. A year written with its month names a
    calendar month."""
    text = cell.strip().casefold()
    month = parse_month(text)
    if month is not None:
        return None, month
    year_text, month_text = "", ""
    if match := _ISO_MONTH.fullmatch(text):
        year_text, month_text = match.group(1), match.group(2)
    elif match := (_NUMERIC_MONTH_YEAR.fullmatch(text) or _NAMED_MONTH_YEAR.fullmatch(text)):
        month_text, year_text = match.group(1), match.group(2)
    elif match := _YEAR_NAMED_MONTH.fullmatch(text):
        year_text, month_text = match.group(1), match.group(2)
    else:
        return None
    month = parse_month(month_text)
    year = parse_year(year_text if len(year_text) == 4 else f"20{year_text}")
    if month is None or year is None:
        return None
    return year, month


def period_from(rule: str, year: int, month: int | None) -> tuple[datetime.date, str]:
    """The first day of the period. In a US fiscal year, October to December belong to the
    previous calendar year: FY2023 OCT is 2022-10-01."""
    if rule == "calendar-year":
        return datetime.date(year, 1, 1), PeriodType.YEAR
    if month is None:
        raise ValueError("a monthly period needs a month")
    if rule == "us-fiscal-month" and month >= 10:
        year -= 1
    return datetime.date(year, month, 1), PeriodType.MONTH


@dataclass
class ReadResult:
    """What a read found, filled in as the rows stream past."""

    encoding: str = ""
    delimiter: str = ""
    rows_read: int = 0
    rows_dropped: int = 0
    observations: int = 0
    issues: list[ImportIssue] = field(default_factory=list)
    issue_count: int = 0
    # What `skip_non_countries` left out: "column: value" -> rows (or 0 for a whole column).
    left_out: dict[str, int] = field(default_factory=dict)

    def add(self, issue: ImportIssue) -> None:
        self.issue_count += 1
        if len(self.issues) < MAX_ISSUES_KEPT:
            self.issues.append(issue)


class _Resolver:
    """Cell -> code for one dimension, checked against the codes the dimension accepts;
    cached per distinct cell, as a file repeats the same few values."""

    def __init__(self, spec: DimensionSpec, allowed: set[str]):
        self.spec = spec
        self.allowed = allowed
        self.folded = {key.casefold(): code for key, code in spec.map.items()}
        self.cache: dict[str, tuple[str, str]] = {}

    def __call__(self, cell: str) -> tuple[str, str]:
        """(code, "") or ("", reason); (_SKIP, "") for a non-country to leave out."""
        cached = self.cache.get(cell)
        if cached is None:
            cached = self.cache[cell] = self._resolve(cell.strip())
        return cached

    def each(self, cell: str) -> tuple[list[str], str]:
        """The code of every value the cell lists (of its one value if it lists one), as
        written, for records that keep them all; ([], reason) if one has none."""
        text = cell.strip()
        pieces = self._pieces(text) if self.spec.several and not self._mapped(text) else []
        codes: list[str] = []
        for piece in pieces if len(pieces) > 1 else [text]:
            code, reason = self._resolve_one(piece)
            if reason or code == _SKIP:
                return [], self._piece_reason(piece, reason) if len(pieces) > 1 else reason
            codes.append(code)
        return codes, ""

    def _mapped(self, text: str) -> str | None:
        return self.spec.map.get(text) or self.folded.get(text.casefold())

    def _pieces(self, text: str) -> list[str]:
        if self.spec.countries:
            from mirador.flows.country_names import split_country_list

            return split_country_list(text)
        return [piece.strip() for piece in text.split(self.spec.separator) if piece.strip()]

    def _piece_reason(self, piece: str, reason: str) -> str:
        return _("“%(value)s”, one of the values the cell lists: %(reason)s") % {
            "value": piece,
            "reason": reason or _("not one country, and not in the mapping's map."),
        }

    def _resolve(self, text: str) -> tuple[str, str]:
        """A cell listing several values (`several`) gives the `several` code when its values
        give more than one code, their one code otherwise; each value must resolve."""
        if self.spec.several and self._mapped(text) is None:
            pieces = self._pieces(text)
            if len(pieces) > 1:
                codes, reason = self.each(text)
                if reason:
                    return "", reason
                code = self.spec.several if len(set(codes)) > 1 else codes[0]
                if code not in self.allowed:
                    return "", _(
                        "The mapping gives the code “%(code)s”, which the dimension does not have."
                    ) % {"code": code}
                return code, ""
        return self._resolve_one(text)

    def _resolve_one(self, text: str) -> tuple[str, str]:
        code = self._mapped(text)
        if code is None and text:
            code = next(
                (code for pattern, code in self.spec.patterns if pattern.search(text)), None
            )
        if code is None and text and self.spec.countries:
            from mirador.flows.country_names import is_non_country, resolve_country

            code = resolve_country(text)
            if code is None and self.spec.skip_non_countries and is_non_country(text):
                return _SKIP, ""
        if code is None:
            if not text:
                return "", _("The cell is empty.")
            if self.spec.countries:
                return "", _("Not a known country name, and not in the mapping's map.")
            if text in self.allowed:
                return text, ""
            return "", _("Not in the mapping's map, and not a code of the dimension.")
        if code not in self.allowed:
            return "", _(
                "The mapping gives the code “%(code)s”, which the dimension does not have."
            ) % {"code": code}
        return code, ""


def read_observations(
    mapping: Mapping,
    info: FileInfo,
    *,
    allowed: dict[str, set[str]],
    result: ReadResult,
    on_record: RecordCallback | None = None,
    from_row: int = 0,
) -> Iterator[ParsedObservation]:
    """Stream the observations of a file. Problems go to `result`; once there is one, the
    caller must not store anything, but reading goes on so that the report is complete.

    `allowed` gives, per dimension the mapping uses, the codes it accepts. `on_record`, if
    given, is called with every data row the mapping turns into observations without a
    problem (see `flows.records`), before its observations are yielded. `from_row`: the data
    rows before this record number were read already (by flows.columnar) and are passed
    over."""
    result.encoding = info.encoding if mapping.encoding == "auto" else mapping.encoding

    def issue(sheet: str, row: int | None, column: str, value: str, reason: str) -> None:
        result.add(ImportIssue(info.name, sheet, row, column, value, reason))

    positions = {name: index for index, name in enumerate(OBSERVATION_DIMENSIONS)}
    base = [""] * len(OBSERVATION_DIMENSIONS)
    for name, code in mapping.constants.items():
        if code not in allowed.get(name, set()):
            issue("", None, name, code, _("The mapping's constant is not a code of the dimension."))
            return
        base[positions[name]] = code

    for table in open_tables(mapping, info, issue):
        result.encoding = table.encoding or result.encoding
        result.delimiter = table.delimiter or result.delimiter
        if from_row:
            table.rows = itertools.dropwhile(lambda record: record[0] < from_row, table.rows)
        yield from _table_observations(
            mapping, table, allowed, result, base, positions, on_record, issue
        )


def _table_observations(
    mapping: Mapping,
    table: Table,
    allowed: dict[str, set[str]],
    result: ReadResult,
    base: list[str],
    positions: dict[str, int],
    on_record: RecordCallback | None,
    issue_at: IssueSink,
) -> Iterator[ParsedObservation]:
    sheet, header = table.sheet, table.header

    def issue(row: int | None, column: str, value: str, reason: str) -> None:
        issue_at(sheet, row, column, value, reason)

    columns = _bind_columns(mapping, header, issue, table.header_row)
    if columns is None:
        return
    (year_at, month_at, dimension_at, value_at, drop_at, record_at) = columns
    wide_groups: list[tuple[WideKey, list[int]]] = []
    wide_position = -1
    months_wide = mapping.wide is not None and mapping.wide.months
    if mapping.wide is not None:
        year_known = bool(mapping.year_columns) or mapping.year_value is not None
        bound = _bind_wide(
            mapping.wide, header, allowed, issue, table.header_row, result.left_out, year_known
        )
        if bound is None:
            return
        wide_groups = bound
        if mapping.wide.dimension is not None:
            wide_position = positions[mapping.wide.dimension.name]
    resolvers = [
        (positions[spec.name], index, header[index], _Resolver(spec, allowed[spec.name]))
        for spec, index in zip(mapping.dimensions, dimension_at, strict=True)
    ]
    # Every position the loop reads: a shorter record is padded once, so that the cells are
    # read by index (a missing trailing cell reads as empty, as `_cell` reads it).
    width = 1 + max(
        [
            -1,
            *(index for index in (year_at, month_at) if index is not None),
            *dimension_at,
            *value_at,
            *(index for index, _pattern in drop_at),
        ]
    )
    # The period of each distinct (year cell, month cell) seen without a problem: a file
    # repeats the same few, and parsing them is a tenth of the time of a row.
    periods: dict[tuple[str, str], tuple[int | None, tuple[datetime.date, str] | None]] = {}
    for row, record in table.rows:
        if not "".join(record).strip():  # a blank row (every cell empty or spaces)
            continue
        result.rows_read += 1
        if len(record) < width:
            record = record + [""] * (width - len(record))
        dropped = False
        for index, pattern in drop_at:
            if pattern.search(record[index]):
                dropped = True
                break
        if dropped:
            result.rows_dropped += 1
            continue
        errors_before = result.issue_count
        coordinates = list(base)
        year_cell = record[year_at] if year_at is not None else ""
        month_cell = record[month_at] if month_at is not None else ""
        known = periods.get((year_cell, month_cell))
        if known is not None:
            year, row_period = known
        else:
            year, row_period, problems = row_period_of(
                mapping, year_cell, month_cell, year_at is not None, month_at is not None
            )
            for in_year, reason in problems:
                if in_year and year_at is not None:
                    issue(row, header[year_at], year_cell, reason)
                elif month_at is not None:
                    issue(row, header[month_at], month_cell, reason)
            if not problems:
                periods[(year_cell, month_cell)] = (year, row_period)
        skipped = ""
        for position, index, column, resolve in resolvers:
            cell = record[index]
            resolved = resolve.cache.get(cell)
            code, reason = resolved if resolved is not None else resolve(cell)
            if reason:
                issue(row, column, cell, reason)
            elif code == _SKIP:
                skipped = f"{column}: {cell.strip()}"
            coordinates[position] = code
        if skipped and result.issue_count == errors_before:
            result.rows_dropped += 1
            result.left_out[skipped] = result.left_out.get(skipped, 0) + 1
            continue
        counts: list[tuple[ValueSpec, int]] = []
        for spec, index in zip(mapping.values, value_at, strict=True):
            cell = record[index].strip()
            if cell.isascii() and cell.isdigit():  # the usual case, checked fast
                counts.append((spec, int(cell)))
                continue
            count, reason = _parse_count(cell, spec.empty)
            if reason:
                issue(row, header[index], cell, reason)
            elif count is not None:
                counts.append((spec, count))
        wide_counts = (
            _wide_counts(mapping.wide, wide_groups, record, header, row, issue)
            if mapping.wide is not None
            else []
        )
        if result.issue_count > errors_before:
            continue
        column_periods = (
            [_column_period(mapping.period_rule, key, year) for key, _count in wide_counts]
            if months_wide
            else []
        )
        if months_wide:
            if not column_periods:
                continue
            row_period = column_periods[0]  # for on_record: the row's first month
        if row_period is None:
            continue
        period, period_type = row_period
        if on_record is not None:
            on_record(
                RowContext(sheet=sheet, row=row, period=period, coordinates=tuple(coordinates)),
                {name: _cell(record, index) for name, index in record_at.items()},
            )
            if result.issue_count > errors_before:
                continue
        if months_wide:
            for (column_period, column_type), (_key, count) in zip(
                column_periods, wide_counts, strict=True
            ):
                yield ParsedObservation(
                    column_period, column_type, tuple(coordinates), count, row, sheet
                )
        else:
            for wide_code, count in wide_counts:
                coordinates[wide_position] = str(wide_code)
                yield ParsedObservation(period, period_type, tuple(coordinates), count, row, sheet)
        for spec, count in counts:
            values = coordinates
            if spec.set:
                values = list(coordinates)
                for name, code in spec.set.items():
                    values[positions[name]] = code
            yield ParsedObservation(period, period_type, tuple(values), count, row, sheet)


def row_period_of(
    mapping: Mapping, year_cell: str, month_cell: str, has_year: bool, has_month: bool
) -> tuple[int | None, tuple[datetime.date, str] | None, list[tuple[bool, str]]]:
    """The year and period of a data row from its year and month cells (those the mapping
    reads), and the problems found: (in the year cell rather than the month's, reason). The
    period is None when there is none (a problem, or a wide layout of months)."""
    problems: list[tuple[bool, str]] = []
    year = mapping.year_value
    if has_year:
        year = parse_year(year_cell)
        if year is None:
            problems.append((True, _("Not a year.")))
    row_period = None
    if has_month:
        month_period = _month_period(mapping.period_rule, year, month_cell, not has_year)
        if isinstance(month_period, str):
            problems.append((False, month_period))
        elif month_period is not None:
            row_period = month_period
    elif year is not None and not (mapping.wide is not None and mapping.wide.months):
        row_period = period_from(mapping.period_rule, year, None)
    return year, row_period, problems


def _month_period(
    rule: str, year: int | None, cell: str, no_year_column: bool
) -> tuple[datetime.date, str] | str | None:
    """The period of a month cell, or why there is none; None when the row's year cell is
    wrong (reported already). A month that carries its year (a date cell, "enero 2024") is
    that calendar month; a month alone takes the row's year under the period rule."""
    parsed = parse_year_month(cell)
    if parsed is None:
        return _("Not a month.")
    month_year, month = parsed
    if month_year is not None:
        return datetime.date(month_year, month, 1), PeriodType.MONTH
    if year is None:
        if no_year_column:
            return _(
                "The month has no year, and the mapping gives none ([period] year or year_value)."
            )
        return None
    return period_from(rule, year, month)


def _column_period(rule: str, key: WideKey, year: int | None) -> tuple[datetime.date, str]:
    """The period of a month column: its own year if its header has one (a calendar month),
    else the row's year under the period rule (`_bind_wide` made sure there is one)."""
    assert not isinstance(key, str)  # noqa: S101 (month headers only)
    header_year, month = key
    if header_year is not None:
        return datetime.date(header_year, month, 1), PeriodType.MONTH
    if year is None:
        raise ValueError("a month column without a year in a row without one")
    return period_from(rule, year, month)


def _bind_wide(
    wide: WideSpec,
    header: list[str],
    allowed: dict[str, set[str]],
    issue: Any,
    row: int,
    left_out: dict[str, int],
    year_known: bool = True,
) -> list[tuple[WideKey, list[int]]] | None:
    """The value columns of a wide layout grouped by the code (or the month) their header
    gives; None (with issues) if the first column is missing or a header is not a code (or
    not a month, or a month without a year where the mapping gives none)."""
    folded = [name.casefold() for name in header]
    start = next(
        (folded.index(name.casefold()) for name in wide.after if name.casefold() in folded), None
    )
    if start is None:
        issue(
            row,
            wide.after[0],
            "",
            _("The column is missing (the header has: %(header)s).")
            % {"header": ", ".join(header)},
        )
        return None
    resolve = (
        _Resolver(wide.dimension, allowed[wide.dimension.name])
        if wide.dimension is not None
        else None
    )
    groups: dict[WideKey, list[int]] = {}
    failed = False
    for index in range(start + 1, len(header)):
        name = header[index]
        if not name.strip():
            # A column without a name (a trailing delimiter, a formatted but empty column of
            # a sheet) is no value column; a figure in it is an error of its row.
            groups.setdefault(_UNNAMED, []).append(index)
            continue
        if name.strip().casefold() in wide.skip_columns:
            continue
        if resolve is None:
            month = parse_year_month(name)
            if month is None or (month[0] is None and not year_known):
                failed = True
                issue(
                    row,
                    name or f"#{index + 1}",
                    name,
                    _("The column's name is not a month.")
                    if month is None
                    else _(
                        "The column's name is a month without a year, and the mapping gives "
                        "none ([period] year or year_value)."
                    ),
                )
            else:
                groups.setdefault(month, []).append(index)
            continue
        code, reason = resolve(name)
        if reason:
            failed = True
            issue(
                row,
                name or f"#{index + 1}",
                name,
                _("The column's name is not a code of %(dimension)s: %(reason)s")
                % {"dimension": resolve.spec.name, "reason": reason},
            )
        elif code == _SKIP:
            left_out[_("column %(name)s") % {"name": name}] = 0
        else:
            groups.setdefault(code, []).append(index)
    if not any(key != _UNNAMED for key in groups) and not failed:
        failed = True
        issue(
            row,
            wide.after[0],
            "",
            _("There are no value columns after this column."),
        )
    return None if failed else list(groups.items())


def _wide_counts(
    wide: WideSpec,
    groups: list[tuple[WideKey, list[int]]],
    record: list[str],
    header: list[str],
    row: int,
    issue: Any,
) -> list[tuple[WideKey, int]]:
    """(code or month, count) of one row of a wide layout, without what the mapping leaves
    out."""
    counts: list[tuple[WideKey, int]] = []
    for code, indexes in groups:
        if code == _UNNAMED:
            for index in indexes:
                cell = _cell(record, index).strip()
                if cell and cell not in wide.missing:
                    issue(
                        row,
                        f"#{index + 1}",
                        cell,
                        _("A figure in a column whose header has no name."),
                    )
            continue
        total: int | None = None
        for index in indexes:
            cell = _cell(record, index).strip()
            if cell.isascii() and cell.isdigit():  # the usual case, checked fast
                count: int | None = int(cell)
            else:
                count, reason = _parse_count("" if cell in wide.missing else cell, wide.empty)
                if reason:
                    issue(row, header[index], cell, reason)
                    continue
            if count is not None:
                total = count if total is None else total + count
        if total is None or (total == 0 and wide.zeros == "skip"):
            continue
        counts.append((code, total))
    return counts


def _cell(record: list[str], index: int) -> str:
    return record[index] if index < len(record) else ""


def _parse_count(cell: str, empty: str) -> tuple[int | None, str]:
    if not cell:
        if empty == "skip":
            return None, ""
        if empty == "zero":
            return 0, ""
        return None, _("The count is empty.")
    text = cell.replace("\u00a0", "").replace(" ", "")
    if text.startswith("-") and _COUNT.fullmatch(text[1:]):
        return None, _("A count cannot be negative.")
    if not _COUNT.fullmatch(text):
        return None, _("A count must be a whole number.")
    return int(text), ""


def _bind_columns(
    mapping: Mapping, header: list[str], issue: Any, row: int
) -> (
    tuple[
        int | None,
        int | None,
        list[int],
        list[int],
        list[tuple[int, re.Pattern[str]]],
        dict[str, int],
    ]
    | None
):
    """Header positions of every column the mapping reads; None (with issues) if one is
    missing."""
    folded: dict[str, int] = {}
    for index, name in enumerate(header):
        folded.setdefault(name.casefold(), index)
    missing = False
    reported: set[str] = set()

    def find(names: tuple[str, ...]) -> int:
        nonlocal missing
        for name in names:
            if name.casefold() in folded:
                return folded[name.casefold()]
        missing = True
        if names[0].casefold() in reported:  # two parts of the mapping read it: told once
            return -1
        reported.add(names[0].casefold())
        issue(
            row,
            names[0],
            "",
            _("The column is missing (the header has: %(header)s).")
            % {"header": ", ".join(header)},
        )
        return -1

    year_at = find(mapping.year_columns) if mapping.year_columns else None
    month_at = find(mapping.month_columns) if mapping.month_columns else None
    dimension_at = [find(spec.columns) for spec in mapping.dimensions]
    value_at = [find(spec.columns) for spec in mapping.values]
    drop_at = [(find(columns), pattern) for columns, pattern in mapping.drop]
    record_at = {name: find(columns) for name, columns in mapping.record_fields.items()}
    if missing:
        return None
    return year_at, month_at, dimension_at, value_at, drop_at, record_at
