"""Workbooks (XLSX) and the layouts around them: cells read as the engine's text, sheets chosen
by name or position, headers over two rows with merged cells, notes under the table, damaged
or foreign files refused with one reason, and wide tables with one column per month."""

from __future__ import annotations

import datetime
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Sum
from openpyxl import Workbook

from mirador.flows.engine import (
    ImportFileError,
    MappingError,
    inspect_file,
    load_mapping,
    parse_year_month,
)
from mirador.flows.models import Observation, PeriodType
from mirador.flows.readers import cell_text, count_records, join_header_rows
from mirador.flows.services import ImportOutcome, ImportReport, batch_import

pytestmark = pytest.mark.django_db

READER = """
[reader]
type = "xlsx"
{reader}
"""
LONG = """
[period]
rule = "calendar-month"
year = "Año"
month = "Mes"

[value]
column = "Retornados"
empty = "skip"
"""
MAPPING = """
[format]
code = "test-returns-xlsx"
dataset = "returns-received"
{reader}
{layout}
[constants]
reporting_country = "HN"
sex = "_U"
age_group = "_U"
unaccompanied = "_U"
means = "air"
subdivision = "_U"

[dimensions.from_country]
column = "País"
countries = true
"""
HEADER = ["Año", "Mes", "País", "Retornados"]
JANUARY, FEBRUARY = datetime.date(2024, 1, 1), datetime.date(2024, 2, 1)


def cell_date(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime.datetime:
    """A date as a workbook cell holds it: Excel dates have no time zone."""
    return datetime.datetime(year, month, day, hour, minute)  # noqa: DTZ001


def workbook(path: Path, sheets: Mapping[str, Sequence[Sequence[Any]]]) -> Path:
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def mapping_file(
    tmp_path: Path, *, reader: str = "", layout: str = LONG, reader_type: str = READER
) -> Path:
    path = tmp_path / "mapping.toml"
    path.write_text(
        MAPPING.format(reader=reader_type.format(reader=reader), layout=layout), encoding="utf-8"
    )
    return path


def import_file(path: Path, mapping: Path) -> ImportReport:
    return batch_import(actor=None, format_code="x", path=path, mapping_path=mapping)


def totals_by(*fields: str) -> dict[tuple[Any, ...], int]:
    rows = Observation.objects.values_list(*fields).annotate(total=Sum("value"))
    return {tuple(row[:-1]): row[-1] for row in rows}


@pytest.fixture
def returns_book(tmp_path: Path) -> Callable[..., Path]:
    def make(**sheets: list[list[Any]]) -> Path:
        return workbook(tmp_path / "retornos.xlsx", sheets or {"Retornos": [HEADER, *ROWS]})

    return make


ROWS: list[list[Any]] = [
    [2024, "enero", "Estados Unidos", 120],
    [2024.0, "Enero", "México", 12.0],  # floats that are whole numbers, as sums often are
    [2024, cell_date(2024, 2, 1), "Guatemala", 7],  # a date cell as the month
    [2024, "febrero", "Estados Unidos", None],  # an empty cell: skipped by the mapping
]


# --- Cells -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (12, "12"),
        (12.0, "12"),
        (2.5, "2.5"),
        (cell_date(2024, 3, 1), "2024-03-01"),
        (cell_date(2024, 3, 1, 8, 30), "2024-03-01 08:30:00"),
        (datetime.date(2024, 3, 1), "2024-03-01"),
        ("Honduras", "Honduras"),
        (True, "TRUE"),
    ],
)
def test_workbook_cells_become_the_text_the_engine_reads(value: Any, text: str) -> None:
    assert cell_text(value) == text


def test_ints_floats_dates_and_empty_cells_import(
    tmp_path: Path, returns_book: Callable[..., Path]
) -> None:
    report = import_file(returns_book(), mapping_file(tmp_path))
    assert report.outcome == ImportOutcome.IMPORTED, report.issues
    assert totals_by("period", "from_country") == {
        (JANUARY, "US"): 120,
        (JANUARY, "MX"): 12,
        (FEBRUARY, "GT"): 7,
    }
    assert Observation.objects.get(from_country="GT").source_row == 4


