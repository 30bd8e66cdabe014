"""The engine reads other layouts through a mapping alone: notes above the header, calendar
months in Spanish, one column per means of transport (a wide layout), rows to add up, years."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.db.models import Sum

from mirador.flows.engine import MappingError, parse_month
from mirador.flows.models import Observation, PeriodType
from mirador.flows.services import ImportOutcome, ImportReport, batch_import

pytestmark = pytest.mark.django_db

RETURNS_MAPPING = """
[format]
code = "test-returns-monthly"
dataset = "returns-received"
sum_duplicates = {sum_duplicates}

[reader]
header_row = 3
drop = [{{ column = "Mes", pattern = "(?i)^total" }}]

[period]
rule = "calendar-month"
year = "Año"
month = "Mes"

[constants]
reporting_country = "HN"
age_group = "_U"
unaccompanied = "_U"
subdivision = "_U"

[dimensions.from_country]
column = ["País de retorno", "País"]
countries = true

[dimensions.sex]
column = "Sexo"
map = {{ "Hombre" = "M", "Mujer" = "F" }}

[[values]]
column = "Aéreo"
set = {{ means = "air" }}
empty = "zero"

[[values]]
column = "Terrestre"
set = {{ means = "land" }}
empty = "skip"
"""

RETURNS_TABLE = [
    "Retornos recibidos por mes",
    "Fuente: Observatorio (datos de ejemplo)",
    "Año;Mes;País;Sexo;Aéreo;Terrestre",
    "2024;enero;Estados Unidos;Hombre;1 204;310",
    "2024;enero;México;Mujer;;55",
    "2024;febrero;Estados Unidos;Hombre;980;",
    "2024;enero;Estados Unidos;Hombre;6;4",
    "2024;Total;;;2 190;369",
]


def import_returns(tmp_path: Path, *, sum_duplicates: bool) -> ImportReport:
    mapping = tmp_path / "returns.toml"
    mapping.write_text(RETURNS_MAPPING.format(sum_duplicates=str(sum_duplicates).lower()))
    table = tmp_path / "retornos.csv"
    # Latin-1 and semicolons, as spreadsheets export them on Windows in Spanish; the delimiter
    # is guessed from the header line, not from the notes above it.
    table.write_text("\n".join(RETURNS_TABLE) + "\n", encoding="latin-1")
    return batch_import(
        actor=None, format_code="test-returns-monthly", path=table, mapping_path=mapping
    )


def test_a_wide_returns_table_with_notes_above_its_header_imports(tmp_path: Path) -> None:
    report = import_returns(tmp_path, sum_duplicates=True)
    assert report.outcome == ImportOutcome.IMPORTED, report.issues
    assert report.result.rows_dropped == 1
    january = datetime.date(2024, 1, 1)
    by_means = dict(
        Observation.objects.filter(period=january, from_country="US")
        .values_list("means")
        .annotate(total=Sum("value"))
    )
    # 1 204 + 6 by air and 310 + 4 by land: the repeated row was added up.
    assert by_means == {"air": 1210, "land": 314}
    # An empty "Aéreo" cell counts zero, an empty "Terrestre" cell is no observation.
    assert Observation.objects.get(from_country="MX", means="air").value == 0
    assert not Observation.objects.filter(period=datetime.date(2024, 2, 1), means="land").exists()
    assert set(Observation.objects.values_list("reporting_country", "sex").distinct()) == {
        ("HN", "M"),
        ("HN", "F"),
    }


def test_without_sum_duplicates_the_repeated_row_is_an_error(tmp_path: Path) -> None:
    report = import_returns(tmp_path, sum_duplicates=False)
    assert report.outcome == ImportOutcome.FAILED
    assert [issue.row for issue in report.issues] == [7, 7]
    assert not Observation.objects.exists()


def test_yearly_tables_are_stored_on_the_first_of_january(tmp_path: Path) -> None:
    mapping = tmp_path / "yearly.toml"
    mapping.write_text(
        RETURNS_MAPPING.format(sum_duplicates="false")
        .replace('rule = "calendar-month"', 'rule = "calendar-year"')
        .replace('month = "Mes"\n', "")
        .replace('drop = [{ column = "Mes", pattern = "(?i)^total" }]', "")
        .replace("header_row = 3", "header_row = 1")
    )
    table = tmp_path / "yearly.csv"
    table.write_text("Año,País,Sexo,Aéreo,Terrestre\n2023,Guatemala,Mujer,12,3\n")
    report = batch_import(actor=None, format_code="x", path=table, mapping_path=mapping)
    assert report.outcome == ImportOutcome.IMPORTED, report.issues
    assert set(Observation.objects.values_list("period", "period_type")) == {
        (datetime.date(2023, 1, 1), PeriodType.YEAR)
    }


def test_a_mapping_naming_an_unknown_dimension_is_refused(tmp_path: Path) -> None:
    mapping = tmp_path / "bad.toml"
    mapping.write_text(
        RETURNS_MAPPING.format(sum_duplicates="false").replace(
            "[dimensions.sex]", "[dimensions.gender]"
        )
    )
    with pytest.raises(MappingError, match="no dimensions called gender"):
        batch_import(actor=None, format_code="x", path=tmp_path / "bad.toml", mapping_path=mapping)


def test_a_mapping_that_is_not_toml_is_refused_with_its_reason(tmp_path: Path) -> None:
    mapping = tmp_path / "broken.toml"
    mapping.write_text("[format\ncode = 1\n")
    with pytest.raises(MappingError, match="not valid TOML"):
        batch_import(actor=None, format_code="x", path=mapping, mapping_path=mapping)


@pytest.mark.parametrize(
    ("cell", "month"),
    [("OCT", 10), ("october", 10), ("Oct.", 10), ("octubre", 10), ("10", 10), ("set", 9)],
)
def test_months_are_read_in_english_spanish_or_numbers(cell: str, month: int) -> None:
    assert parse_month(cell) == month


def test_a_month_that_is_not_one_is_none() -> None:
    assert parse_month("13") is None
    assert parse_month("Q1") is None
