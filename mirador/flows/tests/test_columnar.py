"""The column-by-column reader of plain CSV files (flows.columnar) gives exactly what the engine's
row-by-row reader gives: the same observations in the same order, the same problems (file,
sheet, row, column, value, reason), the same counts of rows read and left out, whatever the
file holds and wherever in it. Blocks are made small here, so that a problem, a blank row or
a row of another width falls in a block after several read column by column."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from mirador.flows import columnar
from mirador.flows.engine import (
    FORMATS_DIR,
    Mapping,
    ParsedObservation,
    ReadResult,
    inspect_file,
    load_mapping,
    read_observations,
)
from mirador.flows.models import Dataset
from mirador.flows.series import SeriesRegistry, rows_from_blocks
from mirador.flows.services import allowed_codes
from mirador.flows.tests.test_import_cbp import CBP_SAMPLE

pytestmark = pytest.mark.django_db

CBP_MAPPING = FORMATS_DIR / "cbp_sbo_encounters.toml"


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(columnar, "FIRST_BYTES", 2_048)
    monkeypatch.setattr(columnar, "BLOCK_BYTES", 16_384)


def sample_records() -> list[list[str]]:
    with CBP_SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def write_records(path: Path, records: list[list[str]], *, line_end: str = "\r\n") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=line_end).writerows(records)
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    return path


def read_both_ways(
    mapping: Mapping, path: Path
) -> tuple[tuple[list[ParsedObservation], dict[str, Any]], tuple[list[ParsedObservation], Any]]:
    info = inspect_file(path, encoding=mapping.encoding, reader=mapping.reader)
    allowed = allowed_codes(Dataset.objects.get(code=mapping.dataset), mapping)
    registry = SeriesRegistry()
    by_columns = ReadResult()
    blocks = columnar.read_blocks(
        mapping, info, allowed=allowed, result=by_columns, registry=registry
    )
    fast = list(rows_from_blocks(blocks, registry))
    by_rows = ReadResult()
    slow = list(read_observations(mapping, info, allowed=allowed, result=by_rows))
    return (fast, summary(by_columns)), (slow, summary(by_rows))


def summary(result: ReadResult) -> dict[str, Any]:
    return {
        "encoding": result.encoding,
        "delimiter": result.delimiter,
        "rows_read": result.rows_read,
        "rows_dropped": result.rows_dropped,
        "issues": [issue.as_dict() for issue in result.issues],
        "issue_count": result.issue_count,
        "left_out": result.left_out,
    }


def assert_same(mapping: Mapping, path: Path) -> list[ParsedObservation]:
    (fast, fast_summary), (slow, slow_summary) = read_both_ways(mapping, path)
    assert fast_summary == slow_summary
    assert fast == slow
    return fast


def test_the_cbp_sample_is_read_column_by_column_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = sample_records()
    path = write_records(tmp_path / "cbp.csv", records)
    mapping = load_mapping(CBP_MAPPING)
    expected = assert_same(mapping, path)
    assert len(expected) == len(records) - 1

    def no_row_by_row(*args: object, **kwargs: object) -> None:
        raise AssertionError("read row by row")

    monkeypatch.setattr(columnar, "read_observations", no_row_by_row)
    info = inspect_file(path)
    registry = SeriesRegistry()
    result = ReadResult()
    allowed = allowed_codes(Dataset.objects.get(code=mapping.dataset), mapping)
    blocks = list(
        columnar.read_blocks(mapping, info, allowed=allowed, result=result, registry=registry)
    )
    assert len(blocks) > 3  # several blocks, each read column by column
    assert list(rows_from_blocks(blocks, registry)) == expected


@pytest.mark.parametrize(
    "change",
    [
        "unknown citizenship",
        "negative count",
        "not a count",
        "empty count",
        "wrong year",
        "wrong month",
        "blank lines",
        "a row of empty cells",
        "a short row",
        "a long row",
        "a totals row",
        "quoted commas and line breaks",
        "spaces around cells",
    ],
)
def test_a_change_anywhere_is_read_as_row_by_row(tmp_path: Path, change: str) -> None:
    records = sample_records()
    header = records[0]
    late = len(records) * 3 // 4  # well after the first blocks
    row = records[late]
    at = {name: header.index(name) for name in header}
    if change == "unknown citizenship":
        row[at["Citizenship Grouping"]] = "Atlantis"
    elif change == "negative count":
        row[at["Encounter Count"]] = "-4"
    elif change == "not a count":
        row[at["Encounter Count"]] = "0x10"
    elif change == "empty count":
        row[at["Encounter Count"]] = ""
    elif change == "wrong year":
        row[at["Fiscal Year"]] = "20x3"
    elif change == "wrong month":
        row[at["Month (abbv)"]] = "Smarch"
    elif change == "blank lines":
        records[late:late] = [[], []]
    elif change == "a row of empty cells":
        records[late:late] = [[""] * len(header)]
    elif change == "a short row":
        records[late] = row[:-1]
    elif change == "a long row":
        records[late] = [*row, "extra"]
    elif change == "a totals row":
        records[late:late] = [["2023", "", "Total", "", "", "", "", "", "123456"]]
    elif change == "quoted commas and line breaks":
        row[at["Month Grouping"]] = 'FYTD,\n"as published"\r\nsince'
    elif change == "spaces around cells":
        row[at["Demographic"]] = "  " + row[at["Demographic"]] + " "
        row[at["Encounter Count"]] = " 7 "
    path = write_records(tmp_path / "cbp.csv", records)
    observations = assert_same(load_mapping(CBP_MAPPING), path)
    assert observations  # something was read either way


def test_a_file_with_a_bom_and_unix_line_ends_is_read_the_same(tmp_path: Path) -> None:
    path = write_records(tmp_path / "cbp.csv", sample_records(), line_end="\n")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert_same(load_mapping(CBP_MAPPING), path)


def test_a_latin1_file_is_read_row_by_row_with_the_same_result(tmp_path: Path) -> None:
    records = sample_records()
    records[5][records[0].index("Citizenship Grouping")] = "México"
    path = tmp_path / "cbp.csv"
    buffer = io.StringIO()
    csv.writer(buffer).writerows(records)
    path.write_bytes(buffer.getvalue().encode("latin-1"))
    mapping = load_mapping(CBP_MAPPING)
    assert columnar._plan(mapping, inspect_file(path), {}) is None
    assert_same(mapping, path)


def test_non_countries_left_out_are_counted_the_same(tmp_path: Path) -> None:
    text = CBP_MAPPING.read_text(encoding="utf-8").replace(
        "countries = true\n", "countries = true\nskip_non_countries = true\n", 1
    )
    mapping_path = tmp_path / "mapping.toml"
    mapping_path.write_text(text, encoding="utf-8")
    records = sample_records()
    citizenship_at = records[0].index("Citizenship Grouping")
    for index in (3, len(records) // 2, len(records) - 2):
        records[index][citizenship_at] = "Caribbean"
    path = write_records(tmp_path / "cbp.csv", records)
    mapping = load_mapping(mapping_path)
    (fast, fast_summary), _slow = read_both_ways(mapping, path)
    assert fast_summary["left_out"] == {"Citizenship Grouping: Caribbean": 3}
    assert_same(mapping, path)


RETURNS_MAPPING = """
[format]
code = "returns-by-sex"
dataset = "returns-received"

