"""The US CBP encounters sample imports, and its figures reconcile with the file."""

from __future__ import annotations

import csv
import datetime
from collections import Counter
from pathlib import Path

import pytest
from django.db.models import Sum

from conftest import SHARED_DATA
from mirador.flows.country_names import resolve_country
from mirador.flows.engine import load_mapping, parse_year, period_from
from mirador.flows.models import BatchStatus, ImportBatch, Observation
from mirador.flows.services import BatchStateError, ImportOutcome, batch_import, batch_rollback

pytestmark = pytest.mark.django_db

CBP_SAMPLE = SHARED_DATA / "cbp" / "sbo-encounters-fy22-fy25-aug.csv"
FORMAT = "cbp-sbo-encounters"
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


def sample_rows() -> list[dict[str, str]]:
    with CBP_SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def calendar_month(row: dict[str, str]) -> datetime.date:
    """Computed here independently of the engine: October to December of fiscal year N are
    in calendar year N - 1."""
    fiscal_year = int(row["Fiscal Year"][:4])
    month = MONTHS.index(row["Month (abbv)"]) + 1
    return datetime.date(fiscal_year - 1 if month >= 10 else fiscal_year, month, 1)


def citizenship_code(name: str) -> str:
    return "_O" if name == "Other" else resolve_country(name) or f"unresolved {name}"


@pytest.fixture
def imported(db: None) -> ImportBatch:
    report = batch_import(actor=None, format_code=FORMAT, path=CBP_SAMPLE)
    assert report.outcome == ImportOutcome.IMPORTED, report.issues[:5]
    assert report.batch is not None
    return report.batch


def test_the_sample_imports_one_observation_per_row(imported: ImportBatch) -> None:
    rows = sample_rows()
    assert imported.status == BatchStatus.IMPORTED
    assert imported.rows_read == len(rows)
    assert Observation.objects.filter(batch=imported).count() == len(rows)


def test_totals_by_month_and_citizenship_equal_the_files(imported: ImportBatch) -> None:
    expected: Counter[tuple[datetime.date, str]] = Counter()
    for row in sample_rows():
        key = (calendar_month(row), citizenship_code(row["Citizenship Grouping"]))
        expected[key] += int(row["Encounter Count"])
    stored = (
        Observation.objects.filter(dataset__code="border-encounters")
        .values_list("period", "citizenship")
        .annotate(total=Sum("value"))
    )
    assert {(period, citizenship): total for period, citizenship, total in stored} == expected


def test_the_dataset_total_equals_the_files(imported: ImportBatch) -> None:
    expected = sum(int(row["Encounter Count"]) for row in sample_rows())
    stored = Observation.objects.filter(dataset__code="border-encounters").aggregate(
        total=Sum("value")
    )["total"]
    assert stored == expected


def test_every_observation_knows_its_batch_and_row(imported: ImportBatch) -> None:
    rows = sample_rows()
    observation = Observation.objects.get(batch=imported, source_row=2)
    first = rows[0]
    assert observation.value == int(first["Encounter Count"])
    assert observation.period == calendar_month(first)
    assert observation.reporting_country == "US"
    assert imported.file_name == CBP_SAMPLE.name
    assert len(imported.sha256) == 64


def test_importing_the_same_file_again_changes_nothing(imported: ImportBatch) -> None:
    before = Observation.objects.count()
    report = batch_import(actor=None, format_code=FORMAT, path=CBP_SAMPLE)
    assert report.outcome == ImportOutcome.ALREADY_IMPORTED
    assert report.batch == imported
    assert "nothing changed" in report.summary()
    assert Observation.objects.count() == before
    assert ImportBatch.objects.count() == 1


def test_rollback_removes_the_batchs_observations(imported: ImportBatch) -> None:
    removed = batch_rollback(actor=None, batch=imported)
    imported.refresh_from_db()
    assert removed == len(sample_rows())
    assert imported.status == BatchStatus.ROLLED_BACK
    assert not Observation.objects.filter(batch=imported).exists()


def test_a_batch_cannot_be_rolled_back_twice(imported: ImportBatch) -> None:
    batch_rollback(actor=None, batch=imported)
    with pytest.raises(BatchStateError):
        batch_rollback(actor=None, batch=imported)


def test_a_rolled_back_file_can_be_imported_again(imported: ImportBatch) -> None:
    batch_rollback(actor=None, batch=imported)
    report = batch_import(actor=None, format_code=FORMAT, path=CBP_SAMPLE)
    assert report.outcome == ImportOutcome.IMPORTED
    assert Observation.objects.count() == len(sample_rows())


def test_a_dry_run_stores_nothing() -> None:
    report = batch_import(actor=None, format_code=FORMAT, path=CBP_SAMPLE, dry_run=True)
    assert report.outcome == ImportOutcome.VALID
    assert report.result.observations == len(sample_rows())
    assert not Observation.objects.exists()
    assert not ImportBatch.objects.exists()


def test_month_grouping_is_not_a_breakdown_so_no_coordinates_repeat() -> None:
    """Why the CBP mapping does not add up duplicates: without Month Grouping, every row of
    the sample still has coordinates of its own."""
    mapping = load_mapping(
        Path(__file__).resolve().parents[1] / "formats" / "cbp_sbo_encounters.toml"
    )
    assert mapping.sum_duplicates is False
    read = ["Fiscal Year", "Month (abbv)", "Component", "Demographic", "Citizenship Grouping"]
    read += ["Title of Authority", "Encounter Type"]
    keys = Counter(tuple(row[column] for column in read) for row in sample_rows())
    assert keys.most_common(1)[0][1] == 1


def test_fiscal_year_october_is_in_the_previous_calendar_year() -> None:
    assert period_from("us-fiscal-month", 2023, 10)[0] == datetime.date(2022, 10, 1)
    assert period_from("us-fiscal-month", 2023, 12)[0] == datetime.date(2022, 12, 1)
    assert period_from("us-fiscal-month", 2023, 1)[0] == datetime.date(2023, 1, 1)
    assert period_from("us-fiscal-month", 2023, 9)[0] == datetime.date(2023, 9, 1)


def test_a_fiscal_year_to_date_cell_is_read_as_its_year() -> None:
    assert parse_year("2025 (FYTD)") == 2025
    assert parse_year("FY2024") == 2024
    assert parse_year("total") is None
