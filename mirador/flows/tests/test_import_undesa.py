"""The UN DESA migrant stock sample imports through the wide layout, and its figures reconcile
with the file."""

from __future__ import annotations

import csv
import datetime
from collections import Counter
from pathlib import Path

import pytest
from django.db.models import Sum

from conftest import SHARED_DATA
from mirador.flows.country_names import is_non_country, resolve_country
from mirador.flows.models import BatchStatus, ImportBatch, Observation
from mirador.flows.services import ImportOutcome, batch_import

pytestmark = pytest.mark.django_db

REPO_ROOT = Path(__file__).resolve().parents[3]
UNDESA_SAMPLE = SHARED_DATA / "undesa" / "UN_MigrantStockByOriginAndDestination_2019_clean.csv"
FORMAT = "undesa-migrant-stock"
NOT_AVAILABLE = {"", "..", "-"}


def sample() -> tuple[list[str], list[list[str]]]:
    with UNDESA_SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        records = list(csv.reader(handle))
    return records[0], records[1:]


def expected_by_year_and_destination() -> Counter[tuple[datetime.date, str]]:
    """Computed here with the csv module: every country column after Dest, for every row whose
    Dest is a country; non-country columns and rows left out as the mapping says."""
    header, rows = sample()
    origins = [index for index in range(2, len(header)) if not is_non_country(header[index])]
    expected: Counter[tuple[datetime.date, str]] = Counter()
    for row in rows:
        if is_non_country(row[1]):
            continue
        destination = resolve_country(row[1]) or f"unresolved {row[1]}"
        year = datetime.date(int(row[0]), 1, 1)
        total = sum(int(row[index]) for index in origins if row[index] not in NOT_AVAILABLE)
        if total:
            expected[(year, destination)] += total
    return expected


@pytest.fixture
def imported(db: None) -> ImportBatch:
    report = batch_import(actor=None, format_code=FORMAT, path=UNDESA_SAMPLE)
    assert report.outcome == ImportOutcome.IMPORTED, report.issues[:5]
    assert report.batch is not None
    return report.batch


def test_the_sample_imports_its_non_zero_figures(imported: ImportBatch) -> None:
    header, rows = sample()
    origins = [index for index in range(2, len(header)) if not is_non_country(header[index])]
    non_zero = sum(
        1
        for row in rows
        if not is_non_country(row[1])
        for index in origins
        if row[index] not in NOT_AVAILABLE and int(row[index]) != 0
    )
    assert imported.status == BatchStatus.IMPORTED
    assert imported.rows_read == len(rows)
    assert Observation.objects.filter(batch=imported).count() == non_zero
    assert not Observation.objects.filter(batch=imported, value=0).exists()


def test_totals_by_year_and_destination_equal_the_files(imported: ImportBatch) -> None:
    stored = (
        Observation.objects.filter(dataset__code="migrant-stock")
        .values_list("period", "to_country")
        .annotate(total=Sum("value"))
    )
    assert {(period, country): total for period, country, total in stored} == (
        expected_by_year_and_destination()
    )


def test_one_figure_is_stored_at_its_origin_destination_and_year(imported: ImportBatch) -> None:
    header, rows = sample()
    origin = header.index("Mexico")
    row_number, row = next(
        (number, row)
        for number, row in enumerate(rows, start=2)
        if row[0] == "2019" and row[1] == "United States of America"
    )
    observation = Observation.objects.get(
        batch=imported, period=datetime.date(2019, 1, 1), to_country="US", from_country="MX"
    )
    assert observation.value == int(row[origin])
    assert observation.source_row == row_number


def test_non_country_rows_and_columns_are_left_out_and_named_in_the_summary() -> None:
    report = batch_import(actor=None, format_code=FORMAT, path=UNDESA_SAMPLE, dry_run=True)
    _header, rows = sample()
    aggregates = [row for row in rows if is_non_country(row[1])]
    assert report.outcome == ImportOutcome.VALID
    assert report.result.rows_dropped == len(aggregates) > 0
    summary = report.summary()
    assert "Dest: Caribbean (7)" in summary
    assert "column Channel Islands" in summary
    assert not Observation.objects.exists()


