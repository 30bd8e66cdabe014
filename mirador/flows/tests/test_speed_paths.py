"""The import's fast paths keep what the slow ones guaranteed: COPY lines built by hand read
back exactly, the row loop's shortcuts (blank rows, short records, cached periods) report what
the plain code reported, and what the database no longer checks (observations' foreign keys)
the application still refuses."""

from __future__ import annotations

import csv
import datetime
import itertools
from pathlib import Path

import pytest
from django.db import transaction
from django.db.models import ProtectedError

from conftest import SHARED_DATA
from mirador.flows.engine import (
    FORMATS_DIR,
    ImportFileError,
    MappingError,
    ParsedObservation,
    ReadResult,
    inspect_file,
    load_mapping,
)
from mirador.flows.models import OBSERVATION_DIMENSIONS, Observation
from mirador.flows.series import SeriesRegistry, blocks_from_rows
from mirador.flows.services import ImportOutcome, ImportReport, batch_import
from mirador.flows.storage import store

pytestmark = pytest.mark.django_db

FORMAT = "cbp-sbo-encounters"
HEADER = (
    "Fiscal Year,Month Grouping,Month (abbv),Component,Demographic,Citizenship Grouping,"
    "Title of Authority,Encounter Type,Encounter Count"
)
ROWS = [
    "2023,FYTD,OCT,U.S. Border Patrol,Single Adults,Honduras,Title 8,Apprehensions,120",
    "2023,FYTD,OCT,U.S. Border Patrol,UAC,Guatemala,Title 8,Apprehensions,45",
    "2025 (FYTD),FYTD,JAN,Office of Field Operations,FMUA,Other,Title 8,Inadmissibles,7",
]


def import_lines(tmp_path: Path, lines: list[str]) -> ImportReport:
    path = tmp_path / "cbp.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return batch_import(actor=None, format_code=FORMAT, path=path)


def test_a_batch_with_observations_cannot_be_deleted_through_the_orm(tmp_path: Path) -> None:
    report = import_lines(tmp_path, [HEADER, *ROWS])
    assert report.outcome == ImportOutcome.IMPORTED and report.batch is not None
    batch = report.batch
    with pytest.raises(ProtectedError), transaction.atomic():
        batch.delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        batch.dataset.delete()
    assert Observation.objects.filter(batch=batch).count() == len(ROWS)


def test_the_import_refuses_a_duplicate_of_coordinates(tmp_path: Path) -> None:
    report = import_lines(tmp_path, [HEADER, *ROWS, ROWS[1]])
    assert report.outcome == ImportOutcome.FAILED
    assert not Observation.objects.exists()
    assert [issue.row for issue in report.issues] == [len(ROWS) + 2]
    assert "3" in report.issues[0].reason  # names the first row


def test_blank_rows_are_skipped_and_not_counted(tmp_path: Path) -> None:
    report = import_lines(tmp_path, [HEADER, ROWS[0], ",,, ,,,,,", "", ROWS[1]])
    assert report.outcome == ImportOutcome.IMPORTED
    assert report.result.rows_read == 2
    assert set(Observation.objects.values_list("source_row", flat=True)) == {2, 5}


def test_a_short_row_reads_its_missing_cells_as_empty(tmp_path: Path) -> None:
    short = ROWS[1].rsplit(",", 1)[0]  # no count cell at all
    report = import_lines(tmp_path, [HEADER, ROWS[0], short])
    assert report.outcome == ImportOutcome.FAILED
    (issue,) = report.issues
    assert (issue.row, issue.column, issue.value) == (3, "Encounter Count", "")
    assert issue.reason == "The count is empty."


def test_a_wrong_year_is_reported_on_every_row_that_has_it(tmp_path: Path) -> None:
    # Periods are cached per (year cell, month cell): only those read without a problem.
    bad = [row.replace("2023,", "20x3,", 1) for row in ROWS[:2]]
    report = import_lines(tmp_path, [HEADER, *bad, ROWS[2]])
    assert report.outcome == ImportOutcome.FAILED
    assert [(issue.row, issue.column, issue.value) for issue in report.issues] == [
        (2, "Fiscal Year", "20x3"),
        (3, "Fiscal Year", "20x3"),
    ]


def test_repeated_periods_are_read_as_the_first_time(tmp_path: Path) -> None:
    report = import_lines(tmp_path, [HEADER, *ROWS])
    assert report.outcome == ImportOutcome.IMPORTED
    periods = dict(Observation.objects.values_list("source_row", "period"))
    # FY2023 OCT is October 2022; FY2025 JAN is January 2025.
    assert periods == {
        2: datetime.date(2022, 10, 1),
        3: datetime.date(2022, 10, 1),
        4: datetime.date(2025, 1, 1),
    }