def test_a_count_with_decimals_is_named_with_its_sheet_row_and_column(
    tmp_path: Path, returns_book: Callable[..., Path]
) -> None:
    path = returns_book(Retornos=[HEADER, [2024, "enero", "Honduras", 2.5]])
    report = import_file(path, mapping_file(tmp_path))
    assert report.outcome == ImportOutcome.FAILED
    [issue] = report.issues
    assert (issue.file, issue.sheet, issue.row, issue.column, issue.value) == (
        "retornos.xlsx",
        "Retornos",
        2,
        "Retornados",
        "2.5",
    )
    assert issue.reason == "A count must be a whole number."
    assert not Observation.objects.exists()


# --- Sheets ------------------------------------------------------------------------------

TWO_SHEETS: dict[str, list[list[Any]]] = {
    "Notas": [["Cifras de ejemplo"]],
    "Enero": [HEADER, [2024, 1, "Estados Unidos", 10]],
    "Febrero": [HEADER, [2024, 2, "México", 20]],
}


@pytest.mark.parametrize(
    ("sheet", "expected"),
    [
        ('"Enero"', {(JANUARY, "US"): 10}),
        ('"  enero "', {(JANUARY, "US"): 10}),  # case and surrounding spaces do not matter
        ('"3"', {(FEBRUARY, "MX"): 20}),  # a 1-based position
        ("3", {(FEBRUARY, "MX"): 20}),
        ('["Enero", "Febrero"]', {(JANUARY, "US"): 10, (FEBRUARY, "MX"): 20}),
        ('"*ero"', {(JANUARY, "US"): 10, (FEBRUARY, "MX"): 20}),  # a pattern
    ],
)
def test_sheets_are_chosen_by_name_position_or_pattern(
    tmp_path: Path, sheet: str, expected: dict[tuple[Any, ...], int]
) -> None:
    path = workbook(tmp_path / "meses.xlsx", TWO_SHEETS)
    report = import_file(path, mapping_file(tmp_path, reader=f"sheet = {sheet}"))
    assert report.outcome == ImportOutcome.IMPORTED, report.issues
    assert totals_by("period", "from_country") == expected
    sheets = {name for name in TWO_SHEETS if name != "Notas"}
    assert set(Observation.objects.values_list("source_sheet", flat=True)) <= sheets


def test_without_a_sheet_the_first_one_is_read(tmp_path: Path) -> None:
    path = workbook(tmp_path / "meses.xlsx", TWO_SHEETS)
    report = import_file(path, mapping_file(tmp_path))
    # The first sheet holds notes, not the header the mapping needs.
    assert report.outcome == ImportOutcome.FAILED
    assert [issue.sheet for issue in report.issues] == ["Notas"] * len(report.issues)


def test_a_missing_sheet_is_named_with_the_sheets_the_workbook_has(tmp_path: Path) -> None:
    path = workbook(tmp_path / "meses.xlsx", TWO_SHEETS)
    report = import_file(path, mapping_file(tmp_path, reader='sheet = "Marzo"'))
    assert report.outcome == ImportOutcome.FAILED
    [issue] = report.issues
    assert (issue.sheet, issue.value) == ("Marzo", "Marzo")
    assert (
        issue.reason == "The workbook has no sheet “Marzo”; its sheets are: Notas, Enero, Febrero."
    )


def test_every_issue_names_its_sheet(tmp_path: Path) -> None:
    sheets: dict[str, list[list[Any]]] = {
        "Enero": [HEADER, [2024, 1, "Atlantis", 10]],
        "Febrero": [HEADER, [2024, 2, "Atlantis", 20]],
    }
    path = workbook(tmp_path / "meses.xlsx", sheets)
    report = import_file(path, mapping_file(tmp_path, reader='sheet = ["Enero", "Febrero"]'))
    assert [(issue.sheet, issue.row, issue.value) for issue in report.issues] == [
        ("Enero", 2, "Atlantis"),
        ("Febrero", 2, "Atlantis"),
    ]