def test_importing_the_same_file_again_changes_nothing(imported: ImportBatch) -> None:
    before = Observation.objects.count()
    report = batch_import(actor=None, format_code=FORMAT, path=UNDESA_SAMPLE)
    assert report.outcome == ImportOutcome.ALREADY_IMPORTED
    assert report.batch == imported
    assert Observation.objects.count() == before
    assert ImportBatch.objects.count() == 1


def write_copy(tmp_path: Path, change: dict[tuple[int, int], str]) -> Path:
    """The sample's header and first rows, with cells changed at (record index, column)."""
    with UNDESA_SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        records = [record for _number, record in zip(range(20), csv.reader(handle), strict=False)]
    for (record, column), text in change.items():
        records[record][column] = text
    path = tmp_path / "migrant-stock.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(records)
    return path


def test_a_column_that_is_no_country_is_refused_by_name(tmp_path: Path) -> None:
    path = write_copy(tmp_path, {(0, 5): "Atlantis"})
    report = batch_import(actor=None, format_code=FORMAT, path=path)
    assert report.outcome == ImportOutcome.FAILED
    assert [(issue.row, issue.column) for issue in report.issues] == [(1, "Atlantis")]
    assert not Observation.objects.exists()


def test_a_negative_count_is_refused_naming_row_and_column(tmp_path: Path) -> None:
    header, _rows = sample()
    column = header.index("Honduras")
    path = write_copy(tmp_path, {(3, column): "-12"})
    report = batch_import(actor=None, format_code=FORMAT, path=path)
    assert report.outcome == ImportOutcome.FAILED
    assert [(issue.row, issue.column, issue.value) for issue in report.issues] == [
        (4, "Honduras", "-12")
    ]
    assert "negative" in report.issues[0].reason
    assert not Observation.objects.exists()


def test_a_mapping_can_store_a_non_country_column_as_other_countries(tmp_path: Path) -> None:
    shipped = REPO_ROOT / "mirador" / "flows" / "formats" / "undesa_migrant_stock.toml"
    mapping = tmp_path / "mapping.toml"
    text = shipped.read_text(encoding="utf-8")
    wide = text.index("[wide]")
    mapping.write_text(
        text[:wide]
        + text[wide:].replace(
            "skip_non_countries = true",
            'skip_non_countries = false\nmap = { "Channel Islands" = "_O" }',
        ),
        encoding="utf-8",
    )
    header, _rows = sample()
    path = write_copy(tmp_path, {(1, header.index("Channel Islands")): "37"})

    report = batch_import(actor=None, format_code=FORMAT, path=path, mapping_path=mapping)

    assert report.outcome == ImportOutcome.IMPORTED, report.issues[:5]
    assert "column Channel Islands" not in report.summary()
    other = Observation.objects.get(from_country="_O")
    assert (other.value, other.source_row) == (37, 2)


def test_without_a_rule_a_non_country_column_is_refused(tmp_path: Path) -> None:
    shipped = REPO_ROOT / "mirador" / "flows" / "formats" / "undesa_migrant_stock.toml"
    mapping = tmp_path / "mapping.toml"
    text = shipped.read_text(encoding="utf-8")
    wide = text.index("[wide]")
    mapping.write_text(
        text[:wide] + text[wide:].replace("skip_non_countries = true", ""), encoding="utf-8"
    )
    report = batch_import(
        actor=None, format_code=FORMAT, path=write_copy(tmp_path, {}), mapping_path=mapping
    )
    assert report.outcome == ImportOutcome.FAILED
    assert [(issue.row, issue.column) for issue in report.issues] == [(1, "Channel Islands")]
