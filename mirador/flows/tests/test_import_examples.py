"""The examples of docs/imports.md import as the guide says, through the service and through
`mirador import`, and what is stored adds up to the figures of each file, read here without
the engine: totals by month and country returned from (or department of origin)."""

from __future__ import annotations

import csv
import datetime
import importlib.util
import tomllib
from collections import Counter
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.test import Client
from openpyxl import load_workbook

from mirador.accounts.models import Role, User
from mirador.flows.models import Observation
from mirador.flows.services import ImportOutcome, batch_import, batch_rollback
from mirador.flows.tasks import run_pending_tasks

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples"
LONG_CSV = EXAMPLES / "returns_hn_2024q1.csv"
LONG_MAPPING = EXAMPLES / "returns_hn_2024q1.toml"
WORKBOOK = EXAMPLES / "returns_hn_2024q1.xlsx"
WORKBOOK_MAPPING = EXAMPLES / "returns_hn_2024q1_xlsx.toml"
WIDE_CSV = EXAMPLES / "returns_air_us_by_month.csv"
WIDE_MAPPING = EXAMPLES / "returns_air_us_by_month.toml"
EXAMPLE_FILES = [
    (LONG_CSV, LONG_MAPPING),
    (WORKBOOK, WORKBOOK_MAPPING),
    (WIDE_CSV, WIDE_MAPPING),
]

# How the example tables write what the test compares (the mappings say the same, but the
# test reads the files without them).
COUNTRIES = {"Estados Unidos": "US", "México": "MX", "Guatemala": "GT"}
SPANISH_MONTHS = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto"]
MONTH_ABBREVIATIONS = [name[:3] for name in SPANISH_MONTHS]

Totals = Counter[tuple[datetime.date, str]]


def stored_totals(*fields: str) -> Totals:
    rows = Observation.objects.values_list(*fields).annotate(total=Sum("value"))
    return Counter({(period, code): total for period, code, total in rows})