# --- Headers over several rows, titles and notes ------------------------------------------


def test_merged_header_cells_are_carried_over_the_columns_below_them() -> None:
    assert join_header_rows(
        [
            ["Mes", "País", "Hombres", "", "Mujeres", "", ""],
            ["", "", "Adultos", "Menores", "Adultos", "Menores", ""],
        ]
    ) == [
        "Mes",
        "País",
        "Hombres / Adultos",
        "Hombres / Menores",
        "Mujeres / Adultos",
        "Mujeres / Menores",
    ]


def test_three_header_rows_and_names_repeated_by_an_export_are_joined_once() -> None:
    assert join_header_rows(
        [
            ["País", "2024", "", "", ""],
            ["País", "Hombres", "", "Mujeres", ""],
            ["País", "Adultos", "Menores", "Adultos", "Menores"],
        ]
    ) == [
        "País",
        "2024 / Hombres / Adultos",
        "2024 / Hombres / Menores",
        "2024 / Mujeres / Adultos",
        "2024 / Mujeres / Menores",
    ]


TWO_ROW_LAYOUT = """
[period]
rule = "calendar-month"
month = "Mes"

[[values]]
column = "Hombres / Adultos"
set = { sex = "M", age_group = "Y_GE18" }
empty = "skip"

[[values]]
column = "Hombres / Menores"
set = { sex = "M", age_group = "Y_LT18" }
empty = "skip"

[[values]]
column = "Mujeres / Adultos"
set = { sex = "F", age_group = "Y_GE18" }
empty = "skip"
"""


def two_row_mapping(tmp_path: Path, *, stop_at: bool, reader_type: str = READER) -> Path:
    """Sex and age group from the value columns, not constants."""
    reader = "header_row = 4\nheader_rows = 2" + ('\nstop_at = "(?i)^fuente"' if stop_at else "")
    layout = TWO_ROW_LAYOUT.replace('age_group = "Y', 'unaccompanied = "N", age_group = "Y')
    mapping = mapping_file(tmp_path, reader=reader, layout=layout, reader_type=reader_type)
    text = mapping.read_text(encoding="utf-8")
    for constant in ('sex = "_U"\n', 'age_group = "_U"\n', 'unaccompanied = "_U"\n'):
        text = text.replace(constant, "")
    mapping.write_text(text, encoding="utf-8")
    return mapping


def merged_header_book(path: Path) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Retornos"
    sheet["A1"] = "Retornos por mes (ejemplo)"
    sheet.append([])
    sheet.append(["Mes", "País", "Hombres", None, "Mujeres"])
    sheet.append([None, None, "Adultos", "Menores", "Adultos"])
    sheet.merge_cells("A3:A4")
    sheet.merge_cells("B3:B4")
    sheet.merge_cells("C3:D3")
    sheet.append([cell_date(2024, 1, 1), "Estados Unidos", 100, 8, 30])
    sheet.append([cell_date(2024, 2, 1), "México", 50, None, 12])
    sheet.append([])
    sheet.append(["Fuente: cifras de ejemplo", None, None, None, "no es una cifra"])
    sheet.append(["Nota: las celdas vacías son ceros."])
    book.save(path)
    return path


def test_a_two_row_merged_header_with_a_title_above_and_a_note_below_imports(
    tmp_path: Path,
) -> None:
    mapping = two_row_mapping(tmp_path, stop_at=True)
    report = import_file(merged_header_book(tmp_path / "retornos.xlsx"), mapping)
    assert report.outcome == ImportOutcome.IMPORTED, report.issues
    assert totals_by("period", "from_country", "sex", "age_group") == {
        (JANUARY, "US", "M", "Y_GE18"): 100,
        (JANUARY, "US", "M", "Y_LT18"): 8,
        (JANUARY, "US", "F", "Y_GE18"): 30,
        (FEBRUARY, "MX", "M", "Y_GE18"): 50,
        (FEBRUARY, "MX", "F", "Y_GE18"): 12,
    }