[reader]
type = "csv"
delimiter = ";"
drop = [{ column = "Mes", pattern = "(?i)^total" }]

[period]
rule = "calendar-month"
year = "Año"
month = "Mes"

[constants]
reporting_country = "HN"
means = "air"

[dimensions.from_country]
column = "País"
countries = true

[dimensions.subdivision]
column = "Departamento"
map = { "Cortés" = "HN-CR", "Yoro" = "HN-YO" }

[[values]]
column = "Hombres"
set = { sex = "M", age_group = "Y_GE18", unaccompanied = "N" }
empty = "skip"

[[values]]
column = "Mujeres"
set = { sex = "F", age_group = "Y_GE18", unaccompanied = "N" }
empty = "zero"

[[values]]
column = "Menores solos"
set = { sex = "_U", age_group = "Y_LT18", unaccompanied = "Y" }
empty = "skip"
"""


def test_several_value_columns_are_read_the_same_in_the_same_order(tmp_path: Path) -> None:
    mapping_path = tmp_path / "returns.toml"
    mapping_path.write_text(RETURNS_MAPPING, encoding="utf-8")
    lines = ["Año;Mes;País;Departamento;Hombres;Mujeres;Menores solos"]
    months = ["Enero", "Febrero", "Marzo", "Abril", "Mayo", "Junio"]
    for year in range(2000, 2024):
        for month in months:
            for country in ("Estados Unidos", "México", "Guatemala"):
                for department in ("Cortés", "Yoro"):
                    cells = [str(year), month, country, department, "12", "", "3"]
                    if year % 5 == 1:
                        cells[6] = ""  # nobody: not stored
                    lines.append(";".join(cells))
        lines.append(f"{year};Total;;;999;999;999")
    path = tmp_path / "returns.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    observations = assert_same(load_mapping(mapping_path), path)
    # Row by row, value column by value column: the first row's three, then the next row's.
    assert [(o.row, o.coordinates[4]) for o in observations[:4]] == [
        (2, "M"),
        (2, "F"),
        (2, "_U"),
        (3, "M"),
    ]