def long_csv_totals() -> Totals:
    """By month and country, from the Latin-1 semicolon table: its data rows are those whose
    "Año" is a year (not the title lines, the totals row or the source note)."""
    totals: Totals = Counter()
    with LONG_CSV.open(encoding="latin-1", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    header = rows[3]
    for cells in rows[4:]:
        if not cells or not cells[0].isdigit():
            continue
        row = dict(zip(header, cells, strict=True))
        month = SPANISH_MONTHS.index(row["Mes"].lower()) + 1
        period = datetime.date(int(row["Año"]), month, 1)
        totals[(period, COUNTRIES[row["País de retorno"]])] += int(row["Retornados"])
    return totals


def workbook_totals() -> Totals:
    """By month and country, from the workbook's figures (every number right of column D
    in rows whose first cell is a date)."""
    totals: Totals = Counter()
    book = load_workbook(WORKBOOK, data_only=True)
    for values in book["Retornos 2024"].iter_rows(values_only=True):
        month = values[0]
        if not isinstance(month, datetime.datetime):
            continue
        count = sum(value for value in values[4:] if isinstance(value, int))
        totals[(month.date(), COUNTRIES[str(values[1])])] += count
    return totals


def wide_csv_totals() -> Totals:
    """By month and department name, from the one-column-per-month table."""
    totals: Totals = Counter()
    with WIDE_CSV.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[1]
    for cells in rows[2:]:
        if cells[0].lower() == "total":
            continue
        for name, cell in zip(header[1:], cells[1:], strict=True):
            if name.lower() in MONTH_ABBREVIATIONS and int(cell):
                month = MONTH_ABBREVIATIONS.index(name.lower()) + 1
                totals[(datetime.date(2024, month, 1), cells[0])] += int(cell)
    return totals


def department_codes() -> dict[str, str]:
    """Department names of the examples -> ISO 3166-2 codes, from the mapping's own map."""
    with WIDE_MAPPING.open("rb") as handle:
        codes: dict[str, str] = tomllib.load(handle)["dimensions"]["subdivision"]["map"]
    return codes


@pytest.mark.parametrize(("path", "mapping"), EXAMPLE_FILES, ids=lambda p: Path(p).name)
def test_every_example_imports_through_the_service(path: Path, mapping: Path) -> None:
    report = batch_import(actor=None, format_code="example", path=path, mapping_path=mapping)
    assert report.outcome == ImportOutcome.IMPORTED, report.issues[:5]
    assert report.result.observations == Observation.objects.count() > 0


@pytest.mark.parametrize(("path", "mapping"), EXAMPLE_FILES, ids=lambda p: Path(p).name)
def test_every_example_imports_through_the_command(path: Path, mapping: Path) -> None:
    out = StringIO()
    call_command("import", "example", str(path), "--mapping", str(mapping), stdout=out)
    assert f"{Observation.objects.count()} observations stored" in out.getvalue()


def test_the_long_csv_adds_up_to_its_rows_by_month_and_country() -> None:
    report = batch_import(
        actor=None, format_code="example", path=LONG_CSV, mapping_path=LONG_MAPPING
    )
    assert report.outcome == ImportOutcome.IMPORTED, report.issues[:5]
    assert report.result.encoding == "latin-1"
    assert report.result.delimiter == ";"
    assert report.result.rows_dropped == 1  # the totals row; the source note ends the table
    assert stored_totals("period", "from_country") == long_csv_totals()
    # Every department of origin became an ISO 3166-2 code of Honduras, or unknown.
    codes = set(Observation.objects.values_list("subdivision", flat=True))
    assert codes <= set(department_codes().values())
    assert {code[:3] for code in codes if code != "_U"} == {"HN-"}


def test_the_workbook_adds_up_to_its_cells_by_month_and_country() -> None:
    report = batch_import(
        actor=None, format_code="example", path=WORKBOOK, mapping_path=WORKBOOK_MAPPING
    )
    assert report.outcome == ImportOutcome.IMPORTED, report.issues[:5]
    assert stored_totals("period", "from_country") == workbook_totals()
    assert set(Observation.objects.values_list("source_sheet", flat=True)) == {"Retornos 2024"}


def test_the_csv_and_the_workbook_give_the_same_observations() -> None:
    def imported(path: Path, mapping: Path) -> set[tuple[Any, ...]]:
        report = batch_import(actor=None, format_code="example", path=path, mapping_path=mapping)
        assert report.outcome == ImportOutcome.IMPORTED, report.issues[:5]
        assert report.batch is not None
        observations = set(
            Observation.objects.filter(batch=report.batch).values_list(
                "period",
                "from_country",
                "sex",
                "age_group",
                "unaccompanied",
                "means",
                "subdivision",
                "value",
            )
        )
        batch_rollback(actor=None, batch=report.batch)
        return observations

    from_csv = imported(LONG_CSV, LONG_MAPPING)
    assert from_csv == imported(WORKBOOK, WORKBOOK_MAPPING)


def test_the_month_columns_add_up_to_the_table_by_month_and_department() -> None:
    report = batch_import(
        actor=None, format_code="example", path=WIDE_CSV, mapping_path=WIDE_MAPPING
    )
    assert report.outcome == ImportOutcome.IMPORTED, report.issues[:5]
    codes = department_codes()
    expected = Counter(
        {(period, codes[name]): count for (period, name), count in wide_csv_totals().items()}
    )
    assert stored_totals("period", "subdivision") == expected
    assert set(Observation.objects.values_list("from_country", "means").distinct()) == {
        ("US", "air")
    }


def test_the_wide_table_holds_the_air_returns_from_the_united_states_of_the_long_one() -> None:
    """The three examples are the same invented figures counted three ways."""
    by_month: Counter[datetime.date] = Counter()
    for (period, _department), count in wide_csv_totals().items():
        by_month[period] += count
    batch_import(actor=None, format_code="example", path=LONG_CSV, mapping_path=LONG_MAPPING)
    air_from_us = (
        Observation.objects.filter(from_country="US", means="air")
        .values_list("period")
        .annotate(total=Sum("value"))
    )
    assert Counter(dict(air_from_us)) == by_month


def test_the_workbook_uploaded_on_the_import_page_is_previewed_and_stored(
    client: Client, make_user: Callable[..., User], settings: Any, tmp_path: Path
) -> None:
    settings.DATA_DIR = tmp_path / "data"
    client.force_login(make_user(username="analyst.hn", role=Role.NATIONAL_ANALYST, country="HN"))
    with WORKBOOK.open("rb") as workbook, WORKBOOK_MAPPING.open("rb") as mapping:
        response = client.post(
            "/observatory/imports/", {"format": "custom", "file": workbook, "mapping": mapping}
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    url = str(response["Location"])
    run_pending_tasks()
    preview = client.get(url).content.decode()
    total = sum(workbook_totals().values())
    assert 'data-state="valid"' in preview
    assert f'data-total="{total}"' in preview
    assert not Observation.objects.exists()

    assert client.post(f"{url}store/").status_code == 302
    run_pending_tasks()
    assert 'data-state="stored"' in client.get(url).content.decode()
    assert stored_totals("period", "from_country") == workbook_totals()


def test_the_script_in_docs_examples_makes_the_committed_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The examples are what make_examples.py writes (so that the script stays their source):
    the same bytes for the CSV files, the same cells for the workbook."""
    spec = importlib.util.spec_from_file_location("make_examples", EXAMPLES / "make_examples.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.setattr(script, "HERE", tmp_path)
    script.main()
    for name in (LONG_CSV.name, WIDE_CSV.name):
        assert (tmp_path / name).read_bytes() == (EXAMPLES / name).read_bytes(), name

    def cells(path: Path) -> dict[str, list[tuple[Any, ...]]]:
        book = load_workbook(path)
        return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book}

    assert cells(tmp_path / WORKBOOK.name) == cells(WORKBOOK)