def test_without_stop_at_the_note_under_the_table_is_an_error(tmp_path: Path) -> None:
    mapping = two_row_mapping(tmp_path, stop_at=False)
    report = import_file(merged_header_book(tmp_path / "retornos.xlsx"), mapping)
    assert report.outcome == ImportOutcome.FAILED
    assert {issue.row for issue in report.issues} == {8, 9}
    assert "Fuente: cifras de ejemplo" in {issue.value for issue in report.issues}


def test_a_csv_export_of_a_two_row_header_reads_the_same(tmp_path: Path) -> None:
    csv_path = tmp_path / "retornos.csv"
    csv_path.write_text(
        "Retornos por mes (ejemplo)\n\n"
        "Mes;País;Hombres;;Mujeres\n"
        ";;Adultos;Menores;Adultos\n"
        "2024-01;Estados Unidos;100;8;30\n"
        "Fuente: cifras de ejemplo;;;;\n",
        encoding="utf-8-sig",
    )
    mapping = two_row_mapping(tmp_path, stop_at=True, reader_type="[reader]\n{reader}\n")
    report = import_file(csv_path, mapping)
    assert report.outcome == ImportOutcome.IMPORTED, report.issues
    assert totals_by("sex", "age_group") == {
        ("M", "Y_GE18"): 100,
        ("M", "Y_LT18"): 8,
        ("F", "Y_GE18"): 30,
    }


# --- Files that are no workbook ------------------------------------------------------------


def test_a_csv_renamed_xlsx_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "retornos.xlsx"
    path.write_text("Año,Mes,País,Retornados\n2024,1,Honduras,3\n")
    mapping = mapping_file(tmp_path)
    with pytest.raises(ImportFileError, match="retornos.xlsx is not an Excel workbook"):
        import_file(path, mapping)
    with pytest.raises(CommandError, match="retornos.xlsx is not an Excel workbook"):
        call_command("import", "x", str(path), "--mapping", str(mapping))
    assert not Observation.objects.exists()


def test_a_password_protected_workbook_is_refused_as_no_xlsx(tmp_path: Path) -> None:
    # Excel stores an encrypted workbook in an OLE compound file, not in a ZIP archive.
    path = tmp_path / "protegido.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    with pytest.raises(ImportFileError, match="protegido.xlsx is not an Excel workbook"):
        import_file(path, mapping_file(tmp_path))


def test_a_damaged_workbook_is_one_issue_and_nothing_is_stored(
    tmp_path: Path, returns_book: Callable[..., Path]
) -> None:
    path = returns_book()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a download cut short
    report = import_file(path, mapping_file(tmp_path))
    assert report.outcome == ImportOutcome.FAILED
    [issue] = report.issues
    assert (issue.file, issue.sheet, issue.row) == ("retornos.xlsx", "", None)
    assert issue.reason.startswith("The file retornos.xlsx is not an Excel workbook (XLSX)")
    assert not Observation.objects.exists()


def test_a_zip_archive_that_is_no_workbook_is_one_issue(tmp_path: Path) -> None:
    path = tmp_path / "datos.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("datos.csv", "Año,Mes\n")
    report = import_file(path, mapping_file(tmp_path))
    [issue] = report.issues
    assert issue.reason.startswith("The file datos.xlsx is not a readable Excel workbook (XLSX)")


def test_an_empty_sheet_has_no_header_row(tmp_path: Path) -> None:
    path = workbook(tmp_path / "vacio.xlsx", {"Hoja1": []})
    report = import_file(path, mapping_file(tmp_path))
    [issue] = report.issues
    assert (issue.sheet, issue.row) == ("Hoja1", 1)
    assert issue.reason == "The sheet has no header row (row 1 is empty or missing)."