def test_stored_text_reads_back_exactly_whatever_it_holds(tmp_path: Path) -> None:
    """COPY's text format gives a meaning to backslashes, tabs and line ends: a sheet name
    (and a code, should one ever hold them) with them is stored as it is."""
    report = import_lines(tmp_path, [HEADER, ROWS[0]])
    assert report.batch is not None
    stored = Observation.objects.get()
    sheet = "Tab\there\\back\nline\rend N\\N"
    coordinates = tuple(getattr(stored, name) for name in OBSERVATION_DIMENSIONS)
    odd = OBSERVATION_DIMENSIONS.index("subdivision")
    odd_coordinates = (*coordinates[:odd], "a\\b\tc", *coordinates[odd + 1 :])
    rows = [
        ParsedObservation(datetime.date(2019, 1, 1), stored.period_type, coordinates, 5, 10, sheet),
        ParsedObservation(
            datetime.date(2020, 1, 1), stored.period_type, odd_coordinates, 6, 11, ""
        ),
    ]
    registry = SeriesRegistry()
    with transaction.atomic():
        blocks = blocks_from_rows(rows, registry)
        store(report.batch, report.batch.dataset, blocks, registry, ReadResult())
    written = {
        observation.source_row: observation
        for observation in Observation.objects.filter(source_row__in=[10, 11])
    }
    assert written[10].source_sheet == sheet
    assert written[10].value == 5
    assert written[10].period == datetime.date(2019, 1, 1)
    assert written[10].citizenship == stored.citizenship
    assert written[11].subdivision == "a\\b\tc"
    assert written[11].period == datetime.date(2020, 1, 1)
    assert written[11].batch_id == report.batch.pk
    assert written[11].dataset_id == report.batch.dataset_id


# --- Engine fixes: unknown mapping keys, old or locked workbooks, a missing column told once.

CBP_MAPPING = FORMATS_DIR / "cbp_sbo_encounters.toml"


def mapping_with(tmp_path: Path, after: str, line: str) -> Path:
    """The CBP mapping with `line` added right after the line `after`."""
    text = CBP_MAPPING.read_text(encoding="utf-8")
    assert f"\n{after}\n" in text
    path = tmp_path / "mapping.toml"
    path.write_text(text.replace(f"\n{after}\n", f"\n{after}\n{line}\n", 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("after", "line", "section", "key"),
    [
        ("[reader]", 'stop-at = "(?i)^fuente"', "[reader]", "stop-at"),
        ("[format]", "sum_duplicate = true", "[format]", "sum_duplicate"),
        ("[period]", "year-value = 2024", "[period]", "year-value"),
        ("[dimensions.demographic]", "contries = true", "[dimensions.demographic]", "contries"),
        ("[value]", 'emtpy = "skip"', "[value]", "emtpy"),
    ],
)
def test_a_mapping_key_the_engine_does_not_read_is_refused(
    tmp_path: Path, after: str, line: str, section: str, key: str
) -> None:
    with pytest.raises(MappingError) as error:
        load_mapping(mapping_with(tmp_path, after, line))
    assert section in error.value.message
    assert f"“{key}”" in error.value.message


def test_unknown_keys_of_wide_values_and_records_sections_are_refused(tmp_path: Path) -> None:
    for name, section, key in [
        ("undesa_migrant_stock.toml", "[wide]", "column_after"),
        ("iom_mmp_2023.toml", "[records]", "kinds"),
    ]:
        text = (FORMATS_DIR / name).read_text(encoding="utf-8")
        assert f"\n{section}\n" in text
        path = tmp_path / name
        path.write_text(text.replace(f"\n{section}\n", f"\n{section}\n{key} = 1\n", 1))
        with pytest.raises(MappingError) as error:
            load_mapping(path)
        assert section in error.value.message and f"“{key}”" in error.value.message
    text = (FORMATS_DIR / "iom_mmp_2023.toml").read_text(encoding="utf-8")
    assert "\n[[values]]\n" in text
    path = tmp_path / "values.toml"
    path.write_text(text.replace("\n[[values]]\n", "\n[[values]]\nsets = 1\n", 1))
    with pytest.raises(MappingError) as error:
        load_mapping(path)
    assert "[[values]]" in error.value.message and "“sets”" in error.value.message


def test_every_shipped_and_example_mapping_still_loads() -> None:
    examples = Path(__file__).resolve().parents[3] / "docs" / "examples"
    paths = [*FORMATS_DIR.glob("*.toml"), *examples.glob("*.toml")]
    assert len(paths) >= 6
    for path in paths:
        assert load_mapping(path).code


@pytest.mark.parametrize("reader", ["xlsx", "csv"])
def test_an_old_or_password_protected_workbook_is_told_what_to_do(
    tmp_path: Path, reader: str
) -> None:
    # An OLE compound file's header: how every .xls, and every workbook saved with a
    # password, begins (512 bytes; the rest of the header is zeros here).
    path = tmp_path / "returns.xls"
    path.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504))
    with pytest.raises(ImportFileError) as error:
        inspect_file(path, reader=reader)
    assert "returns.xls" in error.value.message
    assert "(.xls)" in error.value.message and "save it as .xlsx" in error.value.message
    assert "remove the password" in error.value.message


def test_a_missing_column_two_parts_of_the_mapping_read_is_reported_once(
    tmp_path: Path,
) -> None:
    # The CBP mapping reads "Month (abbv)" for its drop rule and for the period.
    with (SHARED_DATA / "cbp" / "sbo-encounters-fy22-fy25-aug.csv").open(
        encoding="utf-8-sig", newline=""
    ) as handle:
        records = list(itertools.islice(csv.reader(handle), 4))
    month_at = records[0].index("Month (abbv)")
    path = tmp_path / "cbp.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(
            [cell for index, cell in enumerate(record) if index != month_at] for record in records
        )
    report = batch_import(actor=None, format_code=FORMAT, path=path)
    assert report.outcome == ImportOutcome.FAILED
    assert [(issue.column, issue.row) for issue in report.issues] == [("Month (abbv)", 1)]