def test_a_workbook_without_an_xlsx_name_is_read_all_the_same(
    tmp_path: Path, returns_book: Callable[..., Path]
) -> None:
    # Uploads keep the name the user gave; openpyxl alone would refuse it.
    path = returns_book().rename(tmp_path / "retornos.descarga")
    report = import_file(path, mapping_file(tmp_path))
    assert report.outcome == ImportOutcome.IMPORTED, report.issues


def test_the_progress_total_of_a_workbook_is_its_rows(
    tmp_path: Path, returns_book: Callable[..., Path]
) -> None:
    mapping = load_mapping(mapping_file(tmp_path))
    path = returns_book()
    assert count_records(mapping, inspect_file(path, reader="xlsx")) == 1 + len(ROWS)


# --- One column per month -------------------------------------------------------------------

MONTH_COLUMNS = """
[period]
rule = "{rule}"
{year}

[wide]
headers = "months"
columns_after = "País"
skip_columns = ["Total"]
empty = "skip"
"""


def month_mapping(tmp_path: Path, *, year: str, rule: str = "calendar-month") -> Path:
    return mapping_file(tmp_path, layout=MONTH_COLUMNS.format(rule=rule, year=year))


def test_month_columns_are_unpivoted_with_the_year_of_the_mapping(tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["País", "Ene", "Feb", "Mar", "Total"],
        ["Estados Unidos", 10, 20, None, 30],
        ["México", 1, 2, 3, 6],
    ]
    path = workbook(tmp_path / "meses.xlsx", {"Hoja1": rows})
    report = import_file(path, month_mapping(tmp_path, year="year_value = 2024"))
    assert report.outcome == ImportOutcome.IMPORTED, report.issues
    expected: dict[tuple[Any, ...], int] = {}
    for country, code in (("Estados Unidos", "US"), ("México", "MX")):
        row = next(r for r in rows if r[0] == country)
        for month, count in enumerate(row[1:4], start=1):
            if count is not None:
                expected[(datetime.date(2024, month, 1), code)] = count
    assert totals_by("period", "from_country") == expected
    assert set(Observation.objects.values_list("period_type", flat=True)) == {PeriodType.MONTH}


@pytest.mark.parametrize(
    "headers",
    [
        ["2024-01", "2024-02"],
        ["enero 2024", "febrero 2024"],
        ["ene-24", "feb-24"],
        [cell_date(2024, 1, 1), cell_date(2024, 2, 1)],  # date cells
    ],
)
def test_month_headers_may_carry_their_year(tmp_path: Path, headers: list[Any]) -> None:
    rows: list[list[Any]] = [["País", *headers], ["Guatemala", 4, 5]]
    path = workbook(tmp_path / "meses.xlsx", {"Hoja1": rows})
    report = import_file(path, month_mapping(tmp_path, year=""))
    assert report.outcome == ImportOutcome.IMPORTED, report.issues
    assert totals_by("period", "from_country") == {(JANUARY, "GT"): 4, (FEBRUARY, "GT"): 5}


def test_fiscal_month_columns_take_the_fiscal_year_of_their_row(tmp_path: Path) -> None:
    rows: list[list[Any]] = [["Año fiscal", "País", "Oct", "Sep"], ["FY2024", "Honduras", 7, 9]]
    path = workbook(tmp_path / "meses.xlsx", {"Hoja1": rows})
    mapping = month_mapping(tmp_path, year='year = "Año fiscal"', rule="us-fiscal-month")
    report = import_file(path, mapping)
    assert report.outcome == ImportOutcome.IMPORTED, report.issues
    assert totals_by("period") == {
        (datetime.date(2023, 10, 1),): 7,
        (datetime.date(2024, 9, 1),): 9,
    }


def test_a_month_header_without_a_year_where_the_mapping_gives_none_is_refused(
    tmp_path: Path,
) -> None:
    path = workbook(tmp_path / "meses.xlsx", {"Hoja1": [["País", "Ene", "Trimestre"]]})
    report = import_file(path, month_mapping(tmp_path, year=""))
    assert [(issue.column, issue.reason) for issue in report.issues] == [
        (
            "Ene",
            "The column's name is a month without a year, and the mapping gives none "
            "([period] year or year_value).",
        ),
        ("Trimestre", "The column's name is not a month."),
    ]


def test_a_month_cell_without_a_year_where_the_mapping_gives_none_is_named(
    tmp_path: Path,
) -> None:
    layout = LONG.replace('year = "Año"\n', "")
    path = workbook(tmp_path / "r.xlsx", {"Hoja1": [HEADER, [2024, "enero", "Honduras", 1]]})
    report = import_file(path, mapping_file(tmp_path, layout=layout))
    [issue] = report.issues
    assert (issue.row, issue.column, issue.value) == (2, "Mes", "enero")
    assert "The month has no year" in issue.reason


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ('rule = "calendar-year"', r"needs year \(a column\) or year_value"),
        ('rule = "calendar-month"\nyear = "Año"\nyear_value = 2024\nmonth = "Mes"', "not both"),
        ('rule = "calendar-month"\nyear_value = "próximo"\nmonth = "Mes"', "year_value must"),
    ],
)
def test_period_keys_that_contradict_each_other_are_refused(
    tmp_path: Path, period: str, message: str
) -> None:
    layout = f'[period]\n{period}\n\n[value]\ncolumn = "Retornados"\n'
    with pytest.raises(MappingError, match=message):
        load_mapping(mapping_file(tmp_path, layout=layout))


def test_month_headers_and_a_wide_dimension_are_refused_together(tmp_path: Path) -> None:
    layout = MONTH_COLUMNS.format(rule="calendar-month", year="").replace(
        "[wide]\n", '[wide]\ndimension = "means"\n'
    )
    with pytest.raises(MappingError, match="leave out dimension"):
        load_mapping(mapping_file(tmp_path, layout=layout))


@pytest.mark.parametrize(
    ("cell", "parsed"),
    [
        ("Ene", (None, 1)),
        ("2024-03", (2024, 3)),
        ("2024-03-01", (2024, 3)),
        ("03/2024", (2024, 3)),
        ("marzo 2024", (2024, 3)),
        ("Marzo de 2024", (2024, 3)),
        ("mar-24", (2024, 3)),
        ("Mar. 2024", (2024, 3)),
        ("2024 marzo", (2024, 3)),
        ("Total", None),
        ("2024", None),
        ("2024-13", None),
    ],
)
def test_months_with_or_without_their_year(
    cell: str, parsed: tuple[int | None, int] | None
) -> None:
    assert parse_year_month(cell) == parsed


def test_a_wrong_year_is_one_issue_not_also_one_for_its_month(
    tmp_path: Path, returns_book: Callable[..., Path]
) -> None:
    path = returns_book(Retornos=[HEADER, ["dos mil", "enero", "Honduras", 1]])
    report = import_file(path, mapping_file(tmp_path))
    assert [(issue.row, issue.column, issue.reason) for issue in report.issues] == [
        (2, "Año", "Not a year.")
    ]


def test_a_column_without_a_name_is_no_month_and_a_figure_in_it_is_named(
    tmp_path: Path,
) -> None:
    # A trailing delimiter leaves a column without a name, as exports often do.
    path = tmp_path / "meses.csv"
    path.write_text("País,Ene,Feb,\nGuatemala,4,5,\nMéxico,1,2,9\n", encoding="utf-8")
    mapping = month_mapping(tmp_path, year="year_value = 2024")
    mapping.write_text(mapping.read_text(encoding="utf-8").replace('type = "xlsx"', ""))
    report = import_file(path, mapping)
    assert [(issue.row, issue.column, issue.value, issue.reason) for issue in report.issues] == [
        (3, "#4", "9", "A figure in a column whose header has no name.")
    ]
    path.write_text("País,Ene,Feb,\nGuatemala,4,5,\n", encoding="utf-8")
    report = import_file(path, mapping)
    assert report.outcome == ImportOutcome.IMPORTED, report.issues
    assert totals_by("period", "from_country") == {(JANUARY, "GT"): 4, (FEBRUARY, "GT"): 5}
